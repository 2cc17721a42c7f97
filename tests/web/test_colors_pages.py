"""三色预警 on the pages and in the 台账 (issue 19, item 3): the mark always comes with its
word, the colour follows the period left and the unit's progress report, a recurring task is
coloured per period, and `colors = false` takes it away. SQLite and PostgreSQL where the
store is written."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from clirun import TZ
from lxml import html
from webutil import STORES, Deployment, example_served, post

AUGUST = datetime(2026, 8, 10, 10, tzinfo=TZ)
JUNE = datetime(2026, 6, 23, 10, tzinfo=TZ)
WORDS = {"green": "绿", "yellow": "黄", "orange": "橙", "red": "红"}


def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str = "sqlite",
             policy: str = "", clock: datetime = AUGUST) -> Iterator[Deployment]:
    """The example, run once in June, its pages as of ``clock``."""
    with example_served(tmp_path, monkeypatch, kind=kind, policy=policy,
                        clock=lambda: clock) as deployment:
        yield deployment


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    yield from deployed(tmp_path, monkeypatch, request.param)


def colors(text: str) -> dict[str, tuple[str, str]]:
    """task id -> (colour, the words shown with the mark)."""
    tree = html.fromstring(text)
    found = {}
    for card in tree.xpath("//*[@data-task]"):
        marks = card.xpath('.//*[@data-color]')
        if marks:
            found[card.get("data-task")] = (marks[0].get("data-color"),
                                            " ".join(marks[0].text_content().split()))
    return found


def test_each_page_shows_the_colour_with_its_word(site: Deployment) -> None:
    board = requests.get(site.admin_url(), timeout=10).text
    shown = colors(board)
    # 2026-08-10: task 13 (due 09-30, issued 03-20) has 26 % of its time left and no
    # report: 黄; task 6 (quarterly) still has its second quarter open: 红.
    assert shown["13"] == ("yellow", "黄 预警") and shown["6"] == ("red", "红 逾期")
    states = {e.get("data-task"): e.get("data-state")
              for e in html.fromstring(board).xpath("//tr[@data-task]")}
    assert any(s == "overdue" for s in states.values())
    for task, state in states.items():
        if state == "overdue":
            assert shown[task][0] == "red", task
        if state == "done":
            assert task not in shown
    for color, word in shown.values():  # never colour alone
        assert word.startswith(WORDS[color])
    unit = colors(requests.get(site.unit_url("财务科"), timeout=10).text)
    assert unit["13"] == shown["13"]
    assert colors(requests.get(site.unit_url("信息中心"), timeout=10).text)["6"] == shown["6"]


def test_a_progress_report_in_the_period_lowers_the_colour_one_step(site: Deployment) -> None:
    url = site.unit_url("财务科")
    page = requests.get(url, timeout=10).text
    assert colors(page)["13"][0] == "yellow"
    after = post(url, page, "13", "progress", text="预算公开材料已起草，正在审核")
    assert after.status_code == 200
    assert colors(after.text)["13"][0] == "green"
    assert colors(requests.get(site.admin_url(), timeout=10).text)["13"][0] == "green"
    # The daemon's planner hears of it too: no 三色预警 for that occurrence.
    assert ("demo-2026", "13") in {(p, t) for p, t, _ in site.store.reported_set()}


def test_the_ledger_has_the_colour_as_word_and_fill(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for site in deployed(tmp_path, monkeypatch, clock=JUNE):
        check_ledger(site)


def check_ledger(site: Deployment) -> None:
    from openpyxl import load_workbook

    response = requests.get(site.admin_url() + "/ledger.xlsx", timeout=10)
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[3]]
    column = headers.index("三色预警") + 1
    cells = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=column)
             for r in range(4, sheet.max_row + 1)}
    # 2026-06-23: task 7 (due 06-30) has 7 % of its time left: 橙; task 6's first quarter
    # is overdue: 红; task 1 has most of its year: 绿.
    assert cells["7"].value == "橙 预警" and cells["7"].fill.fgColor.rgb.endswith("F8CBAD")
    assert cells["6"].value == "红 逾期" and cells["6"].fill.fgColor.rgb.endswith("FF9999")
    assert cells["1"].value == "绿 正常" and cells["1"].fill.fgColor.rgb.endswith("C6EFCE")


def test_colors_off_shows_no_marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for site in deployed(tmp_path, monkeypatch, policy="colors = false"):
        assert colors(requests.get(site.admin_url(), timeout=10).text) == {}
        assert colors(requests.get(site.unit_url("办公室"), timeout=10).text) == {}


def test_overdue_is_said_once_by_its_red_mark(site: Deployment) -> None:
    """The state 逾期 and the mark 红 逾期 side by side said it twice: the mark (colour and
    word) says it alone."""
    board = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    rows = board.xpath('//tr[@data-state="overdue"]')
    assert rows
    for row in rows:
        cell = " ".join(row.xpath('./td[contains(@class, "state")]')[0].text_content().split())
        assert cell == "红 逾期", (row.get("data-task"), cell)
    unit = html.fromstring(requests.get(site.unit_url("信息中心"), timeout=10).text)
    heads = unit.xpath('//section[@data-state="overdue"]/div[@class="head"]')
    assert heads
    for head in heads:
        assert head.text_content().count("逾期") == 1 and head.xpath('.//*[@data-color="red"]')
    opened = unit.xpath('//section[@data-state="open"]/div[@class="head"]')
    assert opened and all("进行中" in h.text_content() for h in opened)


def test_a_recurring_task_is_coloured_per_period(site: Deployment) -> None:
    """2026-08-10: task 6 (quarterly, 信息中心) has missed 06-30 and its third quarter
    (06-30 to 09-30) has 55 % of its time left. The task stays 红 (its worst open period:
    overdue until that quarter is done) and the current quarter shows its own 绿."""
    for page in (requests.get(site.admin_url(), timeout=10).text,
                 requests.get(site.unit_url("信息中心"), timeout=10).text):
        task = html.fromstring(page).xpath('//*[@data-task="6"]')[0]
        marks = task.xpath('.//*[@data-color]')
        assert [m.get("data-color") for m in marks] == ["red", "green"]
        current = task.xpath('.//*[@data-period="current"]')[0]
        assert " ".join(current.text_content().split()) == "本期（2026-09-30） 绿 正常"
    # A task with no earlier period open shows one mark.
    board = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    assert len(board.xpath('//*[@data-task="13"]//*[@data-color]')) == 1
