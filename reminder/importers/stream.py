"""Rebuild table rows from a stream of cells whose row boundaries were lost.

Text copied out of a PDF or a web page often comes one cell per line ("1.结合权责清单… |",
"法规科牵头… |", "长期 |") or one cell per paragraph ("1", "一、紧扣…", "做好财政信息公开",
"积极配合…", "装财处牵头…"). Rows start at a 序号 cell (a bare number) when the stream has
them, else at a numbered requirement ("12.…"). Within a row: marked section cells (一、 / （一）)
become section rows, trailing deadline cells the deadline, a units-like cell before them the
units, the last cell left the requirement, and anything before it the row's group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reminder.importers.header import column_kind
from reminder.importers.meta import looks_like_deadline
from reminder.parse.units import split_units

HEADER = ["序号", "工作任务", "具体要求", "责任单位", "完成时限"]
_BARE = re.compile(r"^\s*(\d{1,3})\s*[.．、]?\s*$")
_NUMBERED = re.compile(r"^\s*\d{1,3}\s*[.．、]\s*\S")
MARKED = re.compile(r"^([一二三四五六七八九十]+\s*[、.．]|[（(]\s*[一二三四五六七八九十]+\s*[）)])")
_WHEN = re.compile(r"(\d{4}\s*年|\d{1,2}\s*月|年底|长期|季度|半年|年内)")


def deadline_cell(text: str, year: int | None) -> bool:
    if not looks_like_deadline(text, year):
        return False
    when = _WHEN.search(text)
    return len(text) <= 30 or (when is not None and when.start() <= 12)


def units_cell(text: str) -> bool:
    if len(text) > 80:
        return False
    lead, support = split_units(text)
    named = sum(len(n) for n in lead + support)
    return bool(lead or support) and named >= len(text) * 0.4


def _row(cells: list[str], number: str, year: int | None) -> list[list[str]]:
    """Section rows for the marked cells, then the task row [序号, group, title, units, deadline]."""
    out: list[list[str]] = []
    rest: list[str] = []
    for cell in cells:
        if MARKED.match(cell) and not rest:
            out.append([cell])
        else:
            rest.append(cell)
    deadline: list[str] = []
    while len(rest) > 1 and deadline_cell(rest[-1], year):
        deadline.insert(0, rest.pop())
    units = rest.pop() if len(rest) > 1 and units_cell(rest[-1]) else ""
    if not rest:
        return out
    title = rest.pop()
    out.append([number, "\n".join(rest), title, units, "\n".join(deadline)])
    return out


def rebuild(cells: Sequence[str], year: int | None) -> tuple[list[list[str]], list[str]]:
    """(rows with a synthetic header first, context lines before the table)."""
    cells = [c.strip() for c in cells if c.strip()]
    bare = sum(1 for c in cells if _BARE.match(c))
    numbered = sum(1 for c in cells if _NUMBERED.match(c))
    by_number = bare >= 3 and bare >= numbered / 2

    def starts_row(cell: str) -> bool:
        return bool(_BARE.match(cell)) if by_number else bool(_NUMBERED.match(cell))

    first = next((i for i, c in enumerate(cells) if starts_row(c)), None)
    if first is None:
        return [], list(cells)
    # Section cells right before the first row belong to the table, the rest is context.
    start = first
    while not by_number and start > 0 and MARKED.match(cells[start - 1]):
        start -= 1
    context = [c for c in cells[:start] if column_kind(c) is None]
    rows: list[list[str]] = [HEADER]
    current: list[str] | None = None
    number = ""
    pending: list[str] = []  # marked cells waiting for the next numbered requirement
    for cell in cells[start:]:
        if starts_row(cell):
            if current is not None:
                rows.extend(_row(current, number, year))
            if by_number:
                number, current = _BARE.match(cell).group(1), []
            else:
                number, current = "", [cell]
            rows.extend([p] for p in pending)
            pending = []
        elif not by_number and MARKED.match(cell):
            pending.append(cell)  # 001: the section column's text precedes its first task
        elif current is not None:
            current.append(cell)
    if current is not None:
        rows.extend(_row(current, number, year))
    rows.extend([p] for p in pending)
    return rows, context


def doubts(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows rebuilt here whose title is a short cell while a longer plain text sits before it
    in the row: a cell the stream lacked (an empty deadline, a "按时限" no rule reads) moved
    the title onto the next cell. Named by row number for review."""
    notes = []
    for row in rows[1:]:
        if len(row) != len(HEADER) or not row[0]:
            continue
        title = row[2]
        before = [line for line in row[1].split("\n") if line and not MARKED.match(line)]
        if len(title) <= 12 and any(len(line) > len(title) for line in before):
            notes.append(f"序号 {row[0]} 的一行无法确定哪一格是任务内容（“{title}”还是“{before[-1][:15]}”），"
                         "请核对")
    return notes

