"""One WeCom robot post for several units (reminder.posts): a section per unit with its own
@mentions and link, split between tasks within WeCom's byte limits."""

from __future__ import annotations

import re
from datetime import date, datetime

from servers import wecom_server

from reminder.channels.base import utf8_len
from reminder.channels.wecom import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, WeComChannel
from reminder.messages import render_digest
from reminder.models import Notice

TODAY = date(2026, 10, 6)
ROBOT = "公开办群"
CONTACTS = {"法规科": ("zhangsan",), "办公室": ("liwei", "wangwu"), "信息中心": ()}


def notice(task: str, unit: str, *, stage: str = "remind", due: date = date(2026, 10, 9),
           title: str = "", **kw: object) -> Notice:
    return Notice(send_at=datetime(2026, 10, 6, 9), stage=stage, step="0",  # type: ignore[arg-type]
                  plan="p2026", plan_title="某局2026年政务公开工作要点", task=task,
                  title=title or f"任务{task}", due=due, recipient=unit, channel="wecom",
                  addresses=(ROBOT,), mentions=CONTACTS.get(unit, ()), **kw)  # type: ignore[arg-type]


def link(plan: str, unit: str, task: str) -> str:
    return f"https://reminder.example.gov.cn/u/{plan}/{unit}" + (f"#t{task}" if task else "")


def sections(body: str) -> list[str]:
    return re.findall(r"\*\*▍([^：（*]+)[：（]", body)


def test_three_units_on_one_robot_make_one_post_with_a_section_each() -> None:
    notices = [notice("1", "法规科"), notice("2", "办公室", stage="overdue", due=date(2026, 10, 1)),
               notice("3", "法规科", stage="due", due=TODAY), notice("4", "信息中心")]
    [post] = render_digest(notices, channel="wecom", today=TODAY, link=link)
    body = post.markdown
    assert body.startswith("**【政务公开提醒】3个单位：4项任务**")
    assert sections(body) == ["法规科", "办公室", "信息中心"]  # in order of first notice
    # Each unit's tasks sit in its own section, its mentions right under its name, and its
    # own link at its end; nobody else's mention or link is in its section.
    parts = re.split(r"\n\n(?=\*\*▍)", body)
    fagui, office, centre = parts[1], parts[2], parts[3].split("\n\n<font")[0]
    assert "〔1〕" in fagui and "〔3〕" in fagui and "〔2〕" not in fagui
    assert fagui.splitlines()[1] == "<@zhangsan>"
    assert office.splitlines()[1] == "<@liwei> <@wangwu>"
    assert "<@" not in centre
    for unit, section in (("法规科", fagui), ("办公室", office), ("信息中心", centre)):
        assert section.rstrip().endswith(f"[查看与反馈（{unit}）]({link('p2026', unit, '')})")
        assert body.count(link("p2026", unit, "")) == 1
    assert "（1项已逾期）" in office
    # The channel appends nothing: the mentions are in the body, once each.
    assert post.mentions == () and post.mobiles == ()
    assert WeComChannel({ROBOT: "k"}).payload(post)["markdown"] == {"content": body}
    assert sorted(post.keys) == sorted(n.key for n in notices)
    assert post.subject == "【政务公开提醒】法规科、办公室、信息中心：4项任务（1项已逾期）"


def many(units: dict[str, int]) -> list[Notice]:
    long = "：做好政府信息主动公开和政策解读工作，及时回应社会关切" * 2
    return [notice(f"{unit[0]}{i}", unit, title=f"{unit}任务{i}{long}",
                   due=date(2026, 10, 1 + i % 20), stage=("remind", "overdue", "due")[i % 3])
            for unit, n in units.items() for i in range(1, n + 1)]


def test_a_long_post_splits_between_tasks_and_each_part_names_its_units() -> None:
    notices = many({"法规科": 12, "办公室": 25, "信息中心": 8})
    messages = render_digest(notices, channel="wecom", today=TODAY, link=link)
    assert len(messages) >= 3
    with wecom_server(keys={"k"}) as server:  # unscripted: refuses what WeCom would refuse
        channel = WeComChannel({ROBOT: "k"}, base_url=server.url, timeout=2)
        assert [channel.send(m).status for m in messages] == ["ok"] * len(messages)
        sent = [r.body["markdown"]["content"] for r in server.requests]
    assert len(sent) == len(messages)
    for number, body in enumerate(sent, 1):
        assert utf8_len(body) <= MARKDOWN_MAX_BYTES and "…" not in body
        assert f"（第{number}/{len(sent)}部分）" in body.splitlines()[0]
        # A part never starts with tasks of nobody: its first section names a unit.
        assert body.split("\n\n")[1].startswith("**▍")
    for n in notices:  # every task whole, in exactly one part, under its own unit
        [holder] = [body for body in sent if n.title in body]
        before = holder[:holder.index(n.title)]
        assert sections(before)[-1] == n.recipient
    for unit, users in CONTACTS.items():  # each unit mentioned once, its link once
        for user in users:
            assert sum(body.count(f"<@{user}>") for body in sent) == 1
        assert sum(body.count(link("p2026", unit, "")) for body in sent) == 1
    assert any("**▍办公室（续）**" in body for body in sent)  # 25 tasks span a part boundary
    for m, body in zip(messages, sent, strict=True):  # keys are exactly the tasks shown
        assert {n.task for n in notices if n.key in m.keys} == set(re.findall(r"〔(\w+)〕", body))
    assert sorted(k for m in messages for k in m.keys) == sorted(n.key for n in notices)


def test_text_robot_post_mentions_each_unit_on_the_part_that_opens_it() -> None:
    notices = many({"法规科": 6, "办公室": 6})
    mobiles = {"办公室": ("13800000002",)}
    notices = [n if n.recipient != "办公室" else Notice(**{**n.__dict__, "mobiles": mobiles["办公室"]})
               for n in notices]
    messages = render_digest(notices, channel="wecom", today=TODAY, fmt="text", link=link)
    assert len(messages) >= 2
    assert all(utf8_len(m.text) <= TEXT_MAX_BYTES and not m.markdown for m in messages)
    opener = {u: next(m for m in messages if f"━━ {u}：" in m.text) for u in ("法规科", "办公室")}
    for m in messages:
        assert m.mentions == tuple(u for unit, box in opener.items() if box is m
                                   for u in CONTACTS[unit])
        assert m.mobiles == (("13800000002",) if opener["办公室"] is m else ())


def test_markdown_post_calls_mobile_only_units_in_one_text_message() -> None:
    notices = [notice("1", "法规科"), notice("2", "数据资源科", mobiles=("13800000001",)),
               notice("3", "信息中心", mobiles=("13800000003",))]
    post, extra = render_digest(notices, channel="wecom", today=TODAY)
    assert (post.part, extra.part, extra.parts) == (1, 2, 2)
    assert extra.markdown == "" and extra.keys == ()
    assert extra.mobiles == ("13800000001", "13800000003")
    assert "数据资源科、信息中心" in extra.text and "法规科" not in extra.text
    assert WeComChannel({ROBOT: "k"}).payload(extra)["text"]["mentioned_mobile_list"] == [
        "13800000001", "13800000003"]


def test_one_unit_alone_keeps_the_plain_digest() -> None:
    [message] = render_digest([notice("1", "法规科")], channel="wecom", today=TODAY)
    assert "▍" not in message.markdown and message.mentions == ("zhangsan",)
