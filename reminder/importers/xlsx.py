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

        # Every sheet with a task table header is read (one per 区县 or 处室 is common); the
        # others are named in the report. With no header anywhere the fullest sheet is
        # handed over for the header to be inferred from its cells.
        tables: list[Grid] = []
        others: list[Grid] = []
        for sheet in book.worksheets:
            grid = _sheet_grid(sheet)
            has_header = find_header([[clean(c) for c in r] for r in grid.rows]) is not None
            (tables if has_header else others).append(grid)
        if not tables:
            return max(others, key=lambda g: len(g.rows), default=Grid(rows=[]))
        skipped = [f"工作表“{g.name}”（没有任务表）" for g in others]
        if len(tables) == 1:
            tables[0].skipped.extend(skipped)
            return tables[0]
        return Grid(rows=[], parts=tables, skipped=skipped)


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
    return Grid(rows=rows, context=[sheet.title], name=sheet.title)
