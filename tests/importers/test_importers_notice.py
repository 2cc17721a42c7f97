"""Notices written as numbered paragraphs, and the report sentences around any plan."""

from __future__ import annotations

import tomllib
from pathlib import Path

import docx
import pytest

from reminder.importers import import_document
from reminder.importers.meta import report_dates
from reminder.importers.notice import notice_rows, split_labels
from reminder.importers.writer import read_tasks_csv

# Written for these tests after the shape of district 通知: a letter, numbered measures with
# their units and deadline in brackets, and a closing request for progress reports.
NOTICE = """关于做好某区2026年政务公开重点工作的通知
各镇（街）、区政府各部门：
为抓好今年政务公开工作，现将有关事项通知如下：
一、加强政策发布
1. 做好规范性文件统一发布，在区政府网站集中公开现行有效文件。（责任单位：区司法局牵头，区政府各部门配合；完成时限：长期）
2、编制并公开本区年度重大行政决策事项目录，及时公开决策草案和征求意见情况。
（牵头单位：区政府办公室；配合单位：区发展改革局、区财政局；完成时限：2026年6月30日前）
二、回应社会关切
3. 建立政务舆情研判台账，对重要舆情在5个工作日内作出回应。(责任单位:区融媒体中心;时间:2026年9月底前)
4．优化依申请公开办理流程，统一答复文书格式
（责任单位：区政府办公室；完成时限：2026年10月31日前）
请各单位于6月25日前、12月20日前将上半年和全年工作落实情况报送区政务公开办。
"""

EXPECT = {  # id: (title starts, lead, support, deadline)
    "1": ("做好规范性文件统一发布", ("区司法局",), ("区政府各部门",), "长期"),
    "2": ("编制并公开本区年度重大行政决策", ("区政府办公室",), ("区发展改革局", "区财政局"),
          "2026年6月30日前"),
    "3": ("建立政务舆情研判台账", ("区融媒体中心",), (), "2026年9月底前"),
    "4": ("优化依申请公开办理流程", ("区政府办公室",), (), "2026年10月31日前"),
}


def _txt(path: Path) -> Path:
    path.write_text(NOTICE, encoding="utf-8")
    return path


def _docx(path: Path) -> Path:
    document = docx.Document()
    for line in NOTICE.splitlines():
        document.add_paragraph(line)
    document.save(path)
    return path


def _html(path: Path) -> Path:
    body = "".join(f"<p>{line}</p>" for line in NOTICE.splitlines())
    path.write_text(f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>",
                    encoding="utf-8")
    return path


WRITERS = {"txt": (_txt, ".txt"), "md": (_txt, ".md"), "docx": (_docx, ".docx"),
           "html": (_html, ".html")}


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_notice_items_with_labelled_parts(fmt: str, tmp_path: Path) -> None:
    write, suffix = WRITERS[fmt]
    report = import_document(write(tmp_path / f"notice{suffix}"), tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert list(tasks) == list(EXPECT)
    for task_id, (title, lead, support, deadline) in EXPECT.items():
        task = tasks[task_id]
        assert task.title.startswith(title)
        assert "责任单位" not in task.title and "完成时限" not in task.title
        assert (task.lead, task.support, task.deadline_text) == (lead, support, deadline)
    assert tasks["3"].section == ("二、回应社会关切",)
    assert report.confidence is not None and report.confidence.from_text == 4
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    assert [(d["deadline"], d["to"]) for d in plan["dates"]] == [
        ("6月25日前", "区政务公开办"), ("12月20日前", "区政务公开办")]
    assert [d["name"] for d in plan["dates"]] == ["上半年进展报送", "全年进展报送"]


@pytest.mark.parametrize(("sentence", "expect"), [
    pytest.param("请各单位于6月25日前、12月20日前将上半年和全年工作落实情况报送区政务公开办",
                 [("上半年进展报送", "6月25日前", "区政务公开办"),
                  ("全年进展报送", "12月20日前", "区政务公开办")], id="two-dates-not-three"),
    pytest.param("请于10月10日前及2027年1月5日前，向局办公室报送第三、第四季度推进情况",
                 [("第三季度进展报送", "10月10日前", "局办公室"),
                  ("第四季度进展报送", "2027年1月5日前", "局办公室")], id="quarters-to-before-verb"),
    pytest.param("每季度结束后将推进情况报送局办公室", [], id="no-stated-date"),
    pytest.param("各单位要于11月30日前提交年度总结", [("报送（11月30日前）", "11月30日前", "")],
                 id="one-date-no-recipient"),
])
def test_report_sentence_gives_only_the_dates_it_states(sentence: str, expect: list) -> None:
    got = [(d.name, d.deadline_text, d.to) for d in report_dates([sentence], 2026, None)]
    assert got == expect


MARKDOWN = """# 某局2026年政务公开任务分工

| 序号 | 具体要求 | 责任单位 | 完成时限 |
| --- | --- | --- | --- |
| 1 | 公开年度预算。 | 财务科 | 2026年3月31日前 |
| 2 | 更新公开目录。 | 办公室 | 长期 |

请各科室于7月5日前、次年1月5日前将半年和全年落实情况报送局办公室。
"""


def test_report_sentence_after_a_markdown_table(tmp_path: Path) -> None:
    source = tmp_path / "plan.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    tasks = read_tasks_csv(tmp_path / "plan" / "tasks.csv")
    assert [t.id for t in tasks] == ["1", "2"]
    assert all("报送" not in "".join(t.section) for t in tasks)
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    assert [(d["deadline"], d["to"]) for d in plan["dates"]] == [
        ("7月5日前", "局办公室"), ("次年1月5日前", "局办公室")]


@pytest.mark.parametrize(("text", "expect"), [
    pytest.param("做好公开。（责任单位：区教育局；完成时限：长期）", ("做好公开。", {"units": "区教育局", "deadline": "长期"}),
                 id="full-width"),
    pytest.param("做好公开(牵头单位:区民政局;配合单位:各镇（街）)",
                 ("做好公开", {"lead": "区民政局", "support": "各镇（街）"}), id="half-width-nested"),
    pytest.param("做好公开（时间：2026年底前）", ("做好公开", {"deadline": "2026年底前"}), id="time-label"),
    pytest.param("公开预算（含部门预算）", ("公开预算（含部门预算）", {}), id="ordinary-bracket"),
    pytest.param("公开（备注：按季度）", ("公开（备注：按季度）", {}), id="unknown-label"),
])
def test_split_labels(text: str, expect: tuple) -> None:
    assert split_labels(text) == expect


@pytest.mark.parametrize(("lines", "ids", "sections"), [
    pytest.param(["（一）甲事项（责任单位：办公室）", "（二）乙事项（责任单位：法规科）"],
                 ["", ""], [], id="paren-items-are-tasks"),
    pytest.param(["一、总体", "①甲事项", "（责任单位：办公室；时间：长期）", "②乙事项（责任单位：法规科）"],
                 ["", ""], [["一、总体"]], id="circled-items-under-a-section"),
    pytest.param(["1.甲事项", "继续说明。", "责任单位：办公室"], ["1"], [], id="label-line-without-brackets"),
])
def test_marker_kinds(lines: list[str], ids: list[str], sections: list) -> None:
    rows, _prose, _doubts = notice_rows(lines)
    tasks = [r for r in rows[1:] if len(r) > 1]
    assert [r[0] for r in tasks] == ids
    assert all(r[2] or r[4] for r in tasks)
    assert [r for r in rows[1:] if len(r) == 1] == sections


def test_prose_without_labels_is_no_notice() -> None:
    assert notice_rows(["1. 甲", "2. 乙", "请认真落实。"]) is None


DISTRICT = """某区2026年政务公开任务分工
1. 公开食品抽检结果。（责任单位：区市场监管局；完成时限：每季度）
2. 公开价格监督检查结果。（责任单位：市场监管局、区发展改革局；完成时限：2026年11月30日前）
3. 公开涉农补贴发放。（责任单位：区财政局、农业农村局等有关部门；完成时限：2026年12月20日前）
"""


def test_units_are_normalised_with_aliases(tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    source.write_text(DISTRICT, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    # one unit under its full name; several names without 牵头 words: the first leads
    assert (tasks["2"].lead, tasks["2"].support) == (("区市场监管局",), ("区发展改革局",))
    assert (tasks["3"].lead, tasks["3"].support) == (("区财政局",), ("农业农村局", "有关部门"))
    units = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))["units"]
    assert units["区市场监管局"]["aliases"] == ["市场监管局"]
    assert "市场监管局" not in units and "农业农村局等有关部门" not in units


def _html_layout(path: Path) -> Path:
    """A site that lays its page out in a table: the notice sits in one cell."""
    body = "".join(f"<p>{line}</p>" for line in NOTICE.splitlines())
    path.write_text(f"<html><body><table><tr><td>首页 &gt; 通知公告</td></tr><tr><td>{body}</td></tr>"
                    "</table></body></html>", encoding="utf-8")
    return path


def _docx_with_contacts(path: Path) -> Path:
    """A notice with a small table of contacts that is no task table."""
    document = docx.Document()
    for line in NOTICE.splitlines():
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table._cells, ["联系人", "电话", "张三", "010-00000000"], strict=True):
        cell.text = text
    document.save(path)
    return path


@pytest.mark.parametrize("write", [_html_layout, _docx_with_contacts], ids=["html-layout-table", "docx-contact-table"])
def test_notice_beside_a_table_that_is_no_task_table(write, tmp_path: Path) -> None:
    suffix = ".html" if write is _html_layout else ".docx"
    import_document(write(tmp_path / f"n{suffix}"), tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert {k: (t.lead, t.deadline_text) for k, t in tasks.items()} == {
        k: (lead, deadline) for k, (_, lead, _, deadline) in EXPECT.items()}


def _docx_auto_numbered(path: Path) -> Path:
    """Word's own list numbering: the "一、" and "1." are in the list definition, not the text."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>'
        "</w:abstractNum>"))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for line in NOTICE.splitlines():
        level = "0" if line[:2] in ("一、", "二、") else "1" if line[:1].isdigit() else None
        paragraph = document.add_paragraph(line[2:].strip() if level else line)
        if level is not None:
            paragraph._p.get_or_add_pPr().append(parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'))
    document.save(path)
    return path


def test_word_list_numbers_are_read(tmp_path: Path) -> None:
    import_document(_docx_auto_numbered(tmp_path / "n.docx"), tmp_path / "plan")
    tasks = read_tasks_csv(tmp_path / "plan" / "tasks.csv")
    assert [(t.lead, t.deadline_text) for t in tasks] == [
        (lead, deadline) for _, lead, _, deadline in EXPECT.values()]
    # Word restarts the second level under each 一、: 1. 2. / 1. 2., and the ids say so
    assert [t.id for t in tasks] == ["1", "2", "1-2", "2-2"]
    assert tasks[2].section == ("二、回应社会关切",)


# -- issue 23 §4: imports that dropped a unit or a title ------------------------------------

PASTED = """关于做好2026年法治宣传工作的通知
各科室：
1. 开展宪法宣传周活动。（责任单位：法规科，配合单位：各科室；完成时限：12月31日前）
2. 更新普法责任清单。（责任单位：法规科　配合单位：办公室、财务科　完成时限：6月30日前）
3. 组织旁听庭审。(责任单位:办公室 配合单位:法规科;完成时限:9月30日前)
"""


def test_a_labelled_responsible_unit_leads_beside_a_labelled_support(tmp_path: Path) -> None:
    """（责任单位：法规科，配合单位：各科室）imported with 牵头 empty: the plan chased 各科室
    alone. Whatever separates the parts (，；、 spaces, full or half width), 法规科 leads."""
    source = tmp_path / "notice.txt"
    source.write_text(PASTED, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert [(t.lead, t.support, t.deadline_text) for t in tasks.values()] == [
        (("法规科",), ("各科室",), "12月31日前"),
        (("法规科",), ("办公室", "财务科"), "6月30日前"),
        (("办公室",), ("法规科",), "9月30日前"),
    ]


def test_the_title_line_of_a_pasted_notice_is_the_plan_title(tmp_path: Path) -> None:
    source = tmp_path / "notice.txt"
    source.write_text(PASTED, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    assert plan["title"] == "关于做好2026年法治宣传工作的通知"


def test_a_label_line_that_follows_no_item_stops_the_import_naming_it(tmp_path: Path) -> None:
    """A 配合单位 line separated from its item by a line of prose belonged to no task: it went
    to the plan's context without a word, and the item lost its supporting units. It is named
    now, and the import stops for review (exit 3) unless accepted."""
    from reminder.errors import ImportDoubtful

    source = tmp_path / "notice.txt"
    source.write_text("""关于做好2026年法治宣传工作的通知
各科室：
1. 开展宪法宣传周活动。（责任单位：法规科；完成时限：12月31日前）
2. 更新普法责任清单。（牵头单位：法规科；完成时限：6月30日前）
请各科室高度重视，认真组织。
配合单位：办公室、财务科
3. 组织旁听庭审。（责任单位：办公室；完成时限：9月30日前）
""", encoding="utf-8")
    with pytest.raises(ImportDoubtful) as info:
        import_document(source, tmp_path / "plan")
    assert "“配合单位：办公室、财务科”没有紧跟在某项任务之后" in str(info.value)
    assert not (tmp_path / "plan").exists()
