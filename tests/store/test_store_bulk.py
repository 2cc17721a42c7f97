"""New outbox rows are written with pre-converted values and one executemany; they must be
stored byte for byte as a SQLAlchemy Core insert of the same notices stores them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from servers import fresh_postgres
from sqlalchemy import insert, text

from reminder.models import Notice
from reminder.store import CANCELLED, NO_CHANNEL, PENDING, UNROUTABLE, Store, open_store
from reminder.store.schema import NoticeRow
from reminder.store.sync import INSERT_COLUMNS, content_hash

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=TZ)


def notices() -> list[Notice]:
    base = datetime(2026, 6, 23, 9, 0, tzinfo=TZ)
    found = []
    for i in range(7):
        channel = ("email", "wecom", "none")[i % 3]
        found.append(Notice(
            send_at=base + timedelta(days=i % 2, minutes=i), stage="remind", step=f"{i}wd",
            plan="p", plan_title="方案 \"引号\", 逗号", task=str(i), title=f"任务{i}",
            due=date(2026, 6, 30), recipient=f"单位{i % 2}", channel=channel,
            addresses=() if channel == "none" else (f"u{i}@example.org", "群"),
            mentions=("zhang", "李") if channel == "wecom" else (),
            mobiles=("13800000000",) if i == 1 else (), occurrence="2026-06-30"))
    return found


def raw_rows(store: Store) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            f"SELECT {', '.join(INSERT_COLUMNS)} FROM notices ORDER BY key")]


def check(store: Store) -> None:
    wanted = notices()
    store.sync_plan(plan_id="p", title="方案", path="/p", fingerprint=None, tasks=(),
                    occurrences=(), notices=wanted, window=(date(2026, 1, 1), date(2026, 12, 31)),
                    cutoff=NOW, now=NOW, routable=lambda n: n.task != "4")
    fast = raw_rows(store)
    assert len(fast) == len(wanted)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM notices"))
        for n in wanted:
            status, reason = PENDING, None
            if n.channel == "none":
                status, reason = CANCELLED, UNROUTABLE
            elif n.task == "4":
                status, reason = CANCELLED, NO_CHANNEL
            conn.execute(insert(NoticeRow.__table__), [{
                "key": n.key, "plan_id": n.plan, "plan_title": n.plan_title, "task_id": n.task,
                "title": n.title, "due": n.due, "occurrence": n.occurrence, "stage": n.stage,
                "step": n.step, "recipient": n.recipient, "channel": n.channel,
                "addresses": list(n.addresses), "mentions": list(n.mentions),
                "mobiles": list(n.mobiles), "send_at": n.send_at,
                "content_hash": content_hash(n), "status": status, "reason": reason,
                "attempts": 0, "next_attempt_at": n.send_at, "created_at": NOW,
                "updated_at": NOW}])
    assert raw_rows(store) == fast
    # And the ORM reads them back as the notices they came from.
    assert sorted((store.to_notice(r) for r in store.notices()), key=lambda n: n.key) == \
        sorted(wanted, key=lambda n: n.key)


def test_sqlite_rows_are_stored_as_core_stores_them(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        check(store)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_postgres("reminder_bulk") as url:
        yield url


def test_postgres_rows_are_stored_as_core_stores_them(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        check(store)
    finally:
        store.dispose()
