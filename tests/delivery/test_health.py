"""The daemon's watch over its database (issue 20 §2-4): a deleted, replaced or immutable
SQLite file stops it with one log line and a word to the admin; a send the database would
not record survives a SIGTERM; a lost PostgreSQL connection is reopened with backoff, said
once; a long outage is told to the admin."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from servers import fresh_postgres
from test_daemon import FakePlan, Recorder

from reminder.config import Config
from reminder.delivery.daemon import Daemon, PlanSet
from reminder.delivery.dispatcher import Dispatcher
from reminder.delivery.health import DatabaseHealth
from reminder.errors import StoreError
from reminder.models import Contact, Notice, Task
from reminder.store import SENT, Delivery, Store, open_store

TZ = ZoneInfo("Asia/Shanghai")
ADMIN = Contact(name="管理员", email=("admin@example.gov.cn",))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "r.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{db}")
    yield s
    s.dispose()


def make(store: Store, tmp_path: Path, **config: Any) -> tuple[Daemon, Recorder]:
    folder = tmp_path / "plan"
    folder.mkdir(exist_ok=True)
    (folder / "plan.toml").write_text("", encoding="utf-8")
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(folder,),
                 tick_seconds=3600, **config)
    email = Recorder("email")
    daemon = Daemon(cfg, store, Dispatcher(store, {"email": email}, claimant="t", admin=ADMIN),
                    planner=lambda *_, **__: [], occurrences=lambda *_, **__: [],
                    plans=PlanSet(cfg, store, loader=lambda *_, **__: FakePlan()))
    return daemon, email


def run_while(daemon: Daemon, action: Any) -> int:
    """Run the daemon in this (the main) thread; ``action`` once it has started."""
    def later() -> None:
        time.sleep(1.5)
        action()

    helper = threading.Thread(target=later)
    helper.start()
    started = time.monotonic()
    code = daemon.run()
    helper.join()
    assert time.monotonic() - started < 15, "the daemon did not stop by itself"
    return code


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_deleted_database_stops_the_daemon_tells_the_admin_and_is_not_recreated(
        store: Store, db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    daemon, email = make(store, tmp_path)
    caplog.set_level(logging.INFO)
    assert run_while(daemon, db.unlink) == 1
    [line] = errors(caplog)
    assert "已被删除" in line and "守护进程已停止" in line and ".rescued-" in line
    [alert] = email.sent
    assert alert.to == ADMIN.email and "已被删除" in alert.text
    # What the daemon recorded is in the saved copy, and nothing makes an empty database.
    [rescued] = db.parent.glob("r.db.rescued-*")
    assert open_store(f"sqlite:///{rescued}").notices() == []
    with pytest.raises(StoreError, match="不会新建空数据库"):
        open_store(f"sqlite:///{db}")
    assert not db.exists()


def test_a_replaced_database_stops_the_daemon(store: Store, db: Path, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    daemon, _ = make(store, tmp_path)

    def replace() -> None:
        shutil.copy(db, db.with_name("copy.db"))
        os.replace(db.with_name("copy.db"), db)

    assert run_while(daemon, replace) == 1
    assert "已被替换" in errors(caplog)[0]


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr")
def test_an_immutable_database_stops_the_daemon_with_one_line(
        store: Store, db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not allowed here")
    subprocess.run(["chattr", "-i", str(db)], check=True)
    daemon, email = make(store, tmp_path)
    try:
        code = run_while(daemon, lambda: subprocess.run(["chattr", "+i", str(db)], check=True))
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert code == 1
    [line] = errors(caplog)
    assert "不可修改" in line
    assert len(email.sent) == 1


def test_a_send_the_disk_would_not_take_survives_sigterm_and_is_recorded_at_the_next_start(
        store: Store, db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    now = datetime.now(TZ)
    notice = Notice(send_at=now - timedelta(minutes=1), stage="remind", step="1wd", plan="p",
                    plan_title="P", task="1", title="任务1", due=now.date() + timedelta(days=3),
                    recipient="法规科", channel="email", addresses=("fagui@example.gov.cn",))
    store.sync_plan(plan_id="p", title="P", path="/p", fingerprint="x",
                    tasks=[Task(id="1", title="任务1")], occurrences=[], notices=[notice],
                    window=(now.date(), now.date() + timedelta(days=30)),
                    cutoff=now - timedelta(days=1), now=now)
    daemon, email = make(store, tmp_path)
    daemon.settle_seconds = 0
    [claimed] = store.claim(now, "t", lease=timedelta(seconds=1))
    delivery = Delivery(channel="email", recipient="法规科", addresses=notice.addresses,
                        notice_ids=(claimed.id,))

    def full(*_: Any, **__: Any) -> None:
        raise OperationalError("UPDATE", {}, Exception("database or disk is full"))

    monkeypatch.setattr(store, "mark_sent", full)
    with pytest.raises(Exception, match="disk is full"):
        daemon.dispatcher.store.mark_sent([claimed.id], "t", now, delivery)
    daemon._health = DatabaseHealth(db)
    daemon._settle_before_exit()
    journal = db.with_name("r.db.unsettled.json")
    assert journal.exists() and daemon.fatal
    [line] = errors(caplog)
    assert "未能记入数据库" in line and str(journal) in line
    assert len(email.sent) == 1  # the admin, told without the database
    monkeypatch.undo()
    # The lease ran out long ago: without the journal the next claim would send it again.
    later, again = make(store, tmp_path)
    report = later.run_once(now + timedelta(minutes=5), settle_for=0)
    assert report.claimed == 0 and again.sent == []
    assert [r.status for r in store.notices()] == [SENT] and not journal.exists()


class Flaky:
    """A watcher whose database is away for ``failures`` waits."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def wait(self, timeout: float) -> bool:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("server closed the connection unexpectedly")
        time.sleep(min(timeout, 0.05))
        return False

    def close(self) -> None:
        pass


def test_a_lost_listener_reconnects_with_backoff_and_says_so_once(
        store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    daemon, _ = make(store, tmp_path)
    daemon.reconnect_first = 0.01
    flaky = Flaky(5)
    store.watcher = lambda stop: flaky  # type: ignore[method-assign]
    jobs: list[str] = []
    daemon._scheduler = type("S", (), {"add_job": lambda self, f, id, **_: jobs.append(id)})()
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    thread = daemon._start_watching()
    deadline = time.monotonic() + 10
    while not jobs and time.monotonic() < deadline:
        time.sleep(0.01)
    daemon.stop.set()
    thread.join(5)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("连接中断" in m for m in messages) == 1, messages
    assert sum("已重新连接" in m for m in messages) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per attempt
    assert jobs == ["changed"]  # a sync right after: notifications were lost meanwhile
    assert 0.31 <= time.monotonic() - started < 5  # 0.01+0.02+0.04+0.08+0.16: backing off


def test_the_postgresql_listener_hears_a_change_made_after_its_connection_was_killed() -> None:
    from sqlalchemy import text

    from reminder.store.watch import CHANNEL

    with fresh_postgres("reminder_health") as url:
        s = open_store(url)
        try:
            watcher = s.watcher(threading.Event())
            with s.engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE query LIKE 'LISTEN%' AND datname = current_database()"))
            with pytest.raises(Exception):  # noqa: B017 - whatever psycopg says, it is lost
                for _ in range(5):
                    watcher.wait(0.2)
            assert watcher.wait(0.2) is True  # reconnected: "maybe changed", so check
            with s.engine.begin() as conn:
                conn.execute(text(f"NOTIFY {CHANNEL}, 'completions'"))
            assert watcher.wait(2.0) is True
            watcher.close()
        finally:
            s.dispose()


def test_an_outage_is_told_once_after_alert_after_and_the_recovery_reset() -> None:
    clock = [0.0]
    health = DatabaseHealth(None, alert_after=60, clock=lambda: clock[0])
    health.failing("无法连接数据库")
    clock[0] = 59
    assert not health.overdue()
    clock[0] = 61
    assert health.overdue() and not health.overdue()
    assert health.working() is True and health.working() is False
    health.failing("again")
    assert not health.overdue()


def test_a_long_unrecorded_send_tells_the_admin_from_the_daemons_check(
        store: Store, db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    daemon, email = make(store, tmp_path, alert_after_seconds=0.01)
    daemon._health = DatabaseHealth(db, alert_after=0.01)
    daemon.dispatcher.store.unsettled.append(("mark_sent", ([1], "t", datetime.now(TZ)), {}))
    assert daemon._check_database() is False
    time.sleep(0.02)
    assert daemon._check_database() is False
    assert daemon._check_database() is False
    [alert] = email.sent
    assert "无法使用" in alert.text and "无法写入数据库" in alert.text
    assert [r.status for r in store.notices()] == []
