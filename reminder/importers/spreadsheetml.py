"""Excel 2003 XML ("XML 电子表格"), which many government systems export under a .xls name:
plain XML of worksheets, rows and cells, merged cells as MergeAcross/MergeDown counts, and
skipped cells as an explicit Index. Read with lxml, entities off, like the other XML formats.
"""

from __future__ import annotations

from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.table import Grid, workbook_grid

NS = "urn:schemas-microsoft-com:office:spreadsheet"
MAX_CELLS = 2_000_000  # a merge count is a number in the file: it must not allocate without end


def _attr(element, name: str) -> str | None:
    return element.get(f"{{{NS}}}{name}")


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _sheet(path: Path, sheet) -> Grid:
    rows: dict[int, dict[int, str]] = {}
    r = 0
    budget = MAX_CELLS
    for table in sheet.iterfind(f"{{{NS}}}Table"):
        for row in table.iterfind(f"{{{NS}}}Row"):
            r = _int(_attr(row, "Index"), r + 1)
            c = 0
            for cell in row.iterfind(f"{{{NS}}}Cell"):
                c = _int(_attr(cell, "Index"), c + 1)
                data = cell.find(f"{{{NS}}}Data")
                text = "".join(data.itertext()) if data is not None else ""
                across = max(0, _int(_attr(cell, "MergeAcross")))
                down = max(0, _int(_attr(cell, "MergeDown")))
                budget -= (across + 1) * (down + 1)
                if budget < 0:
                    raise ImportFailed("表格过大或合并单元格数目异常，拒绝读取", file=path,
                                       place=_attr(sheet, "Name") or "")
                for dr in range(down + 1):
                    line = rows.setdefault(r + dr, {})
                    for dc in range(across + 1):
                        line[c + dc] = text
                c += across
    width = max((max(line) for line in rows.values() if line), default=0)
    grid_rows = [[rows.get(i, {}).get(j, "") for j in range(1, width + 1)]
                 for i in range(1, max(rows, default=0) + 1)]
    name = _attr(sheet, "Name") or ""
    return Grid(rows=grid_rows, context=[name] if name else [], name=name)


class SpreadsheetMlImporter:
    name = "Excel 2003 XML 表格"
    suffixes = (".xls", ".xml")

    def read(self, path: Path, data: bytes) -> Grid:
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
        try:
            root = etree.fromstring(data, parser=parser)
        except etree.XMLSyntaxError:
            raise ImportFailed("Excel XML 表格已损坏，无法解析", file=path,
                               hint="请用 Excel/WPS 打开后另存为 .xlsx 再导入") from None
        sheets = [_sheet(path, s) for s in root.iterfind(f"{{{NS}}}Worksheet")]
        if not sheets:
            raise ImportFailed("Excel XML 表格中没有工作表", file=path)
        return workbook_grid(sheets)
