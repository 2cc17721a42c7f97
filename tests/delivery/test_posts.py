"""One WeCom robot post for several units (reminder.delivery.render.posts): a section per unit with its own
@mentions and link, split between tasks within WeCom's byte limits."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from servers import wecom_server

from reminder.delivery.channels.base import utf8_len
from reminder.delivery.channels.wecom import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, WeComChannel
from reminder.delivery.render.messages import render_digest
from reminder.errors import ConfigError
from reminder.models import Notice
from reminder.resources import data_dir

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
    # 25 tasks span a part boundary: the part goes on with the unit's name, then its tasks.
    assert any(re.search(r"\n\n\*\*▍办公室（续）\*\*\n(\d+\. 〔|\*\*)", body) for body in sent)
    assert [(m.part, m.parts) for m in messages] == [(i, len(sent)) for i in range(1, len(sent) + 1)]
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
    notices = [notice("1", "法规科"),
               notice("2", "数据资源科", mobiles=("13800000001",), stage="overdue",
                      due=date(2026, 10, 1)),
               notice("3", "信息中心", mobiles=("13800000003",))]
    post, extra = render_digest(notices, channel="wecom", today=TODAY, office=office)
    assert (post.part, post.parts, extra.part, extra.parts) == (1, 2, 2, 2)
    assert extra.markdown == "" and extra.keys == ()
    assert extra.mobiles == ("13800000001", "13800000003") and post.mobiles == ()
    assert extra.text == "请数据资源科、信息中心相关同志查看上方农业农村局提醒（共2项任务，1项已逾期）。"
    # The same robot and subject as the post: a message with no robot would never arrive.
    assert (extra.to, extra.subject) == ((ROBOT,), post.subject)
    assert WeComChannel({ROBOT: "k"}).payload(extra)["text"]["mentioned_mobile_list"] == [
        "13800000001", "13800000003"]


def test_one_unit_alone_keeps_the_plain_digest() -> None:
    [message] = render_digest([notice("1", "法规科")], channel="wecom", today=TODAY)
    assert "▍" not in message.markdown and message.mentions == ("zhangsan",)


# -- exact bodies and numbering (survivors of the 2026-11-23 mutation run of render_post) ----

def office(plan: str) -> tuple[str, str]:
    return {"p2026": ("农业农村局", "局办公室"), "p2027": ("财政局", "局财务科")}[plan]


def small() -> list[Notice]:
    return [notice("1", "法规科"), notice("2", "办公室", stage="overdue", due=date(2026, 10, 1)),
            notice("3", "法规科", stage="due", due=TODAY),
            notice("4", "法规科", due=date(2026, 10, 12))]


SMALL_MD = """\
**【农业农村局提醒】2个单位：4项任务**
> 其中<font color="warning">1项已逾期</font>，请尽快办理

**▍法规科：3项任务**
<@zhangsan>
**今日到期任务（1项）**
<font color="comment">以下任务今日到期，请确保按时完成。</font>
1. 〔3〕任务3
> 完成时限：2026-10-06（周二）　<font color="warning">今天到期</font>
> 所属方案：某局2026年政务公开工作要点

**即将到期任务（2项）**
<font color="comment">以下任务即将到期，请合理安排、抓紧推进。</font>
2. 〔1〕任务1
> 完成时限：2026-10-09（周五）　<font color="info">还剩3天</font>
> 所属方案：某局2026年政务公开工作要点

3. 〔4〕任务4
> 完成时限：2026-10-12（周一）　<font color="info">还剩6天</font>
> 所属方案：某局2026年政务公开工作要点

[查看与反馈（法规科）](https://reminder.example.gov.cn/u/p2026/法规科)

**▍办公室：1项任务**<font color="warning">（1项已逾期）</font>
<@liwei> <@wangwu>
**已逾期任务（1项）**
<font color="comment">以下任务已超过完成时限，请抓紧办理，并及时反馈办理情况。</font>
1. 〔2〕任务2
> 完成时限：2026-10-01（周四）　<font color="warning">已逾期5天</font>
> 所属方案：某局2026年政务公开工作要点

[查看与反馈（办公室）](https://reminder.example.gov.cn/u/p2026/办公室)

<font color="comment">任务完成后请点本单位的“查看与反馈”链接登记办结，或报送进展、反映困难。</font>"""

SMALL_TEXT = """\
【农业农村局提醒】2个单位：4项任务，其中1项已逾期

━━ 法规科：3项任务 ━━
■ 今日到期任务（1项）
以下任务今日到期，请确保按时完成。
1. 〔3〕任务3
   完成时限：2026-10-06（周二），今天到期
   所属方案：某局2026年政务公开工作要点

■ 即将到期任务（2项）
以下任务即将到期，请合理安排、抓紧推进。
2. 〔1〕任务1
   完成时限：2026-10-09（周五），还剩3天
   所属方案：某局2026年政务公开工作要点

3. 〔4〕任务4
   完成时限：2026-10-12（周一），还剩6天
   所属方案：某局2026年政务公开工作要点

━━ 办公室：1项任务（1项已逾期） ━━
■ 已逾期任务（1项）
以下任务已超过完成时限，请抓紧办理，并及时反馈办理情况。
1. 〔2〕任务2
   完成时限：2026-10-01（周四），已逾期5天
   所属方案：某局2026年政务公开工作要点

如任务已完成，请及时告知局办公室登记办结。"""


def test_markdown_post_reads_exactly_as_written_in_the_plans_office_name() -> None:
    """The whole post: the plan's office in the header, each stage heading once before its
    first task, markdown task blocks, each unit's link after a blank line, the footer."""
    [post] = render_digest(small(), channel="wecom", today=TODAY, link=link, office=office)
    assert post.markdown == post.text == SMALL_MD
    assert post.subject == "【农业农村局提醒】法规科、办公室：4项任务（1项已逾期）"
    assert (post.part, post.parts, post.to, post.mentions, post.mobiles) == (
        1, 1, (ROBOT,), (), ())


def test_text_post_reads_exactly_as_written_and_names_the_plans_coordinator() -> None:
    """Text format: no markdown markup, the mentions in the request's list, and without a
    web link the footer sends clerks to the plan's own coordinator."""
    [post] = render_digest(small(), channel="wecom", today=TODAY, fmt="text", office=office)
    assert post.text == SMALL_TEXT and post.markdown == ""
    assert (post.part, post.parts, post.to) == (1, 1, (ROBOT,))
    assert post.mentions == ("zhangsan", "liwei", "wangwu") and post.mobiles == ()


def test_units_of_plans_of_two_offices_share_a_post_in_the_first_units_office_name() -> None:
    other = Notice(**{**notice("9", "办公室").__dict__, "plan": "p2027"})
    for fmt, footer in (("markdown", "请及时告知局办公室登记办结。</font>"),
                        ("text", "请及时告知局办公室登记办结。")):
        [post] = render_digest([notice("1", "法规科"), other], channel="wecom", today=TODAY,
                               fmt=fmt, office=office)
        assert post.subject == "【农业农村局提醒】法规科、办公室：2项任务"
        assert (post.markdown or post.text).startswith("**【农业农村局提醒】" if post.markdown
                                                       else "【农业农村局提醒】")
        assert (post.markdown or post.text).endswith(footer)


def test_a_unit_that_opens_a_part_gets_its_name_not_a_continuation() -> None:
    """A part boundary exactly at a unit's first task: the next part opens that unit with its
    name, count and mentions (no "（续）" line), and a unit with a single task, in text
    format, still gets its @mentions on the part that shows it."""
    long = "：做好政府信息主动公开和政策解读工作，及时回应社会关切" * 40  # ~3.2 KB a task
    notices = [notice("1", "法规科", title=f"任务1{long}"), notice("2", "办公室", title=f"任务2{long}")]
    first, second = render_digest(notices, channel="wecom", today=TODAY, link=link)
    assert [(m.part, m.parts) for m in (first, second)] == [(1, 2), (2, 2)]
    assert sections(first.markdown) == ["法规科"] and sections(second.markdown) == ["办公室"]
    opening = second.markdown.split("\n\n")[1]
    assert opening.startswith("**▍办公室：1项任务**\n<@liwei> <@wangwu>\n**即将到期任务（1项）**\n")
    assert "（续）" not in first.markdown + second.markdown
    assert all(utf8_len(m.markdown) <= MARKDOWN_MAX_BYTES for m in (first, second))

    short = "：做好政府信息主动公开和政策解读工作" * 20  # ~1.3 KB: one a part in text
    notices = [notice("1", "法规科", title=f"任务1{short}"), notice("2", "办公室", title=f"任务2{short}")]
    first, second = render_digest(notices, channel="wecom", today=TODAY, fmt="text", link=link)
    assert (first.mentions, second.mentions) == (("zhangsan",), ("liwei", "wangwu"))
    assert second.text.split("\n\n")[1].startswith("━━ 办公室：1项任务 ━━\n■ 即将到期任务（1项）\n")
    assert all(utf8_len(m.text) <= TEXT_MAX_BYTES for m in (first, second))


def test_an_offices_own_post_templates_get_today_and_a_one_line_subject(tmp_path: Path) -> None:
    """Templates of a deployment's templates folder may use ``today`` in the post's macros and
    its @-message; a subject written over two lines is sent as one."""
    shipped = data_dir("templates") / "wecom"
    units = (shipped / "units.md.j2").read_text(encoding="utf-8")
    units = units.replace("{{ post.units | length }}个单位", "{{ today | cn_date }}·{{ post.units | length }}个单位")
    units = units.replace("【{{ post.sender }}提醒】{{ post.names }}", "【{{ post.sender }}提醒】\n{{ post.names }}")
    digest = (shipped / "digest.md.j2").read_text(encoding="utf-8")
    digest = digest.replace("**{{ s.heading }}（{{ s.count }}项）**", "**{{ s.heading }}（{{ s.count }}项，截至{{ today }}）**")
    (tmp_path / "wecom").mkdir()
    (tmp_path / "wecom" / "units.md.j2").write_text(units, encoding="utf-8")
    (tmp_path / "wecom" / "digest.md.j2").write_text(digest, encoding="utf-8")
    (tmp_path / "wecom" / "mention.txt.j2").write_text(
        "{{ today }}／{{ digest.today }}：请{{ digest.recipient }}查看，办结告知{{ digest.coordinator }}。",
        encoding="utf-8")
    notices = [notice("1", "法规科"), notice("2", "信息中心", mobiles=("13800000003",))]
    post, extra = render_digest(notices, channel="wecom", today=TODAY, templates_dir=tmp_path,
                                office=office)
    assert post.markdown.startswith("**【农业农村局提醒】2026-10-06（周二）·2个单位：2项任务**\n")
    assert post.markdown.count("**即将到期任务（1项，截至2026-10-06）**") == 2
    assert post.subject == "【农业农村局提醒】 法规科、信息中心：2项任务"
    assert extra.text == "2026-10-06／2026-10-06：请信息中心查看，办结告知局办公室。"


def test_a_post_template_missing_a_macro_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "wecom" / "units.md.j2"
    path.parent.mkdir()
    path.write_text("{% macro header(post) %}【提醒】{% endmacro %}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        render_digest([notice("1", "法规科"), notice("2", "办公室")], channel="wecom",
                      today=TODAY, templates_dir=tmp_path)
    assert err.value.file == str(path)
    assert str(err.value).startswith(f"{path}: 模板渲染失败：AttributeError: ")
