"""Plan facts found in the prose around the table (reminder/importers/meta.py)."""

from datetime import date
from pathlib import Path

import pytest

from reminder.importers import import_document
from reminder.importers.meta import report_dates


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        pytest.param(
            "请于今年10月10日前及2022年1月5日前，向局政府公开办（局办公室）报送第三、第四季度各项目的推进落实情况。",
            [("第三季度进展报送", "今年10月10日前", "局政府公开办"),
             ("第四季度进展报送", "2022年1月5日前", "局政府公开办")],
            id="two-quarters-to-an-office"),
        pytest.param("各处室于12月20日前报送全年工作总结。",
                     [("报送（12月20日前）", "12月20日前", "")], id="one-date-no-office"),
        pytest.param("广州市司法局 2021年7月19日", [], id="a-signature-date-is-no-report"),
        pytest.param("要建立工作台账，及时报送工作开展情况。", [], id="report-without-a-date"),
    ],
)
def test_report_dates(sentence: str, expected: list[tuple[str, str, str]]) -> None:
    found = report_dates([sentence], 2021, date(2021, 7, 23))
    assert [(d.name, d.deadline_text, d.to) for d in found] == expected
    assert all(d.units == () for d in found)  # every unit of the plan reports


def test_word_plan_with_report_paragraph_after_the_table(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_paragraph("示例局2021年政务公开工作要点分工方案")
    table = doc.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("具体要求", "责任处室", "完成时限"), strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("1.主动公开规划纲要。", "综合处", "2021年底"), strict=True):
        cell.text = text
    doc.add_paragraph("请于今年10月10日前及2022年1月5日前，向局政务公开办报送第三、第四季度推进落实情况。")
    source = tmp_path / "plan.docx"
    doc.save(source)
    import_document(source, tmp_path / "out")

    from reminder.plan.folder import load_plan
    from reminder.plan.planner import plan_notices, plan_window

    plan = load_plan(tmp_path / "out")
    assert [(d.name, d.deadline_text, d.to) for d in plan.dates] == [
        ("第三季度进展报送", "今年10月10日前", "局政务公开办"),
        ("第四季度进展报送", "2022年1月5日前", "局政务公开办")]
    start, end = plan_window([plan])
    reports = {n.due for n in plan_notices([plan], start=start, end=end) if n.stage == "report"}
    assert reports == {date(2021, 10, 9), date(2022, 1, 5)}  # 10-10 is a Sunday


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(["某某局", "二〇二一年七月十九日"], date(2021, 7, 19), id="chinese-numerals"),
        pytest.param(["二○二二年十二月三十一日"], date(2022, 12, 31), id="circle-zero"),
        pytest.param(["2021年7月19日"], date(2021, 7, 19), id="arabic"),
        pytest.param(["发布日期：2021-07-23", "2021年7月19日"], date(2021, 7, 23), id="label-wins"),
        pytest.param(["二〇二一年二月三十日"], None, id="no-such-day"),
    ],
)
def test_issue_date_under_the_letter(lines: list[str], expected: date | None) -> None:
    from reminder.importers.meta import detect_issued

    assert detect_issued(lines) == expected
