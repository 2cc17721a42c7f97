"""The people who chase (issue 17): the leader's page with its 批示, and every link of a
`run --once` with escalations opening its reader's view at the tasks the message named."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from clirun import TZ, reminder
from lxml import html
from webutil import Deployment, example_served

LATE = "2026-12-04T09:00"  # months after most deadlines: escalations to 分管局领导
LATER = "2026-12-24T09:00"  # 信息中心 next hears of task 6


@pytest.fixture
def late(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with example_served(tmp_path, monkeypatch, run_at=LATE, fresh_inbox=True,
                        clock=lambda: datetime(2026, 12, 4, 10, tzinfo=TZ)) as deployment:
        yield deployment


def mail_to(site: Deployment, address: str) -> tuple[str, str]:
    found = [m.message for m in site.smtp.messages if address in m.rcpt_tos]
    assert found, f"no mail to {address}"
    return str(found[-1]["Subject"]), found[-1].get_body(("plain",)).get_content()


def named(text: str) -> set[str]:
    return set(re.findall(r"〔(\d+)〕", text))


def test_every_link_of_the_leaders_and_coordinators_mail_opens_their_view_at_its_tasks(
        late: Deployment) -> None:
    for address, path in (("fenguan@example.org", "/l/"), ("gongkai@example.org", "/admin/")):
        subject, text = mail_to(late, address)
        urls = re.findall(r"http://127\.0\.0\.1:\d+/\S+", text)
        assert urls and all(path in u for u in urls), (address, urls)
        tasks = named(text)
        assert tasks
        for url in set(urls):
            page = requests.get(url, timeout=10)
            assert page.status_code == 200
            tree = html.fromstring(page.text)
            shown = set(tree.xpath("//*[@data-task]/@data-task"))
            assert tasks <= shown, (address, tasks - shown)
            anchor = url.split("#", 1)[1]
            assert tree.xpath(f'//*[@id="{anchor}"]'), anchor
        # The responsible units are named in the mail and on the page.
        assert "责任单位：信息中心（牵头）、办公室（配合）" in text
        assert "信息中心" in subject or "等" in subject
    _, text = mail_to(late, "fenguan@example.org")
    assert "请督促" in text and "请高度重视、尽快办结" not in text


def test_a_leaders_instruction_reaches_the_unit_page_board_ledger_and_next_message(
        late: Deployment) -> None:
    url = late.links.leader_url("分管局领导")
    page = requests.get(url, timeout=10).text
    tree = html.fromstring(page)
    card = tree.xpath('//*[@id="p-demo-2026-t-5"]')[0]
    text = card.text_content()
    assert "信息中心" in text and "（牵头）" in text and "已逾期" in text and "已提醒" in text
    # A leader marks nothing done.
    assert not tree.xpath('//button[@value="done"]')
    form = {i.get("name"): i.get("value") for i in card.xpath('.//input[@type="hidden"]')}
    answer = requests.post(url, data={**form, "action": "instruct", "text": "请本周内办结"},
                           timeout=10)
    assert answer.status_code == 200 and "已记录对任务 5 的批示" in answer.text
    # Not escalated to this leader: refused, nothing stored.
    refused = requests.post(url, data={**form, "task": "3", "action": "instruct", "text": "x"},
                            timeout=10)
    assert refused.status_code == 403
    assert [i.text for i in late.store.instructions("demo-2026")] == ["请本周内办结"]
    unit = requests.get(late.unit_url("信息中心"), timeout=10).text
    section = html.fromstring(unit).xpath('//*[@id="t-5"]')[0].text_content()
    assert "领导批示（分管局领导" in section and "请本周内办结" in section
    board = requests.get(late.admin_url(), timeout=10).text
    assert "请本周内办结" in html.fromstring(board).xpath('//*[@id="t-5"]')[0].text_content()
    ledger = reminder("report", "demo-2026", "--format", "csv", "-o", "-",
                      "--config", str(late.config_path))
    assert "分管局领导：请本周内办结" in ledger.stdout
    # The unit's next message carries it (信息中心 is on the 业务科室群 robot).
    late.wecom.requests.clear()
    result = reminder("run", "--once", "--now", LATER, "--config", str(late.config_path))
    assert result.returncode == 0, result.stderr
    bodies = [r.body.get("markdown", r.body.get("text", {})).get("content", "")
              for r in late.wecom.requests]
    assert any("完成政务新媒体账号清理整合并报送清单。：请本周内办结（分管局领导，12月4日）" in b
               for b in bodies), (result.stdout, result.stderr[-1500:], bodies)


def test_the_leader_sees_a_recurring_task_coloured_per_period(late: Deployment) -> None:
    """2026-12-04: task 6 (quarterly) has earlier quarters open, so it is 红; its fourth
    quarter (09-30 to 12-31, 29 % left, no report) is 黄 on its own."""
    page = requests.get(late.links.leader_url("分管局领导"), timeout=10).text
    card = html.fromstring(page).xpath('//*[@id="p-demo-2026-t-6"]')[0]
    assert [m.get("data-color") for m in card.xpath('.//*[@data-color]')] == ["red", "yellow"]
    head = card.xpath('./div[@class="head"]')[0]
    assert not head.xpath('./span[@class="badge"]')  # the mark says 逾期, not twice
    current = card.xpath('.//*[@data-period="current"]')[0]
    assert " ".join(current.text_content().split()) == "本期（2026-12-31） 黄 预警"


def test_an_instruction_is_capped_at_2000_characters(late: Deployment) -> None:
    """As the units' notes are: removing the cap left every test green (issue 20)."""
    from reminder.web.leader import MAX_TEXT

    url = late.links.leader_url("分管局领导")
    card = html.fromstring(requests.get(url, timeout=10).text).xpath(
        '//*[@id="p-demo-2026-t-5"]')[0]
    form = {i.get("name"): i.get("value") for i in card.xpath('.//input[@type="hidden"]')}
    answer = requests.post(url, data={**form, "action": "instruct", "text": "批示" * 1250},
                           timeout=10)
    assert answer.status_code == 200
    [stored] = late.store.instructions("demo-2026")
    assert MAX_TEXT == 2000 and len(stored.text) == MAX_TEXT
