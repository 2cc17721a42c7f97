"""Column roles from the cells themselves, for a table that has no header row at all."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reminder.importers.header import Header
from reminder.importers.meta import looks_like_deadline
from reminder.parse.units import split_units

_NUMBERED = re.compile(r"^\s*\d{1,3}\s*[.．、]\s*\S")
_DIGITS = re.compile(r"^\s*\d{1,4}\s*[.．、]?\s*$")
_MARKED = re.compile(r"^([一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[）)])")
NAMES = {
    "id": "序号", "section": "工作任务", "title": "具体要求", "detail": "具体工作",
    "units": "责任单位", "deadline": "完成时限",
}


def _share(cells: list[str], test) -> float:
    return sum(1 for c in cells if test(c)) / len(cells) if cells else 0.0


def _unit_like(text: str) -> bool:
    lead, support = split_units(text)
    return bool(lead or support) and len(text) <= 60


def _names_row(rows: Sequence[Sequence[str]]) -> int:
    """The row naming the columns in words no list knows ("序号 事项 经办科室 办结期限"):
    among the first rows, one of three or more short cells without a digit, followed by a
    row that has digits or long text. -1 when there is none."""
    for index, row in enumerate(rows[:5]):
        cells = [c for c in row if c]
        if len(cells) < 3 or any(len(c) > 8 or any(ch.isdigit() for ch in c) for c in cells):
            continue
        following = rows[index + 1] if index + 1 < len(rows) else []
        if any(len(c) > 8 or any(ch.isdigit() for ch in c) for c in following):
            return index
    return -1


def infer_header(rows: Sequence[Sequence[str]]) -> Header | None:
    """Guess id / section / title / units / deadline columns from what the cells hold. A row
    of column names found above the cells is the header (read as a task it would make a
    unit of "经办科室" and push every number down by one)."""
    named = _names_row(rows)
    found = _infer(rows[named + 1 :])
    if found is None or named < 0:
        return found
    due = found.columns.get("deadline")
    if due is not None and due < len(rows[named]) and looks_like_deadline(rows[named][due]):
        return _infer(rows)  # a short first task ("…｜办公室｜长期"), not column names
    return Header(row=named, cells=tuple(rows[named]), columns=found.columns)


def _infer(rows: Sequence[Sequence[str]]) -> Header | None:
    width = max((len(r) for r in rows), default=0)
    if width < 2:
        return None
    columns: dict[str, int] = {}
    stats = []
    for col in range(width):
        cells = [r[col] for r in rows if col < len(r) and r[col]]
        avg = sum(len(c) for c in cells) / len(cells) if cells else 0
        stats.append((col, cells, avg))
    for col, cells, _avg in stats:
        if cells and _share(cells, _DIGITS.match) >= 0.8:
            columns["id"] = col
            break
    long_cols = [
        (avg, col) for col, cells, avg in stats
        if col not in columns.values() and cells and (avg >= 15 or _share(cells, _NUMBERED.match) > 0.5)
    ]
    if not long_cols:
        return None
    title = min(col for avg, col in long_cols if avg >= max(a for a, _ in long_cols) / 2)
    columns["title"] = title
    for col, cells, avg in stats:
        if col in columns.values() or not cells:
            continue
        if "deadline" not in columns and avg <= 40 and _share(cells, looks_like_deadline) >= 0.6:
            columns["deadline"] = col
        elif "units" not in columns and col > title and _share(cells, _unit_like) >= 0.6:
            columns["units"] = col
        elif "section" not in columns and col < title and _share(cells, _MARKED.match) >= 0.5:
            columns["section"] = col
        elif "detail" not in columns and col > title and avg >= 15:
            columns["detail"] = col
    if "units" not in columns and "deadline" not in columns:
        return None
    cells = [""] * width
    for role, col in columns.items():
        cells[col] = NAMES[role]
    return Header(row=-1, cells=tuple(cells), columns=columns)
