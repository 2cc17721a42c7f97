"""The corpus: deadline phrases as other offices wrote them, each held to its meaning."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from reminder.models import Deadline
from reminder.parse.deadlines import Context, read

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "phrases.tsv"
GAPS = CORPUS.with_name("gaps.tsv")
CONFIDENT_WRONG = "confident wrong date"
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _rows(path: Path = CORPUS) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader((line for line in f if not line.startswith("#")),
                                   delimiter="\t"))


ROWS = _rows()
GAP_ROWS = _rows(GAPS)


def _context(row: dict[str, str]) -> Context:
    # A blank year: the meaning does not depend on it (an event, a rhythm).
    return Context(year=int(row["year"] or 2024),
                   issued=date.fromisoformat(row["issued"]) if row["issued"] else None)


def meaning(d: Deadline) -> str:
    """The notation of the corpus's meaning column."""
    if d.kind == "once":
        start = f" from {d.start.isoformat()}" if d.start else ""
        return d.dates[0].isoformat() + start
    if d.kind == "recurring" and d.offsets:  # each period its own limit
        return f"{d.cycle}:" + ",".join(f"{x.strftime('%m-%d')}+{o}"
                                        for x, o in zip(d.dates, d.offsets, strict=True))
    if d.kind == "recurring":
        after = f"+{d.after}" if d.after else ""
        if d.cycle in ("weekly", "biweekly"):  # 52 (26) dates say less than their weekday
            return f"{d.cycle}:{WEEKDAYS[d.dates[0].weekday()]}{after}"
        return f"{d.cycle}:{','.join(x.strftime('%m-%d') for x in d.dates)}{after}"
    if d.kind == "event":
        return f"after:{d.after}"
    return f"none:{d.note}" if d.note else "none"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['phrase'][:30]}@{r['year']}" for r in ROWS])
def test_phrase_reads_as_its_source_meant(row: dict[str, str]) -> None:
    reading = read(row["phrase"], _context(row))
    assert "; ".join(meaning(d) for d in reading.deadlines) == row["meaning"]
    assert reading.understood, (reading.leftover, reading.ambiguous)


@pytest.mark.parametrize("row", [
    pytest.param(r, marks=pytest.mark.xfail(strict=True, reason=CONFIDENT_WRONG))
    if r["why"] == CONFIDENT_WRONG else r for r in GAP_ROWS
], ids=[f"{r['phrase'][:30]}@{r['year']}" for r in GAP_ROWS])
def test_gap_is_never_read_confidently(row: dict[str, str]) -> None:
    # A phrase the grammar cannot read yet must say so (leftover or ambiguous reported) or
    # give no date at all; a date with understood=true would go to users unflagged.
    reading = read(row["phrase"], _context(row))
    dated = [d for d in reading.deadlines if d.kind != "none"]
    assert not reading.understood or not dated, [meaning(d) for d in dated]


@pytest.mark.parametrize("rows", [ROWS, GAP_ROWS], ids=["phrases", "gaps"])
def test_every_row_says_where_it_comes_from(rows: list[dict[str, str]]) -> None:
    for row in rows:
        assert row["source"].startswith(("http://", "https://", "synthesised: ")), row
    assert len({r["phrase"] + r["year"] for r in rows}) == len(rows), "no duplicates"


def test_no_gap_is_also_a_passing_phrase() -> None:
    # A phrase fixed in the grammar moves to phrases.tsv; it must not sit in both files.
    assert not {r["phrase"] for r in ROWS} & {r["phrase"] for r in GAP_ROWS}
