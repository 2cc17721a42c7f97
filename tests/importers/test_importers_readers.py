"""Reader details: split Word tables, page encodings, layout tables, Excel dates and sheets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from reminder.importers import read_grid
from reminder.importers.html import decode
from reminder.importers.table import build_table

HEADER = ["序号", "具体要求", "责任单位", "完成时限"]


def test_docx_table_split_over_pages_with_repeated_header(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("某局2021年政务公开工作要点分工方案")
    for rows in ([HEADER, ["1", "完善制度", "办公室", "6月底前"]],
                 [HEADER, ["2", "更新专栏", "法规科", "长期"]]):
        table = document.add_table(rows=len(rows), cols=4)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
    document.save(tmp_path / "split.docx")
    table = build_table(read_grid(tmp_path / "split.docx"))
    assert [(t.id, t.lead, t.deadline_text) for t in table.tasks] == [
        ("1", ("办公室",), "6月底前"), ("2", ("法规科",), "长期")]
    assert table.title == "某局2021年政务公开工作要点分工方案"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('<meta charset="gb2312"><p>朱镕基</p>'.encode("gbk"), "朱镕基"),  # 镕 is GBK, not GB2312
        ('<meta http-equiv="Content-Type" content="text/html; charset=GBK"><p>政务</p>'.encode("gbk"), "政务"),
        ("<p>政务公开</p>".encode("gb18030"), "政务公开"),
        ('<meta charset="utf-8"><p>政务公开</p>'.encode(), "政务公开"),
        ('<meta charset="utf-8"><p>政务公开</p>'.encode("gbk"), "政务公开"),  # a page that lies
        ("\ufeff<p>政务公开</p>".encode(), "政务公开"),
    ],
    ids=["gb2312-label-gbk-bytes", "gbk-http-equiv", "no-meta-gb18030", "utf8", "utf8-label-gbk-bytes", "bom"],
)
def test_html_decoding(data: bytes, text: str) -> None:
    assert text in decode(data)


def test_html_layout_table_keeps_title_and_reads_the_inner_table(tmp_path: Path) -> None:
    page = (
        "<html><body><table><tr><td><h2>某局2021年政务公开工作要点分工方案</h2>"
        "<p>发布日期：2021-07-23</p><table>"
        "<tr><th>序号</th><th>具体要求</th><th>责任单位</th><th>完成时限</th></tr>"
        '<tr><td>1</td><td>完善制度</td><td rowspan="2">办公室牵头，各处室配合</td><td>6月底前</td></tr>'
        "<tr><td>2</td><td>更新专栏</td><td>长期</td></tr>"
        "</table></td></tr></table></body></html>"
    )
    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    table = build_table(read_grid(tmp_path / "p.html"))
    assert [(t.id, t.lead, t.support, t.deadline_text) for t in table.tasks] == [
        ("1", ("办公室",), ("各处室",), "6月底前"), ("2", ("办公室",), ("各处室",), "长期")]
    assert (table.title, str(table.issued)) == ("某局2021年政务公开工作要点分工方案", "2021-07-23")


def test_xlsx_dates_and_the_sheet_with_the_table(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表由办公室维护"])
    sheet = book.create_sheet("任务")
    sheet.append(HEADER)
    sheet.append([1, "完善制度", "办公室", datetime(2021, 12, 31)])
    sheet.append([2.0, "更新专栏", "法规科", "长期"])
    book.save(tmp_path / "t.xlsx")
    table = build_table(read_grid(tmp_path / "t.xlsx"))
    assert [(t.id, t.deadline_text) for t in table.tasks] == [("1", "2021年12月31日"), ("2", "长期")]


def test_csv_with_bom_and_tabs(tmp_path: Path) -> None:
    text = "\t".join(HEADER) + "\n1\t完善制度\t办公室\t6月底前\n2\t更新专栏\t\t长期\n"
    (tmp_path / "t.csv").write_bytes("\ufeff".encode() + text.encode())
    table = build_table(read_grid(tmp_path / "t.csv"))
    assert [(t.id, t.lead) for t in table.tasks] == [("1", ("办公室",)), ("2", ("办公室",))]


def test_docx_grid_before_keeps_columns_aligned(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    table = document.add_table(rows=2, cols=4)
    for c, text in enumerate(HEADER):
        table.cell(0, c).text = text
    row = table.rows[1]._tr
    row.remove(row.tc_lst[0])  # the first column of this row is skipped with gridBefore
    row.insert(0, parse_xml(f'<w:trPr {nsdecls("w")}><w:gridBefore w:val="1"/></w:trPr>'))
    for tc, text in zip(row.tc_lst, ["完善制度", "办公室", "6月底前"], strict=True):
        tc.xpath("./w:p")[0].append(parse_xml(f'<w:r {nsdecls("w")}><w:t>{text}</w:t></w:r>'))
    document.save(tmp_path / "g.docx")
    grid = read_grid(tmp_path / "g.docx")
    assert grid.rows[1] == ["", "完善制度", "办公室", "6月底前"]


def test_scraped_text_is_shifted_back_only_when_the_page_shows_the_shift(tmp_path: Path) -> None:
    header = "工作任务 具体要求 责任处室 完成时限\n"
    shifted = header + "".join(
        f"（一）任务、/td> {i}.做好第{i}项工作、/td> 办公宣/td> 2021年底\n" for i in range(1, 5))
    plain = header + "".join(
        f"（一）任务。/td> {i}.做好第{i}项工作。/td> 办公室/td> 2021年底\n" for i in range(1, 5))
    (tmp_path / "shifted.txt").write_text(shifted, encoding="utf-8")
    (tmp_path / "plain.txt").write_text(plain, encoding="utf-8")
    for name in ("shifted", "plain"):
        grid = read_grid(tmp_path / f"{name}.txt")
        cells = [c for row in grid.rows for c in row]
        assert "办公室" in cells, name
        assert "做好第1项工作。" in [c.removeprefix("1.") for c in cells], name
