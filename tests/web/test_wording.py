"""Only Chinese that users read (issue 17): every message template and every page, rendered
from a deployment with escalations, progress, a 批示 and a completion registered through a
link, holds no period code (2026Q4), no link id and no English stage word."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import requests
from clirun import TZ, reminder
from lxml import html
from webutil import Deployment, example_served, post

from reminder.answerback.links import link_id
from reminder.delivery.render.digest import TaskFacts
from reminder.delivery.render.messages import render_digest, render_failure_report
from reminder.models import Notice

STAGES = ("remind", "due", "overdue", "escalate", "report", "sign")
ENGLISH = re.compile(r"(?<![A-Za-z])(remind|due|overdue|escalate|report|stage|send_at)(?![A-Za-z])",
                     re.I)
PERIOD = re.compile(r"(?<![A-Za-z])Q[1-4](?![0-9])|\d{4}H[12]")
LINK_ID = re.compile(r"链接\s*[0-9a-f]{10}")
CLOCK = datetime(2026, 12, 4, 10, tzinfo=TZ)


def bad(text: str, ids: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    found = [m.group(0) for rx in (ENGLISH, PERIOD, LINK_ID) for m in rx.finditer(text)]
    return found + [i for i in ids if i in text]


def visible(page: str) -> str:
    """What a reader sees of a page: text, titles, placeholders, labels, button words."""
    tree = html.fromstring(page)
    for gone in tree.xpath("//style|//script"):
        gone.drop_tree()
    attrs = tree.xpath("//@placeholder|//@title|//@aria-label|//@alt")
    return tree.text_content() + "\n" + "\n".join(attrs)


def test_no_message_template_shows_codes_for_any_stage_role_or_channel() -> None:
    def facts(plan: str, task: str, recipient: str) -> TaskFacts:
        role = {"局政务公开办": "coordinator", "分管局领导": "leader"}.get(recipient, "unit")
        return TaskFacts(title=f"任务{task}的完整要求", detail="具体要求", lead=("法规科",),
                         support=("办公室",), role=role, instruction="请抓紧（分管局领导，12月4日）")

    def link(plan: str, unit: str, task: str) -> str:
        return f"https://r.example/u/token#t-{task}"

    texts = []
    for stage in STAGES:
        for recipient in ("法规科", "局政务公开办", "分管局领导"):
            notices = [Notice(send_at=datetime(2026, 12, 4, 9), stage=stage,  # type: ignore[arg-type]
                              step="0", plan="p", plan_title="方案", task="@第四季度进展报送"
                              if stage == "report" else "7", title="任务", due=date(2026, 12, 1),
                              recipient=recipient, channel=channel, addresses=("a",))
                       for channel in ("email", "wecom")]
            for channel, fmt in (("email", "markdown"), ("wecom", "markdown"), ("wecom", "text")):
                for m in render_digest([n for n in notices if n.channel == channel],
                                       channel=channel, today=date(2026, 12, 4), fmt=fmt,  # type: ignore[arg-type]
                                       facts=facts, link=link,
                                       news=lambda r: [("p", "9", "〔9〕任务9：请办结（分管局领导，12月4日）")]):
                    texts += [m.subject, m.text, m.html, m.markdown]
    texts.append(render_failure_report([("法规科", "email", ["7"], "拒收")], at="2026-12-04")[1])
    for text in texts:
        assert not bad(text), (bad(text), text[:300])


@pytest.fixture
def late(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with example_served(tmp_path, monkeypatch, run_at="2026-12-04T09:00",
                        clock=lambda: CLOCK) as deployment:
        yield deployment


def test_no_page_or_ledger_shows_codes(late: Deployment) -> None:
    unit_url = late.unit_url("信息中心")
    page = requests.get(unit_url, timeout=10).text
    assert post(unit_url, page, "5", "progress", text="已清理12个账号").status_code == 200
    assert post(unit_url, page, "8", "done", text="评估完成").status_code == 200
    late.store.add_instruction("demo-2026", "5", leader="分管局领导", text="请本周内办结",
                               now=CLOCK)
    urls = [late.base + "/", late.base + "/board", unit_url, late.admin_url(),
            late.links.leader_url("分管局领导"), late.base + "/u/forged-token"]
    ids = {link_id(u.rsplit("/", 1)[1]) for u in urls}
    for url in urls:
        text = visible(requests.get(url, timeout=10).text)
        assert not bad(text, ids), (url, bad(text, ids))
    assert "这是" in visible(requests.get(late.base + "/", timeout=10).text) or \
        "任务提醒系统" in visible(requests.get(late.base + "/", timeout=10).text)
    board = visible(requests.get(late.admin_url(), timeout=10).text)
    assert "信息中心 于" in board and "2026年第四季度" in board
    ledger = reminder("report", "demo-2026", "--format", "csv", "-o", "-",
                      "--config", str(late.config_path))
    assert not bad(ledger.stdout, ids), bad(ledger.stdout, ids)
