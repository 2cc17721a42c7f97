"""The corpus: deadline phrases as other offices wrote them, each held to its meaning."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from reminder.deadlines import Context, read
from reminder.models import Deadline

CORPUS = Path(__file__).resolve().parent / "corpus" / "phrases.tsv"


def _rows() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8") as f:
        return list(csv.DictReader((line for line in f if not line.startswith("#")),
                                   delimiter="\t"))


ROWS = _rows()


def meaning(d: Deadline) -> str:
    """The notation of the corpus's meaning column."""
    if d.kind == "once":
        start = f" from {d.start.isoformat()}" if d.start else ""
        return d.dates[0].isoformat() + start
    if d.kind == "recurring":
        after = f"+{d.after}" if d.after else ""
        return f"{d.cycle}:{','.join(x.strftime('%m-%d') for x in d.dates)}{after}"
    if d.kind == "event":
        return f"after:{d.after}"
    return f"none:{d.note}" if d.note else "none"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['phrase'][:30]}@{r['year']}" for r in ROWS])
def test_phrase_reads_as_its_source_meant(row: dict[str, str]) -> None:
    # A blank year: the meaning does not depend on it (an event, a rhythm).
    ctx = Context(year=int(row["year"] or 2024),
                  issued=date.fromisoformat(row["issued"]) if row["issued"] else None)
    reading = read(row["phrase"], ctx)
    assert "; ".join(meaning(d) for d in reading.deadlines) == row["meaning"]
    assert reading.understood, (reading.leftover, reading.ambiguous)


def test_every_row_says_where_it_comes_from() -> None:
    for row in ROWS:
        assert row["source"].startswith(("http://", "https://", "synthesised: ")), row
    assert len({r["phrase"] + r["year"] for r in ROWS}) == len(ROWS), "no duplicates"
