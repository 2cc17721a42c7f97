"""A store with known completions and sent notices for the example plan, shared by the
statistics, bulletin and evidence tests; SQLite or PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from clirun import EXAMPLE, TZ
from servers import fresh_postgres

from reminder.store import SENT, Store, open_store
from reminder.store.schema import PENDING, NoticeRow

NOW = datetime(2026, 10, 9, 9, 0, tzinfo=TZ)
# (task, due, done on): 2026 Q3 of the example plan as the tests expect it.
DONE = [("9", "2026-07-08", "2026-07-06"), ("16", "2026-07-31", "2026-09-03"),
        ("16", "2026-09-30", "2026-09-30"), ("6", "2026-09-30", "2026-09-29")]
# (task, recipient, sent on, status)
SENT_NOTICES = [("16", "办公室", "2026-07-24", SENT), ("16", "办公室", "2026-09-01", SENT),
                ("16", "办公室", "2026-06-23", SENT), ("13", "财务科", "2026-09-23", SENT),
                ("13", "财务科", "2026-10-01", PENDING)]


@contextmanager
def store_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgres":
        with fresh_postgres("reminder_stats") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'state' / 'reminder.db'}"


def fill(store: Store) -> None:
    for task, due, day in DONE:
        store.mark_done("demo-2026", task, date.fromisoformat(due), by="测试", note="",
                        now=datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=TZ))
    with store.transaction() as session:
        for n, (task, recipient, day, status) in enumerate(SENT_NOTICES):
            moment = datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=TZ)
            session.add(NoticeRow(
                key=f"k{n}", plan_id="demo-2026", task_id=task, due=date(2026, 9, 30),
                stage="remind", recipient=recipient, channel="email", send_at=moment,
                status=status, next_attempt_at=moment, created_at=moment, updated_at=moment,
                sent_at=moment if status == SENT else None))


def deployment(tmp_path: Path, url: str) -> Path:
    """A config with the example plan over the store at ``url``, filled."""
    (tmp_path / "state").mkdir(exist_ok=True)
    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    config = tmp_path / "config.toml"
    config.write_text(f'plans = ["plans"]\ntimezone = "Asia/Shanghai"\n[database]\nurl = "{url}"\n',
                      encoding="utf-8")
    store = open_store(url)
    try:
        fill(store)
    finally:
        store.dispose()
    return config
