"""Text copied from an online document reader that showed a Word table (pagetext.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminder.errors import ImportDoubtful
from reminder.importers import import_document
from reminder.importers.pagetext import looks_like_reader_text, strip_chrome
from reminder.importers.writer import read_tasks_csv
from reminder.parse.units import org_grammar

# Written for this test after the shape such sites give: chrome lines, page fragments numbered
# "N、", the header words again at each page break, cells run together, units as bare names.
DUMP = """某市2021年法治政府建设重点任务分解表.docx
文档编号：80001 上传时间：2021-10-12 格式：DOCX 页数：3 大小：31KB
《某市2021年法治政府建设重点任务分解表.docx》由会员分享，可在线阅读，更多相关请在本站上搜索。
某市2021年法治政府建设重点任务分解表
1、序号工作任务具体措施责任单位1一、深化放管服改革1 .全面清理行政许可事项，于2021年9月底前公布保留事项清单。2 .推行证明事项告知承诺制，年内
第1页 / 共3页
2、序号工作任务具体措施责任单位实现高频事项全覆盖。市司法局市政府各部门、各区县政府2二、规范重大行政决策3 .修订重大行政决策程序规定，2021年10月底前报市政府审议。4 .建立决策后评估制度。市政府办公厅市司法局5 .公开年度重大行政决策事项目录，于2021年6月30日前完成。
第2页 / 共3页
3、序号工作任务具体措施责任单位市发展改革委各区县政府3三、加强行政执法监督6 .推行行政执法公示制度，2021年12月底前完成执法信息平台对接。市司法局市市场监管局、各区县政府
第3页 / 共3页
展开阅读全文
ICP备案号：某ICP备00000000号-1 某公网安备 00000000000000号
"""

EXPECT = {  # id: (title start, lead, support, deadline found in the measure)
    "1": ("全面清理行政许可事项", "市司法局", ("市政府各部门", "各区县政府"), "2021年9月底前"),
    "2": ("推行证明事项告知承诺制，年内实现高频事项全覆盖", "市司法局", ("市政府各部门", "各区县政府"), ""),
    "3": ("修订重大行政决策程序规定", "市政府办公厅", ("市司法局",), "2021年10月底前"),
    "4": ("建立决策后评估制度", "市政府办公厅", ("市司法局",), ""),
    "5": ("公开年度重大行政决策事项目录", "市发展改革委", ("各区县政府",), "2021年6月30日前"),
    "6": ("推行行政执法公示制度", "市司法局", ("市市场监管局", "各区县政府"), "2021年12月底前"),
}


def test_reader_dump_imports_as_measures_with_units_and_deadlines(tmp_path: Path) -> None:
    source = tmp_path / "dump.txt"
    source.write_text(DUMP, encoding="utf-8")
    report = import_document(source, tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert list(tasks) == list(EXPECT)
    for task_id, (title, lead, support, deadline) in EXPECT.items():
        task = tasks[task_id]
        assert task.title.startswith(title), task.title
        assert (task.lead, task.support) == ((lead,), support)
        assert deadline in task.deadline_text
        assert not any(w in task.title for w in ("第1页", "序号", "展开", "ICP", "公网安备"))
    assert tasks["3"].section == ("二、规范重大行政决策",)
    assert report.year == 2021 and report.title == "某市2021年法治政府建设重点任务分解表"
    assert report.confidence.from_text == 6 and report.confidence.with_unit == 6


def test_footer_and_file_lines_are_chrome() -> None:
    lines = strip_chrome(DUMP.splitlines())
    assert lines[0] == "某市2021年法治政府建设重点任务分解表"
    assert not any("ICP" in line or line[-1:] == "页" or line.endswith(".docx") for line in lines)
    assert lines[1].startswith("序号工作任务")  # the fragment number "1、" is gone
    assert looks_like_reader_text(DUMP.splitlines())


def test_measures_without_recognisable_units_exit_3(tmp_path: Path) -> None:
    """OCR turned every unit name into something no grammar reads: say so, do not invent."""
    garbled = DUMP.replace("市司法局市政府各部门、各区县政府", "巿司法咼巿政府各部冂") \
                  .replace("市政府办公厅市司法局", "巿政府办公斤") \
                  .replace("市发展改革委各区县政府", "巿发展攺革娄") \
                  .replace("市司法局市市场监管局、各区县政府", "巿司法咼")
    source = tmp_path / "dump.txt"
    source.write_text(garbled, encoding="utf-8")
    with pytest.raises(ImportDoubtful) as caught:
        import_document(source, tmp_path / "plan")
    assert "没有认出责任单位" in str(caught.value) or "识别出责任单位" in str(caught.value)
    assert not (tmp_path / "plan").exists()


def test_running_text_without_numbered_measures_exits_3(tmp_path: Path) -> None:
    lines = ["第1页 / 共2页", "各单位要按要求抓好落实，不再逐条列出。", "第2页 / 共2页"]
    text = "\n".join([*DUMP.splitlines()[:3], *lines])
    source = tmp_path / "dump.txt"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(ImportDoubtful, match="找不到编号措施"):
        import_document(source, tmp_path / "plan")


@pytest.mark.parametrize(("text", "names"), [
    pytest.param("市司法局市政府各部门、各区县政府2二、", ("市司法局", "市政府各部门", "各区县政府"), id="run-together"),
    pytest.param("市政务服务数据管理局市市场监管局", ("市政务服务数据管理局", "市市场监管局"), id="long-bodies"),
    pytest.param("乡镇人民政府、县区政府", ("乡镇人民政府", "县区政府"), id="levels"),
    pytest.param("市政府有关部门", ("市政府有关部门",), id="collective"),
    pytest.param("巿司法咼", (), id="ocr-noise"),
    pytest.param("推进依法行政", (), id="prose"),
])
def test_unit_grammar(text: str, names: tuple[str, ...]) -> None:
    assert org_grammar().leading_names(text)[0] == names
