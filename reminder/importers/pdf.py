"""PDF: ruled tables and running text from the text layer (pdfplumber); pages without text
but with an image are scans, read by OCR (``ocr``) when it is installed.

pdfplumber finds table cells from the ruling lines and gives every character's position,
which is what merged cells and page breaks need; it is pure Python over pdfminer.six, with
pypdfium2 (PDFium) to render scanned pages.
"""

from __future__ import annotations

import io
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers import layout, progress
from reminder.importers.table import Grid

MAX_PAGES = 1000  # a plan is tens of pages; past this it is not a plan, and time is bounded
_TABLES = {"vertical_strategy": "lines", "horizontal_strategy": "lines",
           "snap_tolerance": 3, "join_tolerance": 3, "intersection_tolerance": 3}


def _open(path: Path, data: bytes):
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        count = len(pdf.pages)
    except Exception as exc:  # pdfminer raises many kinds on a broken file; all mean the same
        text = f"{type(exc).__name__} {exc!r}".lower()
        if "password" in text or "encrypt" in text:
            raise ImportFailed("PDF 已加密（设置了打开密码），无法读取", file=path,
                               hint="请向发文单位索取未加密的文件，或输入密码后另存为 PDF 再导入") from None
        raise ImportFailed("PDF 文件已损坏，无法读取", file=path,
                           hint=f"请用 PDF 阅读器打开确认后重新保存（{type(exc).__name__}）") from None
    if count == 0:
        raise ImportFailed("PDF 没有页面", file=path)
    if count > MAX_PAGES:
        pdf.close()
        raise ImportFailed(f"PDF 页数过多（{count} 页，上限 {MAX_PAGES} 页）", file=path,
                           hint="请只保留任务分工表所在的页面后再导入")
    return pdf


def text_page(page) -> layout.Page:
    """One page's ruled tables (cells with their text) and the text lines outside them."""
    chars = [c for c in page.chars if c.get("upright", True)]
    found = page.find_tables(_TABLES)
    tables = []
    boxes = []
    for table in found:
        inside = [c for c in chars if _inside(c, table.bbox)]
        cells = [layout.Cell(*box, text=layout.join_wrapped([line.text for line in _lines(inside, box)]))
                 for box in table.cells]
        built = layout.build_table(cells)
        if built is not None and len(built.columns) >= 3:  # a box around text is no table
            tables.append(built)
            boxes.append(table.bbox)
    outside = [c for c in chars if not any(_inside(c, box) for box in boxes)]
    lines = _lines(outside, (0, 0, page.width, page.height))
    return layout.Page(number=page.page_number, width=page.width, height=page.height,
                       lines=lines, tables=tables)


def _inside(char: dict, box: tuple[float, float, float, float]) -> bool:
    x = (char["x0"] + char["x1"]) / 2
    y = (char["top"] + char["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _lines(chars: list[dict], box: tuple[float, float, float, float]) -> list[layout.Line]:
    """Characters grouped into text lines (left to right), as positioned pieces."""
    pieces = [layout.Line(c["x0"], c["top"], c["x1"], c["bottom"], c["text"])
              for c in chars if _inside(c, box)]
    return layout.reading_order(pieces)


def _is_scan(page) -> bool:
    return not any(c["text"].strip() for c in page.chars) and bool(page.images)


class PdfImporter:
    name = "PDF"
    suffixes = (".pdf",)

    def read(self, path: Path, data: bytes) -> Grid:
        pdf = _open(path, data)
        pages: list[layout.Page] = []
        scanned: list[int] = []
        empty = 0
        with pdf:
            progress.start(len(pdf.pages), "读取 PDF 页面")
            for page in pdf.pages:
                if _is_scan(page):
                    scanned.append(page.page_number)
                elif not page.chars:
                    empty += 1
                else:
                    pages.append(text_page(page))
                page.close()  # pdfplumber caches every object of a page: free them as we go
                progress.step()
        if scanned:
            from reminder.importers import ocr

            ocr_pages, notes = ocr.read_pdf_pages(path, data, scanned)
            pages = sorted([*pages, *ocr_pages], key=lambda p: p.number)
            return layout.grid(pages, notes)
        if not pages:
            raise ImportFailed("PDF 中既没有文字也没有图片，无法读取", file=path,
                               hint="请确认文件内容，或向发文单位索取原始 Word/Excel 文件")
        return layout.grid(pages)
