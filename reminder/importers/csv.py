"""CSV exported from Excel or WPS: UTF-8 (with or without BOM) or GBK, any common delimiter."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reminder.importers.html import decode
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
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        # An exported sheet loses its merges: the cells they covered arrive empty.
        return Grid(rows=rows, flattened=True)
