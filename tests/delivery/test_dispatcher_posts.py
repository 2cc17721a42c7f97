"""Several units on one WeCom robot at one moment get one post per robot: the dispatcher
over a real SQLite store, the real renderer and WeComChannel, against the loopback WeCom
stand-in (tests/servers.py). Email stays one digest per unit."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from servers import BUSY, INVALID_KEY, OK, wecom_server
from test_dispatcher import load

from reminder.delivery.channels.base import Message, SendResult
from reminder.delivery.channels.wecom import WeComChannel
from reminder.delivery.dispatcher import Dispatcher
from reminder.delivery.render.messages import render_digest
from reminder.models import Notice
from reminder.store import PENDING, SENT, Store, open_store

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "demo-2026"
ROBOTS = {"公开办群": "key-gongkai", "业务科室群": "key-yewu"}
USERS = {"法规科": ("zhangsan",), "办公室": ("liwei",), "信息中心": ("zhaolei",),
         "数据资源科": ()}


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


def notice(task: str, unit: str, robot: str = "公开办群", *, clock: str = "09:00",
           channel: str = "wecom", title: str = "") -> Notice:
    addresses = (robot,) if channel == "wecom" else (f"{task}-{unit}@example.gov.cn",)
    return Notice(send_at=at("2026-06-01", clock), stage="remind", step="5wd", plan=PLAN,
                  plan_title="示例方案", task=task, title=title or f"任务{task}",
                  due=date(2026, 6, 30), recipient=unit, channel=channel, addresses=addresses,
                  mentions=USERS[unit] if channel == "wecom" else (), occurrence="2026-06-30")


class Mailbox:
    name = "email"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        return SendResult(status="ok", provider_code="250")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'reminder.db'}")
    yield s
    s.dispose()


def link(plan: str, unit: str, task: str) -> str:
    return f"https://reminder.example.gov.cn/u/{unit}"


def dispatcher(store: Store, url: str, **channels: Any) -> Dispatcher:
    wecom = WeComChannel(ROBOTS, base_url=url, timeout=2)
    return Dispatcher(store, {"wecom": wecom, **channels}, claimant="me",
                      render=partial(render_digest, link=link), rng=random.Random(7))


def status(store: Store) -> dict[str, str]:
    return {f"{r.task_id}:{r.recipient}": r.status for r in store.notices()}


def posts(server: Any, start: int = 0) -> list[str]:
    return [r.body["markdown"]["content"] for r in server.requests[start:]]


def test_units_sharing_a_robot_get_one_post_per_robot_and_email_stays_per_unit(
        store: Store) -> None:
    load(store, [notice("1", "法规科"), notice("2", "办公室"), notice("3", "法规科"),
                 notice("4", "信息中心", "业务科室群"), notice("5", "数据资源科", "业务科室群"),
                 notice("6", "法规科", channel="email"), notice("7", "办公室", channel="email")])
    mail = Mailbox()
    with wecom_server(keys=set(ROBOTS.values())) as server:
        report = dispatcher(store, server.url, email=mail).dispatch(at("2026-06-01"))
    assert [r.key for r in server.requests] == ["key-gongkai", "key-yewu"]  # one post a robot
    gongkai, yewu = posts(server)
    assert re.findall(r"▍(\S+?)：", gongkai) == ["法规科", "办公室"]
    assert re.findall(r"▍(\S+?)：", yewu) == ["信息中心", "数据资源科"]
    for unit in ("法规科", "办公室"):
        assert f"[查看与反馈（{unit}）]({link(PLAN, unit, '')})" in gongkai
    assert "<@zhangsan>" in gongkai and "<@liwei>" in gongkai and "<@zhaolei>" in yewu
    assert sorted(m.to for m in mail.sent) == [("6-法规科@example.gov.cn",),
                                                ("7-办公室@example.gov.cn",)]
    assert (report.sent, report.messages) == (7, 4)
    assert set(status(store).values()) == {SENT}
    deliveries = [d for d in store.deliveries() if d.channel == "wecom"]
    assert [d.recipient for d in deliveries] == ["法规科、办公室", "信息中心、数据资源科"]


def test_units_due_at_different_moments_get_their_own_posts(store: Store) -> None:
    load(store, [notice("1", "法规科"), notice("2", "办公室", clock="15:00")])
    with wecom_server(keys=set(ROBOTS.values())) as server:
        d = dispatcher(store, server.url)
        d.dispatch(at("2026-06-01"))
        d.dispatch(at("2026-06-01", "15:00"))
    first, second = posts(server)
    assert "法规科" in first and "办公室" not in first
    assert "办公室" in second and "▍" not in second  # one unit alone: its plain digest


def test_a_failed_post_retries_all_its_units_and_resends_them_in_one_post(
        store: Store) -> None:
    load(store, [notice("1", "法规科"), notice("2", "办公室"), notice("3", "办公室")])
    with wecom_server([BUSY], keys=set(ROBOTS.values())) as server:
        d = dispatcher(store, server.url)
        report = d.dispatch(at("2026-06-01"))
        assert (report.retried, report.sent) == (3, 0)
        rows = store.notices()
        assert {(r.status, r.attempts) for r in rows} == {(PENDING, 1)}
        assert len({r.next_attempt_at for r in rows}) == 1  # retried together, as one post
        again = d.dispatch(at("2026-06-01", "10:00"))
    assert (again.sent, again.messages) == (3, 1)
    assert len(server.requests) == 2 and posts(server)[0] == posts(server)[1]
    assert set(status(store).values()) == {SENT}


def test_a_partly_sent_post_never_sends_its_first_part_again(store: Store) -> None:
    long = "：做好政府信息主动公开和政策解读工作，及时回应社会关切" * 3
    units = ["法规科"] * 12 + ["办公室"] * 12
    load(store, [notice(str(i), unit, title=f"任务{i}{long}")
                 for i, unit in enumerate(units, 1)])
    with wecom_server([OK, BUSY], keys=set(ROBOTS.values())) as server:
        d = dispatcher(store, server.url)
        report = d.dispatch(at("2026-06-01"))
        first = posts(server)[0]
        shown = set(re.findall(r"〔(\d+)〕", first))
        assert 0 < len(shown) < len(units) and report.sent == len(shown)
        sent = {k.split(":")[0] for k, s in status(store).items() if s == SENT}
        assert sent == shown  # the part that went out is settled, the rest waits
        assert report.retried == len(units) - len(shown)
        d.dispatch(at("2026-06-01", "10:00"))
        later = posts(server, 2)
    assert later and not any(re.search(rf"〔{t}〕", body) for t in shown for body in later)
    again = [t for body in later for t in re.findall(r"〔(\d+)〕", body)]
    assert sorted(again, key=int) == sorted(set(map(str, range(1, 25))) - shown, key=int)
    assert set(status(store).values()) == {SENT}
    assert "▍办公室" in later[0]  # the resent post still says whose tasks these are


def test_a_robot_failure_leaves_the_other_robots_post_alone(store: Store) -> None:
    load(store, [notice("1", "法规科"), notice("2", "办公室"),
                 notice("3", "信息中心", "业务科室群")])
    with wecom_server([BUSY], keys=set(ROBOTS.values())) as server:
        report = dispatcher(store, server.url).dispatch(at("2026-06-01") + timedelta(minutes=1))
    assert (report.retried, report.sent) == (2, 1)
    assert status(store) == {"1:法规科": PENDING, "2:办公室": PENDING, "3:信息中心": SENT}


def test_robots_with_a_bad_key_are_held_without_knocking_until_their_key_changes(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Two robots answer 93000 (key invalid): each is asked once, every notice stores its
    robot's error for `reminder status`, a next pass with the same keys sends nothing, and a
    new key for one robot resends that robot's notices only."""
    from reminder.store import HELD

    load(store, [notice("1", "法规科"), notice("2", "办公室"),
                 notice("3", "法规科", clock="09:05"),  # due by now too: in the same post
                 notice("4", "信息中心", "业务科室群")])
    caplog.set_level(logging.ERROR, "reminder.dispatcher")
    with wecom_server(keys=set()) as server:  # every key is refused
        report = dispatcher(store, server.url).dispatch(at("2026-06-01", "09:10"))
        assert len(server.requests) == 2 and (report.held, report.sent) == (4, 0)
        assert sorted(r.key for r in server.requests) == ["key-gongkai", "key-yewu"]
        errors = {robot: f"93000 群机器人“{robot}”拒绝发送（webhook key 无效或机器人已被移出群聊，"
                         f"请联系管理员检查配置）：{INVALID_KEY[1]['errmsg']}"
                  for robot in ROBOTS}
        rows = {r.task_id: r for r in store.notices()}
        assert {t: (r.status, r.last_error) for t, r in rows.items()} == {
            "1": (HELD, errors["公开办群"]), "2": (HELD, errors["公开办群"]),
            "3": (HELD, errors["公开办群"]), "4": (HELD, errors["业务科室群"])}
        assert sorted((d.recipient, d.result, d.provider_code) for d in store.deliveries()) == [
            ("信息中心", "config", "93000"), ("法规科、办公室", "config", "93000")]
        assert sorted(r.getMessage() for r in caplog.records if r.name == "reminder.dispatcher") == [
            "有 2 组提醒发送失败，但未配置管理员联系人（[admin]）",
            "渠道配置有误，提醒暂停发送（修正配置后自动重发，或运行 reminder retry）："
            f"wecom → 信息中心：{errors['业务科室群']}",
            "渠道配置有误，提醒暂停发送（修正配置后自动重发，或运行 reminder retry）："
            f"wecom → 法规科、办公室：{errors['公开办群']}"]
        assert store.alerts()["admin"][0] == "未配置管理员联系人（[admin]）"

        again = dispatcher(store, server.url).dispatch(at("2026-06-01", "09:20"))
        assert len(server.requests) == 2 and again.held == 0  # nothing new, nobody knocked
        assert {r.status for r in store.notices()} == {HELD}

        server.keys = {"key-new"}
        fixed = Dispatcher(store, {"wecom": WeComChannel(
            {**ROBOTS, "公开办群": "key-new"}, base_url=server.url, timeout=2)},
            claimant="me", render=partial(render_digest, link=link), rng=random.Random(7))
        fixed.dispatch(at("2026-06-01", "09:30"))
        assert [r.key for r in server.requests[2:]] == ["key-new"]  # revived together: one post
    assert status(store) == {"1:法规科": SENT, "2:办公室": SENT, "3:法规科": SENT,
                             "4:信息中心": HELD}


def test_the_admins_report_never_knocks_on_the_robot_just_found_broken(store: Store) -> None:
    from reminder.models import Contact

    load(store, [notice("1", "法规科"), notice("2", "办公室")])
    admin = Contact(name="管理员", wecom="公开办群", wecom_users=("admin",))
    with wecom_server(keys=set()) as server:
        d = Dispatcher(store, {"wecom": WeComChannel(ROBOTS, base_url=server.url, timeout=2)},
                       claimant="me", render=partial(render_digest, link=link), admin=admin)
        report = d.dispatch(at("2026-06-01"))
    assert len(server.requests) == 1  # the post; the report was not tried on the same robot
    assert report.admin_unreachable == (
        "wecom：配置有误（93000 群机器人“公开办群”拒绝发送（webhook key 无效或机器人已被移出群聊，"
        f"请联系管理员检查配置）：{INVALID_KEY[1]['errmsg']}）")
