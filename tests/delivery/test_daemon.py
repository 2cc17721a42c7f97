"""The daemon in-process: syncing the example plan into a real SQLite outbox, reacting to
folder edits, broken plans, completions and events; APScheduler wake-ups and signals."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time as _time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reminder.config import Config
from reminder.delivery.channels.base import Channel, Message, SendResult
from reminder.delivery.daemon import Daemon, PlanSet
from reminder.delivery.dispatcher import Dispatcher
from reminder.models import Notice
from reminder.plan.cache import fingerprint
from reminder.plan.calendar import WorkCalendar
from reminder.store import CANCELLED, DONE, NO_CHANNEL, OBSOLETE, PENDING, SENT, Store, open_store

TZ = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-2026"
PLAN = "demo-2026"


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


class Recorder(Channel):
    """Accepts every message and remembers it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Message] = []
        self.arrived = threading.Event()

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        self.arrived.set()
        return SendResult(status="ok", provider_code="0", detail="ok")

    def rate_key(self, message: Message) -> str:
        return message.to[0] if message.to else ""

    def close(self) -> None:
        pass


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plans" / PLAN
    shutil.copytree(EXAMPLE, folder)
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'reminder.db'}")
    yield s
    s.dispose()


def make(store: Store, plan_dir: Path, **config: Any) -> tuple[Daemon, dict[str, Recorder]]:
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(plan_dir,), **config)
    channels = {"email": Recorder("email"), "wecom": Recorder("wecom")}
    dispatcher = Dispatcher(store, channels, claimant="test")
    return Daemon(cfg, store, dispatcher), channels


def pending(store: Store, task: str) -> list[Any]:
    return [r for r in store.notices(task_id=task) if r.status == PENDING]


def edit(plan_dir: Path, extra: str) -> None:
    plan = plan_dir / "plan.toml"
    before = plan.stat().st_mtime_ns
    plan.write_text(plan.read_text(encoding="utf-8") + extra, encoding="utf-8")
    os.utime(plan, ns=(before + 10**9, before + 10**9))  # a visible change on any filesystem


# -- syncing -------------------------------------------------------------------------------

def test_sync_at_start_is_idempotent_and_matches_the_planner(store: Store, plan_dir: Path
                                                             ) -> None:
    from reminder.plan.folder import load_plan
    from reminder.plan.planner import plan_notices

    daemon, _ = make(store, plan_dir)
    now = at("2026-06-01", "08:00")
    [first] = daemon.sync(now)
    assert first.added > 0
    [again] = daemon.sync(now, force=True)
    assert (again.added, again.cancelled) == (0, 0)
    expected = plan_notices([load_plan(plan_dir)], start=date(2026, 6, 1),
                            end=date(2026, 7, 31))
    keys = {r.key for r in store.notices() if r.status == PENDING}
    assert keys == {n.key for n in expected if n.channel != "none"}


def test_log_says_when_a_year_has_no_holiday_data(store: Store, plan_dir: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    daemon, _ = make(store, plan_dir)
    with caplog.at_level("WARNING", logger="reminder"):
        daemon.sync(at("2026-12-20", "08:00"))  # the window reaches into 2027
        daemon.sync(at("2026-12-20", "08:00"), force=True)
    notes = [r.getMessage() for r in caplog.records if "2027 年的节假日安排尚无数据" in r.getMessage()]
    assert len(notes) == 1 and plan_dir.name in notes[0]


def test_notices_without_a_configured_channel_wait_instead_of_failing(
        store: Store, plan_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(plan_dir,))
    email_only = Daemon(cfg, store, Dispatcher(store, {"email": Recorder("email")}, claimant="t"))
    now = at("2026-06-23", "09:00")
    with caplog.at_level("ERROR", logger="reminder"):
        email_only.run_once(now)
        email_only.sync(now, force=True)
    wecom_rows = [r for r in store.notices() if r.channel == "wecom"]
    assert wecom_rows and all((r.status, r.reason) == (CANCELLED, NO_CHANNEL) for r in wecom_rows)
    assert not [r for r in store.notices() if r.status == "failed"]
    gaps = [r for r in caplog.records if "没有" in r.getMessage() and "暂不发送" in r.getMessage()]
    assert len(gaps) == 1  # logged once, not per notice or per sync

    both, channels = make(store, plan_dir)  # the config now has a WeCom robot
    both.run_once(now)
    assert channels["wecom"].sent  # today's WeCom notices went out after all
    assert not [r for r in store.notices() if r.reason == NO_CHANNEL and r.send_at >= now]


def test_nothing_changed_means_no_replanning(store: Store, plan_dir: Path) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    assert daemon.sync(at("2026-06-01", "08:05")) == []
    assert daemon.sync(at("2026-06-02", "08:00")) != []  # a new day rolls the window


def test_changed_deadline_in_the_folder_cancels_and_replans(store: Store, plan_dir: Path
                                                            ) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    assert {r.due for r in pending(store, "5")} == {date(2026, 6, 30)}
    edit(plan_dir, '\n[tasks."5"]\ndeadline = "2026年7月31日"\n')
    [result] = daemon.sync(at("2026-06-01", "08:05"))
    assert result.cancelled > 0 and result.added > 0
    assert {r.due for r in pending(store, "5")} == {date(2026, 7, 31)}
    assert {r.reason for r in store.notices(task_id="5") if r.status == CANCELLED} == {OBSOLETE}


def test_skipped_task_is_cancelled(store: Store, plan_dir: Path) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    edit(plan_dir, '\n[tasks."5"]\nskip = true\n')
    daemon.sync(at("2026-06-01", "08:05"))
    assert pending(store, "5") == []


def test_broken_plan_keeps_its_last_good_version(store: Store, plan_dir: Path) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    before = {r.key for r in store.notices() if r.status == PENDING}
    edit(plan_dir, "\nthis is = = not toml\n")
    daemon.sync(at("2026-06-01", "08:05"))
    assert {r.key for r in store.notices() if r.status == PENDING} == before
    error, _since = store.plan_errors()[PLAN]
    assert "plan.toml" in error
    # The next day the last good version still rolls its window forward; the error stays.
    daemon.sync(at("2026-06-02", "08:00"))
    assert PLAN in store.plan_errors()
    (plan_dir / "plan.toml").write_text((EXAMPLE / "plan.toml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    daemon.sync(at("2026-06-02", "08:05"))
    assert store.plan_errors() == {}


def test_completion_recorded_by_a_command_survives_replanning(store: Store, plan_dir: Path
                                                              ) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    store.mark_done(PLAN, "5", date(2026, 6, 30), by="x", note="", now=at("2026-06-01"))
    assert daemon.sync(at("2026-06-01", "08:05")) != []  # the change marker moved
    rows = store.notices(task_id="5")
    assert rows and all((r.status, r.reason) == (CANCELLED, DONE) for r in rows)
    store.reopen(PLAN, "5", date(2026, 6, 30), by="x", now=at("2026-06-01", "08:10"))
    daemon.sync(at("2026-06-01", "08:15"))
    assert {r.due for r in pending(store, "5")} == {date(2026, 6, 30)}


def test_event_recorded_in_the_store_moves_an_event_deadline(store: Store, plan_dir: Path
                                                             ) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    old = {r.due for r in pending(store, "10")}
    store.set_event(PLAN, "10", date(2026, 7, 1), by="x", now=at("2026-06-01"))
    daemon.sync(at("2026-06-01", "08:05"))
    new = {r.due for r in pending(store, "10")}
    assert new and new.isdisjoint(old)
    assert min(new) > date(2026, 7, 1)


def test_catch_up_after_downtime_folds_into_one_digest_per_recipient(
        store: Store, plan_dir: Path) -> None:
    daemon, channels = make(store, plan_dir)
    daemon.sync(at("2026-06-19", "18:00"))  # Friday evening, then the server is off
    report = daemon.run_once(at("2026-06-29", "10:00"))  # back on Monday, ten days later
    assert report.folded > 0
    sent = [r for r in store.notices() if r.status == SENT]
    assert sent and all(r.send_at <= at("2026-06-29", "10:00") for r in sent)
    # One digest (its first part) per recipient and channel.
    digests = [m for c in channels.values() for m in c.sent if m.part == 1]
    assert len(digests) == len({(r.channel, r.recipient) for r in sent})
    per_occurrence = {(r.task_id, r.due, r.recipient, r.channel) for r in sent}
    assert len(per_occurrence) == len(sent)  # never two notices of one occurrence at once


def test_run_once_twice_sends_once(store: Store, plan_dir: Path) -> None:
    daemon, channels = make(store, plan_dir)
    first = daemon.run_once(at("2026-06-23"))
    second = daemon.run_once(at("2026-06-23"))
    assert first.sent == 12 and second.sent == 0
    assert len(channels["email"].sent) == 4


def test_fingerprint_sees_edits_but_not_hidden_files(plan_dir: Path) -> None:
    mark = fingerprint(plan_dir)
    (plan_dir / ".plan.toml.swp").write_text("x", encoding="utf-8")
    assert fingerprint(plan_dir) == mark
    (plan_dir / "holidays").mkdir()
    (plan_dir / "holidays" / "2026.toml").write_text("", encoding="utf-8")
    assert fingerprint(plan_dir) != mark


# -- the running daemon --------------------------------------------------------------------

class FakePlan:
    id, title, tasks = "wake", "唤醒测试", ()
    calendar = WorkCalendar()


def soon_notice(send_at: datetime) -> Notice:
    return Notice(send_at=send_at, stage="remind", step="1wd", plan="wake", plan_title="唤醒测试",
                  task="1", title="任务1", due=send_at.date() + timedelta(days=3),
                  recipient="法规科", channel="email", addresses=("fagui@example.gov.cn",))


def idle_daemon(store: Store, folder: Path,
                planner: Callable[..., list[Notice]]) -> tuple[Daemon, Recorder]:
    """A daemon over ``folder`` (read as FakePlan) sending ``planner``'s notices to a
    Recorder, with a one-hour tick: only a wake-up can make it send within a test."""
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(folder,),
                 tick_seconds=3600)
    email = Recorder("email")
    return Daemon(cfg, store, Dispatcher(store, {"email": email}, claimant="t"),
                  planner=planner, occurrences=lambda plan, **_: [],
                  plans=PlanSet(cfg, store, loader=lambda path, **_: FakePlan())), email


def test_daemon_wakes_at_the_next_send_time_and_stops_on_sigterm(
        store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "wake"
    folder.mkdir()
    (folder / "plan.toml").write_text("", encoding="utf-8")
    due = datetime.now(TZ) + timedelta(seconds=1.5)
    calls: list[datetime] = []

    def planner(plans: Sequence[Any], **_: Any) -> list[Notice]:
        calls.append(datetime.now(TZ))
        return [soon_notice(due)]

    daemon, email = idle_daemon(store, folder, planner)  # only the wake-up job sends in time
    outcome: dict[str, Any] = {}

    def drive() -> None:
        outcome["arrived"] = email.arrived.wait(10)
        outcome["at"] = datetime.now(TZ)
        os.kill(os.getpid(), signal.SIGHUP)  # re-plan on request
        deadline = _time.monotonic() + 10
        while len(calls) < 2 and _time.monotonic() < deadline:
            _time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=drive)
    helper.start()
    assert daemon.run() == 0
    helper.join(10)
    assert outcome["arrived"], "the notice due 1.5 s after start never arrived"
    assert outcome["at"] >= due
    assert len(calls) >= 2, "SIGHUP did not re-plan"
    assert [r.status for r in store.notices()] == [SENT]
    assert len(email.sent) == 1


def test_status_after_sync_uses_whole_titles_and_never_calls_ongoing_overdue(
        store: Store, plan_dir: Path) -> None:
    daemon, _ = make(store, plan_dir)
    daemon.sync(at("2026-06-01", "08:00"))
    rows = {r.task: r for r in store.task_status(date(2026, 8, 1))}
    ongoing = rows["2"]  # 长期: reminded before each quarterly report, never overdue
    assert (ongoing.overdue, ongoing.next_due) == (False, date(2026, 9, 30))
    assert rows["5"].overdue and rows["5"].next_due == date(2026, 6, 30)
    # The whole title (issue 17: status showed the first clause only).
    assert rows["5"].title == "完成政务新媒体账号清理整合并报送清单。"


def test_run_once_sends_everything_due_not_just_one_claim(store: Store, plan_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`run --once` used to stop after one claim (1,000 notices) and say nothing."""
    claim = Store.claim

    def small_claims(self: Store, now: datetime, claimant: str, *, lease: timedelta,
                     limit: int = 1000) -> list[Any]:
        return claim(self, now, claimant, lease=lease, limit=3)

    monkeypatch.setattr(Store, "claim", small_claims)
    daemon, _ = make(store, plan_dir)
    report = daemon.run_once(at("2026-06-23"))
    assert (report.claimed, report.sent) == (12, 12)
    assert not [r for r in store.notices() if r.status == PENDING and r.send_at <= at("2026-06-23")]


def test_a_plan_that_loads_but_cannot_be_planned_does_not_stop_the_others(
        store: Store, plan_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 20 item 1: an event date recorded far out (9999-12-31, stored before the entry
    points refused it) overflows the workday count. That plan is reported and keeps its
    outbox; the other plans are still synced, at start-up and at every later sync."""
    other = plan_dir.parent / "other-2026"
    shutil.copytree(EXAMPLE, other)
    store.set_event(PLAN, "10", date(9999, 12, 31), by="x", now=at("2026-06-01"))
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(plan_dir, other))
    daemon = Daemon(cfg, store, Dispatcher(store, {"email": Recorder("email")}, claimant="t"))
    results = daemon.sync(at("2026-06-01", "08:00"))
    assert [r.plan for r in results] == ["other-2026"]
    assert any(r.plan_id == "other-2026" and r.status == PENDING for r in store.notices())
    error, _since = store.plan_errors()[PLAN]
    # Named by its place and mended by a command, not by the exception it raised.
    assert "任务 10 的事件日期" in error and "9999-12-31" in error
    assert f"reminder event {PLAN} 10" in error and "OverflowError" not in error
    assert daemon.broken_plans() == [PLAN]
    assert "计划 demo-2026：" in caplog.text and "计划无法排期" in caplog.text
    # Later syncs go on too, and the broken plan is not reported again for the same inputs.
    caplog.clear()
    store.mark_done("other-2026", "5", date(2026, 6, 30), by="x", note="", now=at("2026-06-01"))
    assert [r.plan for r in daemon.sync(at("2026-06-01", "08:05"))] == ["other-2026"]
    assert "计划无法排期" not in caplog.text


def many_plans(root: Path, count: int) -> Path:
    """``count`` small plan folders p000, p001, … under ``root``: two tasks, two units each."""
    for i in range(count):
        folder = root / f"p{i:03d}"
        folder.mkdir(parents=True)
        (folder / "plan.toml").write_text(
            f'title = "计划{i}"\nyear = 2026\ncoordinator = "办公室"\n'
            '[units."办公室"]\nemail = ["office@example.org"]\n'
            '[units."法规科"]\nemail = ["fagui@example.org"]\n', encoding="utf-8")
        (folder / "tasks.csv").write_text(
            "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限\n"
            "1,,公开年报,,法规科,,,2026年12月31日前\n2,,更新目录,,办公室,,,每季度\n",
            encoding="utf-8-sig")
    return root


def earlier_deadline(folder: Path) -> None:
    """Move task 1 of a ``many_plans`` folder a month earlier, its table dated a second later
    (the same mtime would pass for an unchanged file)."""
    table = folder / "tasks.csv"
    stamp = table.stat().st_mtime_ns
    table.write_text(table.read_text(encoding="utf-8-sig").replace("2026年12月31日前", "2026年11月30日前"),
                     encoding="utf-8-sig")
    os.utime(table, ns=(stamp + 10**9, stamp + 10**9))


def test_a_fresh_run_once_syncs_only_the_plan_that_changed(tmp_path: Path, store: Store) -> None:
    """Cron-style use costs in proportion to the change: of 100 plans, a second `run --once`
    (a new process: a new Daemon over the same database) re-plans only the one whose task
    changed, and a third with nothing changed re-plans none. Counted, not timed."""
    root = many_plans(tmp_path / "many", 100)
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(root,))
    now = at("2026-06-01")

    def fresh_run() -> list[str]:
        dispatcher = Dispatcher(store, {"email": Recorder("email")}, claimant="test")
        daemon = Daemon(cfg, store, dispatcher)
        synced: list[str] = []
        real = store.sync_plan

        def counting(**kwargs: Any) -> Any:
            synced.append(kwargs["plan_id"])
            return real(**kwargs)

        store.sync_plan = counting  # type: ignore[method-assign]
        try:
            daemon.sync(now)
        finally:
            del store.sync_plan
        return synced

    assert len(fresh_run()) == 100
    earlier_deadline(root / "p042")
    assert fresh_run() == ["p042"]
    assert fresh_run() == []
    store.mark_done("p007", "1", date(2026, 12, 31), by="x", note="", now=now)
    assert fresh_run() == ["p007"]  # a completion recorded by `reminder done` re-plans its plan


def test_a_fresh_run_once_does_not_even_load_the_plans_that_did_not_change(
        tmp_path: Path, store: Store) -> None:
    """Loading every plan folder to find its key unchanged was half of a cron-style
    `run --once` with nothing to do (issue 21): a fresh process loads only the folders whose
    stored sync key no longer matches. Counted, not timed."""
    from reminder.plan.folder import load_plan

    root = many_plans(tmp_path / "many", 12)
    cfg = Config(path=None, database_url=str(store.engine.url), plans=(root,))
    now = at("2026-06-01")

    def fresh_run() -> list[str]:
        loaded: list[str] = []

        def loader(path: Path, **options: Any) -> Any:
            loaded.append(path.name)
            return load_plan(path, **options)

        dispatcher = Dispatcher(store, {"email": Recorder("email")}, claimant="test")
        Daemon(cfg, store, dispatcher, plans=PlanSet(cfg, store, loader=loader)).run_once(now)
        return sorted(loaded)

    assert len(fresh_run()) == 12
    assert fresh_run() == []
    earlier_deadline(root / "p005")
    assert fresh_run() == ["p005"]
    assert fresh_run() == []
    store.mark_done("p007", "1", date(2026, 12, 31), by="x", note="", now=now)
    assert fresh_run() == ["p007"]  # a completion changes that plan's key: it loads, re-plans
    assert fresh_run() == []
    # Another day moves every plan's window: all load again.
    dispatcher = Dispatcher(store, {"email": Recorder("email")}, claimant="test")
    counted: list[str] = []
    Daemon(cfg, store, dispatcher, plans=PlanSet(
        cfg, store, loader=lambda path, **o: counted.append(path.name) or load_plan(path, **o))
    ).run_once(at("2026-06-02"))
    assert len(counted) == 12


class Untrusted(Recorder):
    """A WeCom app whose 企业可信IP lacks this server: every send is refused (60020)."""

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        return SendResult(status="config", provider_code="60020", detail="企业可信IP")


def test_a_route_held_mid_day_hands_its_notices_to_the_next_channel_without_waiting(
        store: Store, plan_dir: Path) -> None:
    # 法规科 is reached by WeCom app message, else email. The app is refused at 09:00; the
    # running daemon's next sync (not the next day's) plans the held reminder by email.
    toml = plan_dir / "plan.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[units."法规科"]\nemail = ["fagui@example.org"]\n',
        '[units."法规科"]\nemail = ["fagui@example.org"]\nwecom_users = ["fagui01"]\n'
        'channels = ["wecom_app", "email"]\n'), encoding="utf-8")
    daemon, channels = make(store, plan_dir)
    app = Untrusted("wecom_app")
    daemon.dispatcher.channels["wecom_app"] = app
    daemon.sync(at("2026-06-23", "08:00"))
    report = daemon.dispatcher.dispatch(at("2026-06-23"))
    assert report.held == 1 and [m.to for m in app.sent] == [("fagui01",)]
    assert daemon.sync(at("2026-06-23", "09:01")) != []  # the hold is news: plan again
    daemon.dispatcher.dispatch(at("2026-06-23", "09:01"))
    mails = [m for m in channels["email"].sent if m.to == ("fagui@example.org",)]
    assert len(mails) == 1 and len(app.sent) == 1
    assert daemon.sync(at("2026-06-23", "09:02")) == []  # and only once
