"""Deadline phrases: our parser against JioNLP's ``ner.extract_time``, same phrases, one run.

Runs in bench/.jio-venv (JioNLP is never a dependency of reminder); bench/run.py creates it:

    python3 -m venv bench/.jio-venv
    bench/.jio-venv/bin/pip install jionlp regex python-dateutil chinese-calendar
    bench/.jio-venv/bin/python bench/bench_parser.py

Phrases: the deadline-grammar corpus (tests/corpus/phrases.tsv) when it exists, plus
generated distinct phrases with known answers (every phrase different, so no cache flatters
either side). Both warm up on 200 other phrases first; times are CPU seconds of this process (the
machine is shared). A phrase is right when the first deadline date equals the expected nominal
date: for us the first ``once`` deadline, for JioNLP the end of the first time it extracts.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from calendar import monthrange
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "corpus" / "phrases.tsv"
ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}
CN_QUARTER = {1: "一", 2: "二", 3: "三", 4: "四"}


Phrase = tuple[str, int, date, date | None]  # text, plan year, expected date, issue date


def generated(count: int, seed: int = 9) -> list[Phrase]:
    """(phrase, plan year, expected nominal date), all phrases distinct."""
    rng = random.Random(seed)
    found: dict[str, tuple[int, date]] = {}
    while len(found) < count:
        year = rng.randint(2019, 2030)
        month = rng.randint(1, 12)
        day = rng.randint(1, monthrange(year, month)[1])
        quarter = rng.randint(1, 4)
        last = monthrange(year, month)[1]
        form = rng.randrange(10)
        if form == 0:
            item = (f"{year}年{month}月{day}日前", year, date(year, month, day))
        elif form == 1:
            item = (f"{year}年{month}月底前", year, date(year, month, last))
        elif form == 2:
            item = (f"{year}年底前", year - rng.randint(0, 1), date(year, 12, 31))
        elif form == 3:
            item = (f"{month}月{day}日前", year, date(year, month, day))
        elif form == 4:
            item = (f"{year}年第{CN_QUARTER[quarter]}季度", year, date(year, *QUARTER_END[quarter]))
        elif form == 5:
            item = (f"于{year}年{month}月{day}日前完成", year, date(year, month, day))
        elif form == 6:
            item = (f"{year}年{month}月{day}日之前报送", year, date(year, month, day))
        elif form == 7:
            item = (f"{year}年上半年", year, date(year, 6, 30))
        elif form == 8:  # 次年: the year after the plan's, as plans write it
            nxt = monthrange(year + 1, month)[1]
            item = (f"次年{month}月底前", year, date(year + 1, month, nxt))
        else:
            item = (f"{month}月底前", year, date(year, month, last))
        found.setdefault(item[0], (item[1], item[2]))
    return [(phrase, year, due, None) for phrase, (year, due) in found.items()]


def corpus() -> list[Phrase]:
    """The grammar corpus' phrases whose meaning is one dated deadline (``YYYY-MM-DD``, or
    ``YYYY-MM-DD from …`` for a range) and whose plan year is stated; other rows are skipped.
    Both parsers get the plan year and the issue date when the source gives one."""
    if not CORPUS.exists():
        return []
    rows = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) < 4 or cells[0] == "phrase":
            continue
        phrase, year, meaning = cells[0], cells[1].strip(), cells[3].strip()
        found = ISO.fullmatch(meaning.split(" from ")[0])
        if found and year.isdigit() and ";" not in meaning:
            issued = date.fromisoformat(cells[2]) if ISO.fullmatch(cells[2].strip()) else None
            rows.append((phrase, int(year), date.fromisoformat(found.group(1)), issued))
    return rows


def ours(phrases: list[Phrase], warm: list[Phrase]) -> tuple[list[date | None], float]:
    from reminder.parse.deadlines import Context, parse
    from reminder.parse.rules import load_rules

    rules = load_rules()
    contexts = {(y, i): Context(year=y, issued=i) for _, y, _, i in phrases + warm}
    for phrase, year, _, issued in warm:  # compiles the rules; other phrases: no memo is hit
        parse(phrase, contexts[year, issued], rules)
    answers: list[date | None] = []
    started = time.process_time()
    for phrase, year, _, issued in phrases:
        found = [d for d in parse(phrase, contexts[year, issued], rules) if d.dates]
        answers.append(found[0].dates[0] if found else None)
    return answers, time.process_time() - started


def jionlp(phrases: list[Phrase], warm: list[Phrase]) -> tuple[list[date | None], float]:
    import jionlp as jio

    def base(year: int, issued: date | None) -> dict[str, int]:
        start = issued or date(year, 1, 1)
        return {"year": start.year, "month": start.month, "day": start.day}

    for phrase, year, _, issued in warm:  # loads its tables, as ours compiles its rules
        jio.ner.extract_time(phrase, time_base=base(year, issued))
    bases = [base(year, issued) for _, year, _, issued in phrases]
    answers: list[date | None] = []
    started = time.process_time()
    for (phrase, *_), time_base in zip(phrases, bases, strict=True):
        try:
            found = jio.ner.extract_time(phrase, time_base=time_base, with_parsing=True)
        except Exception:  # JioNLP raises on some inputs; count it as not understood
            found = []
        answer = None
        for item in found:
            times = (item.get("detail") or {}).get("time")
            if isinstance(times, list) and times and isinstance(times[-1], str) and times[-1][:1].isdigit():
                answer = date.fromisoformat(times[-1][:10])
                break
        answers.append(answer)
    return answers, time.process_time() - started


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    phrases = corpus() + generated(count)
    seen = {p for p, *_ in phrases}
    warm = [w for w in generated(300, seed=1) if w[0] not in seen][:200]
    results = {"phrases": len(phrases), "from_corpus": len(phrases) - count}
    for name, run in (("reminder", ours), ("jionlp", jionlp)):
        answers, seconds = run(phrases, warm)
        right = sum(a == expected for a, (_, _, expected, _) in zip(answers, phrases, strict=True))
        results[name] = {"accuracy": right / len(phrases), "us_per_phrase": seconds / len(phrases) * 1e6}
    import jionlp as jio

    results["jionlp_version"] = jio.__version__
    results["speedup"] = results["jionlp"]["us_per_phrase"] / results["reminder"]["us_per_phrase"]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
