"""The personal channels through the dispatcher and a real store, on SQLite and PostgreSQL:
a WeCom app token shared by two processes, a WeCom app member's limit held across them, the
60020 hold, a DingTalk block every process waits out, and per-channel quiet hours."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from channelservers import dingtalk_server, wecom_app_server
from sqlalchemy import text

from reminder.config import WORKING_HOURS_ONLY
from reminder.delivery.channels.base import Message, SendResult
from reminder.delivery.channels.dingtalk import DingTalkChannel, DingTalkRobot
from reminder.delivery.channels.wecom_app import WeComAppChannel
from reminder.delivery.dispatcher import Dispatcher
from reminder.models import Contact, Notice, Task
from reminder.store import HELD, PENDING, SENT, Store

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "demo-2026"
CORP, SECRET, AGENT = "ww0123456789abcdef", "app-secret-0123456789abcdef0123", 1000002
DT_TOKEN, DT_SECRET = "a1b2c3d4e5f6a7b8c9d0", "SECabcdef0123456789"


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


def notice(task: str, recipient: str, channel: str, addresses: tuple[str, ...],
           clock: str = "09:00", mobiles: tuple[str, ...] = (), day: str = "2026-06-01"
           ) -> Notice:
    return Notice(send_at=at(day, clock), stage="remind", step="5wd", plan=PLAN,
                  plan_title="示例方案", task=task, title=f"任务{task}", due=date(2026, 6, 30),
                  recipient=recipient, channel=channel, addresses=addresses, mobiles=mobiles,
                  occurrence="2026-06-30")


def load(store: Store, notices: list[Notice]) -> None:
    store.sync_plan(plan_id=PLAN, title="示例方案", path="/p", fingerprint="x",
                    tasks=[Task(id=n.task, title=n.title) for n in notices], occurrences=[],
                    notices=notices, window=(date(2026, 1, 1), date(2026, 12, 31)),
                    cutoff=at("2026-01-01", "00:00"), now=at("2026-01-01"))


def dispatcher(store: Store, channels: dict[str, Any], claimant: str, **kw: Any) -> Dispatcher:
    return Dispatcher(store, channels, claimant=claimant, rng=random.Random(7), **kw)


def app(url: str) -> WeComAppChannel:
    return WeComAppChannel(corpid=CORP, secret=SECRET, agentid=AGENT, base_url=url, timeout=2)


def statuses(store: Store) -> dict[str, str]:
    return {f"{r.task_id}:{r.recipient}": r.status for r in store.notices()}


def test_two_processes_share_one_sealed_token(store: Store) -> None:
    load(store, [notice("1", "法规科", "wecom_app", ("zhangsan",)),
                 notice("2", "办公室", "wecom_app", ("lisi", "wangwu"))])
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        first = dispatcher(store, {"wecom_app": app(wx.url)}, "a")
        # The first process claims only what is due at 08:00: nothing; then sends at 09:00.
        report = first.dispatch(at("2026-06-01"))
        load(store, [notice("1", "法规科", "wecom_app", ("zhangsan",)),
                     notice("2", "办公室", "wecom_app", ("lisi", "wangwu")),
                     notice("3", "财务科", "wecom_app", ("zhaoliu",), clock="10:00")])
        second = dispatcher(store, {"wecom_app": app(wx.url)}, "b")
        later = second.dispatch(at("2026-06-01", "10:00"))
        issued = list(wx.tokens)
    assert (report.sent, later.sent) == (2, 1)
    assert wx.token_calls == 1  # the second process read the first one's token
    assert sorted(s.json["touser"] for s in wx.sends) == ["lisi|wangwu", "zhangsan", "zhaoliu"]
    with store.engine.connect() as conn:
        stored = conn.execute(text("select sealed from channel_tokens")).scalars().all()
    assert len(stored) == 1 and issued[0] not in stored[0]


def test_untrusted_ip_holds_the_notices_and_records_what_to_do(store: Store) -> None:
    load(store, [notice("1", "法规科", "wecom_app", ("zhangsan",)),
                 notice("2", "办公室", "wecom_app", ("lisi",))])
    email = Recorder("email")
    admin = Contact(name="管理员", email=("admin@example.gov.cn",))
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        wx.trusted = False
        report = dispatcher(store, {"wecom_app": app(wx.url), "email": email}, "a",
                            admin=admin).dispatch(at("2026-06-01"))
    assert report.held == 2
    assert len(wx.sends) == 1  # the second unit's digest was not even tried: route known held
    assert set(statuses(store).values()) == {HELD}
    assert all("企业可信IP" in (r.last_error or "") for r in store.notices())
    # The admin is told once, in Chinese, where to add the address.
    [told] = email.sent
    assert "203.0.113.7" in told.text and "应用管理" in told.text and "企业可信IP" in told.text


def test_a_members_limit_holds_across_processes(store: Store) -> None:
    # 31 units whose one contact is the same person: 30 app messages a minute reach him,
    # the 31st waits, whichever process sends it.
    units = [f"单位{i:02d}" for i in range(31)]
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        load(store, [notice(str(i), u, "wecom_app", ("zhangsan",)) for i, u in enumerate(units[:20])])
        a = dispatcher(store, {"wecom_app": app(wx.url)}, "a", max_inline_wait=0.05)
        assert a.dispatch(at("2026-06-01")).sent == 20
        load(store, [notice(str(i), u, "wecom_app", ("zhangsan",)) for i, u in enumerate(units)])
        b = dispatcher(store, {"wecom_app": app(wx.url)}, "b", max_inline_wait=0.05)
        report = b.dispatch(at("2026-06-01"))
    assert (report.sent, report.deferred) == (10, 1)
    assert len(wx.sends) == 30
    assert list(statuses(store).values()).count(PENDING) == 1


def test_take_slots_is_all_or_none(store: Store) -> None:
    windows = [("m:a", 2, 60.0), ("m:a", 3, 3600.0), ("day", 100, 86400.0)]
    assert store.take_slots(windows, 1000.0) == 0
    assert store.take_slots(windows, 1001.0) == 0
    wait = store.take_slots(windows, 1002.0)  # the minute is full
    assert wait == pytest.approx(58.0)
    assert store.take_slots([("day", 100, 86400.0)], 1003.0) == 0  # nothing else was taken
    assert store.take_slots(windows, 1061.0) == 0  # a minute later: the hour still has room
    assert store.take_slots(windows, 1125.0) > 0  # the hour is full (3)


def test_a_dingtalk_block_is_waited_out_by_every_process(store: Store) -> None:
    robot = {"科室群": DingTalkRobot(access_token=DT_TOKEN, secret=DT_SECRET)}
    load(store, [notice("1", "法规科", "dingtalk", ("科室群",)),
                 notice("2", "办公室", "dingtalk", ("科室群",))])
    with dingtalk_server({DT_TOKEN: DT_SECRET}) as dt:
        dt.blocked_until[DT_TOKEN] = 4.0e9  # another system ran the robot over its limit
        ding = DingTalkChannel(robot, base_url=dt.url, timeout=2)
        first = dispatcher(store, {"dingtalk": ding}, "a", max_inline_wait=0.05)
        report = first.dispatch(at("2026-06-01"))
        other = dispatcher(store, {"dingtalk": DingTalkChannel(robot, base_url=dt.url)}, "b",
                           max_inline_wait=0.05)
        again = other.dispatch(at("2026-06-01", "09:30"))
    assert len(dt.requests) == 1  # told once, nobody knocked again
    assert (report.retried, report.deferred) == (1, 1)
    assert again.messages == 0


class Recorder:
    def __init__(self, name: str, quiet: Any = None) -> None:
        self.name, self.quiet, self.sent = name, quiet, []

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        return SendResult(status="ok")

    def close(self) -> None:
        pass


def render(notices: Any, **_: Any) -> list[Message]:
    return [Message(subject="s", text="t", to=notices[0].addresses,
                    keys=tuple(n.key for n in notices))]


def test_personal_channels_wait_for_working_hours_the_others_do_not(store: Store) -> None:
    load(store, [notice("1", "法规科", "sms", ("13800000000",), clock="19:30"),
                 notice("2", "法规科", "email", ("fg@x.org",), clock="19:30")])
    sms, email = Recorder("sms", WORKING_HOURS_ONLY), Recorder("email")
    d = dispatcher(store, {"sms": sms, "email": email}, "a", render=render)
    report = d.dispatch(at("2026-06-01", "19:30"))
    assert (len(sms.sent), len(email.sent), report.deferred) == (0, 1, 1)
    row = next(r for r in store.notices() if r.channel == "sms")
    assert row.status == PENDING
    assert row.next_attempt_at.astimezone(TZ) == at("2026-06-02", "08:30")
    d.dispatch(at("2026-06-02", "08:30"))
    assert len(sms.sent) == 1 and set(statuses(store).values()) == {SENT}


@pytest.mark.parametrize(("due", "sent_at"), [
    (("2026-09-30", "19:30"), ("2026-10-08", "08:30")),  # evening before 国庆: after the week
    (("2026-06-06", "10:00"), ("2026-06-08", "08:30")),  # a Saturday: Monday morning
    (("2026-10-10", "10:00"), ("2026-10-10", "10:00")),  # the make-up Saturday is a workday
], ids=["national-day", "saturday", "make-up-saturday"])
def test_personal_channels_keep_days_off_by_the_working_calendar(
        store: Store, due: tuple[str, str], sent_at: tuple[str, str]) -> None:
    """Working hours are a working day's: an SMS due on a day off waits for the next
    working day's 08:30, holidays and make-up workdays as the shipped calendar has them."""
    load(store, [notice("1", "法规科", "sms", ("13800000000",), day=due[0], clock=due[1])])
    sms = Recorder("sms", WORKING_HOURS_ONLY)
    d = dispatcher(store, {"sms": sms}, "a", render=render)
    d.dispatch(at(*due))
    if due != sent_at:
        assert not sms.sent
        [row] = store.notices()
        assert (row.status, row.next_attempt_at.astimezone(TZ)) == (PENDING, at(*sent_at))
    d.dispatch(at(*sent_at))
    assert len(sms.sent) == 1 and set(statuses(store).values()) == {SENT}


class Blacklist(Recorder):
    """A gateway that refuses some numbers (its blacklist) and takes the others."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__("sms")
        self.refused = refused

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        if set(message.to) & self.refused:
            return SendResult(status="permanent", provider_code="1004", detail="号码在黑名单中")
        return SendResult(status="ok")


@pytest.mark.parametrize("refused", ["13800000000", "13900000000"], ids=["first", "last"])
def test_one_refused_mobile_fails_alone_and_the_units_other_number_gets_the_sms(
        store: Store, refused: str) -> None:
    """法规科 has two numbers; the platform refuses one. The other still gets the SMS, the
    notice counts as sent, and the admin is told which number to fix. Before, a refused
    first number failed the notice and the second number never got it."""
    load(store, [notice("1", "法规科", "sms", ("13800000000", "13900000000"))])
    sms, email = Blacklist({refused}), Recorder("email")
    admin = Contact(name="管理员", email=("admin@example.gov.cn",))
    report = dispatcher(store, {"sms": sms, "email": email}, "a",
                        admin=admin).dispatch(at("2026-06-01"))
    assert [m.to for m in sms.sent] == [("13800000000",), ("13900000000",)]
    assert (report.sent, report.failed) == (1, 0) and statuses(store) == {"1:法规科": SENT}
    [told] = email.sent
    assert refused in told.text and "号码在黑名单中" in told.text


def test_every_mobile_refused_is_one_failure_told_once(store: Store) -> None:
    load(store, [notice("1", "法规科", "sms", ("13800000000", "13900000000"))])
    sms, email = Blacklist({"13800000000", "13900000000"}), Recorder("email")
    admin = Contact(name="管理员", email=("admin@example.gov.cn",))
    report = dispatcher(store, {"sms": sms, "email": email}, "a",
                        admin=admin).dispatch(at("2026-06-01"))
    assert (report.sent, report.failed) == (0, 1) and len(sms.sent) == 2
    [told] = email.sent
    assert told.text.count("号码在黑名单中") == 1


class Refusing(Recorder):
    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        return SendResult(status="permanent", provider_code="1004", detail="号码在黑名单中")


def test_the_admin_known_only_by_userid_is_told_by_app_message(store: Store) -> None:
    load(store, [notice("1", "法规科", "sms", ("13800000000",))])
    admin = Contact(name="管理员", wecom_users=("admin01",))
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        d = dispatcher(store, {"sms": Refusing("sms"), "wecom_app": app(wx.url)}, "a",
                       admin=admin, render=render)
        report = d.dispatch(at("2026-06-01"))
    assert report.failed == 1 and report.admin_unreachable is None
    [told] = wx.sends
    assert told.json["touser"] == "admin01" and "号码在黑名单中" in told.json["markdown"]["content"]


def test_members_wecom_does_not_know_fail_alone_and_the_admin_is_told(store: Store) -> None:
    # 法规科's two userids: one left the office. The other gets the message and the notice is
    # sent; the departed one is that member's failure, reported to the admin to fix the 通讯录.
    load(store, [notice("1", "法规科", "wecom_app", ("zhangsan", "departed"))])
    email = Recorder("email")
    admin = Contact(name="管理员", email=("admin@example.gov.cn",))
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT,
                          members={"zhangsan"}) as wx:
        report = dispatcher(store, {"wecom_app": app(wx.url), "email": email}, "a",
                            admin=admin).dispatch(at("2026-06-01"))
    assert (report.sent, report.failed) == (1, 0)
    assert statuses(store) == {"1:法规科": SENT}
    assert [s.json["touser"] for s in wx.sends] == ["zhangsan|departed"]
    [told] = email.sent
    assert "法规科" in told.text and "departed" in told.text and "通讯录" in told.text
    assert "zhangsan" not in told.text


def test_a_gateway_answer_without_its_verdict_sends_an_sms_at_most_twice(store: Store) -> None:
    # success_path names a field this gateway does not answer with: each SMS may have gone
    # out. Retried as a failure, the person got one per attempt; now one late retry, then held.
    from channelservers import gateway_server

    from reminder.delivery.channels.gateway import GatewayChannel

    load(store, [notice("1", "法规科", "sms", ("13800000000",))])
    with gateway_server() as gw:
        gw.replies.extend([(200, {"status": "OK"})] * 10)
        sms = GatewayChannel(url=gw.url, success_path="code", success_value="0", timeout=2)
        d = dispatcher(store, {"sms": sms}, "a", render=render)
        for day in range(1, 8):
            d.dispatch(at(f"2026-06-0{day}", "10:00"))
    assert len(gw.requests) == 2
    assert statuses(store) == {"1:法规科": HELD}
