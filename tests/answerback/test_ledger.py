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
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        path, _ = deploy(tmp_path, smtp, wecom)
    store = wiring.open_store(wiring.load(path))
    store.add_feedback("demo-2026", "2", unit="法规科", kind="progress", text="目录已更新 35 条",
                       now=NOW, period="2026Q2")
    store.add_feedback("demo-2026", "2", unit="法规科", kind="progress", text="上季度的话",
                       now=NOW, period="2026Q1")
    store.dispose()
    assert reminder("done", "demo-2026", "9", "--note", "规程已印发", "--by", "法规科李明",
                    "--config", str(path)).returncode == 0
    return path


def test_xlsx_has_the_offices_columns_progress_and_formatting(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "台账.xlsx"
    result = reminder("report", "demo-2026", "--period", "2026Q2", "-o", str(out), "--config", str(config))
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out).active
    assert "工作台账（2026年第二季度）" in sheet["A1"].value and sheet["A1"].font.bold
    assert tuple(c.value for c in sheet[3]) == HEADERS
    assert all(c.font.bold for c in sheet[3]) and sheet.freeze_panes == "A4"
    rows = {r[0]: dict(zip(HEADERS, r, strict=True)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["2"]["进展情况"] == "2026年第二季度 法规科：目录已更新 35 条"  # the period's only
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
    assert any("上季度的话" in r[HEADERS.index("进展情况")] for r in rows)  # no --period: all


def test_every_task_of_the_plan_is_a_row_even_without_a_date(config: Path) -> None:
    """The 台账 lists the plan's tasks in its own order, none missing: task 11 (及时, no
    date to remind by) is still a duty the office reports on."""
    result = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config", str(config))
    rows = {r[0]: r for r in list(csv.reader(io.StringIO(result.stdout)))[1:]}
    assert list(rows) == [str(i) for i in range(1, 17)]
    cell = dict(zip(HEADERS, rows["11"], strict=True))
    assert (cell["完成时限"], cell["状态"], cell["完成日期"]) == ("及时", "进行中", "")


def test_unknown_plan_is_one_line(config: Path, tmp_path: Path) -> None:
    result = reminder("report", "nope", "-o", str(tmp_path / "x.xlsx"), "--config", str(config))
    assert result.returncode != 0 and "未知计划 nope" in result.stderr
    assert "Traceback" not in result.stderr


LINK = '=HYPERLINK("http://evil.example/","点此查看附件")'


@pytest.fixture
def hostile(config: Path) -> Path:
    """A unit's progress note and a task title that a spreadsheet would take for formulas."""
    store = wiring.open_store(wiring.load(config))
    for text in (LINK, "@SUM(1+1)", "+1+2", "-2+3", "\t=1"):
        store.add_feedback("demo-2026", "2", unit="法规科", kind="progress", text=text,
                           now=NOW, period="2026Q2")
    store.dispose()
    done = reminder("done", "demo-2026", "13", "--note", LINK, "--config", str(config))
    assert done.returncode == 0, done.stderr
    table = config.parent / "plans" / "demo-2026" / "tasks.csv"
    text = table.read_text(encoding="utf-8-sig")
    title = next(r for r in csv.reader(io.StringIO(text)) if r[0] == "3")[2]
    table.write_text(text.replace(title, "=1+1" + title, 1), encoding="utf-8-sig")
    return config


def test_xlsx_writes_formula_text_as_text(hostile: Path, tmp_path: Path) -> None:
    """Issue 20 item 9: the note was stored as a formula and LibreOffice showed a live link."""
    import zipfile

    out = tmp_path / "台账.xlsx"
    result = reminder("report", "demo-2026", "-o", str(out), "--config", str(hostile))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()
    sheet = load_workbook(out).active
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=4)}
    progress, title = rows["2"][HEADERS.index("进展情况")], rows["3"][HEADERS.index("工作任务")]
    assert progress.data_type == "s" and LINK in progress.value
    note = rows["13"][HEADERS.index("进展情况")]  # a completion's note is the whole cell
    assert note.data_type == "s" and note.value == LINK
    assert title.data_type == "s" and title.value.startswith("=1+1")


def test_csv_neutralises_cells_a_spreadsheet_would_compute(hostile: Path) -> None:
    """Issue 20 item 9, OWASP's CSV injection remedy: a leading ' on = + - @ tab CR."""
    result = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config",
                      str(hostile))
    assert result.returncode == 0, result.stderr
    cells = [c for r in csv.reader(io.StringIO(result.stdout)) for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    rows = {r[0]: r for r in csv.reader(io.StringIO(result.stdout))}
    assert rows["3"][1].startswith("'=1+1")
    assert rows["13"][HEADERS.index("进展情况")] == "'" + LINK  # 登记人 now comes before it


def test_a_completion_row_says_when_and_who_registered_it_apart_from_the_deadline(
        config: Path) -> None:
    """Issue 17: 完成日期 showed the deadline. Task 9 is due 2026-07-08 and was registered
    done today by 法规科李明; a leader's 批示 goes in its own column."""
    from datetime import datetime

    from clirun import TZ

    store = wiring.open_store(wiring.load(config))
    store.add_instruction("demo-2026", "9", leader="分管局领导", text="请抓紧印发", now=NOW)
    store.dispose()
    result = reminder("report", "demo-2026", "--format", "csv", "-o", "-", "--config", str(config))
    rows = {r[0]: dict(zip(HEADERS, r, strict=True))
            for r in list(csv.reader(io.StringIO(result.stdout)))[1:]}
    nine = rows["9"]
    assert nine["完成时限"].startswith("2026-07-08")
    assert nine["完成日期"] == datetime.now(TZ).date().isoformat() != "2026-07-08"
    assert nine["登记人"] == "法规科李明"
    assert nine["领导批示"] == "2026-06-23 分管局领导：请抓紧印发"
    assert rows["3"]["完成日期"] == rows["3"]["登记人"] == rows["3"]["领导批示"] == ""


def test_csv_without_output_goes_to_stdout_as_the_readme_shows(config: Path) -> None:
    result = reminder("report", "demo-2026", "--format", "csv", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(",".join(HEADERS))
    xlsx = reminder("report", "demo-2026", "--config", str(config))
    assert xlsx.returncode == 2 and "-o" in xlsx.stderr and "Traceback" not in xlsx.stderr
