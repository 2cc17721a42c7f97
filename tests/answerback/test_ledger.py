"""The 台账 as `reminder report` writes it: read back with openpyxl and csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from clirun import KEYS, reminder
from openpyxl import load_workbook
from servers import smtp_server, wecom_server
from webutil import NOW, SECRET_ENV, deploy

from reminder import wiring
from reminder.answerback.ledger import HEADERS


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, "test-secret")
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        path, _ = deploy(tmp_path, smtp, wecom)
    store = wiring.open_store(wiring.load(path))
    store.add_feedback("demo-2026", "2", unit="法规科", kind="progress", text="目录已更新 35 条",
                       now=NOW, period="2026Q2")
    store.add_feedback("demo-2026", "2", unit="法规科", kind="progress", text="上季度的话",
                       now=NOW, period="2026Q1")
    store.dispose()
    assert reminder("done", "demo-2026", "9", "--note", "规程已印发", "--config", str(path)).returncode == 0
    return path


def test_xlsx_has_the_offices_columns_progress_and_formatting(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "台账.xlsx"
    result = reminder("report", "demo-2026", "--period", "2026Q2", "-o", str(out), "--config", str(config))
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out).active
    assert "工作台账（2026Q2）" in sheet["A1"].value and sheet["A1"].font.bold
    assert tuple(c.value for c in sheet[3]) == HEADERS
    assert all(c.font.bold for c in sheet[3]) and sheet.freeze_panes == "A4"
    rows = {r[0]: dict(zip(HEADERS, r, strict=True)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["2"]["进展情况"] == "2026Q2 法规科：目录已更新 35 条"  # the period's note only
    assert rows["9"]["状态"] == "已完成" and rows["9"]["完成日期"]
    assert rows["3"]["牵头单位"] == "法规科" and rows["3"]["提醒次数"] == 0
    assert any(r["提醒次数"] > 0 and r["最后提醒"].startswith("2026-06-23 09:00") for r in rows.values())
    done_row = next(sheet.iter_rows(min_row=4))  # fills: done green, others none or red
    fills = {r[0].value: r[5].fill.fgColor.rgb for r in sheet.iter_rows(min_row=4)}
    assert fills["9"].endswith("D4EDDA") and done_row[1].alignment.wrap_text
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$3:$3"
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width


def test_csv_to_stdout(config: Path) -> None:
    result = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config", str(config))
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == HEADERS and len(rows) > 5
    assert any("上季度的话" in r[7] for r in rows)  # no --period: every note


def test_every_task_of_the_plan_is_a_row_even_without_a_date(config: Path) -> None:
    """The 台账 lists the plan's tasks in its own order, none missing: task 11 (及时, no
    date to remind by) is still a duty the office reports on."""
    result = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config", str(config))
    rows = {r[0]: r for r in list(csv.reader(io.StringIO(result.stdout)))[1:]}
    assert list(rows) == [str(i) for i in range(1, 17)]
    assert (rows["11"][4], rows["11"][5], rows["11"][6]) == ("及时", "进行中", "")


def test_unknown_plan_is_one_line(config: Path, tmp_path: Path) -> None:
    result = reminder("report", "nope", "-o", str(tmp_path / "x.xlsx"), "--config", str(config))
    assert result.returncode != 0 and "未知计划 nope" in result.stderr
    assert "Traceback" not in result.stderr
