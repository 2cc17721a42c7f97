"""统计 with 延期 and 签收 (issue 19): an extension approved before the original date moves
the date an item is judged by; one approved after it does not; 未签收 counts the items whose
lead unit has not signed, and reads — where the plan does not ask units to sign."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from clirun import TZ, copy_example
from reportdata import NOW

from reminder.answerback.stats import cells, compute, parse_period
from reminder.plan.folder import load_plan
from reminder.store import Store


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=TZ)


def extend(store: Store, task: str, due: str, new: str, asked: str, approved: str) -> None:
    ident = store.request_extension("demo-2026", task, due=date.fromisoformat(due),
                                    current=date.fromisoformat(due),
                                    requested=date.fromisoformat(new), unit="办公室",
                                    reason="r", progress="", late=asked > due, now=at(asked))
    assert ident is not None
    store.decide_extension(ident, approve=True, by="公开办", note="", now=at(approved))


def signing_plan(tmp_path: Path) -> object:
    return load_plan(copy_example(tmp_path / "demo-2026", 'sign_within = "1wd"'))


def test_extensions_count_against_the_original_date_unless_approved_before_it(
        store: Store, tmp_path: Path) -> None:
    """办公室's task 16 in Q3 without extensions: July done 34 days late, August open (39
    days overdue on 10-09), September on time. August's date moved to 10-31 on 08-20
    (before 08-31): not overdue but pending. July's moved to 09-10 on 08-10 (after 07-31):
    still late by 34 days, against the original date."""
    extend(store, "16", "2026-08-31", "2026-10-31", "2026-08-18", "2026-08-20")
    extend(store, "16", "2026-07-31", "2026-09-10", "2026-08-05", "2026-08-10")
    store.sign("demo-2026", "16", "办公室", now=at("2026-07-01"))
    plan = signing_plan(tmp_path)
    (stats,) = compute([plan], store, parse_period("2026年第三季度"), NOW).plans
    office = {u.unit: u for u in stats.units}["办公室"]
    assert (office.tasks, office.on_time, office.late, office.overdue, office.pending,
            office.days_overdue) == (3, 1, 1, 0, 1, 34)
    assert (office.extensions, office.unsigned) == (2, 0)
    assert office.rate_text == "50.0%"
    others = {u.unit: u for u in stats.units if u.unit != "办公室"}
    assert all(u.extensions == 0 and u.unsigned == u.tasks for u in others.values())
    assert stats.total.extensions == 2 and stats.total.unsigned == sum(
        u.unsigned or 0 for u in stats.units)
    row = dict(zip(("rank", "unit"), cells(office), strict=False))
    assert row["unit"] == "办公室" and cells(office)[-2:] == ["2", "0"]
    # The overdue trend judges by the moved date too: August's item is never overdue.
    assert stats.overdue_trend[-1] == (date(2026, 10, 9), stats.total.overdue)


def test_without_signing_the_unsigned_column_reads_a_dash(store: Store, tmp_path: Path) -> None:
    plan = load_plan(copy_example(tmp_path / "demo-2026", 'sign_within = ""'))
    (stats,) = compute([plan], store, parse_period("2026年第三季度"), NOW).plans
    assert all(cells(u)[-1] == "—" and cells(u)[-2] == "0" for u in stats.units)
