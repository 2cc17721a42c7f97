"""Score the parser on a corpus file: correct, honest miss, confident wrong.

    .venv/bin/python bench/score_corpus.py FILE.tsv [-v] [--new-since REF]

``--new-since main`` scores only the rows FILE gained since git REF (the corpus growth of a
branch); with ``PYTHONPATH`` pointed at a checkout of REF the same rows are read by the old
parser, which gives the before figure.

FILE has the columns of tests/corpus/phrases.tsv. A row is **correct** when the deadlines,
written in the corpus notation, equal its meaning and the reading is understood; a
**confident wrong** reading is understood, has a date, and differs; everything else is an
**honest miss**. Rows whose meaning is written in words (the notation cannot say it) count
as correct when the parser gives no understood date.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "parse"))

from test_corpus import meaning  # noqa: E402

from reminder.parse.deadlines import Context, read  # noqa: E402

NOTATION = ("19", "20", "none", "after:", "weekly:", "monthly:", "quarterly:", "semiannual:",
            "yearly:", "ongoing:", "bimonthly:", "semimonthly:", "dekadal:", "biweekly:", "termly:")


def verdict(row: dict[str, str]) -> tuple[str, str]:
    ctx = Context(year=int(row["year"] or 2024),
                  issued=date.fromisoformat(row["issued"]) if row["issued"] else None)
    reading = read(row["phrase"], ctx)
    got = "; ".join(meaning(d) for d in reading.deadlines)
    dated = any(d.kind != "none" for d in reading.deadlines)
    if not row["meaning"].startswith(NOTATION):
        return ("correct" if not (reading.understood and dated) else "confident wrong"), got
    if got == row["meaning"] and reading.understood:
        return "correct", got
    if reading.understood and dated:
        return "confident wrong", got
    return "honest miss", got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("-v", action="store_true", help="list every row not read right")
    parser.add_argument("--new-since", metavar="REF", help="only rows added since git REF")
    args = parser.parse_args()
    with args.file.open(encoding="utf-8") as f:
        rows = list(csv.DictReader((line for line in f if not line.startswith("#")),
                                   delimiter="\t"))
    if args.new_since:
        old = set()
        for name in ("phrases.tsv", "gaps.tsv"):  # a row moved between the two is not new
            text = subprocess.run(["git", "show", f"{args.new_since}:tests/corpus/{name}"],
                                  cwd=ROOT, capture_output=True, text=True, check=True).stdout
            old |= {(r["phrase"], r["year"]) for r in csv.DictReader(
                (line for line in text.splitlines() if not line.startswith("#")),
                delimiter="\t")}
        rows = [r for r in rows if (r["phrase"], r["year"]) not in old]
    counts: Counter[str] = Counter()
    for row in rows:
        kind, got = verdict(row)
        counts[kind] += 1
        if args.v and kind != "correct":
            print(f"{kind}\t{row['phrase']}\t{row['year']}\twant {row['meaning']}\tgot {got}")
    for kind in ("correct", "honest miss", "confident wrong"):
        print(f"{kind}: {counts[kind]} of {len(rows)} ({100 * counts[kind] / len(rows):.0f} %)")


if __name__ == "__main__":
    main()
