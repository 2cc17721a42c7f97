"""Excel .xlsx: the sheet holding the task table, merged ranges expanded to every cell.

Read as a stream (openpyxl read-only): the normal mode builds an object for every cell of
every merged range on load, 17 billion of them for a 5.6 KB file merging A30:XFD1048576.
Here merged ranges come from the sheet's XML and are clipped to the cells that hold text,
and rows and cells count against safety.WorkLimit as they arrive."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.safety import WorkLimit
from reminder.importers.table import Grid, spread_merged, workbook_grid

_MAX_ROW, _MAX_COL = 1_048_576, 16_384
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _text(value: object) -> str:
    """A cell value as the office wrote it; a real Excel date becomes 2021年12月31日."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0):
            value = value.date()
        else:
            return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class XlsxImporter:
    name = "Excel 表格"
    suffixes = (".xlsx", ".xlsm")

    def read(self, path: Path, data: bytes) -> Grid:
        import io
        import zipfile

        import openpyxl

        limit = WorkLimit(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot read
                book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                grids = [_sheet_grid(sheet, data, limit) for sheet in book.worksheets]
            finally:
                book.close()
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, SyntaxError) as exc:
            # SyntaxError: xml.etree's ParseError, from a sheet part that is not XML
            if isinstance(exc, ImportFailed):
                raise
            raise ImportFailed("Excel 文件已损坏，无法读取", file=path,
                               hint=f"请用 Excel/WPS 打开后重新保存（{type(exc).__name__}）") from None

        return workbook_grid(grids)


def _sheet_grid(sheet, data: bytes, limit: WorkLimit) -> Grid:
    # The declared <dimension> is not trusted: A1:XFD1048576 would pad every row to 16,384.
    sheet.reset_dimensions()
    rows: list[list[str]] = []
    for values in sheet.iter_rows(min_row=1, min_col=1, values_only=True):
        limit.row(len(values))
        rows.append([_text(v) for v in values])
    # The used area: the last row and the widest column holding text. Rows that only carry
    # formatting below it go; merged ranges are clipped to it.
    height = max((r + 1 for r, row in enumerate(rows) if any(row)), default=0)
    del rows[height:]
    width = max((max((c + 1 for c, v in enumerate(row) if v), default=0) for row in rows), default=0)
    spread_merged(rows, ((top - 1, bottom, left - 1, right)
                         for top, left, bottom, right in _merged_ranges(sheet, data)),
                  width, limit.add_cells)
    return Grid(rows=rows, context=[sheet.title], name=sheet.title)


def _merged_ranges(sheet, data: bytes) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) of each <mergeCell>, 1-based, inclusive, read from the
    sheet's part (safety.check_zip has bounded its size and refused any DTD in it)."""
    import io
    import zipfile

    from lxml import etree
    from openpyxl.utils.cell import range_boundaries

    ranges = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive, \
            archive.open(sheet._worksheet_path.lstrip("/")) as part:
        for _, element in etree.iterparse(part, tag=f"{_MAIN}mergeCell", resolve_entities=False,
                                          no_network=True, load_dtd=False):
            left, top, right, bottom = range_boundaries(element.get("ref", ""))
            # A whole-column or whole-row reference ("A:A", "3:3") leaves a side open.
            ranges.append((top or 1, left or 1, bottom or _MAX_ROW, right or _MAX_COL))
            element.clear()
    return ranges
