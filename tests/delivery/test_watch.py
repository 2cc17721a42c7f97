"""A running daemon learns within a second that another process wrote to the database:
PRAGMA data_version on SQLite, LISTEN/NOTIFY on PostgreSQL. The writers here are real
other processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_daemon import idle_daemon

from reminder.models import Notice
from reminder.store import CANCELLED, SENT, Store

TZ = ZoneInfo("Asia/Shanghai")
DUE = date(2026, 6, 30)


def in_other_process(url: str, action: str) -> None:
    """Run a store call in a separate Python process, as `reminder done/undo/event` would."""
    code = (
        "from datetime import date, datetime; from zoneinfo import ZoneInfo\n"
        "from reminder.store import open_store\n"
        f"s = open_store({url!r}); now = datetime.now(ZoneInfo('Asia/Shanghai'))\n"
        f"s.{action}\n"
        "s.dispose()\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


@pytest.mark.parametrize("action", [
    pytest.param("set_event('p', '1', date(2026, 7, 1), by='x', now=now)", id="event"),
    pytest.param("mark_done('p', '1', date(2026, 6, 30), by='x', note='', now=now)", id="done"),
])
def test_watcher_sees_a_write_by_another_process_and_only_then(store: Store, db_url: str,
                                                               action: str) -> None:
    watcher = store.watcher()
    try:
        assert watcher.wait(0.2) is False  # nothing written: no change reported
        in_other_process(db_url, action)
        assert watcher.wait(1.0) is True
        assert watcher.wait(0.2) is False  # reported once, not again
    finally:
        watcher.close()


def notice(send_at: datetime) -> Notice:
    return Notice(send_at=send_at, stage="remind", step="1wd", plan="wake", plan_title="唤醒测试",
                  task="1", title="任务1", due=DUE, recipient="法规科", channel="email",
                  addresses=("fagui@example.gov.cn",))


def test_idle_daemon_sends_a_notice_revived_by_undo_in_another_process_within_a_second(
        store: Store, db_url: str, tmp_path: Path) -> None:
    now = datetime.now(TZ)
    soon = notice(now - timedelta(minutes=1))
    store.sync_plan(plan_id="wake", title="唤醒测试", path="/wake", fingerprint=None, tasks=(),
                    occurrences=(), notices=[soon], window=(now.date(), now.date()),
                    cutoff=now - timedelta(hours=1), now=now)
    store.mark_done("wake", "1", DUE, by="x", note="", now=now)
    assert [r.status for r in store.notices()] == [CANCELLED]

    def planner(plans: Any, *, done: Any, **_: Any) -> list[Notice]:
        return [] if ("wake", "1", DUE) in done else [soon]

    folder = tmp_path / "wake"
    folder.mkdir()
    # Nothing pending: only the watcher can make it send in time.
    daemon, email = idle_daemon(store, folder, planner)
    outcome: dict[str, Any] = {}

    def drive() -> None:
        time.sleep(1.5)  # let the daemon start and go idle
        outcome["idle"] = not email.arrived.is_set()
        in_other_process(db_url, f"reopen('wake', '1', date({DUE.year}, {DUE.month}, {DUE.day}), "
                                 "by='x', now=now)")
        written = time.monotonic()
        outcome["arrived"] = email.arrived.wait(10)
        outcome["latency"] = time.monotonic() - written
        os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=drive)
    helper.start()
    assert daemon.run() == 0
    helper.join(15)
    assert outcome["idle"], "the daemon sent before the notice was revived"
    assert outcome["arrived"], "the revived notice was never sent"
    # Within the second the watcher polls, plus one dispatch on a loaded test machine.
    assert outcome["latency"] < 3.0
    assert [r.status for r in store.notices()] == [SENT]
