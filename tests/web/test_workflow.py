"""签收 and 延期申请 through the pages (issue 19), on SQLite and PostgreSQL: a unit signs with a
POST (never by opening its link), asks for a new date before or after its deadline, the
coordinator approves or rejects on the board with a note the unit reads, and the daemon's
next `run --once` sends nothing for the old date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from clirun import reminder
from lxml import html
from webutil import NOW, STORES, Deployment, example_served, form_of

from reminder.store import CANCELLED, PENDING, SENT

SIGNING = 'sign_within = "1wd"'


def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str,
             policy: str, clock: Any = None) -> Iterator[Deployment]:
    with example_served(tmp_path, monkeypatch, kind=kind, policy=policy,
                        clock=clock) as deployment:
        yield deployment


@pytest.fixture(params=STORES)
def signing(request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    yield from deployed(tmp_path, monkeypatch, request.param, SIGNING)


@pytest.fixture
def plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    yield from deployed(tmp_path, monkeypatch, "sqlite",
                        'allow_extension = false\nsign_within = ""')


def section(page: str, task: str) -> Any:
    return html.fromstring(page).xpath(f'//*[@id="t-{task}"]')[0]


def form(page: str, task: str, css: str) -> dict[str, str]:
    """The hidden fields of one of a task's forms, picked by class."""
    found = section(page, task).xpath(f'.//form[contains(@class, "{css}")]')[0]
    return {i.get("name"): i.get("value") for i in found.xpath('.//input[@type="hidden"]')}


def ask_extension(url: str, page: str, task: str, **fields: str) -> requests.Response:
    """The unit's 延期申请 form for ``task`` on its ``page`` (opened at ``url``), posted."""
    return requests.post(url, data={**form(page, task, "extend"), "action": "extend", **fields},
                         timeout=10)


def board_post(board: str, page: str, task: str, action: str, **fields: str
               ) -> requests.Response:
    """POST to the board at ``board``, the link its ``page`` was opened with (the form's
    CSRF token is bound to that link)."""
    fields_of = form(page, task, "extension-request") if "extension" in action \
        else form_of(page, task)
    return requests.post(board, data={**fields_of, "action": action, **fields}, timeout=10)


def test_opening_the_link_never_signs_a_post_does_and_everyone_sees_it(signing: Deployment
                                                                        ) -> None:
    site = signing
    url = site.unit_url("法规科")
    for _ in range(2):  # a mail gateway opening the link, twice
        page = requests.get(url, timeout=10).text
    assert site.store.signatures("demo-2026") == []
    assert section(page, "9").xpath('.//p[@data-signed="0"]')
    signed = requests.post(url, data={**form(page, "9", "sign"), "action": "sign"}, timeout=10)
    assert signed.status_code == 200 and "已签收任务 9" in signed.text
    assert section(signed.text, "9").xpath('.//p[@data-signed="1"]')
    again = requests.post(url, data={**form(page, "9", "sign"), "action": "sign"}, timeout=10)
    assert "已于" in again.text and len(site.store.signatures("demo-2026")) == 1
    assert ("demo-2026", "9", "法规科") in site.store.signed_set()
    board = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    receipts = {r.get("data-unit"): r.text_content()
                for r in board.xpath('//*[@id="t-9"]//span[contains(@class, "receipt")]')}
    assert "已签收 06-23 09:00" in receipts["法规科"] and "未签收" in receipts["办公室"]
    ledger = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config",
                      str(site.config_path))
    assert "法规科 2026-06-23 09:00" in ledger.stdout and "办公室 未签收" in ledger.stdout


def test_a_forged_sign_changes_nothing(signing: Deployment) -> None:
    site = signing
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    forged = requests.post(url, data={**form(page, "9", "sign"), "csrf": "x", "action": "sign"},
                           timeout=10)
    other = requests.post(url, data={**form(page, "9", "sign"), "task": "13", "action": "sign"},
                          timeout=10)  # 财务科's task
    assert (forged.status_code, other.status_code) == (403, 403)
    assert site.store.signatures("demo-2026") == []


def test_an_approved_extension_moves_the_reminders_and_the_old_date_sends_nothing(
        signing: Deployment) -> None:
    """Task 9 falls due 2026-07-08 (法规科 leads); its 7d reminder goes out 07-01. 法规科
    asks on 06-23 for 08-31, the board approves: `run --once` at 07-01 sends nothing for
    07-08, and the notices of 08-31 wait."""
    site, smtp = signing, signing.smtp
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    before = len(smtp.messages)
    asked = ask_extension(url, page, "9", date="2026-08-31", reason="需征求司法局意见",
                          progress="已完成初稿")
    assert asked.status_code == 200 and "延期申请：延至 2026-08-31" in asked.text
    told = [m for m in smtp.messages[before:] if "gongkai@example.org" in m.rcpt_tos]
    assert told and "需征求司法局意见" in told[0].message.get_body(("plain",)).get_content()
    row = site.store.extensions("demo-2026", "9")[0]
    assert (row.due.isoformat(), row.requested.isoformat(), row.late, row.status) == (
        "2026-07-08", "2026-08-31", False, "pending")
    # A second request while one waits is refused; so is a date not after the current one.
    page = requests.get(url, timeout=10).text
    assert "等待局政务公开办审批" in section(page, "9").text_content()

    admin = site.admin_url()
    board = requests.get(admin, timeout=10).text
    refused = board_post(admin, board, "9", "reject_extension")  # a rejection needs a note
    assert "请填写意见" in refused.text and site.store.extensions()[0].status == "pending"
    assert html.fromstring(refused.text).xpath('//div[@class="flash error"]')
    before = len(smtp.messages)
    approved = board_post(admin, board, "9", "approve_extension", note="同意，请按期办结")
    assert approved.status_code == 200 and "已批准任务 9 延期至 2026-08-31" in approved.text
    unit_mail = [m for m in smtp.messages[before:] if "fagui@example.org" in m.rcpt_tos]
    assert unit_mail and "同意，请按期办结" in unit_mail[0].message.get_body(
        ("plain",)).get_content()
    page = requests.get(url, timeout=10).text
    task = section(page, "9")
    assert task.get("data-due") == "2026-08-31" and "原定 2026-07-08" in task.text_content()
    assert "同意，请按期办结" in task.text_content()
    again = board_post(admin, board, "9", "approve_extension")  # a stale board tab
    assert "已经审批过了" in again.text

    since = len(smtp.messages)
    result = reminder("run", "--once", "--now", "2026-07-01T09:00", "--config",
                      str(site.config_path))
    assert result.returncode == 0, result.stderr
    # On the wire too: the run sends others their notices but nothing about task 9.
    sent = [m.message.get_body(("plain",)).get_content() for m in smtp.messages[since:]]
    assert sent and not [text for text in sent if "〔9〕" in text]
    nine = [n for n in site.store.notices() if n.task_id == "9"]
    assert not [n for n in nine if n.due.isoformat() == "2026-07-08" and n.status == PENDING]
    assert any(n.due.isoformat() == "2026-07-08" and n.status == CANCELLED for n in nine)
    sent_july = [n for n in nine if n.status == SENT and n.sent_at is not None
                 and n.sent_at.date().isoformat() == "2026-07-01"]
    assert sent_july == []
    assert any(n.due.isoformat() == "2026-08-31" and n.status == PENDING for n in nine)


@pytest.fixture
def later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """The pages' clock at 2026-06-26, past task 10's date (06-24)."""
    yield from deployed(tmp_path, monkeypatch, "sqlite", SIGNING,
                        clock=lambda: NOW + timedelta(days=3))


def test_a_request_after_the_deadline_is_marked_late(later: Deployment) -> None:
    """Task 10 (办公室) fell due 2026-06-24: asked on 06-26, it is a 逾期申请."""
    site = later
    url = site.unit_url("办公室")
    page = requests.get(url, timeout=10).text
    assert "本申请将记为逾期申请" in section(page, "10").text_content()
    asked = requests.post(url, data={**form(page, "10", "extend"), "action": "extend",
                                     "date": "2026-07-15", "reason": "材料未齐"}, timeout=10)
    assert "逾期申请" in asked.text
    assert site.store.extensions("demo-2026", "10")[0].late is True
    board = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    assert "逾期申请" in board.xpath('//*[@id="t-10"]')[0].text_content()


def test_extension_refusals_record_nothing(signing: Deployment) -> None:
    site = signing
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    for fields, says in (({"date": "2026-07-01", "reason": "x"}, "应晚于"),
                         ({"date": "2026-08-31", "reason": ""}, "请填写延期理由"),
                         ({"date": "9999-12-31", "reason": "x"}, "超出计划年度"),
                         ({"date": "明天", "reason": "x"}, "请选择")):
        answer = ask_extension(url, page, "9", **fields)
        assert answer.status_code == 200 and says in answer.text
    assert site.store.extensions() == []


def test_an_office_without_extensions_or_signing_shows_neither(plain: Deployment) -> None:
    site = plain
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    assert not section(page, "9").xpath('.//details[@class="extend"]')
    assert not section(page, "9").xpath('.//form[contains(@class, "sign")]')
    answer = requests.post(url, data={**form_of(page, "9"), "action": "extend",
                                      "date": "2026-08-31", "reason": "x"}, timeout=10)
    assert "不受理延期申请" in answer.text and site.store.extensions() == []
    assert "本计划不需要签收" in requests.post(
        url, data={**form_of(page, "9"), "action": "sign"}, timeout=10).text
    assert site.store.signatures() == []


def mail_to(smtp: Any, address: str, since: int) -> str:
    return "\n".join(m.message.get_body(("plain",)).get_content()
                     for m in smtp.messages[since:] if address in m.rcpt_tos)


def test_messages_ask_to_sign_name_the_unsigned_and_carry_the_decision(later: Deployment
                                                                        ) -> None:
    """Task 8 (数据资源科 leads, 信息中心 supports) is first reminded 2026-08-31: the units
    are chased 09-01 and 公开办 is told 09-02 who has not signed. Task 9's extension,
    approved on 06-26, reaches 法规科 in its next message (07-31, the 30d reminder of the
    new date 08-31)."""
    site, smtp = later, later.smtp
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    ask_extension(url, page, "9", date="2026-08-31", reason="征求意见")
    admin = site.admin_url()
    board = requests.get(admin, timeout=10).text
    board_post(admin, board, "9", "approve_extension", note="同意")
    since = len(smtp.messages)
    assert reminder("run", "--once", "--now", "2026-07-31T09:00", "--config",
                    str(site.config_path)).returncode == 0
    text = mail_to(smtp, "fagui@example.org", since)
    assert "〔9〕" in text and "延期申请：局政务公开办已批准延期至 2026-08-31" in text
    assert "请签收" in text  # 法规科 has not signed task 9 either

    since = len(smtp.messages)
    assert reminder("run", "--once", "--now", "2026-09-01T09:00", "--config",
                    str(site.config_path)).returncode == 0
    chased = mail_to(smtp, "ziyuan@example.org", since)
    # Task 8 also turns 橙 that day (the example's orange_to): one message lists it once,
    # under the more urgent 预警, and still asks the unit to sign.
    assert "预警任务" in chased and "〔8〕" in chased and "请签收" in chased
    since = len(smtp.messages)
    assert reminder("run", "--once", "--now", "2026-09-02T09:00", "--config",
                    str(site.config_path)).returncode == 0
    told = mail_to(smtp, "gongkai@example.org", since)
    assert "未签收任务" in told and "尚未签收：数据资源科、信息中心" in told


def test_the_board_approves_another_date_than_asked_and_refuses_a_bad_one(
        signing: Deployment) -> None:
    """法规科 asks to move task 9 (07-08) to 08-31; the office approves 08-14 instead
    (批准延期至…). The approval form offers the date asked for; a date not after 07-08 or
    outside the plan's years is refused with one line and records nothing."""
    site, smtp = signing, signing.smtp
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    ask_extension(url, page, "9", date="2026-08-31", reason="需征求司法局意见")
    admin = site.admin_url()
    board = requests.get(admin, timeout=10).text
    offered = section(board, "9").xpath('.//form[contains(@class, "extension-request")]'
                                        '//input[@name="approved"]')[0]
    assert (offered.get("type"), offered.get("value")) == ("date", "2026-08-31")
    for day, says in (("2026-07-08", "应晚于原定完成时限 2026-07-08"),
                      ("2026-07-01", "应晚于原定完成时限 2026-07-08"),
                      ("9999-12-31", "超出计划年度"), ("下月", "应写作")):
        refused = board_post(admin, board, "9", "approve_extension", approved=day)
        flash = html.fromstring(refused.text).xpath('//div[contains(@class, "flash")]')[0]
        assert refused.status_code == 200 and says in flash.text_content()
        assert "error" in flash.get("class").split()  # shown as a refusal, not as done
        assert site.store.extensions()[0].status == "pending"
    before = len(smtp.messages)
    approved = board_post(admin, board, "9", "approve_extension", approved="2026-08-14",
                          note="请于8月14日前办结")
    assert "已批准任务 9 延期至 2026-08-14" in approved.text
    assert not html.fromstring(approved.text).xpath('//div[contains(@class, "error")]')
    told = mail_to(smtp, "fagui@example.org", before)
    assert "已批准延期至 2026-08-14（周五），原定 2026-07-08（本单位申请延至 2026-08-31）" in told
    assert "2026-08-14" in section(approved.text, "9").text_content()
    task = section(requests.get(url, timeout=10).text, "9")
    assert task.get("data-due") == "2026-08-14"
    assert "原定 2026-07-08，延至 2026-08-14" in task.text_content()
    ledger = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config",
                      str(site.config_path))
    assert "原定 2026-07-08，申请延至 2026-08-31" in ledger.stdout
    assert "批准延至 2026-08-14" in ledger.stdout
    shown = reminder("plan", str(site.plan_folder), "--now", "2026-06-24T08:00", "--task", "9",
                     "--detail", "--config", str(site.config_path))
    assert shown.returncode == 0, shown.stderr
    notices, note = shown.stdout.replace(" ", "").split("已批准延期")
    assert "2026-08-14" in notices and "2026-08-31" not in notices
    assert "原定2026-07-08" in note and "延至2026-08-14" in note


def test_reasons_progress_and_board_notes_are_capped_at_2000_characters(signing: Deployment
                                                                         ) -> None:
    """As the unit page's notes are (test_web.py): without the cap a reason of 2,500
    characters was stored whole and mailed to the coordinator (issue 20, tests that pass for
    the wrong reason: removing this cap left every test green)."""
    from reminder.web.workflow import MAX_TEXT

    site = signing
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    asked = ask_extension(url, page, "9", date="2026-08-31", reason="理由" * 1250,
                          progress="进展" * 1250)
    assert asked.status_code == 200
    admin = site.admin_url()
    board = requests.get(admin, timeout=10).text
    rejected = board_post(admin, board, "9", "reject_extension", note="意见" * 1250)
    assert rejected.status_code == 200
    [row] = site.store.extensions("demo-2026", "9")
    assert row.status == "rejected"
    assert MAX_TEXT == 2000 and len(row.reason) == len(row.progress) == len(row.note) == MAX_TEXT


def test_the_board_decides_only_an_extension_of_the_task_whose_form_it_posts(
        signing: Deployment) -> None:
    """Task 9's approval form naming the id of task 2's request is refused, and both
    requests still wait: only the check that the request belongs to the task can refuse it
    (the form's token and the board's session are good). Removing that check left every
    test green."""
    site = signing
    url = site.unit_url("法规科")
    page = requests.get(url, timeout=10).text
    assert ask_extension(url, page, "9", date="2026-08-31", reason="需征求意见").status_code == 200
    page = requests.get(url, timeout=10).text
    assert ask_extension(url, page, "2", date="2026-12-31", reason="需征求意见").status_code == 200
    other = site.store.extensions("demo-2026", "2")[0].id
    admin = site.admin_url()
    board = requests.get(admin, timeout=10).text
    refused = board_post(admin, board, "9", "approve_extension", extension=str(other))
    assert refused.status_code == 400 and "没有这份延期申请" in refused.text
    assert {e.task_id: e.status for e in site.store.extensions("demo-2026")} == {
        "9": "pending", "2": "pending"}
