"""Hostile files (issue 20, items 13-15): small files that expand into gigabytes of work,
XML that declares a DTD where the old head-only check did not look, and CSV encodings told
by their BOM.

Every bomb is imported by a real `reminder import` process under a timeout and an address
space limit, so a regression fails here in seconds instead of taking the machine.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from test_importers_common import CONGHUA, write_docx, write_xlsx

from reminder.errors import ImportFailed
from reminder.importers import import_document, read_grid
from reminder.importers.writer import read_tasks_csv

# The ceiling the test puts on the importing process: a bomb that is not bounded by the
# importer dies here (MemoryError, exit 1 with a traceback) instead of swapping.
TEST_AS_LIMIT = 3 * 1024**3
TEST_TIMEOUT = 60


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (TEST_AS_LIMIT, TEST_AS_LIMIT))


def _import_cli(source: Path, out: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "reminder", "import", str(source), "-o", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=TEST_TIMEOUT, preexec_fn=_limit_memory,
    )
    return result, time.monotonic() - started


def _assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("错误："), result.stderr[-2000:]
    for word in words:
        assert word in result.stderr, result.stderr


def _rewrite(source: Path, target: Path, member: str, edit) -> Path:
    """A copy of the zip ``source`` with ``member`` replaced by ``edit(old bytes)``; ``edit``
    may return bytes, or an iterable of byte chunks streamed into the member (for parts too
    large to hold in memory)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename != member:
                dst.writestr(item, data)
                continue
            new = edit(data)
            if isinstance(new, bytes):
                dst.writestr(item.filename, new)
            else:
                with dst.open(item.filename, "w", force_zip64=True) as part:
                    for chunk in new:
                        part.write(chunk)
    return target


# -- 13. bombs --------------------------------------------------------------------------------


def _add_merge(xml: bytes, ref: str) -> bytes:
    if b"<mergeCells" in xml:
        return re.sub(rb"(<mergeCells[^>]*>)", rb'\1<mergeCell ref="%s"/>' % ref.encode(), xml, count=1)
    return xml.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="%s"/>'
                       b"</mergeCells>" % ref.encode(), 1)


def test_xlsx_merged_range_to_the_end_of_the_sheet_is_clipped(tmp_path: Path) -> None:
    """5.6 KB: a merged range A30:XFD1048576 made openpyxl build 17 billion MergedCells
    (11.6 GB, 5 min 29 s, then MemoryError). Clipped to the used area it costs nothing."""
    source = write_xlsx(CONGHUA, tmp_path / "ok.xlsx")
    bomb = _rewrite(source, tmp_path / "merge-bomb.xlsx", "xl/worksheets/sheet1.xml",
                    lambda xml: _add_merge(xml, "A30:XFD1048576"))
    assert b"A30:XFD1048576" in zipfile.ZipFile(bomb).read("xl/worksheets/sheet1.xml")
    assert bomb.stat().st_size < 10_000
    result, seconds = _import_cli(bomb, tmp_path / "plan")
    assert result.returncode == 0, result.stderr[-2000:]
    assert seconds < 30
    assert len(read_tasks_csv(tmp_path / "plan" / "tasks.csv")) == CONGHUA.tasks


def test_xlsx_merge_past_the_data_fills_the_used_area_only(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["标题"])
    book.active.append(["a", "b", "c"])
    book.active.append(["d"])
    book.save(tmp_path / "wide.xlsx")
    # openpyxl would itself build the 17 billion cells to merge them: the merge is written by hand.
    source = _rewrite(tmp_path / "wide.xlsx", tmp_path / "w.xlsx", "xl/worksheets/sheet1.xml",
                      lambda xml: _add_merge(xml, "A1:XFD1"))
    rows = read_grid(source).rows
    assert rows[0] == ["标题"] * 3  # clipped to the widest row of data
    assert rows[1][:3] == ["a", "b", "c"] and rows[2][:1] == ["d"]


def _docx_paragraphs(tmp_path: Path, megabytes: int) -> Path:
    source = write_docx(CONGHUA, tmp_path / "ok.docx")
    paragraph = "<w:p><w:r><w:t>请各单位按时报送落实情况。</w:t></w:r></w:p>".encode()
    block = paragraph * (1024 * 1024 // len(paragraph))

    def edit(xml: bytes):
        head, tail = xml.split(b"<w:sectPr", 1)
        yield head
        for _ in range(megabytes):
            yield block
        yield b"<w:sectPr" + tail

    return _rewrite(source, tmp_path / "paragraph-bomb.docx", "word/document.xml", edit)


def test_docx_of_hundreds_of_megabytes_of_paragraphs_is_refused(tmp_path: Path) -> None:
    """Issue: 1.2 MB expanding to 390 MB of paragraphs took 4 min 32 s at 6.3 GB and exited 0."""
    bomb = _docx_paragraphs(tmp_path, 300)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    result, seconds = _import_cli(bomb, tmp_path / "plan")
    _assert_refused(result, "上限")
    assert seconds < 30
    assert not (tmp_path / "plan").exists()


def _xlsx_styled_rows(tmp_path: Path, rows: int) -> Path:
    import openpyxl
    from openpyxl.styles import Border, Side

    source = write_xlsx(CONGHUA, tmp_path / "ok.xlsx")
    book = openpyxl.load_workbook(source)
    thin = Side(style="thin")
    book.active["A1"].border = Border(left=thin, right=thin, top=thin, bottom=thin)
    book.save(source)
    style = next(s for s in (b' s="1"', b' s="2"') if s in zipfile.ZipFile(source).read(
        "xl/worksheets/sheet1.xml"))

    def edit(xml: bytes):
        head, tail = xml.split(b"</sheetData>", 1)
        yield head
        start = 100
        for first in range(start, start + rows, 10_000):
            yield b"".join(
                b'<row r="%d"%s customFormat="1"><c r="A%d"%s/><c r="B%d"%s/></row>'
                % (r, style, r, style, r, style) for r in range(first, min(first + 10_000, start + rows)))
        yield b"</sheetData>" + tail

    return _rewrite(source, tmp_path / "rows-bomb.xlsx", "xl/worksheets/sheet1.xml", edit)


def test_xlsx_of_a_million_styled_empty_rows_is_refused(tmp_path: Path) -> None:
    """Issue: 2 min 24 s at 3.3 GB."""
    bomb = _xlsx_styled_rows(tmp_path, 1_000_000)
    result, seconds = _import_cli(bomb, tmp_path / "plan")
    _assert_refused(result, "上限")
    assert seconds < 30
    assert not (tmp_path / "plan").exists()


def _grid_in_child(source: Path) -> subprocess.CompletedProcess[str]:
    """read_grid in a process of its own, under the same limits: what it prints is the widest
    row, or the one line it failed with."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from reminder.errors import ReminderError\n"
        "from reminder.importers import read_grid\n"
        "try:\n"
        "    grid = read_grid(Path(sys.argv[1]))\n"
        "except ReminderError as err:\n"
        "    print('refused', err)\n"
        "else:\n"
        "    print('width', max(len(r) for r in grid.rows))\n"
    )
    return subprocess.run([sys.executable, "-c", code, str(source)], capture_output=True, text=True,
                          timeout=TEST_TIMEOUT, preexec_fn=_limit_memory)


@pytest.mark.parametrize(("attribute", "value"), [
    ("gridSpan", "1000000000"), ("gridSpan", "十"), ("gridBefore", "1000000000"), ("gridBefore", "-5"),
])
def test_docx_span_counts_are_clipped_or_ignored(attribute: str, value: str, tmp_path: Path) -> None:
    """A billion-wide gridSpan was a billion copies of the cell's text (MemoryError); a span
    that is not a number was a ValueError traceback."""
    source = write_docx(CONGHUA, tmp_path / "ok.docx")
    if attribute == "gridSpan":
        edit = lambda xml: xml.replace(b"<w:tcPr>", b'<w:tcPr><w:gridSpan w:val="%s"/>' % value.encode(), 1)  # noqa: E731
    else:
        edit = lambda xml: xml.replace(b"<w:tr>", b'<w:tr><w:trPr><w:gridBefore w:val="%s"/></w:trPr>'  # noqa: E731
                                       % value.encode(), 1)
    wide = _rewrite(source, tmp_path / "wide.docx", "word/document.xml", edit)
    assert f'w:{attribute} w:val="{value}"'.encode() in zipfile.ZipFile(wide).read("word/document.xml")
    result = _grid_in_child(wide)
    assert result.returncode == 0, result.stderr[-2000:]
    kind, width = result.stdout.split()
    assert kind == "width" and int(width) <= 64 + 3


def _paragraphs_docx(path: Path, count: int) -> Path:
    import docx

    document = docx.Document()
    for i in range(count):
        document.add_paragraph(f"第{i}段")
    document.save(path)
    return path


def test_paragraphs_past_the_cap_are_refused(tmp_path: Path, monkeypatch) -> None:
    from reminder.importers import safety

    monkeypatch.setattr(safety, "MAX_PARAGRAPHS", 50)
    with pytest.raises(ImportFailed, match="50 个段落的上限") as caught:
        read_grid(_paragraphs_docx(tmp_path / "long.docx", 51))
    assert caught.value.exit_code == 2
    assert read_grid(_paragraphs_docx(tmp_path / "ok.docx", 50)).context[-1] == "第49段"


def _sheet_with_rows(tmp_path: Path, rows: bytes) -> Path:
    import openpyxl

    openpyxl.Workbook().save(tmp_path / "blank.xlsx")
    return _rewrite(tmp_path / "blank.xlsx", tmp_path / "sheet.xlsx", "xl/worksheets/sheet1.xml",
                    lambda xml: re.sub(rb"<sheetData\s*/>|<sheetData>.*?</sheetData>",
                                       b"<sheetData>" + rows + b"</sheetData>", xml, flags=re.S))


def test_xlsx_with_one_cell_on_the_last_row_is_refused_at_the_row_cap(tmp_path: Path) -> None:
    """Eleven bytes of XML stand for 1,048,576 rows."""
    source = _sheet_with_rows(tmp_path, b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    assert source.stat().st_size < 10_000
    result, _ = _import_cli(source, tmp_path / "plan")
    _assert_refused(result, "100,000 行的上限")


def test_xlsx_cells_out_at_the_last_column_count_against_the_cell_cap(tmp_path: Path) -> None:
    cells = b"".join(b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r)
                     for r in range(1, 41))
    result, _ = _import_cli(_sheet_with_rows(tmp_path, cells), tmp_path / "plan")
    _assert_refused(result, "500,000 个单元格的上限")


def test_csv_past_the_row_cap_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "long.csv"
    source.write_bytes(b"a,b\n" * 100_001)
    with pytest.raises(ImportFailed, match="100,000 行的上限"):
        read_grid(source)


def test_html_spans_count_against_the_cell_cap(tmp_path: Path) -> None:
    """1,001 cells of colspan=500 in one row: 25 KB for half a million cells."""
    source = tmp_path / "wide.html"
    source.write_text("<html><body><table><tr>" + '<td colspan="500">x</td>' * 1001
                      + "</tr></table></body></html>", encoding="utf-8")
    assert source.stat().st_size < 30_000
    with pytest.raises(ImportFailed, match="500,000 个单元格的上限"):
        read_grid(source)


# -- 13. the ceiling under the caps --------------------------------------------------------


def _csv(tmp_path: Path) -> Path:
    source = tmp_path / "plan.csv"
    source.write_text("具体要求,责任单位,完成时限\n1.做好工作,办公室,长期\n", encoding="utf-8")
    return source


def test_a_reader_that_outgrows_the_memory_ceiling_is_one_line(tmp_path: Path, monkeypatch) -> None:
    from reminder.importers import csv as csv_reader
    from reminder.importers import safety

    monkeypatch.setattr(safety, "MEMORY_BUDGET", 256 * 1024 * 1024)
    monkeypatch.setattr(csv_reader.CsvImporter, "read", lambda self, path, data: [bytearray(1024**3)])
    with pytest.raises(ImportFailed, match="内存超过上限（256 MB）") as caught:
        read_grid(_csv(tmp_path))
    assert str(_csv(tmp_path)) in str(caught.value)


def test_a_reader_that_spins_is_stopped_at_the_cpu_limit(tmp_path: Path, monkeypatch) -> None:
    from reminder.importers import csv as csv_reader
    from reminder.importers import safety

    def spin(self, path, data):
        while True:
            pass

    monkeypatch.setattr(safety, "CPU_SECONDS", 1)
    monkeypatch.setattr(csv_reader.CsvImporter, "read", spin)
    started = time.monotonic()
    with pytest.raises(ImportFailed, match="时间上限"):
        read_grid(_csv(tmp_path))
    assert time.monotonic() - started < 20


def test_a_bug_in_a_reader_still_shows_as_a_bug(tmp_path: Path, monkeypatch) -> None:
    from reminder.importers import csv as csv_reader

    monkeypatch.setattr(csv_reader.CsvImporter, "read", lambda self, path, data: 1 / 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        read_grid(_csv(tmp_path))


def test_the_reader_runs_in_a_child_and_its_grid_comes_back(tmp_path: Path, monkeypatch) -> None:
    import os

    from reminder.importers import csv as csv_reader
    from reminder.importers.table import Grid

    monkeypatch.setattr(csv_reader.CsvImporter, "read", lambda self, path, data: Grid(rows=[[str(os.getpid())]]))
    assert read_grid(_csv(tmp_path)).rows != [[str(os.getpid())]]


# -- 14. DTDs anywhere in any part --------------------------------------------------------------

COMMENT = b"<!-- " + b"x" * 5000 + b" -->"  # the old check read only the first 4 KB of a part
ATTACKS = {
    "doctype": b"<!DOCTYPE d>",
    "external entity": b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>',
    "billion laughs": b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                      + b"".join(b'<!ENTITY %s "%s">' % (bytes([c + 1]), b"&%s;" % bytes([c]) * 10)
                                 for c in range(ord("a"), ord("i")))
                      + b"]>",
}
# The entity each attack makes a parser expand, written into the part's first text.
USE = {"doctype": b"", "external entity": b"&xxe;", "billion laughs": b"&i;"}
PARTS = {
    "docx": ("word/document.xml", b"<w:t>", write_docx),
    "xlsx sheet": ("xl/worksheets/sheet1.xml", b"<t>", write_xlsx),
    "xlsx strings": ("xl/sharedStrings.xml", b"<t>", lambda spec, path: _shared_strings(write_xlsx(spec, path))),
}


def _shared_strings(path: Path) -> Path:
    """The workbook as Excel writes it: cell texts in xl/sharedStrings.xml (openpyxl writes
    them inline)."""
    strings: list[bytes] = []

    def share(match: re.Match[bytes]) -> bytes:
        strings.append(match.group(2))
        return b'<c r="%s" t="s"><v>%d</v></c>' % (match.group(1), len(strings) - 1)

    with zipfile.ZipFile(path) as src:
        parts = {item.filename: src.read(item) for item in src.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'<c r="(\w+)" t="inlineStr"><is><t>(.*?)</t></is></c>', share, parts[sheet])
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d">' % len(strings)
        + b"".join(b"<si><t>%s</t></si>" % text for text in strings) + b"</sst>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    return path


def test_the_shared_strings_workbook_imports(tmp_path: Path) -> None:
    source = _shared_strings(write_xlsx(CONGHUA, tmp_path / "s.xlsx"))
    assert b"inlineStr" not in zipfile.ZipFile(source).read("xl/worksheets/sheet1.xml")
    assert import_document(source, tmp_path / "plan").tasks == CONGHUA.tasks


def _declare(xml: bytes, attack: str, text_tag: bytes) -> bytes:
    """The attack's DTD after the XML declaration and a 5 KB comment, its entity in a cell."""
    declaration, rest = xml.split(b"?>", 1) if xml.startswith(b"<?xml") else (b"", xml)
    rest = rest.replace(text_tag, text_tag + USE[attack], 1)
    return (declaration + b"?>" if declaration else b"") + COMMENT + ATTACKS[attack] + rest


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("part", list(PARTS))
def test_a_dtd_after_a_long_comment_is_refused(part: str, attack: str, tmp_path: Path) -> None:
    """Before: the .docx XXE imported with exit 0 and one task fewer (the entity's cell lost),
    the .xlsx ones exited 1 with tracebacks (undefined entity, amplification limit)."""
    member, text_tag, write = PARTS[part]
    source = write(CONGHUA, tmp_path / f"ok.{part[:4]}")
    evil = _rewrite(source, tmp_path / f"evil.{part[:4]}", member,
                    lambda xml: _declare(xml, attack, text_tag))
    assert ATTACKS[attack] in zipfile.ZipFile(evil).read(member)
    result, _ = _import_cli(evil, tmp_path / "plan")
    _assert_refused(result, "DOCTYPE", member)
    assert not (tmp_path / "plan").exists()


def xml_declares(head: bytes) -> bool:
    """The old check."""
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


def test_a_dtd_in_a_utf16_part_is_refused(tmp_path: Path) -> None:
    source = write_xlsx(CONGHUA, tmp_path / "ok.xlsx")
    evil = _rewrite(source, tmp_path / "evil.xlsx", "xl/workbook.xml", lambda xml: (
        b'<?xml version="1.0" encoding="UTF-16"?>' + COMMENT + ATTACKS["external entity"] + xml
    ).decode("utf-8").encode("utf-16"))
    assert not xml_declares(zipfile.ZipFile(evil).read("xl/workbook.xml")[:4096])
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        import_document(evil, tmp_path / "plan")


def test_a_dtd_in_a_part_that_is_not_well_formed_is_refused(tmp_path: Path) -> None:
    """A part lxml cannot parse is searched for the declaration instead."""
    source = write_docx(CONGHUA, tmp_path / "ok.docx")
    with zipfile.ZipFile(source, "a") as archive:
        archive.writestr("word/vmlDrawing1.vml", b"<xml><br>" + COMMENT * 20 + ATTACKS["doctype"])
    with pytest.raises(ImportFailed, match="DOCTYPE") as caught:
        import_document(source, tmp_path / "plan")
    assert caught.value.place == "word/vmlDrawing1.vml"


def test_a_part_that_is_not_well_formed_but_declares_nothing_is_left_to_the_reader(tmp_path: Path) -> None:
    """Excel writes VML drawings (cell comments) that are not well-formed XML."""
    source = write_xlsx(CONGHUA, tmp_path / "ok.xlsx")
    with zipfile.ZipFile(source, "a") as archive:
        archive.writestr("xl/drawings/vmlDrawing1.vml", b"<xml><o:shapelayout><br></xml>")
        archive.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    assert import_document(source, tmp_path / "plan").tasks == CONGHUA.tasks


# -- 15. CSV encodings: the BOM first --------------------------------------------------------

CSV_TEXT = "序号,具体要求,责任单位,完成时限\n1,做好䶮字号网站的信息公开,办公室,2026年6月30日\n2,更新目录,法规科,长期\n"
ENCODINGS = {
    "utf-16-be with BOM": b"\xfe\xff" + CSV_TEXT.encode("utf-16-be"),
    "utf-16-le with BOM": b"\xff\xfe" + CSV_TEXT.encode("utf-16-le"),
    "utf-8 with BOM": b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"),
    "utf-32-be with BOM": b"\x00\x00\xfe\xff" + CSV_TEXT.encode("utf-32-be"),
    "utf-32-le with BOM": b"\xff\xfe\x00\x00" + CSV_TEXT.encode("utf-32-le"),
    "gb18030": CSV_TEXT.encode("gb18030"),
    "gb18030 with BOM": b"\x84\x31\x95\x33" + CSV_TEXT.encode("gb18030"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_csv_is_decoded_by_its_bom_first(encoding: str, tmp_path: Path) -> None:
    """Before: a UTF-16 BE file with its BOM was decoded as little-endian, and said to have no
    header. 䶮 is outside GBK, so a GB18030 file read as GBK would lose it."""
    source = tmp_path / "plan.csv"
    source.write_bytes(ENCODINGS[encoding])
    assert read_grid(source).rows[:3] == [row.split(",") for row in CSV_TEXT.splitlines()]
    import_document(source, tmp_path / "plan")
    tasks = read_tasks_csv(tmp_path / "plan" / "tasks.csv")
    assert [t.title for t in tasks] == ["做好䶮字号网站的信息公开", "更新目录"]


class _FakeSheet:
    """What xlrd hands over for a sheet: a small table under many overlapping merged ranges,
    each covering the whole sheet (a BIFF MERGEDCELLS record is 8 bytes a range)."""

    name = "Sheet1"
    nrows, ncols = 1000, 100

    def __init__(self, merges: int) -> None:
        self.merged_cells = [(0, self.nrows, 0, self.ncols)] * merges

    def cell(self, r: int, c: int):
        import xlrd
        return xlrd.sheet.Cell(xlrd.XL_CELL_TEXT, f"{r}-{c}")


class _FakeBook:
    nsheets = 1
    datemode = 0

    def __init__(self, merges: int) -> None:
        self.sheet = _FakeSheet(merges)

    def sheet_by_index(self, index: int) -> _FakeSheet:
        return self.sheet


@pytest.mark.parametrize("merges", [1, 50])
def test_xls_merged_ranges_count_against_the_cell_cap(merges: int, tmp_path: Path, monkeypatch) -> None:
    """Fifty merges over a 100,000-cell sheet ask for 5 million copies: refused at the cap with
    the cap's own message (ImportFailed is a ValueError, which the reader takes as damage),
    while one merge over it is read and spread."""
    import xlrd

    from reminder.importers.xls import XlsImporter

    monkeypatch.setattr(xlrd, "open_workbook", lambda **_: _FakeBook(merges))
    source = tmp_path / "merges.xls"
    if merges == 1:
        grid = XlsImporter().read(source, b"")
        assert grid.rows[999][99] == "0-0"
        return
    with pytest.raises(ImportFailed, match="500,000 个单元格的上限") as caught:
        XlsImporter().read(source, b"")
    assert "损坏" not in str(caught.value)
