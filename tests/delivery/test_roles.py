"""Whose task a message is about (issue 17): a copy to the coordinator or a leader names the
responsible units, is worded for the reader's role, and links to the reader's own view at
the task; the whole title reaches email, and only WeCom cuts, at its byte limit."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from clirun import EXAMPLE

from reminder import wiring
from reminder.answerback.links import Links
from reminder.delivery.channels.base import utf8_len
from reminder.delivery.channels.wecom import TEXT_MAX_BYTES
from reminder.delivery.render.digest import TaskFacts
from reminder.delivery.render.messages import render_digest
from reminder.models import Notice
from reminder.plan.cache import PlanCache
from reminder.plan.planner import reader_role

TODAY = date(2026, 12, 4)
PLAN = "demo-2026"


def notice(task: str, recipient: str, stage: str = "escalate", channel: str = "email",
           due: date = date(2026, 6, 30), title: str = "") -> Notice:
    return Notice(send_at=datetime(2026, 12, 4, 9), stage=stage, step="#1",  # type: ignore[arg-type]
                  plan=PLAN, plan_title="示例方案", task=task, title=title or f"任务{task}",
                  due=due, recipient=recipient, channel=channel,
                  addresses=("x@example.org",) if channel == "email" else ("公开办群",))


@pytest.fixture()
def readers(tmp_path: Path) -> wiring.Readers:
    config = tmp_path / "config.toml"
    config.write_text(f'plans = ["{EXAMPLE.as_posix()}"]\n[web]\nbase_url = "https://r.example"\n'
                      'secret_env = "S"\n', encoding="utf-8")
    loaded = wiring.load(config)
    links = Links("s" * 32, base_url="https://r.example")
    return wiring.Readers(loaded, PlanCache(loaded.plan_folders, timezone=loaded.timezone),
                          links)


def render(readers: wiring.Readers, notices: list[Notice], channel: str = "email",
           **kw: object) -> list:
    return render_digest(notices, channel=channel, today=TODAY, office=readers,
                         facts=readers.facts, link=readers.link, **kw)  # type: ignore[arg-type]


def test_reader_roles_follow_the_plan(readers: wiring.Readers) -> None:
    plan = readers.plans.get(PLAN)
    assert reader_role(plan, "信息中心", "5") == "unit"
    assert reader_role(plan, "办公室", "5") == "unit"  # 配合 is the unit's own task too
    assert reader_role(plan, "分管局领导", "5") == "leader"
    assert reader_role(plan, "局政务公开办", "5") == "coordinator"


def test_a_leaders_escalation_names_the_units_and_asks_to_chase_not_to_finish(
        readers: wiring.Readers) -> None:
    [mail] = render(readers, [notice("5", "分管局领导"), notice("1", "分管局领导")])
    # The subject and the opening say whose tasks these are.
    assert mail.subject.startswith("【局政务公开办督办】分管局领导：")
    assert "信息中心" in mail.subject and "办公室" in mail.subject and "请督促" in mail.subject
    assert "责任单位：信息中心（牵头）、办公室（配合）" in mail.text
    assert "责任单位：办公室（牵头）、数据资源科（配合）" in mail.text
    assert "<strong>信息中心</strong>（牵头）" in mail.html
    # Asked to 督促, never to 办结 the work itself.
    assert "请督促责任单位尽快办结" in mail.text
    assert "请高度重视、尽快办结" not in mail.text
    # Every link opens the leader's page at the task (one page across plans).
    urls = re.findall(r"https://r\.example/\S+", mail.text)
    assert urls and all(u.startswith("https://r.example/l/") for u in urls)
    assert any(u.endswith("#p-demo-2026-t-5") for u in urls)
    assert "/u/" not in mail.text and "/u/" not in mail.html


def test_the_coordinators_copy_names_the_units_and_links_the_board(
        readers: wiring.Readers) -> None:
    [mail] = render(readers, [notice("5", "局政务公开办", stage="overdue")])
    assert "抄送信息中心" in mail.subject
    assert "责任单位：信息中心（牵头）、办公室（配合）" in mail.text
    assert "请抓紧办理" not in mail.text and "请跟踪督办" in mail.text
    urls = re.findall(r"https://r\.example/\S+", mail.text)
    assert urls and all("/admin/" in u for u in urls)
    assert any(u.endswith("#t-5") for u in urls)


def test_a_units_own_message_keeps_its_page_and_wording(readers: wiring.Readers) -> None:
    [mail] = render(readers, [notice("5", "信息中心", stage="overdue")])
    assert mail.subject == "【局政务公开办提醒】信息中心：1项任务（1项已逾期）"
    assert "请抓紧办理" in mail.text and "责任单位：" not in mail.text
    assert re.search(r"https://r\.example/u/\S+#t-5", mail.text)


def test_email_carries_the_whole_title_and_requirement(readers: wiring.Readers) -> None:
    plan = readers.plans.get(PLAN)
    task = plan.task("1")
    [mail] = render(readers, [notice("1", "办公室", title=task.short_title)])
    assert task.title in mail.text and task.detail in mail.text
    assert "…" not in mail.text


def test_wecom_cuts_only_a_title_too_long_for_a_message_and_says_so() -> None:
    long = "做好政府信息主动公开" * 300  # about 9,000 bytes: more than any WeCom message

    def facts(plan: str, task: str, recipient: str) -> TaskFacts:
        return TaskFacts(title=long if task == "1" else "核查网站栏目更新情况并形成检查记录。",
                         lead=("信息中心",))

    messages = render_digest([notice("1", "信息中心", channel="wecom"),
                              notice("2", "信息中心", channel="wecom")], channel="wecom",
                             today=TODAY, fmt="text", facts=facts)
    text = "\n".join(m.text for m in messages)
    assert all(utf8_len(m.text) <= TEXT_MAX_BYTES for m in messages)
    assert "…（详见链接）" in text
    # The cut task keeps its date line; the short one is whole.
    assert text.count("完成时限：") == 2
    assert "核查网站栏目更新情况并形成检查记录。" in text


def test_a_shared_post_counts_each_task_once(readers: wiring.Readers) -> None:
    # Task 5 overdue: to 信息中心 (lead) and, as a copy, to 局政务公开办, both on one robot.
    notices = [notice("5", "信息中心", stage="overdue", channel="wecom"),
               notice("5", "局政务公开办", stage="overdue", channel="wecom"),
               notice("8", "信息中心", stage="overdue", channel="wecom")]
    [post] = render(readers, notices, channel="wecom")
    assert post.markdown.startswith("**【局政务公开办提醒】2个单位：2项任务**")
    assert "其中<font color=\"warning\">2项已逾期</font>" in post.markdown
    assert "（2项已逾期）" in post.subject and "3项" not in post.subject
    # The coordinator's section names the unit whose task it is.
    coordinator = post.markdown.split("▍局政务公开办")[1]
    assert "**信息中心**（牵头）" in coordinator
