"""Excel 97–2003 .xls and WPS .et (the same OLE BIFF8 workbook): every sheet with merged
ranges expanded, chosen and combined like the .xlsx reader's sheets.

xlrd reads BIFF in pure Python, merged cells included (with ``formatting_info``), with no
converter process to start.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.safety import WorkLimit
from reminder.importers.table import Grid, spread_merged, workbook_grid


def _text(book, cell) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            value: datetime = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(cell.value)
        if (value.hour, value.minute) == (0, 0):
            return f"{value.year}年{value.month}月{value.day}日"
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    if cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
        return str(int(cell.value))
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    return str(cell.value)


def sheet_grid(book, sheet, limit: WorkLimit) -> Grid:
    rows: list[list[str]] = []
    for r in range(sheet.nrows):
        limit.row(sheet.ncols)
        rows.append([_text(book, sheet.cell(r, c)) for c in range(sheet.ncols)])
    spread_merged(rows, sheet.merged_cells, sheet.ncols, limit.add_cells)
    return Grid(rows=rows, context=[sheet.name], name=sheet.name)


class XlsImporter:
    name = "Excel 97-2003 表格"
    suffixes = (".xls", ".et")

    def read(self, path: Path, data: bytes) -> Grid:
        import xlrd

        try:
            book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True,
                                      logfile=_Quiet())
            limit = WorkLimit(path)
            sheets = [sheet_grid(book, book.sheet_by_index(i), limit) for i in range(book.nsheets)]
        except ImportFailed:
            raise  # a WorkLimit cap: ImportFailed is a ValueError, which the next lines take as damage
        except NotImplementedError:
            raise ImportFailed("这个表格的格式过于特殊（如 Excel 2.x–4.x 或加密工作簿），无法读取",
                               file=path, hint="请用 Excel/WPS 打开后另存为 .xlsx 再导入") from None
        except (xlrd.XLRDError, AssertionError, IndexError, KeyError, ValueError, TypeError,
                OverflowError, UnicodeDecodeError, EOFError) as exc:
            # xlrd stops on a broken record with any of these: still a bad file, not a bug
            if "encrypt" in str(exc).lower():
                raise ImportFailed("Excel 文件已加密（设置了打开密码），无法读取", file=path,
                                   hint="请在 Excel/WPS 中取消密码后另存，再导入") from None
            raise ImportFailed("Excel 文件已损坏，无法读取", file=path,
                               hint=f"请用 Excel/WPS 打开后重新保存（{type(exc).__name__}）") from None
        return workbook_grid(sheets)


class _Quiet:
    """xlrd prints warnings about odd records to stdout; the import's output is its report."""

    def write(self, text: str) -> int:
        return len(text)
