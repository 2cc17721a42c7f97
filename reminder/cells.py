"""Text that leaves for a spreadsheet: a cell a spreadsheet must show as text.

A cell starting with = + - or @ is a formula to Excel and LibreOffice (=HYPERLINK(…) shows a
live link, -2+3 or @SUM computes); tab and CR too, per OWASP's CSV injection guidance. Task
titles, unit names and notes come from documents and forms we did not write, so every CSV
we write (the 台账, the dry run, status, stats) passes its text through ``csv_cell``.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """OWASP's remedy, a leading ' (Excel and LibreOffice hide it); anything but text as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
