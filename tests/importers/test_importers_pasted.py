"""Web-page tables pasted one cell per line (pasted.py), in this project's own words after the
shapes public pages give: a category cell only on its group's first row, before the row number
the header does not name (xfj.chizhou.gov.cn); rows without numbers (rsj.xuancheng.gov.cn);
an empty cell as a "|" right after another (xuanzhou.gov.cn); "工作任务 |" with the pipe on
the cell's own line (jimei.gov.cn)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reminder.errors import ImportDoubtful
from reminder.importers import import_document
from reminder.importers.header import column_kind
from reminder.importers.meta import detect_year
from reminder.importers.stream import deadline_cell, units_cell
from reminder.importers.table import build_table
from reminder.importers.text import TextImporter
from reminder.importers.writer import read_tasks_csv
from reminder.models import Task
from reminder.parse.units import split_units

# Header without 序号; the category (工作任务) precedes the number on its group's first row.
BUREAU = """某某县文化旅游局2026年政务公开重点任务清单
工作任务
具体要求
责任科室
时限要求
规范性文件公开
1
清理本局现行有效的规范性文件，在门户网站公布目录。
法规股
10月底前
政策解读
2
重要政策文件与解读材料同步起草、同步审签、同步发布。
各股室
持续推进
3
每季度至少开展一次图解、视频等形式的政策解读。
办公室
每季度末
依申请公开
4
依法依规办理政府信息公开申请，按时答复。
办公室、法规股
持续推进
年度报告
5
编制发布2025年度政府信息公开工作年度报告。
办公室
2026年1月31日前
6
在年度报告中逐项说明上年度重点任务的完成情况。
办公室
2026年1月31日前
"""
BUREAU_EXPECT = {  # id: (section, title start, lead, support, deadline)
    "1": ("规范性文件公开", "清理本局现行有效", ("法规股",), (), "10月底前"),
    "2": ("政策解读", "重要政策文件与解读材料", ("各股室",), (), "持续推进"),
    "3": ("政策解读", "每季度至少开展一次", ("办公室",), (), "每季度末"),
    "4": ("依申请公开", "依法依规办理", ("办公室",), ("法规股",), "持续推进"),
    "5": ("年度报告", "编制发布2025年度", ("办公室",), (), "2026年1月31日前"),
    "6": ("年度报告", "在年度报告中逐项说明", ("办公室",), (), "2026年1月31日前"),
}

# 序号 first, "|" between cells; task 3 lacks its 时限 cell altogether.
NUMBERED = """某市统计局2026年政务公开工作任务分工
序号
|
任务
|
责任单位
|
时限
|
1
|
按月发布主要统计数据，同步发布数据解读。
|
综合科
|
每月15日前
|
2
|
更新统计调查项目目录和调查制度。
|
法规科
|
6月底前
|
3
|
做好统计执法检查结果公开工作。
|
执法大队
|
4
|
编制统计年鉴并在门户网站公开电子版。
|
综合科、信息中心
|
10月底前
|
"""
NUMBERED_EXPECT = {
    "1": ((), "按月发布主要统计数据", ("综合科",), (), "每月15日前"),
    "2": ((), "更新统计调查项目目录", ("法规科",), (), "6月底前"),
    "3": ((), "做好统计执法检查结果公开", ("执法大队",), (), ""),
    "4": ((), "编制统计年鉴", ("综合科",), ("信息中心",), "10月底前"),
}

# The same without "|" and with every cell.
NUMBERED_LINES = NUMBERED.replace("|\n", "").replace("执法大队\n", "执法大队\n年底前\n")
NUMBERED_LINES_EXPECT = NUMBERED_EXPECT | {"3": ((), "做好统计执法检查结果公开", ("执法大队",), (), "年底前")}

# The header names the number column after the category; 牵头 and 配合 in columns of their
# own, 配合单位 left out (not empty) where a task has none.
LEAD_SUPPORT = """某区住房和城乡建设局2026年政务公开重点工作分工
工作类别
序号
工作内容
牵头单位
配合单位
完成时间
重大项目信息公开
1
公开保障性住房项目的建设进度和分配结果。
住房保障科
区房管中心
12月底前
2
按季度公开城镇老旧小区改造计划及实施情况。
城建科
各街道
每季度末
政策解读与回应
3
对新出台的住房政策配套制作图解。
办公室
9月底前
4
建立住房领域舆情回应台账，按月更新。
办公室
住房保障科、城建科
长期坚持
"""
LEAD_SUPPORT_EXPECT = {
    "1": (("重大项目信息公开",), "公开保障性住房项目", ("住房保障科",), ("区房管中心",), "12月底前"),
    "2": (("重大项目信息公开",), "按季度公开城镇老旧小区", ("城建科",), ("各街道",), "每季度末"),
    "3": (("政策解读与回应",), "对新出台的住房政策", ("办公室",), (), "9月底前"),
    "4": (("政策解读与回应",), "建立住房领域舆情回应台账", ("办公室",), ("住房保障科", "城建科"), "长期坚持"),
}

# No row numbers at all; every row is 任务 | 责任单位 | 时限.
UNNUMBERED = """某市人力资源和社会保障局2026年政务公开任务安排
任务
|
责任单位
|
时限
|
围绕稳就业政策，集中公开就业补贴的申领条件、办理流程和发放结果。
|
就业促进科
|
持续推进
|
按季度公开社会保险基金收支和参保人数等主要数据。
|
社会保险科、信息中心
|
每季度结束后20日内
|
做好根治欠薪工作信息公开，及时发布重大欠薪违法行为名单。
|
劳动监察支队
|
年底前
|
"""
UNNUMBERED_EXPECT = {
    "1": ((), "围绕稳就业政策", ("就业促进科",), (), "持续推进"),
    "2": ((), "按季度公开社会保险基金", ("社会保险科",), ("信息中心",), "每季度结束后20日内"),
    "3": ((), "做好根治欠薪工作信息公开", ("劳动监察支队",), (), "年底前"),
}

# Empty cells kept as a "|" right after another: task 2's 完成时限 was left blank on the page.
EMPTY_CELLS = """某镇人民政府2026年政务公开工作清单
工作类别
|
工作内容
|
责任单位
|
完成时限
|
基础信息公开
|
更新机构职能、领导分工和办公地址等基础信息。
|
党政办
|
3月底前
|
|
做好政府信息公开指南和目录的维护。
|
党政办
|
|
重点领域公开
|
公开低保、特困供养对象的认定结果。
|
社会事务办
|
每季度末
|
"""
EMPTY_CELLS_EXPECT = {
    "1": (("基础信息公开",), "更新机构职能", ("党政办",), (), "3月底前"),
    "2": (("基础信息公开",), "做好政府信息公开指南", ("党政办",), (), ""),
    "3": (("重点领域公开",), "公开低保", ("社会事务办",), (), "每季度末"),
}


def _lone_pipes(text: str) -> str:
    """The same table with a "|" line after every cell, as flattening sites give it."""
    title, *cells = text.strip().split("\n")
    return "\n".join([title, *(f"{c}\n|" for c in cells)]) + "\n"


def _trailing_pipes(text: str) -> str:
    title, *cells = text.strip().split("\n")
    return "\n".join([title, *(f"{c} |" for c in cells)]) + "\n"


def _import(text: str, tmp_path: Path, *, accept: bool = False) -> tuple[dict[str, Task], tuple[str, ...]]:
    source = tmp_path / "清单.txt"
    source.write_text(text, encoding="utf-8")
    report = import_document(source, tmp_path / "plan", accept=accept)
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    return tasks, report.confidence.notes


def _summary(tasks: dict[str, Task], expect: dict) -> dict:
    """Each task cut to what the table says of it, the title to the start the table expects."""
    return {
        k: (t.section if isinstance(expect[k][0], tuple) else t.section[-1], t.title[: len(expect[k][1])],
            t.lead, t.support, t.deadline_text)
        for k, t in tasks.items() if k in expect
    } | {k: None for k in tasks if k not in expect}


def _assert_accounted(text: str, tasks: dict[str, Task], notes: tuple[str, ...]) -> None:
    """Every units cell and every deadline cell of the source is a task's, or its line is
    named in the report: counted, so a cell read twice or dropped fails."""
    lines = [line.strip().rstrip("|").strip() for line in text.split("\n")]
    lines = ["" if column_kind(line) else line for line in lines]  # the header
    year = detect_year("", lines)
    named = {int(n) for note in notes for n in re.findall(r"第 (\d+) 行", note)}
    units = [(n, t) for n, t in enumerate(lines, 1) if t and units_cell(t)]
    dues = [(n, t) for n, t in enumerate(lines, 1)
            if t and deadline_cell(t, year) and not units_cell(t) and len(t) <= 12]
    kept_units = [t for n, t in units if n not in named]
    kept_dues = [t for n, t in dues if n not in named]
    # A 牵头 and a 配合 cell become one task's lead and support: count the names they hold.
    assert sorted(n for cell in kept_units for n in sum(split_units(cell), ())) == sorted(
        n for t in tasks.values() for n in (*t.lead, *t.support))
    assert sorted(kept_dues) == sorted(t.deadline_text for t in tasks.values() if t.deadline_text)


@pytest.mark.parametrize("render", [str, _lone_pipes, _trailing_pipes], ids=["lines", "pipe-lines", "pipe-ends"])
def test_category_before_the_number(render, tmp_path: Path) -> None:
    text = render(BUREAU)
    tasks, notes = _import(text, tmp_path)
    assert _summary(tasks, BUREAU_EXPECT) == BUREAU_EXPECT
    assert notes == ()
    _assert_accounted(text, tasks, notes)


@pytest.mark.parametrize(("text", "expect"), [
    (LEAD_SUPPORT, LEAD_SUPPORT_EXPECT),
    (UNNUMBERED, UNNUMBERED_EXPECT),
    (EMPTY_CELLS, EMPTY_CELLS_EXPECT),
    (NUMBERED_LINES, NUMBERED_LINES_EXPECT),
], ids=["lead-support", "unnumbered", "empty-cells", "numbered-lines"])
def test_shapes(text: str, expect: dict, tmp_path: Path) -> None:
    tasks, notes = _import(text, tmp_path)
    assert _summary(tasks, expect) == expect
    assert notes == ()
    _assert_accounted(text, tasks, notes)


@pytest.mark.parametrize("text", [NUMBERED, NUMBERED.replace("|\n", "")], ids=["pipe-lines", "lines"])
def test_a_missing_cell_is_named_and_not_filled(text: str, tmp_path: Path) -> None:
    """Task 3 has no 时限 cell: empty or merged with task 2's, the stream cannot tell."""
    line = text.split("\n").index("3") + 1
    with pytest.raises(ImportDoubtful) as caught:
        _import(text, tmp_path)
    assert f"第 {line} 行起的一行（“做好统计执法检查结果公开工作。”）没有“时限”单元格" in str(caught.value)
    assert not (tmp_path / "plan").exists()
    tasks, notes = _import(text, tmp_path, accept=True)
    assert _summary(tasks, NUMBERED_EXPECT) == NUMBERED_EXPECT
    assert len(notes) == 1
    _assert_accounted(text, tasks, notes)


def test_repeated_header_and_footnote_are_no_cells(tmp_path: Path) -> None:
    """A header repeated at a page break of the copied view, and the table's 注 after it."""
    head = "工作任务\n具体要求\n责任科室\n时限要求\n"
    text = BUREAU.replace("依申请公开\n", head + "依申请公开\n") + "注：各股室每季度末报送进展情况。\n"
    tasks, notes = _import(text, tmp_path)
    assert _summary(tasks, BUREAU_EXPECT) == BUREAU_EXPECT
    assert notes == ()


def test_a_cell_no_row_can_hold_is_named(tmp_path: Path) -> None:
    """A units cell between two tasks' rows, after the first row's deadline: not guessed."""
    text = BUREAU.replace("每季度末\n", "每季度末\n信息中心\n")
    with pytest.raises(ImportDoubtful) as caught:
        _import(text, tmp_path)
    line = text.split("\n").index("信息中心") + 1
    assert f"第 {line} 行“信息中心”无法确定属于哪一行哪一列，未导入" in str(caught.value)
    tasks, notes = _import(text, tmp_path, accept=True)
    assert _summary(tasks, BUREAU_EXPECT) == BUREAU_EXPECT
    _assert_accounted(text, tasks, notes)


def test_the_cli_names_the_file_and_line(tmp_path: Path) -> None:
    from clirun import reminder

    source = tmp_path / "清单.txt"
    source.write_text(NUMBERED, encoding="utf-8")
    refused = reminder("import", str(source), "-o", str(tmp_path / "plan"))
    assert refused.returncode == 3
    (error,) = refused.stderr.splitlines()  # one line, no traceback
    assert str(source) in error and "第 26 行起的一行" in error
    accepted = reminder("import", str(source), "-o", str(tmp_path / "plan"), "--accept")
    assert accepted.returncode == 0, accepted.stderr


@pytest.mark.parametrize("gone", range(5, BUREAU.count("\n")))
def test_no_cell_is_lost_silently(gone: int) -> None:
    """Any one line of the table's body left out: every units and deadline cell still lands
    in a task or on a line the report names."""
    lines = BUREAU.split("\n")
    text = "\n".join(lines[:gone] + lines[gone + 1 :])
    table = build_table(TextImporter().read(Path("清单.txt"), text.encode()))
    tasks = {t.id: t for t in table.tasks}
    _assert_accounted(text, tasks, table.confidence.notes)
    if lines[gone] in {"法规股", "各股室", "办公室", "10月底前", "持续推进", "每季度末"}:
        assert table.confidence.notes  # a units or deadline cell gone is never filled in


def test_a_cell_per_line_table_that_cannot_be_rebuilt_says_so(tmp_path: Path) -> None:
    """A 台账 with 进度安排 over the quarters (a two-row header), copied a cell per line: the
    rows cannot be rebuilt, and the refusal says that this is such a table and what to import
    instead, not that the file holds no table."""
    from reminder.errors import ImportFailed

    source = tmp_path / "ledger.txt"
    source.write_text("\n".join([
        "某区2026年重点工作任务台账", "序号", "工作任务", "责任单位", "进度安排",
        "一季度", "二季度", "三季度", "四季度",
        "1", "完善政务公开目录", "区政务公开办", "完成梳理", "征求意见", "修订发布", "总结评估",
        "2", "推进政策解读", "区司法局", "制定计划", "开展解读", "中期检查", "年度总结"]),
        encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_document(source, tmp_path / "plan")
    assert "逐格复制的表格" in str(info.value) and "没有找到表格" not in str(info.value)
    assert ".html" in (info.value.hint or "")
