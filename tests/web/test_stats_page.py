"""The statistics page (issue 19, item 5): for the same store, the page, `reminder stats`
and the bulletin agree on every figure of every unit; the charts are inline SVG with no
script and nothing fetched; the page is reached from the board and the leader's page and
refused to other links. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import docx
import pytest
import requests
from answerback.reportdata import NOW, deployment, store_url
from clirun import KEYS, reminder
from lxml import html
from servers import free_port, smtp_server, wecom_server
from webutil import SECRET_ENV, Deployment, served

from reminder.plan.folder import load_plan
from reminder.plan.occurrences import occurrences

Q3 = "2026年第三季度"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with store_url(request.param, tmp_path) as url, smtp_server() as smtp, \
            wecom_server(keys=set(KEYS.values())) as wecom:
        config = deployment(tmp_path, url)  # the example plan with known completions and sends
        with config.open("a", encoding="utf-8") as out:
            out.write(f'[web]\nlisten = "127.0.0.1:{free_port()}"\nsecret_env = "{SECRET_ENV}"\n')
        with served(config, smtp, wecom, clock=lambda: NOW) as deployed:
            yield deployed


def page_rows(text: str) -> list[list[str]]:
    tree = html.fromstring(text)
    return [[" ".join(td.text_content().split()) for td in tr.xpath("./td")]
            for tr in tree.xpath('//table[@id="stats"]/tbody/tr')]


def test_the_page_stats_and_the_bulletin_agree_on_every_figure(site: Deployment,
                                                              tmp_path: Path) -> None:
    page = requests.get(site.admin_url() + "/stats", params={"period": Q3}, timeout=10)
    assert page.status_code == 200
    shown = page_rows(page.text)
    args = ("demo-2026", "--period", Q3, "--now", NOW.strftime("%Y-%m-%dT%H:%M"),
            "--config", str(site.config_path))
    printed = reminder("stats", *args, "--format", "csv")
    assert printed.returncode == 0, printed.stderr
    cli_rows = [r[1:] for r in list(csv.reader(io.StringIO(printed.stdout)))[1:]]
    out = tmp_path / "督查通报.docx"
    made = reminder("bulletin", *args, "-o", str(out))
    assert made.returncode == 0, made.stderr
    table = next(t for t in docx.Document(str(out)).tables if t.rows[0].cells[1].text == "责任单位")
    bulletin_rows = [[c.text.strip() for c in r.cells] for r in table.rows[1:]]
    assert len(shown) >= 3 and shown[-1][1] == "合计"
    assert shown == cli_rows == bulletin_rows
    # A figure known from the data: 办公室 had 3 items, 1 on time, 1 late, 1 overdue.
    assert next(r for r in shown if r[1] == "办公室")[2:6] == ["3", "1", "1", "1"]


def test_the_charts_are_inline_svg_without_script_or_anything_fetched(site: Deployment) -> None:
    text = requests.get(site.admin_url() + "/stats", params={"period": Q3}, timeout=10).text
    tree = html.fromstring(text)
    svgs = tree.xpath("//figure[@class='chart']/svg")
    assert len(svgs) == 2 and "办公室" in svgs[0].text_content()
    assert not tree.xpath("//script") and "<script" not in text
    assert not [u for u in tree.xpath("//@src | //@href") if u.startswith(("http", "//"))
                and "127.0.0.1" not in u]


def test_reached_from_the_board_and_the_leaders_page_and_refused_to_others(
        site: Deployment) -> None:
    board = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    (href,) = board.xpath('//a[text()="统计与排名"]/@href')
    assert href.endswith("/stats")
    from urllib.parse import urljoin

    assert requests.get(urljoin(site.admin_url(), href), timeout=10).status_code == 200
    leader_url = site.links.leader_url("分管局领导")
    leader = html.fromstring(requests.get(leader_url, timeout=10).text)
    (link,) = leader.xpath('//a[contains(@href, "/stats/demo-2026")]/@href')
    seen = requests.get(urljoin(leader_url, link), params={"period": Q3}, timeout=10)
    assert seen.status_code == 200
    ours = requests.get(site.admin_url() + "/stats", params={"period": Q3}, timeout=10)
    assert page_rows(seen.text) == page_rows(ours.text)
    # Not for a unit's link, nor for a leader the plan does not escalate to.
    unit_token = site.unit_url("办公室").split("/u/")[1]
    assert requests.get(f"{site.base}/admin/{unit_token}/stats", timeout=10).status_code == 403
    other = site.links.leader_url("别的领导").split("/l/")[1]
    assert requests.get(f"{site.base}/l/{other}/stats/demo-2026", timeout=10).status_code == 403


def test_a_bad_period_is_one_chinese_line_not_an_error_page(site: Deployment) -> None:
    response = requests.get(site.admin_url() + "/stats", params={"period": "三季度"}, timeout=10)
    assert response.status_code == 200 and "无法识别统计期" in response.text


def test_stats_agree_with_the_board_on_items_signatures_and_extensions(site: Deployment) -> None:
    """The board's own cells against the page's figures: in a month each task falls due at
    most once, so a unit's 任务数 are the tasks it leads on the board with a date that month
    (the plan's dates), its 未签收 those of them the board marks ✗ for it, and its 延期
    those the board shows 已延期 from a date that month. 办公室 signs its task 16 and 财务科
    has task 13 moved from 09-30 to 10-31; both must show on both."""
    site.store.sign("demo-2026", "16", "办公室", now=NOW - timedelta(days=60))
    asked = NOW - timedelta(days=20)
    ident = site.store.request_extension(
        "demo-2026", "13", due=date(2026, 9, 30), current=date(2026, 9, 30),
        requested=date(2026, 10, 31), unit="财务科", reason="等待审计结果", progress="",
        late=False, now=asked)
    assert ident is not None
    site.store.decide_extension(ident, approve=True, by="公开办", note="", now=asked)
    month = "2026年9月"
    # 长期 tasks' reporting dates are not items with a deadline to meet: statistics leave them out.
    due_in_month = {occ.task for occ in occurrences(load_plan(site.plan_folder))
                    if (occ.due.year, occ.due.month) == (2026, 9) and occ.cycle != "ongoing"}
    board = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    items: dict[str, int] = {}
    unsigned: dict[str, int] = {}
    extended: dict[str, int] = {}
    for row in board.xpath('//table[@class="board"]/tbody/tr'):
        if row.get("data-task") not in due_in_month:
            continue
        for lead in row.xpath('./td[@class="units"]/strong/text()'):
            items[lead] = items.get(lead, 0) + 1
            marked = row.xpath(f'.//span[@data-unit="{lead}"]/@class')
            assert marked, (row.get("data-task"), lead)  # the example asks every unit to sign
            unsigned[lead] = unsigned.get(lead, 0) + ("unsigned" in marked[0])
            moved = row.xpath('.//span[contains(@class, "extension approved")]/text()')
            extended[lead] = extended.get(lead, 0) + any("原定 2026-09-" in m for m in moved)
    assert unsigned.get("办公室") == 0 and items.get("办公室") == 1 and extended.get("财务科") == 1
    page = html.fromstring(requests.get(site.admin_url() + "/stats", params={"period": month},
                                        timeout=10).text)
    figures = {tr.get("data-unit"): {td.get("data-key"): td.text_content().strip()
                                     for td in tr.xpath("./td")}
               for tr in page.xpath('//table[@id="stats"]/tbody/tr[not(@class="total")]')}
    assert {u: int(f["tasks"]) for u, f in figures.items()} == items
    assert {u: int(f["unsigned"]) for u, f in figures.items()} == unsigned
    assert {u: int(f["extensions"]) for u, f in figures.items()} == extended
