"""A workbook with a task table on each of several sheets: every table is read."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from reminder.importers import import_document
from reminder.importers.writer import read_tasks_csv

HEADER = ["序号", "重点任务", "责任单位", "完成时限"]
DISTRICT = [  # (title, units, deadline) — six per sheet, as a 区县 / 市直 split often has
    ("公开本区年度重大建设项目批准和实施信息。", "区发展改革局", "2026年6月30日前"),
    ("更新区级政务服务事项清单。", "区政务服务数据管理局", "长期"),
    ("发布财政预决算并解读。", "区财政局", "2026年10月31日前"),
    ("公开义务教育招生政策。", "区教育局", "2026年5月31日前"),
    ("公开养老服务补贴发放情况。", "区民政局", "每季度"),
    ("做好依申请公开答复。", "区政府办公室", "长期"),
]
CITY = [
    ("在门户网站集中发布本部门规划。", "市发展改革委", "2026年9月30日前"),
    ("整理公开现行有效规范性文件目录。", "市司法局", "2026年12月20日前"),
    ("公开行政执法结果。", "市市场监管局", "长期"),
    ("公开重点排污单位名录。", "市生态环境局", "2026年3月31日前"),
    ("发布医保政策问答。", "市医保局", "每半年"),
    ("编制年度报告。", "市政府办公厅", "2027年1月31日前"),
]


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "填表说明"
    notes.append(["请各单位按表填写，不要改动表头。"])
    for name, rows in (("区县", DISTRICT), ("市直部门", CITY)):
        sheet = book.create_sheet(name)
        sheet.append([f"2026年政务公开工作任务分解表（{name}）"])
        sheet.append(HEADER)
        for i, row in enumerate(rows, 1):
            sheet.append([i, *row])
    book.save(path)
    return path


def test_every_sheet_with_a_task_table_is_imported(tmp_path: Path) -> None:
    report = import_document(_workbook(tmp_path / "tasks.xlsx"), tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert report.tasks == len(tasks) == 12
    assert list(tasks) == [f"区县-{i}" for i in range(1, 7)] + [f"市直部门-{i}" for i in range(1, 7)]
    for sheet, rows in (("区县", DISTRICT), ("市直部门", CITY)):
        for i, (title, unit, deadline) in enumerate(rows, 1):
            task = tasks[f"{sheet}-{i}"]
            assert (task.title, task.lead, task.deadline_text) == (title, (unit,), deadline)
            assert task.section[0] == sheet
    lines = "\n".join(report.lines())
    assert "工作表“填表说明”（没有任务表）" in lines
    assert report.year == 2026


@pytest.mark.parametrize("sheets", [("区县",), ("区县", "空表")], ids=["one-table", "one-table-and-empty"])
def test_a_single_table_keeps_plain_ids(sheets: tuple[str, ...], tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = sheets[0]
    book.active.append(HEADER)
    for i, row in enumerate(DISTRICT, 1):
        book.active.append([i, *row])
    for name in sheets[1:]:
        book.create_sheet(name)
    book.save(tmp_path / "t.xlsx")
    report = import_document(tmp_path / "t.xlsx", tmp_path / "plan")
    assert [t.id for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")] == [str(i) for i in range(1, 7)]
    assert ("工作表“空表”（没有任务表）" in "\n".join(report.lines())) == (len(sheets) > 1)
