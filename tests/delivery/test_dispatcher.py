"""Dispatcher over a real SQLite store with small fake channels (the channels themselves are
tested against loopback servers in test_channels_*.py and end to end in test_cli_daemon.py)."""

from __future__ import annotations

import logging
import random
import threading
import time as _time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reminder.config import QuietHours, RetryPolicy
from reminder.delivery.channels.base import Message, SendResult
from reminder.delivery.dispatcher import Dispatcher
from reminder.delivery.ratelimit import RateLimiter
from reminder.models import Contact, Notice, Task
from reminder.store import CANCELLED, FAILED, FOLDED, PENDING, SENT, Store, open_store

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "demo-2026"
OK = SendResult(status="ok", provider_code="250", detail="250 OK")
DOWN = SendResult(status="retryable", provider_code="timeout", detail="connect timed out")


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


def notice(task: str, *, due: str = "2026-06-30", send: str = "2026-06-01",
           stage: str = "remind", step: str = "5wd", recipient: str = "法规科",
           channel: str = "email", clock: str = "09:00") -> Notice:
    addresses = (f"{recipient}@example.gov.cn",) if channel == "email" else (f"{recipient}群",)
    return Notice(
        send_at=at(send, clock), stage=stage, step=step, plan=PLAN,  # type: ignore[arg-type]
        plan_title="示例方案", task=task, title=f"任务{task}", due=date.fromisoformat(due),
        recipient=recipient, channel=channel, addresses=addresses, occurrence=due,
    )


class FakeChannel:
    """Records what it is asked to send and answers from a script (then ok)."""

    def __init__(self, name: str = "email", results: Sequence[Any] = (),
                 rate_limit: tuple[int, float] | None = None) -> None:
        self.name = name
        self.rate_limit = rate_limit
        self.results = list(results)
        self.sent: list[Message] = []

    def send(self, message: Message) -> Any:
        self.sent.append(message)
        result = self.results.pop(0) if self.results else OK
        if isinstance(result, Exception):
            raise result
        return result

    def rate_key(self, message: Message) -> str:
        return message.to[0] if message.to else ""

    def close(self) -> None:
        pass


class Raced(FakeChannel):
    """Each send takes ``pause`` real seconds, at the end of which a rival daemon claims what
    it can, at the moment as far past ``start`` as the real time gone by; ``stolen`` keeps
    what it took."""

    def __init__(self, store: Store, start: datetime, *, pause: float) -> None:
        super().__init__()
        self.store, self.start, self.pause = store, start, pause
        self.began = _time.monotonic()
        self.stolen: list[Any] = []

    def send(self, message: Message) -> Any:
        _time.sleep(self.pause)
        rival_now = self.start + timedelta(seconds=_time.monotonic() - self.began)
        self.stolen.extend(self.store.claim(rival_now, "rival", lease=timedelta(seconds=60)))
        return super().send(message)


def render(notices: Sequence[Notice], *, channel: str, today: date, templates_dir: Any = None,
           **_: Any) -> list[Message]:
    """One message per digest whose text lists the task ids, so tests can read the grouping."""
    return [Message(subject=f"{notices[0].recipient} {len(notices)}项",
                    text=",".join(n.task for n in notices), to=notices[0].addresses)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'reminder.db'}")
    yield s
    s.dispose()


def load(store: Store, notices: list[Notice]) -> None:
    store.sync_plan(
        plan_id=PLAN, title="示例方案", path="/p", fingerprint="x",
        tasks=[Task(id=n.task, title=n.title) for n in notices], occurrences=[],
        notices=notices, window=(date(2026, 1, 1), date(2026, 12, 31)),
        cutoff=at("2026-01-01", "00:00"), now=at("2026-01-01"),
    )


def dispatcher(store: Store, *channels: FakeChannel, **kw: Any) -> Dispatcher:
    kw.setdefault("render", render)
    kw.setdefault("rng", random.Random(7))
    return Dispatcher(store, {c.name: c for c in channels}, claimant="me", **kw)


def status_of(store: Store) -> dict[str, tuple[str, str | None]]:
    return {f"{r.task_id}:{r.stage}:{r.recipient}": (r.status, r.reason)
            for r in store.notices()}


# -- digests -------------------------------------------------------------------------------

def test_six_tasks_for_one_unit_make_one_digest(store: Store) -> None:
    load(store, [notice(str(i)) for i in range(1, 7)] + [notice("7", recipient="办公室")])
    email = FakeChannel()
    report = dispatcher(store, email).dispatch(at("2026-06-01"))
    assert sorted(m.text for m in email.sent) == ["1,2,3,4,5,6", "7"]
    assert (report.sent, report.messages) == (7, 2)
    assert {s for s, _ in status_of(store).values()} == {SENT}
    # The delivery row links all six notices of the digest.
    first = store.deliveries()[0]
    assert first.result == "ok" and first.provider_code == "250"


def test_one_digest_per_channel_and_send_time(store: Store) -> None:
    load(store, [notice("1"), notice("2", channel="wecom"), notice("3", clock="15:00")])
    email, wecom = FakeChannel(), FakeChannel("wecom")
    dispatcher(store, email, wecom).dispatch(at("2026-06-01", "10:00"))
    assert [m.text for m in email.sent] == ["1"]
    assert [m.text for m in wecom.sent] == ["2"]
    assert status_of(store)["3:remind:法规科"] == (PENDING, None)


def test_running_twice_sends_nothing_twice(store: Store) -> None:
    load(store, [notice("1"), notice("2")])
    email = FakeChannel()
    dispatcher(store, email).dispatch(at("2026-06-01"))
    report = dispatcher(store, email).dispatch(at("2026-06-01", "09:30"))
    assert (len(email.sent), report.claimed) == (1, 0)


def test_real_renderer_lists_every_task(store: Store) -> None:
    load(store, [notice(str(i)) for i in range(1, 7)])
    email = FakeChannel()
    Dispatcher(store, {"email": email}, claimant="me").dispatch(at("2026-06-01"))
    [message] = email.sent
    assert all(f"任务{i}" in message.text for i in range(1, 7))
    assert message.to == ("法规科@example.gov.cn",)


# -- catch-up after downtime -----------------------------------------------------------------

def test_catch_up_after_a_weekend_is_one_digest_with_folding(store: Store) -> None:
    # The server was off from Thursday 06-04 to Monday 06-08 10:00.
    load(store, [
        # Task 1 is still ahead of its deadline: two missed reminders become one.
        notice("1", due="2026-06-12", send="2026-06-05", step="5wd"),
        notice("1", due="2026-06-12", send="2026-06-08", step="4wd"),
        # Task 2 was due Friday: its reminders fold into the overdue notice sent now.
        notice("2", due="2026-06-05", send="2026-06-04", step="1wd"),
        notice("2", due="2026-06-05", send="2026-06-05", stage="due", step="0"),
        notice("2", due="2026-06-05", send="2026-06-08", stage="overdue", step="1wd"),
        # Task 3 was due Saturday and its overdue notice comes Tuesday: no late reminder.
        notice("3", due="2026-06-06", send="2026-06-05", step="1wd"),
        notice("3", due="2026-06-06", send="2026-06-09", stage="overdue", step="1wd"),
        # Task 4 is long overdue: of two missed escalations only the latest goes.
        notice("4", due="2026-05-29", send="2026-06-03", stage="escalate", step="#1"),
        notice("4", due="2026-05-29", send="2026-06-08", stage="escalate", step="#2"),
    ])
    email = FakeChannel()
    report = dispatcher(store, email).dispatch(at("2026-06-08", "10:00"))
    assert [m.text for m in email.sent] == ["1,2,4"]
    assert report.folded == 5
    rows = {(r.task_id, r.stage, r.step): (r.status, r.reason) for r in store.notices()}
    assert rows == {
        ("1", "remind", "5wd"): (CANCELLED, FOLDED), ("1", "remind", "4wd"): (SENT, None),
        ("2", "remind", "1wd"): (CANCELLED, FOLDED), ("2", "due", "0"): (CANCELLED, FOLDED),
        ("2", "overdue", "1wd"): (SENT, None),
        ("3", "remind", "1wd"): (CANCELLED, FOLDED), ("3", "overdue", "1wd"): (PENDING, None),
        ("4", "escalate", "#1"): (CANCELLED, FOLDED), ("4", "escalate", "#2"): (SENT, None),
    }


def test_late_reminder_without_an_overdue_notice_is_still_sent(store: Store) -> None:
    load(store, [notice("1", due="2026-06-05", send="2026-06-04", step="1wd")])
    email = FakeChannel()
    dispatcher(store, email).dispatch(at("2026-06-08"))
    assert [m.text for m in email.sent] == ["1"]


# -- quiet hours ---------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, moment, expected", [
    ("21:00", "08:00", "2026-06-01T22:30", "2026-06-02T08:00"),
    ("21:00", "08:00", "2026-06-02T07:59", "2026-06-02T08:00"),
    ("21:00", "08:00", "2026-06-02T08:00", None),
    ("21:00", "08:00", "2026-06-02T20:59", None),
    ("12:00", "13:30", "2026-06-02T12:10", "2026-06-02T13:30"),
    ("12:00", "13:30", "2026-06-02T13:30", None),
    ("09:00", "09:00", "2026-06-02T09:00", None),
    ("21:00", "08:00", "2026-06-01T21:00", "2026-06-02T08:00"),
    ("12:00", "13:30", "2026-06-02T12:00", "2026-06-02T13:30"),
    ("12:00", "13:30", "2026-06-02T11:59", None),
], ids=["evening", "early-morning", "at-end", "before-start", "lunch", "lunch-end", "empty",
        "at-start", "lunch-at-start", "before-lunch"])
def test_quiet_hours_until(start: str, end: str, moment: str, expected: str | None) -> None:
    quiet = QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end))
    got = quiet.until(datetime.fromisoformat(moment).replace(tzinfo=TZ), TZ)
    assert got == (datetime.fromisoformat(expected).replace(tzinfo=TZ) if expected else None)


@pytest.mark.parametrize(("start", "end", "moment", "expected"), [
    ("18:00", "08:30", "2026-06-05T19:00", "2026-06-08T08:30"),  # Friday evening: Monday
    ("18:00", "08:30", "2026-06-06T12:00", "2026-06-08T08:30"),  # Saturday noon
    ("18:00", "08:30", "2026-06-08T07:00", "2026-06-08T08:30"),  # Monday early: as before
    ("18:00", "08:30", "2026-06-08T10:00", None),                # Monday morning: open
    ("12:00", "13:00", "2026-06-06T10:00", "2026-06-08T00:00"),  # a daytime range: midnight
    ("00:00", "00:00", "2026-06-07T10:00", "2026-06-08T00:00"),  # no hours, only days off
], ids=["friday-evening", "saturday", "monday-early", "monday", "daytime", "days-off-only"])
def test_quiet_hours_that_keep_days_off(start: str, end: str, moment: str,
                                        expected: str | None) -> None:
    quiet = QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end),
                       workdays_only=True)
    weekdays = lambda day: day.weekday() < 5  # noqa: E731 - a plain Monday-to-Friday week
    got = quiet.until(datetime.fromisoformat(moment).replace(tzinfo=TZ), TZ, weekdays)
    assert got == (datetime.fromisoformat(expected).replace(tzinfo=TZ) if expected else None)
    # Without a calendar to ask, only the clock counts.
    assert quiet.until(datetime.fromisoformat(moment).replace(tzinfo=TZ), TZ) == \
        QuietHours(start=quiet.start, end=quiet.end).until(
            datetime.fromisoformat(moment).replace(tzinfo=TZ), TZ)


def test_quiet_hours_defer_to_their_end_and_never_drop(store: Store) -> None:
    load(store, [notice("1", clock="07:00")])
    email = FakeChannel()
    d = dispatcher(store, email, quiet=QuietHours(start=time(21), end=time(8)))
    report = d.dispatch(at("2026-06-01", "07:00"))
    assert (email.sent, report.quiet_until) == ([], at("2026-06-01", "08:00"))
    assert status_of(store)["1:remind:法规科"] == (PENDING, None)
    assert d.next_wake(at("2026-06-01", "07:00")) == at("2026-06-01", "08:00")
    d.dispatch(at("2026-06-01", "08:00"))
    assert [m.text for m in email.sent] == ["1"]


# -- retries -------------------------------------------------------------------------------

class TopRng(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.mark.parametrize("attempt, step", [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600),
                                           (20, 3600)])
def test_backoff_doubles_up_to_the_cap_with_jitter(attempt: int, step: float) -> None:
    policy = RetryPolicy(base=60, cap=3600)
    assert policy.delay(attempt, TopRng()) == step
    delays = [policy.delay(attempt, random.Random(seed)) for seed in range(50)]
    assert all(step / 2 <= d <= step for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_transient_failure_retries_with_backoff_then_fails_and_tells_admin(
        store: Store) -> None:
    load(store, [notice("1")])
    email = FakeChannel(results=[DOWN, DOWN, DOWN])
    d = dispatcher(store, email, retry=RetryPolicy(max_attempts=3, base=60, cap=3600),
                   rng=TopRng(), admin=Contact(name="管理员", email=("admin@example.gov.cn",)))
    now = at("2026-06-01")
    d.dispatch(now)
    [row] = store.notices()
    assert (row.status, row.attempts, row.next_attempt_at) == (PENDING, 1, now + timedelta(
        seconds=60))
    assert row.last_error == "timeout connect timed out"
    assert d.dispatch(now + timedelta(seconds=59)).claimed == 0
    d.dispatch(now + timedelta(seconds=60))
    [row] = store.notices()
    assert (row.attempts, row.next_attempt_at) == (2, now + timedelta(seconds=180))
    report = d.dispatch(now + timedelta(seconds=180))
    [row] = store.notices()
    assert (row.status, row.attempts, report.failed) == (FAILED, 3, 1)
    admin_mail = email.sent[-1]
    assert admin_mail.to == ("admin@example.gov.cn",)
    assert "法规科" in admin_mail.text and "timeout" in admin_mail.text
    assert admin_mail.subject == "【政务公开提醒】1 组提醒发送失败"
    assert [d.result for d in store.deliveries()] == ["retryable"] * 3


def test_provider_retry_after_is_honoured(store: Store) -> None:
    load(store, [notice("1", channel="wecom")])
    limited = SendResult(status="retryable", provider_code="45009", detail="freq limit",
                         retry_after=61)
    wecom = FakeChannel("wecom", results=[limited])
    dispatcher(store, wecom).dispatch(at("2026-06-01"))
    [row] = store.notices()
    assert (row.next_attempt_at, row.provider_code) == (at("2026-06-01", "09:01:01"), "45009")


def test_permanent_failure_is_not_retried(store: Store) -> None:
    load(store, [notice("1"), notice("2", recipient="办公室")])
    bad = SendResult(status="permanent", provider_code="550", detail="no such user")
    email = FakeChannel(results=[bad])
    report = dispatcher(store, email, admin=Contact(name="管理员")).dispatch(at("2026-06-01"))
    assert (report.failed, report.sent) == (1, 1)
    assert status_of(store)["1:remind:法规科"] == (FAILED, None)


def test_channel_that_raises_counts_as_transient(store: Store) -> None:
    load(store, [notice("1")])
    email = FakeChannel(results=[ConnectionResetError("reset by peer")])
    report = dispatcher(store, email).dispatch(at("2026-06-01"))
    [row] = store.notices()
    assert (report.retried, row.status) == (1, PENDING)
    assert "ConnectionResetError" in (row.last_error or "")


def test_notice_for_an_unconfigured_channel_fails(store: Store) -> None:
    load(store, [notice("1", channel="wecom")])
    report = dispatcher(store, FakeChannel()).dispatch(at("2026-06-01"))
    assert report.failed == 1
    assert store.notices()[0].last_error == "未配置渠道 wecom"


# -- rate limits and stopping --------------------------------------------------------------

def test_rate_limit_defers_what_the_robot_cannot_take_now(store: Store) -> None:
    load(store, [notice(str(i), recipient=f"单位{i}", channel="wecom") for i in range(1, 4)])
    # Three units share one robot that allows two messages a minute.
    wecom = FakeChannel("wecom", rate_limit=(2, 60))
    wecom.rate_key = lambda message: "同一机器人"  # type: ignore[method-assign]
    clock = [1000.0]
    d = dispatcher(store, wecom, limiter=RateLimiter(lambda: clock[0]), max_inline_wait=0)
    report = d.dispatch(at("2026-06-01"))
    assert (len(wecom.sent), report.deferred) == (2, 1)
    deferred = [r for r in store.notices() if r.status == PENDING]
    assert [(r.attempts, r.next_attempt_at) for r in deferred] == [
        (0, at("2026-06-01", "09:01"))]
    clock[0] += 60
    d.dispatch(at("2026-06-01", "09:01"))
    assert len(wecom.sent) == 3


def test_short_rate_limit_wait_happens_inline(store: Store) -> None:
    load(store, [notice(str(i), recipient=f"单位{i}", channel="wecom") for i in range(1, 3)])
    wecom = FakeChannel("wecom", rate_limit=(1, 0.2))
    wecom.rate_key = lambda message: "同一机器人"  # type: ignore[method-assign]
    report = dispatcher(store, wecom).dispatch(at("2026-06-01"))
    assert (len(wecom.sent), report.sent, report.deferred) == (2, 2, 0)


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(clock=lambda: 0.0)
    limiter.record(("wecom", "r"))
    assert limiter.wait(("wecom", "r"), (1, 60)) == 60
    assert limiter.wait(("wecom", "other"), (1, 60)) == 0
    assert limiter.wait(("wecom", "r"), None) == 0


def test_rate_limiter_slots_free_exactly_a_window_after_each_send_ends() -> None:
    """A slot frees ``seconds`` after the send that took it *finished* (a slow post still
    counts against the provider's window), not a moment before: a robot that takes 20 a
    minute answers 45009 to the 21st."""
    clock = [0.0]
    limiter, key = RateLimiter(clock=lambda: clock[0]), ("wecom", "r")
    assert limiter.acquire(key, (2, 60)) == 0
    limiter.done(key)
    clock[0] = 5.0
    assert limiter.acquire(key, (2, 60)) == 0
    clock[0] = 10.0
    limiter.done(key)  # the second post took 5 s: its slot counts from 10
    clock[0] = 59.5
    assert limiter.acquire(key, (2, 60)) == pytest.approx(0.5)  # nothing taken
    clock[0] = 60.0
    assert limiter.acquire(key, (2, 60)) == 0  # the first slot is free at 60 exactly
    assert limiter.acquire(key, (2, 60)) == pytest.approx(10.0)
    limiter.done(("wecom", "never-used"))  # nothing to finish: no error, no slot
    assert limiter.wait(("wecom", "never-used"), (1, 60)) == 0


def test_stop_finishes_the_message_in_flight_and_gives_the_rest_back(store: Store) -> None:
    load(store, [notice(str(i), recipient=f"单位{i}") for i in range(1, 4)])
    stop = threading.Event()

    class StopAfterFirst(FakeChannel):
        def send(self, message: Message) -> Any:
            stop.set()  # SIGTERM arrives while the first message is being sent
            return super().send(message)

    email = StopAfterFirst()
    report = dispatcher(store, email, stop=stop).dispatch(at("2026-06-01"))
    assert (len(email.sent), report.sent, report.deferred) == (1, 1, 2)
    rows = store.notices()
    assert sorted(r.status for r in rows) == [PENDING, PENDING, SENT]
    assert all(r.claimed_by is None and r.attempts == 0 for r in rows if r.status == PENDING)


def test_next_wake_is_the_next_pending_send_time(store: Store) -> None:
    load(store, [notice("1", send="2026-06-03"), notice("2", send="2026-06-05")])
    d = dispatcher(store, FakeChannel())
    assert d.next_wake(at("2026-06-01")) == at("2026-06-03")
    assert dispatcher(Store(store.engine), FakeChannel()).next_wake(at("2026-06-04")) == at(
        "2026-06-04")


# -- split digests: a later part's trouble never repeats an earlier part -----------------------

def parts_of_two(notices: Sequence[Notice], *, channel: str, today: date, templates_dir: Any = None,
                 **_: Any) -> list[Message]:
    """A digest split in parts of two tasks each, every part saying which notices it carries."""
    chunks = [notices[i:i + 2] for i in range(0, len(notices), 2)]
    return [Message(subject="digest", text=",".join(n.task for n in chunk), to=notices[0].addresses,
                    part=i, parts=len(chunks), keys=tuple(n.key for n in chunk))
            for i, chunk in enumerate(chunks, 1)]


def test_retry_after_a_failed_later_part_resends_only_the_unsent_tasks(store: Store) -> None:
    load(store, [notice(str(i), channel="wecom") for i in range(1, 7)])
    wecom = FakeChannel("wecom", results=[OK, DOWN])  # part 2 of 3 fails
    d = dispatcher(store, wecom, render=parts_of_two)
    first = d.dispatch(at("2026-06-01"))
    assert [m.text for m in wecom.sent] == ["1,2", "3,4"]
    assert (first.sent, first.retried) == (2, 4)
    assert {k.split(":")[0] for k, (s, _) in status_of(store).items() if s == SENT} == {"1", "2"}

    d.dispatch(at("2026-06-01", "12:00"))  # well after the backoff
    assert [m.text for m in wecom.sent[2:]] == ["3,4", "5,6"]  # tasks 1 and 2 never again
    assert {s for s, _ in status_of(store).values()} == {SENT}


def test_rate_limit_mid_digest_defers_only_the_rest(store: Store) -> None:
    load(store, [notice(str(i), channel="wecom") for i in range(1, 5)])
    wecom = FakeChannel("wecom", rate_limit=(1, 60.0))  # one message a minute per robot
    d = dispatcher(store, wecom, render=parts_of_two, max_inline_wait=0.0)
    report = d.dispatch(at("2026-06-01"))
    assert [m.text for m in wecom.sent] == ["1,2"]
    assert (report.sent, report.deferred) == (2, 2)
    assert status_of(store)["1:remind:法规科"] == (SENT, None)
    assert status_of(store)["3:remind:法规科"] == (PENDING, None)


def test_a_long_pass_renews_its_lease_so_no_other_daemon_takes_its_rows(store: Store) -> None:
    """Sends slower than half the lease: by the third digest the original lease has run out,
    and a rival claiming at that real moment must still find nothing to take."""
    start = at("2026-06-01")
    slow = Raced(store, start, pause=0.6)
    load(store, [notice("1", recipient="甲"), notice("2", recipient="乙"), notice("3", recipient="丙")])
    report = dispatcher(store, slow, lease=timedelta(seconds=1)).dispatch(start)
    assert report.sent == 3
    assert slow.stolen == []  # without renewal, the third digest's row would be claimable here


# -- configuration failures: held, alerted once, resent when the config changes ---------------

BAD_LOGIN = SendResult(status="config", provider_code="535", detail="邮箱登录失败")
ADMIN = Contact(name="管理员", email=("admin@example.gov.cn",))


class Configured(FakeChannel):
    """A fake channel whose configuration fingerprint the test can change."""

    config = "v1"

    def fingerprint(self, addresses: Sequence[str]) -> str:
        return f"{self.name}-{self.config}"


def test_config_failure_holds_alerts_once_and_resends_after_the_config_changes(
        store: Store) -> None:
    from reminder.store import HELD

    load(store, [notice("1"), notice("2", recipient="办公室"),
                 notice("3", recipient="财务科", send="2026-06-02")])
    wecom = Configured("wecom")  # the admin is told over the robot, which works
    email = Configured(results=[BAD_LOGIN])
    admin = Contact(name="管理员", wecom="公开办群")
    d = dispatcher(store, email, wecom, admin=admin)
    first = d.dispatch(at("2026-06-01"))
    # One attempt found the password wrong; the second digest was held without knocking.
    assert (len(email.sent), first.held, first.failed) == (1, 2, 0)
    assert {s for s, _ in status_of(store).values() if s != PENDING} == {HELD}
    # The digest held without an attempt stores the route's error all the same.
    assert [r.last_error for r in store.notices() if r.status == HELD] == ["535 邮箱登录失败"] * 2
    [alert] = wecom.sent
    assert "配置有误" in alert.text and "535" in alert.text

    d.dispatch(at("2026-06-02"))  # a new notice on the broken route: held, no second alert
    assert (len(email.sent), len(wecom.sent)) == (1, 1)
    assert status_of(store)["3:remind:财务科"][0] == HELD

    email.config = "v2"  # the admin fixed the password
    report = d.dispatch(at("2026-06-02", "09:05"))
    assert (report.sent, report.messages) == (3, 3)  # one digest per unit
    assert {s for s, _ in status_of(store).values()} == {SENT}
    assert store.alerts() == {}


def test_rejected_recipient_is_the_messages_own_failure(store: Store) -> None:
    load(store, [notice("1"), notice("2", recipient="办公室")])
    rejected = SendResult(status="permanent", provider_code="550", detail="no such user")
    email = Configured(results=[rejected])
    report = dispatcher(store, email, admin=ADMIN).dispatch(at("2026-06-01"))
    assert (report.failed, report.held, report.sent) == (1, 0, 1)
    assert status_of(store)["1:remind:法规科"] == (FAILED, None)
    assert "550" in email.sent[-1].text and email.sent[-1].to == ADMIN.email


@pytest.mark.parametrize("admin, expected", [
    (ADMIN, "email：配置有误（535 邮箱登录失败）"),
    (Contact(name="管理员"), "未配置管理员联系人（[admin]）"),
], ids=["admin-behind-the-broken-channel", "no-admin"])
def test_admin_unreachable_is_recorded_and_cleared_by_a_fixed_config(
        store: Store, admin: Contact, expected: str) -> None:
    load(store, [notice("1")])
    email = Configured(results=[BAD_LOGIN])
    d = dispatcher(store, email, admin=admin)
    report = d.dispatch(at("2026-06-01"))
    assert report.admin_unreachable == expected  # as `reminder status` shows it
    assert len(email.sent) == 1  # the report was not sent over the route known broken
    assert store.alerts()["admin"][0] == expected
    email.config = "v2"
    d.dispatch(at("2026-06-01", "09:05"))
    assert store.alerts() == {}


def test_retry_requeues_what_is_still_relevant(store: Store) -> None:
    from reminder.models import Occurrence
    from reminder.store import HELD, STALE

    planned = [notice("1"), notice("2", recipient="办公室"), notice("3", recipient="财务科"),
               notice("4", recipient="人事科", due="2026-03-31", send="2026-03-25")]
    store.sync_plan(
        plan_id=PLAN, title="示例方案", path="/p", fingerprint="x",
        tasks=[Task(id=n.task, title=n.title) for n in planned],
        occurrences=[Occurrence(plan=PLAN, task="4", kind="recurring", nominal=d, due=d)
                     for d in (date(2026, 3, 31), date(2026, 5, 31))],
        notices=planned, window=(date(2026, 1, 1), date(2026, 12, 31)),
        cutoff=at("2026-01-01", "00:00"), now=at("2026-01-01"))
    rejected = SendResult(status="permanent", provider_code="550", detail="no such user")
    email = Configured(results=[BAD_LOGIN])
    dispatcher(store, email, admin=ADMIN).dispatch(at("2026-03-25"))  # task 4 held
    email.results = [rejected, BAD_LOGIN]
    email.config = "v2"
    dispatcher(store, email, admin=ADMIN).dispatch(at("2026-06-01"))
    # Task 4 was resent (config changed) and ... rejected; 1, 2, 3 held on the new config.
    assert status_of(store)["4:remind:人事科"][0] == FAILED
    assert {status_of(store)[f"{t}:remind:{r}"][0] for t, r in
            (("1", "法规科"), ("2", "办公室"), ("3", "财务科"))} == {HELD}
    # Completing a task closes its held notices at once.
    assert store.mark_done(PLAN, "2", date(2026, 6, 30), by="me", note="", now=at("2026-06-01")) == 1

    now = at("2026-06-02")
    assert store.retry(now, now.date()).requeued == 2  # without --failed: the held ones only
    email.results = [rejected, rejected]  # now both are rejected for good
    assert dispatcher(store, email, admin=ADMIN).dispatch(now).failed == 2
    result = store.retry(now, now.date(), failed=True)
    # 1 and 3 are requeued; 4's next occurrence (05-31) is already past, so it stays closed.
    assert (result.requeued, result.closed) == (2, 1)
    rows = status_of(store)
    assert rows["1:remind:法规科"] == (PENDING, None) == rows["3:remind:财务科"]
    assert rows["2:remind:办公室"] == (CANCELLED, "done")
    assert rows["4:remind:人事科"][0] == FAILED
    assert all(r.attempts == 0 for r in store.notices(status=PENDING))
    assert store.retry(now, now.date(), plan="其他方案").requeued == 0
    assert STALE == "stale"


# -- limits and leases across processes ----------------------------------------------------------

def test_robot_limit_holds_across_a_restart(store: Store) -> None:
    """Two dispatchers on one database, one after the other, as after a restart."""
    load(store, [notice(str(i), recipient=f"单位{i}", channel="wecom") for i in range(1, 5)])
    robot = FakeChannel("wecom", rate_limit=(2, 60))
    robot.rate_key = lambda message: "同一机器人"  # type: ignore[method-assign]
    first = dispatcher(store, robot, max_inline_wait=0).dispatch(at("2026-06-01"))
    assert (first.messages, first.deferred) == (2, 2)
    restarted = dispatcher(store, robot, max_inline_wait=0)  # no memory of the first one
    later = restarted.dispatch(at("2026-06-01", "09:01"))  # its date moved, real time did not
    assert (later.messages, len(robot.sent)) == (0, 2)


def test_take_slot_counts_a_sliding_window(store: Store) -> None:
    assert [store.take_slot("wecom:r", 2, 60, t) for t in (0, 1)] == [0, 0]
    assert store.take_slot("wecom:r", 2, 60, 30) == 30  # the send at 0 frees a slot at 60
    assert store.take_slot("wecom:other", 2, 60, 30) == 0
    assert store.take_slot("wecom:r", 2, 60, 60) == 0


def test_waiting_on_a_rate_limit_renews_the_lease(store: Store) -> None:
    """The issue's duplicates: a lease shorter than the inline wait let a rival take the rows
    queued behind the wait. Renewed while waiting, a rival finds nothing."""
    load(store, [notice(str(i), recipient=f"单位{i}", channel="wecom") for i in range(1, 4)])
    robot = FakeChannel("wecom", rate_limit=(1, 1.5))
    robot.rate_key = lambda message: "同一机器人"  # type: ignore[method-assign]
    start = at("2026-06-01")
    began = _time.monotonic()
    stolen: list[Any] = []
    stop = threading.Event()

    def rival() -> None:
        while not stop.wait(0.1):
            rival_now = start + timedelta(seconds=_time.monotonic() - began)
            stolen.extend(store.claim(rival_now, "rival", lease=timedelta(seconds=60)))

    watcher = threading.Thread(target=rival)
    watcher.start()
    try:
        report = dispatcher(store, robot, lease=timedelta(seconds=0.6),
                            max_inline_wait=5).dispatch(start)
    finally:
        stop.set()
        watcher.join()
    assert (report.sent, stolen) == (3, [])


# -- the database refusing writes mid-pass (disk full, locked) ---------------------------------

def test_a_send_the_database_could_not_record_is_recorded_later_and_never_resent(
        store: Store) -> None:
    import sqlite3

    from sqlalchemy import event

    load(store, [notice("1"), notice("2", recipient="办公室")])
    full = threading.Event()

    def disk(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        if full.is_set() and statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(store.engine, "do_execute", disk)

    class FillsTheDisk(FakeChannel):
        def send(self, message: Message) -> Any:
            if not self.sent:
                full.set()  # the disk fills while the first message is on its way
            return super().send(message)

    email = FillsTheDisk()
    d = dispatcher(store, email)
    now = at("2026-06-01")
    report = d.dispatch(now)
    assert [m.text for m in email.sent] == ["1"]
    assert report.errors and "disk is full" in report.errors[0]
    assert d.next_wake(now) == now + timedelta(seconds=30)  # not a busy loop on a full disk
    assert d.dispatch(now + timedelta(minutes=1)).claimed == 0  # still full: nothing sent
    full.clear()
    later = now + timedelta(minutes=10)  # past the lease of the rows left claimed
    d.dispatch(later)
    assert [m.text for m in email.sent] == ["1", "2"]  # "1" recorded late, never sent twice
    assert {s for s, _ in status_of(store).values()} == {SENT}


def test_a_renderer_that_cannot_read_the_database_puts_the_notices_back_not_failed(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """The renderer reads the database (links, tallies); locked past its busy timeout or
    turned read-only, that read fails. Not a template mistake: the notices were marked
    failed and never sent (issue 20 item 3's read-only database)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    load(store, [notice("1"), notice("2", recipient="办公室")])
    broken = [True]

    def reads_the_database(notices: Sequence[Notice], **kw: Any) -> list[Message]:
        if broken[0]:
            raise OperationalError("SELECT", None, sqlite3.OperationalError("database is locked"))
        return render(notices, **kw)

    email = FakeChannel()
    d = dispatcher(store, email, render=reads_the_database)
    now = at("2026-06-01")
    report = d.dispatch(now)
    assert (report.failed, report.deferred, email.sent) == (0, 2, [])
    assert {s for s, _ in status_of(store).values()} == {PENDING}
    assert not [r for r in caplog.records if r.exc_info]  # one line, no traceback
    broken[0] = False
    d.dispatch(now + timedelta(minutes=1))
    assert sorted(m.text for m in email.sent) == ["1", "2"]
    assert {s for s, _ in status_of(store).values()} == {SENT}


def test_rows_a_rival_took_after_the_lease_ran_out_are_not_sent_again(store: Store) -> None:
    """A send slower than the whole lease (a stalled server): the rival rightly takes the rows
    still queued; this pass must then leave them to it instead of sending them too."""
    start = at("2026-06-01")
    email = Raced(store, start, pause=0.5)
    load(store, [notice("1", recipient="甲"), notice("2", recipient="乙"), notice("3", recipient="丙")])
    report = dispatcher(store, email, lease=timedelta(seconds=0.3)).dispatch(start)
    # The first send outlived the lease, so the rival took all three rows; only the one in
    # flight went out from here (the at-least-once case), the two queued ones did not.
    assert ([m.text for m in email.sent], report.sent, len(email.stolen)) == (["1"], 0, 3)


def test_a_slot_is_dated_when_its_send_finished(store: Store) -> None:
    assert store.take_slot("wecom:r", 1, 60, 0) == 0
    store.move_slot("wecom:r", 0, 5)  # the send took five seconds
    assert store.take_slot("wecom:r", 1, 60, 61) == 4  # 60 s after the arrival, not the start


def test_a_late_reminder_folds_into_an_escalation_when_there_is_no_overdue_stage(
        store: Store) -> None:
    """A policy without an overdue stage still has its escalation: the missed reminder is
    folded into it rather than sent as if the deadline were ahead."""
    load(store, [notice("1", due="2026-06-05", send="2026-06-04", step="1wd"),
                 notice("1", due="2026-06-05", send="2026-06-10", stage="escalate", step="#1")])
    email = FakeChannel()
    report = dispatcher(store, email).dispatch(at("2026-06-08", "10:00"))
    assert (len(email.sent), report.folded) == (0, 1)
    assert status_of(store)["1:remind:法规科"] == (CANCELLED, FOLDED)


def test_failure_report_over_the_robot_quotes_each_line_and_mentions_the_admin(
        store: Store) -> None:
    load(store, [notice("1")])
    email = FakeChannel(results=[SendResult(status="permanent", provider_code="550",
                                            detail="mailbox unavailable")])
    wecom = FakeChannel("wecom")
    admin = Contact(name="管理员", wecom="公开办群", wecom_users=("zhangsan",))
    dispatcher(store, email, wecom, admin=admin).dispatch(at("2026-06-01"))
    [report] = wecom.sent
    assert report.to == ("公开办群",) and report.mentions == ("zhangsan",)
    assert report.html == "" and report.mobiles == ()
    assert "\n- " in report.text and "\n- " not in report.markdown
    assert report.markdown == report.text.replace("\n- ", "\n> ")
    assert "法规科" in report.markdown and "550" in report.markdown


# -- the error a clerk reads, retry bookkeeping, the admin's report (survivors of the
#    2026-11-23 mutation run of _after_failure and _report_failures) ---------------------------

@pytest.mark.parametrize("result, stored", [
    (SendResult(status="retryable", provider_code="http 502", detail=""), "http 502"),
    (SendResult(status="retryable", provider_code=None, detail="连接被重置"), "连接被重置"),
    (SendResult(status="retryable", provider_code=None, detail=""), "retryable"),
    (RuntimeError("boom"), "RuntimeError: boom"),
], ids=["code-only", "detail-only", "neither", "channel-raised"])
def test_the_error_stored_for_reminder_status_is_exactly_what_the_channel_said(
        store: Store, result: Any, stored: str) -> None:
    load(store, [notice("1")])
    dispatcher(store, FakeChannel(results=[result])).dispatch(at("2026-06-01"))
    [row] = store.notices()
    assert (row.status, row.last_error) == (PENDING, stored)


def test_every_digest_retried_in_a_pass_is_counted_and_logged_in_office_time(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    load(store, [notice("1"), notice("2", recipient="办公室"), notice("3", recipient="办公室")])
    later = SendResult(status="retryable", provider_code="451", detail="try later", retry_after=60)
    caplog.set_level(logging.WARNING, "reminder.dispatcher")
    report = dispatcher(store, FakeChannel(results=[later, later])).dispatch(at("2026-06-01"))
    assert (report.retried, report.sent) == (3, 0)
    assert [r.getMessage() for r in caplog.records] == [
        "发送失败，09:01:00 后重试（第 1 次）：email → 法规科：451 try later",
        "发送失败，09:01:00 后重试（第 1 次）：email → 办公室：451 try later"]


REFUSED = SendResult(status="permanent", provider_code="550", detail="no such user")


def test_the_admins_report_reads_exactly_with_the_office_time(store: Store) -> None:
    load(store, [notice("1"), notice("2")])
    email = FakeChannel(results=[REFUSED])
    report = dispatcher(store, email, admin=ADMIN).dispatch(at("2026-06-01"))
    assert report.admin_unreachable is None and store.alerts() == {}
    assert email.sent[-1].to == ADMIN.email
    assert email.sent[-1].text == (
        "以下提醒发送失败（2026-06-01 09:00）：\n"
        "- 法规科（email）任务 1、2：550 no such user\n"
        "\n"
        "因配置有误而暂停的提醒，修正配置后会自动重发，也可运行 reminder retry；其余已停止重试。\n"
        "请检查渠道配置与联系人后，用 reminder status 查看详情。\n")


def test_the_admins_report_uses_the_offices_own_template(store: Store, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "admin").mkdir()
    template = tmp_path / "admin" / "failures.txt.j2"
    template.write_text("{{ at }}：{{ failures | length }} 组失败", encoding="utf-8")
    load(store, [notice("1"), notice("2", send="2026-06-02")])
    email = FakeChannel(results=[REFUSED, OK, REFUSED])
    d = dispatcher(store, email, admin=ADMIN, templates_dir=tmp_path)
    d.dispatch(at("2026-06-01"))
    assert email.sent[-1].text == "2026-06-01 09:00：1 组失败\n"
    # A broken template of the office's: the failures still reach the log, nothing crashes.
    template.write_text("{{ failures.nope }}", encoding="utf-8")
    caplog.set_level(logging.ERROR, "reminder.dispatcher")
    report = d.dispatch(at("2026-06-02"))
    assert (report.failed, len(email.sent)) == (1, 3)
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("无法生成")] == [
        "无法生成失败报告；失败的提醒：[('法规科', 'email', ['2'], '550 no such user')]"]


def test_admin_unreachable_names_each_route_and_is_cleared_once_a_report_gets_through(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    load(store, [notice("1"), notice("2", send="2026-06-02")])
    email = FakeChannel(results=[REFUSED, SendResult(status="permanent", provider_code="550",
                                                     detail="mailbox unavailable"), REFUSED])
    wecom = FakeChannel("wecom", results=[ConnectionError("robot down")])
    admin = Contact(name="管理员", email=("admin@example.gov.cn",), wecom="公开办群")
    d = dispatcher(store, email, wecom, admin=admin)
    caplog.set_level(logging.ERROR, "reminder.dispatcher")
    report = d.dispatch(at("2026-06-01"))
    why = "email：550 mailbox unavailable；wecom：ConnectionError: robot down"  # no stray space
    assert report.admin_unreachable == why and store.alerts()["admin"][0] == why
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("无法通知")] == [
        "无法通知管理员（email）：550 mailbox unavailable",
        "无法通知管理员（wecom）：ConnectionError: robot down"]
    report = d.dispatch(at("2026-06-02"))  # the next report gets through by e-mail
    assert report.admin_unreachable is None and store.alerts() == {}
    assert (len(email.sent), len(wecom.sent)) == (4, 1)


def test_the_admins_report_goes_on_to_the_next_route_when_one_cannot_take_it(
        store: Store) -> None:
    load(store, [notice("1", channel="wecom"), notice("2", send="2026-06-02")])
    admin = Contact(name="管理员", email=("admin@example.gov.cn",), wecom="公开办群")
    # No e-mail channel configured, and the robot refuses the report too.
    wecom = FakeChannel("wecom", results=[REFUSED, REFUSED])
    report = dispatcher(store, wecom, admin=admin).dispatch(at("2026-06-01"))
    assert report.admin_unreachable == "email：未配置该渠道；wecom：550 no such user"
    assert [m.to for m in wecom.sent] == [("法规科群",), ("公开办群",)]
    # The e-mail route held by a wrong password: the report goes over the robot.
    email = Configured(results=[BAD_LOGIN])
    wecom = FakeChannel("wecom")
    report = dispatcher(store, email, wecom, admin=admin).dispatch(at("2026-06-02"))
    assert (report.held, len(email.sent)) == (1, 1)
    assert report.admin_unreachable is None and store.alerts() == {}
    [told] = wecom.sent
    assert told.to == ("公开办群",) and "配置有误，已暂停发送：535 邮箱登录失败" in told.text


def test_a_reminder_missed_on_the_due_day_itself_is_still_sent_that_day(store: Store) -> None:
    """Only a deadline already past folds its missed reminders into the overdue notice: on
    the due day the unit can still make it, so the late reminder goes out at once."""
    load(store, [notice("1", due="2026-06-08", send="2026-06-08", step="0wd", clock="09:00"),
                 notice("1", due="2026-06-08", send="2026-06-09", stage="overdue", step="1wd")])
    email = FakeChannel()
    report = dispatcher(store, email).dispatch(at("2026-06-08", "11:00"))
    assert ([m.text for m in email.sent], report.folded) == (["1"], 0)
    assert status_of(store)["1:overdue:法规科"] == (PENDING, None)


# -- lost replies (issue 20 §16) -----------------------------------------------------------

UNSURE = SendResult(status="uncertain", provider_code="no-reply", detail="disconnect after DATA")


def test_a_lost_reply_is_retried_once_after_a_long_delay_then_held_for_the_admin(
        store: Store) -> None:
    """A send of unknown outcome may have arrived: retrying it like a failure gave 4 copies
    of every mail. One retry an hour later, then held: at most one duplicate per lost reply."""
    load(store, [notice("1")])
    email = FakeChannel(results=[UNSURE, UNSURE])
    d = dispatcher(store, email, retry=RetryPolicy(max_attempts=8, base=60, cap=3600),
                   admin=Contact(name="管理员", email=("admin@example.gov.cn",)))
    now = at("2026-06-01")
    d.dispatch(now)
    [row] = store.notices()
    assert (row.status, row.uncertain, row.next_attempt_at) == (
        PENDING, 1, now + timedelta(seconds=3600))
    for minutes in (1, 2, 4, 8, 16, 32):  # the ordinary backoff would have retried by now
        assert d.dispatch(now + timedelta(minutes=minutes)).claimed == 0
    d.dispatch(now + timedelta(hours=1))
    [row] = store.notices()
    assert (row.status, row.reason) == ("held", "uncertain")
    for hours in (2, 5, 24):  # held: neither the backoff nor a config check sends it again
        assert d.dispatch(now + timedelta(hours=hours)).claimed == 0
    copies = [m for m in email.sent if m.to == ("法规科@example.gov.cn",)]
    assert len(copies) == 2
    assert [x.result for x in store.deliveries()] == ["uncertain", "uncertain"]
    [admin_mail] = [m for m in email.sent if m.to == ("admin@example.gov.cn",)]
    assert "reminder retry" in admin_mail.text
    # The admin's `reminder retry` sends it again (and gives it a fresh allowance).
    assert store.retry(now + timedelta(days=1), date(2026, 6, 2)).requeued == 1
    [row] = store.notices()
    assert (row.status, row.uncertain) == (PENDING, 0)


def test_the_uncertain_delay_comes_from_the_retry_policy(store: Store) -> None:
    load(store, [notice("1")])
    d = dispatcher(store, FakeChannel(results=[UNSURE]),
                   retry=RetryPolicy(uncertain_delay=7200))
    d.dispatch(at("2026-06-01"))
    [row] = store.notices()
    assert row.next_attempt_at == at("2026-06-01", "11:00")


def test_an_uncertain_part_of_a_split_digest_puts_only_its_own_tasks_in_doubt(
        store: Store) -> None:
    """A robot hanging up after part 1 of 3 may have posted part 1; parts 2 and 3 never
    left. They used to be held with part 1 as if they might have arrived (the WeCom hang-up
    trial lost 9 of 10 that way); now they go back to the queue, due at once, and are sent."""
    load(store, [notice(str(i), channel="wecom") for i in range(1, 7)])
    wecom = FakeChannel("wecom", results=[UNSURE])
    d = dispatcher(store, wecom, render=parts_of_two)
    now = at("2026-06-01")
    first = d.dispatch(now)
    assert [m.text for m in wecom.sent] == ["1,2"]
    assert (first.retried, first.deferred) == (2, 4)
    rows = {r.task_id: r for r in store.notices()}
    assert [(rows[t].status, rows[t].uncertain) for t in "12"] == [(PENDING, 1)] * 2
    assert [(rows[t].status, rows[t].uncertain, rows[t].next_attempt_at) for t in "3456"] == [
        (PENDING, 0, now)] * 4
    d.dispatch(now)  # the same moment: the tasks that never left go now, 1 and 2 wait
    assert [m.text for m in wecom.sent[1:]] == ["3,4", "5,6"]
    assert {k.split(":")[0] for k, (s, _) in status_of(store).items() if s == SENT} == set("3456")
