"""签收 and 延期申请 in the store (store/signing.py, migration 0010) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminder.store import Store

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 23, 9, 0, tzinfo=TZ)


def test_signing_twice_keeps_the_first_time_and_moves_the_change_marker(store: Store) -> None:
    marker = store.change_marker()
    assert store.sign("p", "1", "法规科", now=NOW, link="abc") == (NOW, True)
    assert store.change_marker() != marker
    later = NOW + timedelta(hours=2)
    when, new = store.sign("p", "1", "法规科", now=later)
    assert (when, new) == (NOW, False)
    store.sign("p", "1", "办公室", now=later)
    assert store.signed_set() == {("p", "1", "法规科"), ("p", "1", "办公室")}
    assert [r.unit for r in store.signatures("p")] == ["法规科", "办公室"]
    assert store.signatures("other") == []


def test_one_request_waits_at_a_time_and_a_decision_is_taken_once(store: Store) -> None:
    ask = dict(due=date(2026, 7, 8), current=date(2026, 7, 8), requested=date(2026, 8, 31),
               unit="法规科", reason="征求意见", progress="初稿", late=False, now=NOW)
    first = store.request_extension("p", "9", **ask)  # type: ignore[arg-type]
    assert first is not None
    assert store.request_extension("p", "9", **ask) is None  # type: ignore[arg-type]
    assert store.extended_dates() == {}
    marker = store.change_marker()
    decided = store.decide_extension(first, approve=True, by="公开办", note="同意",
                                     now=NOW + timedelta(days=1))
    assert decided is not None and decided.status == "approved" and decided.note == "同意"
    assert store.change_marker() != marker
    assert store.decide_extension(first, approve=False, by="公开办", note="x", now=NOW) is None
    assert store.extended_dates() == {("p", "9", date(2026, 7, 8)): date(2026, 8, 31)}
    # After a decision a new request may be made; a rejected one moves nothing.
    second = store.request_extension("p", "9", **{**ask, "requested": date(2026, 9, 30)})  # type: ignore[arg-type]
    assert second is not None
    store.decide_extension(second, approve=False, by="公开办", note="不同意", now=NOW)
    assert store.extended_dates()[("p", "9", date(2026, 7, 8))] == date(2026, 8, 31)
    rows = store.extensions("p", "9")
    assert [(r.status, r.requested.isoformat()) for r in rows] == [
        ("approved", "2026-08-31"), ("rejected", "2026-09-30")]
    assert rows[0].decided_at is not None and rows[0].decided_at.tzinfo is not None


def test_an_approval_may_name_another_date_and_the_request_is_kept(store: Store) -> None:
    """批准延期至…: the office approves 08-15 where the unit asked for 08-31; the reminders
    move to 08-15 and the row still says what was asked."""
    ident = store.request_extension("p", "9", due=date(2026, 7, 8), current=date(2026, 7, 8),
                                    requested=date(2026, 8, 31), unit="法规科", reason="r",
                                    progress="", late=False, now=NOW)
    assert ident is not None
    store.decide_extension(ident, approve=True, by="公开办", note="", now=NOW,
                           approved=date(2026, 8, 15))
    assert store.extended_dates() == {("p", "9", date(2026, 7, 8)): date(2026, 8, 15)}
    row = store.extensions("p", "9")[0]
    assert (row.requested, row.approved) == (date(2026, 8, 31), date(2026, 8, 15))
