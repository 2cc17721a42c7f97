"""Digest rendering (reminder.delivery.render.messages) and the shared splitter (reminder.delivery.channels.base)."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from servers import wecom_server

from reminder.delivery.channels.base import (
    Message,
    split_blocks,
    split_parts,
    truncate_bytes,
    utf8_len,
)
from reminder.delivery.channels.wecom import MARKDOWN_MAX_BYTES, WeComChannel, mention_suffix
from reminder.delivery.render.messages import render_digest, render_test_message
from reminder.errors import ConfigError
from reminder.models import Notice
from reminder.plan.wording import cn_date, days_text

TODAY = date(2026, 10, 6)  # a Tuesday
PLAN = "某市某局2026年政务公开工作要点分工方案"


def notice(task: str = "12", stage: str = "remind", due: date = date(2026, 10, 9),
           title: str = "完善政策解读机制", channel: str = "wecom", **kw: object) -> Notice:
    base = {"addresses": ("法规科群",) if channel == "wecom" else ("fagui@example.gov.cn",)}
    return Notice(send_at=datetime(2026, 10, 6, 9), stage=stage, step="0", plan="p2026",
                  plan_title=PLAN, task=task, title=title, due=due, recipient="法规科",
                  channel=channel, **(base | kw))


def many(n: int, **kw: object) -> list[Notice]:
    # Long, distinct titles so that a digest of n tasks must be split.
    return [notice(task=str(i), title=f"任务{i}：" + "做好政府信息主动公开和政策解读工作" * 3,
                   due=date(2026, 10, 1 + i % 28), stage=("remind", "overdue", "due")[i % 3],
                   **kw) for i in range(1, n + 1)]


# ------------------------------------------------------------------ small helpers

@pytest.mark.parametrize(("due", "expected"), [
    (date(2026, 10, 9), "还剩3天"), (TODAY, "今天到期"), (date(2026, 10, 4), "已逾期2天"),
], ids=["future", "today", "past"])
def test_days_text(due: date, expected: str) -> None:
    assert days_text(due, TODAY) == expected


def test_cn_date_has_chinese_weekday() -> None:
    assert cn_date(date(2026, 10, 9)) == "2026-10-09（周五）"
    assert cn_date(date(2026, 10, 11)) == "2026-10-11（周日）"


@pytest.mark.parametrize("limit", range(0, 12))
def test_truncate_bytes_never_cuts_a_character(limit: int) -> None:
    out = truncate_bytes("政务公开abc", limit)
    assert utf8_len(out) <= limit
    out.encode("utf-8")  # valid text


# ------------------------------------------------------------------ split_blocks

def test_split_fits_in_one_part_without_marker() -> None:
    assert split_blocks("头", ["甲", "乙"], "尾", 100) == ["头\n甲\n乙\n尾"]


def test_split_numbers_parts_and_keeps_blocks_whole() -> None:
    blocks = [f"任务{i}" + "内容" * 10 for i in range(30)]
    parts = split_blocks("**标题**\n第二行", blocks, "页脚", 300)
    n = len(parts)
    assert n > 1
    for i, part in enumerate(parts, 1):
        assert utf8_len(part) <= 300
        assert part.startswith(f"**标题**（第{i}/{n}部分）\n第二行\n")
        assert part.endswith("\n页脚")
    found = [b for p in parts for b in p.split("\n")[2:-1]]
    assert found == blocks


def test_split_ten_or_more_parts_still_fits() -> None:
    parts = split_blocks("标题", ["政" * 30] * 40, "", 120)
    assert len(parts) >= 10
    assert all(utf8_len(p) <= 120 for p in parts)
    assert parts[-1].startswith(f"标题（第{len(parts)}/{len(parts)}部分）")


def test_split_truncates_a_single_overlong_block() -> None:
    parts = split_blocks("标题", ["短", "长" * 1000, "短2"], "尾", 200)
    assert all(utf8_len(p) <= 200 for p in parts)
    assert any("…" in p for p in parts)
    assert "短2" in parts[-1]


@given(
    blocks=st.lists(st.text(alphabet="政务公开ab\n😀", min_size=1, max_size=80), max_size=40),
    max_bytes=st.integers(min_value=120, max_value=600),
)
def test_split_property(blocks: list[str], max_bytes: int) -> None:
    parts = split_blocks("标题", blocks, "尾", max_bytes, sep="\x1e")
    assert all(utf8_len(p) <= max_bytes for p in parts)
    found = [b for p in parts for b in p.split("\x1e")[1:-1]]
    assert len(found) == len(blocks)
    for original, got in zip(blocks, found, strict=True):
        assert got == original or (got.endswith("…") and original.startswith(got[:-1]))


def _tight(header: str, blocks: list[str], footer: str, max_bytes: int, sep: str,
           carry: Callable[[int], str] | None = None) -> list[tuple[str, tuple[int, ...]]]:
    """split_parts, checked to fill each part as far as the byte limit allows: every part
    fits, and the block that opens the next part would not have fitted in it (with fewer
    than 10 parts every marker is as wide as the one reserved, so this is exact)."""
    parts = split_parts(header, blocks, footer, max_bytes, sep=sep, carry=carry)
    assert all(utf8_len(body) <= max_bytes for body, _ in parts)
    if len(parts) < 10:
        for (body, _), (_, following) in itertools.pairwise(parts):
            assert utf8_len(body + sep + blocks[following[0]]) > max_bytes
    assert [i for _, indexes in parts for i in indexes] == list(range(len(blocks)))
    return parts


@pytest.mark.parametrize("max_bytes", range(90, 160))
def test_split_fills_each_part_to_the_exact_byte(max_bytes: int) -> None:
    """Off-by-one slack in the part overhead would send one part more than needed; a
    deficit would build a part over the limit (which WeCom refuses with 40058)."""
    blocks = ["a" * n for n in (17, 23, 31, 9, 40, 12, 28, 35, 5, 19, 26, 14)]
    _tight("标题", blocks, "尾", max_bytes, "\n")
    _tight("标题\n第二行", blocks, "", max_bytes, "\n\n")
    parts = _tight("标题", blocks, "尾", max_bytes, "\n\n",
                   carry=lambda i: "（续）" if i % 3 else "")
    for body, indexes in parts[1:]:  # a part opening inside a run says so, once
        lead = "（续）\n" if indexes[0] % 3 else ""
        assert body.split("\n\n")[1] == lead + blocks[indexes[0]]


def test_a_task_that_fits_only_without_its_continuation_line_is_kept_whole(
        caplog: pytest.LogCaptureFixture) -> None:
    """The 「（续）」 line gives way to the task: cutting a task whose notice is then marked
    sent loses what the unit was asked to do. Only a block longer than a whole part is cut,
    and that is logged as an error."""
    whole = split_parts("标题", ["a" * 40, "b" * 65], "尾", 100, carry=lambda i: "（续）")
    assert whole[1][0].endswith("\n" + "b" * 65 + "\n尾") and "（续）" not in whole[1][0]
    assert "…" not in whole[1][0] and not caplog.records
    with caplog.at_level(logging.ERROR):
        cut = split_parts("标题", ["a" * 10, "c" * 300], "尾", 100)
    assert cut[1][0].rstrip("尾\n").endswith("…")
    assert [r.levelname for r in caplog.records] == ["ERROR"]


def test_split_refuses_a_header_that_leaves_no_room() -> None:
    with pytest.raises(ValueError, match="header and footer leave no room for content in 40 bytes"):
        split_parts("标题" * 6, ["a" * 30, "b" * 30], "尾", 40)


# ------------------------------------------------------------------ email digest

def test_email_digest() -> None:
    notices = [notice(channel="email"),
               notice(task="3", stage="overdue", due=date(2026, 10, 4), channel="email",
                      title="<script>alert(1)</script>"),
               notice(task="7", stage="due", due=TODAY, channel="email", title="今日任务")]
    [msg] = render_digest(notices, channel="email", today=TODAY)
    assert msg.subject == "【政务公开提醒】法规科：3项任务（1项已逾期）"
    assert msg.to == ("fagui@example.gov.cn",)
    for needle in ("2026-10-09（周五）", "还剩3天", "今天到期", "已逾期2天", PLAN, "〔12〕"):
        assert needle in msg.text
    # Sections in the order overdue, due, remind
    assert msg.text.index("已逾期任务") < msg.text.index("今日到期任务") < msg.text.index("即将到期")
    assert "<script>alert(1)</script>" in msg.text  # plain text is not escaped
    assert "<script>" not in msg.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in msg.html


def test_duplicate_notices_show_once() -> None:
    notices = [notice(channel="email"), replace(notice(channel="email"), step="1wd")]
    [msg] = render_digest(notices, channel="email", today=TODAY)
    assert msg.subject.endswith("1项任务")
    assert msg.text.count("完善政策解读机制") == 1


def test_empty_digest_and_unknown_channel() -> None:
    assert render_digest([], channel="email", today=TODAY) == []
    with pytest.raises(ValueError):
        render_digest([notice()], channel="fax", today=TODAY)


# ------------------------------------------------------------------ wecom digest

def test_sixty_tasks_split_into_markdown_parts_within_4096_bytes() -> None:
    notices = many(60, mentions=("zhangsan", "lisi"))
    messages = render_digest(notices, channel="wecom", today=TODAY)
    n = len(messages)
    assert n > 1 and all(m.parts == n for m in messages)
    assert [m.part for m in messages] == list(range(1, n + 1))
    ch = WeComChannel({"法规科群": "k"}, base_url="http://unused")
    for m in messages:
        content = ch.payload(m)["markdown"]["content"]  # type: ignore[index]
        assert utf8_len(content) <= 4096
        assert "…" not in content  # nothing was truncated
        assert f"（第{m.part}/{n}部分）" in m.markdown
    assert messages[0].mentions == ("zhangsan", "lisi") and messages[1].mentions == ()
    # every task appears whole, in exactly one part
    for nt in notices:
        holders = [m for m in messages if re.search(rf"〔{nt.task}〕", m.markdown)]
        assert len(holders) == 1
        assert nt.title in holders[0].markdown


def test_each_part_carries_the_keys_of_exactly_the_tasks_it_shows() -> None:
    """The dispatcher marks a part's notices sent as soon as the part is out, so the keys
    must match the tasks printed in that part, and every notice must be in exactly one."""
    notices = many(60, mobiles=("13800000000",))
    twice = replace(notices[0], step="3wd")  # a second notice for the same task and stage
    messages = render_digest([*notices, twice], channel="wecom", today=TODAY)
    *parts, mention = messages
    assert mention.markdown == "" and mention.keys == ()  # the mobile @-message carries none
    for m in parts:
        shown = set(re.findall(r"〔(\d+)〕", m.markdown))
        assert {n.task for n in [*notices, twice] if n.key in m.keys} == shown
    keys = [k for m in parts for k in m.keys]
    assert sorted(keys) == sorted(n.key for n in [*notices, twice])
    (email,) = render_digest([replace(n, channel="email") for n in notices], channel="email",
                             today=TODAY)
    assert set(email.keys) == {replace(n, channel="email").key for n in notices}


def test_sixty_tasks_go_through_the_webhook_without_40058() -> None:
    messages = render_digest(many(60, mentions=("zhangsan",)), channel="wecom", today=TODAY)
    with wecom_server(keys={"k"}) as server:  # unscripted: enforces WeCom's byte limits
        ch = WeComChannel({"法规科群": "k"}, base_url=server.url, timeout=2)
        results = [ch.send(m) for m in messages]
        bodies = [r.body for r in server.requests]
    assert [r.status for r in results] == ["ok"] * len(messages)
    assert bodies[0]["markdown"]["content"].endswith("\n<@zhangsan>")
    assert "<@zhangsan>" not in bodies[1]["markdown"]["content"]


MENTIONS = ("zhangsan", "lisi", "wangwu")  # a unit's wecom_users: 30 bytes of "\n<@…>" lines


def just_under_the_limit(slack: int) -> list[Notice]:
    """Ten tasks for a unit with MENTIONS whose markdown body alone is ``slack`` bytes under
    WeCom's 4,096: it fits in one message only if the mentions are forgotten."""
    notices = many(10, mentions=MENTIONS)
    [alone] = render_digest([replace(n, mentions=()) for n in notices], channel="wecom", today=TODAY)
    pad = MARKDOWN_MAX_BYTES - slack - utf8_len(alone.markdown)
    notices[-1] = replace(notices[-1], title=notices[-1].title + "x" * pad)
    return notices


def test_a_digest_just_under_the_limit_leaves_room_for_its_mentions(
        caplog: pytest.LogCaptureFixture) -> None:
    """The split must count the ``<@userid>`` lines the channel appends to part 1; else the
    channel's last-resort fit cuts the last task to "…" while its notice is marked sent."""
    suffix = mention_suffix(MENTIONS)
    assert utf8_len(suffix) > 10
    notices = just_under_the_limit(slack=10)
    [alone] = render_digest([replace(n, mentions=()) for n in notices], channel="wecom", today=TODAY)
    assert utf8_len(alone.markdown) == MARKDOWN_MAX_BYTES - 10  # the body alone would fit
    messages = render_digest(notices, channel="wecom", today=TODAY)
    with caplog.at_level(logging.WARNING), wecom_server(keys={"k"}) as server:
        ch = WeComChannel({"法规科群": "k"}, base_url=server.url, timeout=2)
        results = [ch.send(m) for m in messages]
        sent = [r.body["markdown"]["content"] for r in server.requests]
    assert [r.status for r in results] == ["ok"] * len(messages)
    for m, content in zip(messages, sent, strict=True):
        assert utf8_len(content) <= MARKDOWN_MAX_BYTES
        assert content == m.markdown + mention_suffix(m.mentions)  # the channel cut nothing
        assert not m.markdown.endswith("…")
    assert len(messages) == 2  # with its mentions it no longer fits in one message
    assert sent[0].endswith(suffix) and messages[1].mentions == ()
    for n in notices:  # every task whole, in exactly one part
        assert sum(n.title in content for content in sent) == 1
    assert [r.getMessage() for r in caplog.records if r.name.startswith("reminder.")] == []


def test_text_format_parts_within_2048_bytes() -> None:
    messages = render_digest(many(20, mobiles=("13800000000",)), channel="wecom", today=TODAY,
                             fmt="text")
    assert len(messages) > 1
    assert all(utf8_len(m.text) <= 2048 and m.markdown == "" for m in messages)
    assert messages[0].mobiles == ("13800000000",) and messages[1].mobiles == ()


def test_mobiles_only_unit_gets_text_message_beside_markdown() -> None:
    messages = render_digest([notice(mobiles=("13800000000",))], channel="wecom", today=TODAY)
    digest, extra = messages
    assert digest.markdown and digest.mobiles == ()
    assert extra.markdown == "" and extra.mobiles == ("13800000000",)
    assert (extra.part, extra.parts) == (2, 2)
    assert "法规科" in extra.text
    payload = WeComChannel({"法规科群": "k"}).payload(extra)
    assert payload == {"msgtype": "text", "text": {
        "content": extra.text, "mentioned_mobile_list": ["13800000000"]}}


def test_markdown_neutralises_markup_in_titles() -> None:
    [msg] = render_digest([notice(title="请<@all>注意<font color=\"warning\">")],
                          channel="wecom", today=TODAY)
    assert "<@all>" not in msg.markdown and "＜@all＞" in msg.markdown


# ------------------------------------------------------------------ user templates

def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_user_template_overrides_one_file_and_falls_back_for_others(tmp_path: Path) -> None:
    write(tmp_path, "stage/remind.j2", '{% set heading = "温馨提示" %}{% set intro = "请留意。" %}')
    [msg] = render_digest([notice(channel="email")], channel="email", today=TODAY,
                          templates_dir=tmp_path)
    assert "温馨提示" in msg.text and "请留意。" in msg.text
    assert "即将到期任务" not in msg.text


@pytest.mark.parametrize("expr", ["''.__class__", "''.__class__.__mro__[1].__subclasses__()",
                                  "digest.__class__.__init__.__globals__"])
def test_sandbox_blocks_attribute_escapes(tmp_path: Path, expr: str) -> None:
    path = write(tmp_path, "email/digest.txt.j2", f"第一行\n{{{{ {expr} }}}}\n")
    with pytest.raises(ConfigError) as err:
        render_digest([notice(channel="email")], channel="email", today=TODAY,
                      templates_dir=tmp_path)
    assert err.value.file == str(path)
    assert err.value.line == 2
    assert "\n" not in str(err.value)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "wecom/digest.md.j2", "{% macro header(d) %}\nok\n{% if %}\n")
    with pytest.raises(ConfigError) as err:
        render_digest([notice()], channel="wecom", today=TODAY, templates_dir=tmp_path)
    assert str(err.value).startswith(f"{path}:3: 模板语法错误")


def test_undefined_variable_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "email/subject.txt.j2", "【提醒】{{ digest.recipent }}")
    with pytest.raises(ConfigError, match=r"subject.txt.j2:1: 模板渲染失败"):
        render_digest([notice(channel="email")], channel="email", today=TODAY,
                      templates_dir=tmp_path)


def test_missing_stage_wording_and_missing_dir(tmp_path: Path) -> None:
    write(tmp_path, "stage/remind.j2", '{% set heading = "提醒" %}')
    with pytest.raises(ConfigError, match="intro"):
        render_digest([notice()], channel="wecom", today=TODAY, templates_dir=tmp_path)
    with pytest.raises(ConfigError, match="模板目录不存在"):
        render_digest([notice()], channel="wecom", today=TODAY, templates_dir=tmp_path / "no")


def test_test_message() -> None:
    msg = render_test_message("wecom", to=("法规科群",))
    assert isinstance(msg, Message) and msg.to == ("法规科群",)
    assert "测试消息" in msg.subject and "企业微信" in msg.text and msg.markdown
    assert render_test_message("email").html


def test_admin_failure_report_puts_each_failure_on_its_own_line() -> None:
    from reminder.delivery.render.messages import render_failure_report

    subject, text = render_failure_report(
        [("法规科", "email", ["1"], "550 no such user"), ("办公室", "wecom", ["2", "3"], "93000")],
        at="2026-06-23 09:00")
    lines = text.splitlines()
    assert "- 法规科（email）任务 1：550 no such user" in lines
    assert "- 办公室（wecom）任务 2、3：93000" in lines
    assert subject == "【政务公开提醒】2 组提醒发送失败"


def test_deployment_messages_speak_for_the_configured_office() -> None:
    """A 农业农村局 deployment's admin report and test message do not say 政务公开."""
    from reminder.delivery.render.messages import render_failure_report

    subject, _ = render_failure_report([("法规科", "email", ["1"], "550")], at="09:00",
                                       sender="区农业农村局办公室")
    assert subject == "【区农业农村局办公室提醒】1 组提醒发送失败"
    test = render_test_message("wecom", sender="区农业农村局办公室")
    assert test.subject == "【区农业农村局办公室提醒】测试消息"
    assert "政务公开" not in test.text + test.markdown


@pytest.mark.parametrize("title, kept, gone", [
    ("<@all>通知", "＜@all＞通知", "<@all>"),
    ("**加粗**的任务", "＊＊加粗＊＊的任务", "**加粗**"),
    ("见[通知](http://127.0.0.1/x)", "见［通知］(http://127.0.0.1/x)", "[通知]("),
    ("`代码`", "｀代码｀", "`代码`"),
], ids=["mention", "bold", "link", "code"])
def test_task_text_cannot_act_as_wecom_markdown(title: str, kept: str, gone: str) -> None:
    from reminder.delivery.render.environment import md_safe

    assert md_safe(title) == kept and gone not in md_safe(title)


# -- office names and links (issue 12) -------------------------------------------------------

@pytest.mark.parametrize("channel, fmt", [("email", "markdown"), ("wecom", "markdown"), ("wecom", "text")],
                         ids=["email", "wecom-markdown", "wecom-text"])
def test_another_offices_plan_never_says_zhengwu_gongkai(channel: str, fmt: str) -> None:
    farm = replace(notice(), plan_title="县农业农村局2026年重点工作任务分工方案")
    messages = render_digest([farm], channel=channel, today=date(2026, 9, 29), fmt=fmt,  # type: ignore[arg-type]
                             office=lambda plan: ("县农业农村局办公室", "局办公室"))
    text = " ".join(m.subject + m.text + m.html + m.markdown for m in messages)
    assert "【县农业农村局办公室提醒】" in text and "局办公室登记办结" in text
    assert "政务公开" not in text


def test_links_go_in_every_digest_and_email_has_one_per_task() -> None:
    made: list[tuple[str, str, str]] = []

    def link(plan: str, unit: str, task: str) -> str:
        made.append((plan, unit, task))
        return f"https://r.example/u/{unit}" + (f"#t-{task}" if task else "")

    notices = [notice("12"), notice("13")]
    mail = render_digest(notices, channel="email", today=date(2026, 9, 29), link=link)[0]
    assert mail.text.count("查看与反馈") == 3  # one per task and the unit's own
    assert "#t-12" in mail.html and "#t-13" in mail.html
    robot = render_digest(notices, channel="wecom", today=date(2026, 9, 29), link=link)
    assert re.search(r"\[查看与反馈\]\(https://r\.example/u/\S+\)", robot[-1].markdown)
    assert {unit for _, unit, _ in made} == {notices[0].recipient}


@pytest.mark.parametrize(
    ("day", "text"),
    [
        pytest.param(date(2026, 10, 10), "2026-10-10（周六，调休上班）", id="makeup-saturday"),
        pytest.param(date(2026, 10, 9), "2026-10-09（周五）", id="friday"),
    ],
)
def test_cn_date_names_a_makeup_workday(day: date, text: str) -> None:

    assert cn_date(day) == text
