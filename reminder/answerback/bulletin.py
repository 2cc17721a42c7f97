"""The 督查情况通报: a DRAFT .docx a person edits and signs off, in the form offices circulate.

Title, period, overall figures, the charts, a table with a row per unit, the units with
overdue items named with their items, the tasks completed and a closing paragraph to edit.
Every figure comes from the same ``Stats`` as `reminder stats` (answerback/stats.py).

A4 portrait with the 公文 margins (GB/T 9704: 37 mm top, 28 mm left); body 仿宋_GB2312 三号,
headings 黑体. A font name alone is not enough for Chinese text: Word picks the East Asian
font from ``w:rFonts/@w:eastAsia``, and the default template's theme fonts would win over
it, so both are set in the XML. The font table names 仿宋 as 仿宋_GB2312's alternative, which
Word uses where only the newer 仿宋 is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from reminder.answerback.stats import COLUMNS, Item, PlanStats, Stats, cells
from reminder.plan.wording import span_text

if TYPE_CHECKING:
    from docx.document import Document

BODY_FONT, BODY_FALLBACK, HEADING_FONT = "仿宋_GB2312", "仿宋", "黑体"
BODY_PT, TITLE_PT, TABLE_PT = 16, 22, 9  # 三号, 二号, 小五
# Column widths of the unit table (mm), in COLUMNS order: 156 mm, the A4 text width.
WIDTHS_MM = (10, 26, 11, 12, 12, 12, 12, 11, 16, 12, 10, 12)
DRAFT_MARK = "（草稿，请核改后印发）"
CLOSING = ("请逾期单位对照上述事项，说明未按期完成的原因，明确完成时限，于　月　日前将整改情况"
           "书面报送督查室；请各单位进一步压实责任，按时保质完成各项任务。（此段请督查室根据实际修改）")


def bulletin_title(stats: Stats) -> str:
    return f"关于{stats.period.label}重点工作督查情况的通报"


def cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def write_bulletin(stats: Stats, target: Path | IO[bytes], *, office: str = "",
                   charts: bool = True) -> None:
    import docx

    doc = docx.Document()
    _page(doc)
    _styles(doc)
    _heading(doc, bulletin_title(stats), level=0)
    draft = doc.add_paragraph(DRAFT_MARK)
    draft.alignment = 1
    period = stats.period
    doc.add_paragraph(
        f"统计期为{period.label}（{span_text(period.start, period.end)}），"
        f"统计截至{cn_day(stats.today)}。按时完成率＝按时完成项数÷（按时完成＋逾期完成＋当前逾期）；"
        "在原定时限前获批延期的事项按批准的时限计算，其余按原定时限计算。")
    for plan in stats.plans:
        if len(stats.plans) > 1:
            _heading(doc, f"《{plan.title or plan.plan}》", level=1)
        _section(doc, plan, stats, charts=charts)
    _heading(doc, "五、下一步工作" if len(stats.plans) == 1 else "下一步工作", level=1)
    doc.add_paragraph(CLOSING)
    for line in (office, cn_day(stats.today)):
        if line:
            sign = doc.add_paragraph(line)
            sign.alignment = 2
    doc.core_properties.title = bulletin_title(stats)
    doc.core_properties.comments = "草稿"
    doc.save(target)  # type: ignore[arg-type]


def overall_text(plan: PlanStats) -> str:
    t = plan.total
    return (f"《{plan.title or plan.plan}》本期到期任务{t.tasks}项，按时完成{t.on_time}项，"
            f"逾期完成{t.late}项，当前逾期{t.overdue}项（累计逾期{t.days_overdue}天），"
            f"尚未到期{t.pending}项，按时完成率{t.rate_text}；本期共发送提醒{t.reminders}次"
            + (f"，获批延期{t.extensions}项" if t.extensions else "")
            + (f"，尚未签收{t.unsigned}项" if t.unsigned else "") + "。")


def _section(doc: Document, plan: PlanStats, stats: Stats, *, charts: bool) -> None:
    _heading(doc, "一、总体情况", level=2)
    doc.add_paragraph(overall_text(plan))
    if charts:
        _charts(doc, plan)
    _heading(doc, "二、各单位完成情况", level=2)
    doc.add_paragraph("各单位按按时完成率排名，完成率相同时当前逾期项数少者在前：")
    _table(doc, [*plan.units, plan.total])
    _heading(doc, "三、逾期未完成情况", level=2)
    overdue = [i for i in plan.items if i.state == "overdue"]
    if not overdue:
        doc.add_paragraph(f"截至{cn_day(stats.today)}，本期到期任务均已完成，无逾期事项。")
    else:
        doc.add_paragraph(f"截至{cn_day(stats.today)}，{named_overdue(plan)}仍有逾期事项未完成：")
        for item in sorted(overdue, key=lambda i: (-i.days_overdue, i.unit, i.due)):
            doc.add_paragraph(f"{item.unit}：{_task(item)}，应于{cn_day(item.deadline)}前完成"
                              + ("（已获批延期）" if item.judged else "") + "，"
                              f"已逾期{item.days_overdue}天。")
    _heading(doc, "四、已完成任务", level=2)
    finished = [i for i in plan.items if i.state in ("on_time", "late")]
    if not finished:
        doc.add_paragraph("本期暂无已完成的任务。")
    for item in sorted(finished, key=lambda i: (i.done_on or i.due, i.task)):
        late = "" if item.state == "on_time" else f"，逾期{item.days_overdue}天"
        assert item.done_on is not None
        doc.add_paragraph(f"{item.unit}：{_task(item)}，{cn_day(item.done_on)}完成"
                          f"（时限{cn_day(item.due)}{late}）。")


def named_overdue(plan: PlanStats) -> str:
    """The units with overdue items, the most first: ``办公室（2项）、财务科（1项）``."""
    units = sorted((u for u in plan.units if u.overdue), key=lambda u: (-u.overdue, -u.days_overdue))
    return "、".join(f"{u.unit}（{u.overdue}项）" for u in units)


def _task(item: Item) -> str:
    title = item.title.rstrip("。；;. ")
    title = title if len(title) <= 40 else title[:39] + "…"
    return f"第{item.task}项任务“{title}”"


def _charts(doc: Document, plan: PlanStats) -> None:
    import io

    from docx.shared import Cm

    from reminder.answerback.charts import rate_chart, to_png, trend_chart

    for chart in (rate_chart(plan), trend_chart(plan)):
        picture = doc.add_paragraph()
        picture.alignment = 1
        # The body's fixed 28-point lines would crop the picture to one line's height.
        picture.paragraph_format.line_spacing = 1.0
        picture.paragraph_format.first_line_indent = 0
        picture.add_run().add_picture(io.BytesIO(to_png(chart)), width=Cm(15))
        caption = doc.add_paragraph(f"图：{chart.title}（{chart.summary}）")
        caption.alignment = 1
        caption.paragraph_format.first_line_indent = 0
        caption.paragraph_format.line_spacing = 1.0
        caption.paragraph_format.space_after = _pt(6)
        for run in caption.runs:
            run.font.size = _pt(TABLE_PT)


def _table(doc: Document, rows: Sequence[Any]) -> None:
    from docx.shared import Mm

    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    table.alignment = 1
    table.autofit = False
    for column, width in zip(table.columns, WIDTHS_MM, strict=True):
        column.width = Mm(width)
    for cell, (_, header) in zip(table.rows[0].cells, COLUMNS, strict=True):
        _cell(cell, header, font=HEADING_FONT)
    _repeat_header(table.rows[0])
    for row in rows:
        for cell, value in zip(table.add_row().cells, cells(row), strict=True):
            _cell(cell, value, font=BODY_FONT)
    for row in table.rows:  # Word reads the cells' widths, LibreOffice the columns'
        for cell, width in zip(row.cells, WIDTHS_MM, strict=True):
            cell.width = Mm(width)


def _cell(cell: Any, text: str, *, font: str) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = 1
    paragraph.paragraph_format.first_line_indent = 0
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.paragraph_format.space_after = 0
    run = paragraph.add_run(text)
    run.font.size = _pt(TABLE_PT)
    _east_asian(run._element.get_or_add_rPr(), font)


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(header)


def _pt(value: float) -> Any:
    from docx.shared import Pt

    return Pt(value)


def _page(doc: Document) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)


def _east_asian(rpr: Any, font: str) -> None:
    """Name ``font`` for every script, East Asian included, and drop the theme fonts that
    would otherwise take precedence."""
    from docx.oxml.ns import qn

    fonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), font)


def _styles(doc: Document) -> None:
    from docx.shared import Pt, RGBColor

    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _east_asian(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.paragraph_format.first_line_indent = Pt(BODY_PT * 2)  # two characters
    normal.paragraph_format.line_spacing = Pt(28)  # the 公文's fixed 28-point lines
    normal.paragraph_format.space_after = 0
    for name, size in (("Title", TITLE_PT), ("Heading 1", BODY_PT), ("Heading 2", BODY_PT)):
        style = doc.styles[name]
        style.font.size = Pt(size)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        _east_asian(style.element.get_or_add_rPr(), HEADING_FONT)
        style.paragraph_format.space_before = Pt(6 if name != "Title" else 0)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.first_line_indent = 0 if name == "Title" else Pt(BODY_PT * 2)
        if name == "Title":
            style.paragraph_format.alignment = 1
            # The default Title draws a blue rule under itself.
            ppr = style.element.get_or_add_pPr()
            for border in ppr.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr"):
                ppr.remove(border)
    _font_table(doc)


def _font_table(doc: Document) -> None:
    """Declare 仿宋_GB2312 (GB2312 charset) with 仿宋 as its alternative name, and 黑体."""
    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    part = next((p for p in doc.part.package.iter_parts()
                 if str(p.partname) == "/word/fontTable.xml"), None)
    if part is None:
        return
    root = etree.fromstring(part.blob)
    for name, alt, family in ((BODY_FONT, BODY_FALLBACK, "modern"), (HEADING_FONT, "SimHei", "modern")):
        if root.find(f"{{{w}}}font[@{{{w}}}name='{name}']") is not None:
            continue
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
        etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": alt})
        etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": family})
        etree.SubElement(font, f"{{{w}}}pitch", {f"{{{w}}}val": "fixed"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _heading(doc: Document, text: str, *, level: int) -> None:
    style = {0: "Title", 1: "Heading 1", 2: "Heading 2"}[level]
    doc.add_paragraph(text, style=style)
