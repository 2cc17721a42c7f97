"""CSV exported from Excel or WPS: UTF-8 (with or without BOM) or GBK, any common delimiter."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.html import decode
from reminder.importers.safety import WorkLimit
from reminder.importers.table import Grid


class CsvImporter:
    name = "CSV 表格"
    suffixes = (".csv",)

    def read(self, path: Path, data: bytes) -> Grid:
        text = decode(data)
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;|，")
            delimiter = dialect.delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        limit = WorkLimit(path)
        rows: list[list[str]] = []
        try:
            for row in reader:
                limit.row(len(row))
                rows.append(row)
        except csv.Error as exc:
            raise ImportFailed(f"CSV 格式错误：{exc}", file=path, line=reader.line_num,
                               hint="用 Excel 或 WPS 打开后另存为 CSV（UTF-8）") from None
        # An exported sheet loses its merges: the cells they covered arrive empty. Our own
        # tasks.csv has none: an empty cell there is empty.
        from reminder.importers.writer import CSV_HEADER

        own = bool(rows) and tuple(c.strip() for c in rows[0]) == CSV_HEADER
        return Grid(rows=rows, flattened=not own)
