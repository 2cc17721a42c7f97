"""Benchmark: microseconds per deadline phrase, cold (every phrase distinct) and warm.

    .venv/bin/python bench/bench_parse.py [--generated 3000] [--compiled]

Phrases: the corpus (tests/corpus/phrases.tsv) plus generated distinct phrases built from
the shapes plans use, so the memo never helps the cold figure. Also times how long a fresh
``reminder explain`` process takes, since rule loading happens once per process.
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "phrases.tsv"
SHAPES = ["{y}年{m}月{d}日前", "{m}月底前", "{y}年底前完成第{n}项", "每月{d}日前报送",
          "{m}月{d}日至{d2}日", "每季度首月{d}日前", "收到后{n}个工作日内答复", "{y}年{m}月—{m2}月",
          "按季度报送第{n}批材料", "长期坚持并于{m}月底前总结", "{n}季度末前", "{m}.{d}前",
          "推进第{n}项工作，做好台账", "次月{d}日前"]


def corpus() -> list[str]:
    if not CORPUS.is_file():
        return []
    with CORPUS.open(encoding="utf-8") as f:
        return [row["phrase"] for row in csv.DictReader(
            (line for line in f if not line.startswith("#")), delimiter="\t")]


def generated(n: int) -> list[str]:
    rng = random.Random(7)
    out: set[str] = set()
    while len(out) < n:
        m, m2 = sorted(rng.sample(range(1, 13), 2))
        d, d2 = sorted(rng.sample(range(1, 29), 2))
        out.add(rng.choice(SHAPES).format(y=rng.randint(2020, 2030), m=m, m2=m2, d=d, d2=d2,
                                          n=rng.randint(1, 400)))
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generated", type=int, default=3000)
    parser.add_argument("--compiled", action="store_true",
                        help="compile every rule before timing, so the first pass is the "
                             "matching alone (a rule set with more rules otherwise pays for "
                             "compiling them inside the first pass)")
    args = parser.parse_args()
    from reminder.parse.deadlines import Context, parse
    from reminder.parse.rules import load_rules

    start = time.perf_counter()
    rules = load_rules()
    load_ms = (time.perf_counter() - start) * 1000
    ctx = Context(year=2026, issued=date(2026, 3, 1))
    phrases = corpus() + generated(args.generated)
    if args.compiled:
        start = time.perf_counter()
        for rule in rules:
            rule.compiled  # noqa: B018 - compiled on first use
        print(f"compile every rule ({len(rules)}): {(time.perf_counter() - start) * 1000:.0f} ms")
    parse("预热", ctx, rules)
    start = time.perf_counter()
    for phrase in phrases:
        parse(phrase, ctx, rules)
    cold = (time.perf_counter() - start) / len(phrases) * 1e6
    start = time.perf_counter()
    for phrase in phrases:
        parse(phrase, ctx, rules)
    warm = (time.perf_counter() - start) / len(phrases) * 1e6
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reminder", "explain", "--year", "2026", "年底前"],
                   check=True, capture_output=True)
    explain_s = time.perf_counter() - start
    print(f"{len(phrases)} phrases ({len(corpus())} from the corpus)")
    print(f"load_rules: {load_ms:.1f} ms")
    print(f"parse, first time: {cold:.1f} µs/phrase")
    print(f"parse, again:      {warm:.1f} µs/phrase")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reminder", "explain", "--year", "2026", "--json"],
                   input="\n".join(phrases), text=True, check=True, capture_output=True)
    batch = (time.perf_counter() - start) / len(phrases) * 1e6
    print(f"reminder explain (fresh process): {explain_s:.2f} s")
    print(f"reminder explain, batch from stdin: {batch:.1f} µs/phrase (process start included)")


if __name__ == "__main__":
    main()
