"""Excel .xlsx: the sheet holding the task table, merged ranges expanded to every cell."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.header import find_header
from reminder.importers.table import Grid, clean


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

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot read
                book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
            raise ImportFailed("Excel 文件已损坏，无法读取", file=path,
                               hint=f"请用 Excel/WPS 打开后重新保存（{type(exc).__name__}）") from None

        best: Grid | None = None
        for sheet in book.worksheets:
            grid = _sheet_grid(sheet)
            if find_header([[clean(c) for c in r] for r in grid.rows]) is not None:
                return grid  # the first sheet that has a task table header
            if best is None or len(grid.rows) > len(best.rows):
                best = grid
        return best or Grid(rows=[])


def _sheet_grid(sheet) -> Grid:
    rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(rows) else ""
        for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
            row = rows[r]
            if len(row) < merged.max_col:
                row.extend([""] * (merged.max_col - len(row)))
            for c in range(merged.min_col - 1, merged.max_col):
                row[c] = top
    return Grid(rows=rows, context=[sheet.title])
