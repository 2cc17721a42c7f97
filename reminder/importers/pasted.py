"""A web page's table copied out of the browser (or flattened by a site): one cell per line,
sometimes a lone "|" line between cells, under a header whose words are lines of their own.

The traps: the header may not name the row-number column; a merged category cell (工作任务)
appears only on the first row of its group, before that row's number; a row may lack a cell.
Rows are rebuilt by parsing the whole cell stream at once: every row holds exactly one of
the row numbers 1, 2, 3… (when the table has them) and its other cells follow the header's
column order, each fitting its column (units where units are due, a deadline where one is
due). Whatever no row can hold, a row that could be split two ways, and a units or deadline
cell that is simply absent are named in ``Grid.notes`` (line numbers), so the import stops
for review (exit 3) instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations

from reminder.importers.header import assign, column_kind
from reminder.importers.stream import MARKED, deadline_cell, units_cell
from reminder.importers.table import Grid

_BARE = re.compile(r"^\s*(\d{1,4})\s*[.．、]?\s*$")
_SEP = "|"
_UNIT_ROLES = ("units", "lead", "support")
# Columns a task row should fill: one missing is either empty or merged with the row above,
# and the stream cannot say which.
_DUE_ROLES = ("units", "lead", "deadline")
# Scores (integers so that ties are exact): a row number in its place outweighs everything,
# a cell that looks like what its column holds beats one that is merely text.
_ID, _TYPED, _TEXT, _EMPTY = 6, 4, 2, 1
_MISSING = -2  # a units or deadline column the row leaves out
_SKIP, _SKIP_NUMBER = -10, -40  # a cell no row can hold
_NOTES = 20  # notes listed one by one; the rest are counted
_NOTE_WORDS = ("注：", "注:", "备注")
_SHORT = 12  # "持续推进", "10月底前": a deadline-like cell this short is no title


@dataclass(frozen=True)
class _Cell:
    text: str
    line: int  # 1-based line of the source where the cell starts


@dataclass(frozen=True)
class _Parse:
    score: int
    ways: int  # how many parses reach this score (capped at 2: one or several)
    back: int  # where the last piece starts
    piece: tuple[int, ...] | str | None  # columns of a task row; "section"; None: skipped cell


def grid(lines: Sequence[str], year: int | None) -> Grid | None:
    """The table, or None when the text has no header of cell lines (another reader's shape)."""
    texts = [(i + 1, line.strip().rstrip(_SEP).strip()) for i, line in enumerate(lines)]
    texts = [(n, t) for n, t in texts if t]
    found = _header(texts, lines)
    if found is None:
        return None
    start, end = found
    header = [t for _, t in texts[start:end]]
    piped = sum(1 for line in lines if line.strip() == _SEP or line.rstrip().endswith(_SEP)) >= 3
    roles = assign(header)
    cells = _cells(lines, texts[end - 1][0], piped)
    cells = _without_repeated_header(cells, header)
    anchors = _anchors(cells)
    columns = _columns(header, roles, bool(anchors))
    table, unplaced = _rebuild(cells, anchors, columns, header, year,
                               context=[t for _, t in texts[:start]])
    if unplaced and roles.get("id") == 0 and not piped and not {"lead", "support"} <= roles.keys():
        # One paragraph per cell after a 序号 column, with section headings inside the rows
        # and cells of several paragraphs: the Word paste stream.rebuild reads (seed 004).
        # It knows one units column only: with 牵头 and 配合 columns it would put a unit in
        # the title, so those tables keep this parse and its notes, line by line.
        return None
    return table


def _without_repeated_header(cells: list[_Cell], header: list[str]) -> list[_Cell]:
    """A header repeated at a page break of the copied view: two or more header words in a row."""
    words = set(header)
    marked = [c.text in words for c in cells]
    return [c for i, c in enumerate(cells)
            if not (marked[i] and ((i > 0 and marked[i - 1]) or (i + 1 < len(cells) and marked[i + 1])))]


def _header(texts: list[tuple[int, str]], lines: Sequence[str]) -> tuple[int, int] | None:
    """The first run of three or more consecutive lines that are header words naming a title
    and a units or deadline column (tab-led lines are a Word paste read elsewhere)."""
    i = 0
    while i < len(texts):
        j = i
        while j < len(texts) and column_kind(texts[j][1]) and not lines[texts[j][0] - 1].startswith("\t"):
            j += 1
        if j - i >= 3:
            roles = assign([t for _, t in texts[i:j]])
            if "title" in roles and {"units", "lead", "deadline"} & roles.keys():
                return i, j
        i = max(j, i + 1)
    return None


def _cells(lines: Sequence[str], header_end: int, piped: bool) -> list[_Cell]:
    """Body cells after the header's last line. With "|" between cells, a "|" right after
    another is an empty cell and a line without one before it continues the cell above."""
    cells: list[_Cell] = []
    after_sep = True  # the header's own last "|" closes its last word
    first = True
    for number, raw in enumerate(lines[header_end:], start=header_end + 1):
        line = raw.strip()
        if not line:
            continue
        text = line.rstrip(_SEP).strip()
        if text:
            if piped and not after_sep and cells:
                cells[-1] = _Cell(cells[-1].text + "\n" + text, cells[-1].line)
            else:
                cells.append(_Cell(text, number))
            after_sep = False
        elif piped and after_sep and not first:
            cells.append(_Cell("", number))
        if line.endswith(_SEP):
            after_sep = True
        first = False
    return cells


def _anchors(cells: list[_Cell]) -> set[int]:
    """Indexes of the row numbers: bare numbers counting up from 1 (a restart at 1 allowed,
    and a number or two skipped: the row whose number was lost is reported, not the rest);
    a stray number out of sequence is text."""
    anchors: set[int] = set()
    expected = 1
    for i, cell in enumerate(cells):
        m = _BARE.match(cell.text)
        if m and (int(m.group(1)) == 1 or expected <= int(m.group(1)) <= expected + 2):
            anchors.add(i)
            expected = int(m.group(1)) + 1
    return anchors if len(anchors) >= 2 else set()


def _columns(header: list[str], roles: dict[str, int], numbered: bool) -> list[str]:
    """The role of every column in row order; a row number the header does not name sits
    right before the title (after the category: 工作任务 spans both columns on the page)."""
    by_index = {i: role for role, i in roles.items()}
    columns = [by_index.get(i, "other") for i in range(len(header))]
    if numbered and "id" not in roles:
        columns.insert(columns.index("title"), "id")
    return columns


def _rebuild(
    cells: list[_Cell], anchors: set[int], columns: list[str], header: list[str],
    year: int | None, context: list[str],
) -> tuple[Grid, int]:
    """The rows of the best parse, and how many cells it could not place."""
    names = list(header)
    if len(columns) > len(header):
        names.insert(columns.index("id"), "序号")

    @cache
    def kinds(i: int) -> tuple[bool, bool]:
        return units_cell(cells[i].text), deadline_cell(cells[i].text, year)

    @cache
    def fit(i: int, role: str) -> int:
        """How well cell i fits a column of this role; 0: it cannot be there."""
        cell = cells[i]
        if role == "id" or i in anchors:
            return _ID if role == "id" and i in anchors else 0
        if not cell.text:
            return 0 if role == "title" else _EMPTY
        if MARKED.match(cell.text):  # "（一）…" heads a group, whatever words follow
            return _TEXT if role in ("section", "other") else 0
        unit, due = kinds(i)
        if role in _UNIT_ROLES:
            return _TYPED if unit else 0
        if role == "deadline":
            return _TYPED if due and not unit else 0
        if unit or (due and len(cell.text) <= _SHORT):
            return 0
        return _TEXT

    @cache
    def row(j: int, i: int) -> tuple[int, int, tuple[int, ...]] | None:
        """Best placement of cells j..i-1 as one task row: (score, ways, column of each)."""
        inside = [k for k in range(j, i) if k in anchors]
        if len(inside) != (1 if anchors else 0):
            return None
        best: tuple[int, int, tuple[int, ...]] | None = None
        for chosen in combinations(range(len(columns)), i - j):
            if "title" not in (columns[c] for c in chosen):
                continue
            fits = [fit(k, columns[c]) for k, c in zip(range(j, i), chosen, strict=True)]
            if 0 in fits:
                continue
            score = sum(fits) + _MISSING * sum(
                1 for c, role in enumerate(columns) if role in _DUE_ROLES and c not in chosen)
            if best is None or score > best[0]:
                best = (score, 1, chosen)
            elif score == best[0]:
                best = (score, 2, best[2])
        return best

    parses: list[_Parse | None] = [_Parse(0, 1, 0, None)] + [None] * len(cells)

    def offer(i: int, j: int, score: int, ways: int, piece: tuple[int, ...] | str | None) -> None:
        before = parses[j]
        if before is None:
            return
        total, ways = before.score + score, min(2, before.ways * ways)
        current = parses[i]
        if current is None or total > current.score:
            parses[i] = _Parse(total, ways, j, piece)
        elif total == current.score:
            parses[i] = _Parse(total, 2, current.back, current.piece)

    for i in range(1, len(cells) + 1):
        k = i - 1
        offer(i, k, _SKIP_NUMBER if k in anchors else _SKIP, 1, None)
        if k not in anchors and MARKED.match(cells[k].text) and fit(k, "section"):
            offer(i, k, _TEXT, 1, "section")
        for j in range(max(0, i - len(columns)), i):
            if (placed := row(j, i)) is not None:
                offer(i, j, placed[0], placed[1], placed[2])

    pieces: list[tuple[int, int, tuple[int, ...] | str | None, int]] = []
    i = len(cells)
    while i > 0:
        step = parses[i]
        assert step is not None  # skipping a cell always reaches every position
        # A tie first reached here: the rows ending at i could be split another way.
        split_two_ways = step.ways > 1 and (parses[step.back] or step).ways == 1
        pieces.append((step.back, i, step.piece, 2 if split_two_ways else 1))
        i = step.back
    pieces.reverse()

    rows: list[list[str]] = [names]
    notes: list[str] = []
    context = list(context)
    unplaced = 0
    for j, i, piece, ways in pieces:
        if piece is None:
            cell = cells[j]
            if cell.text.startswith(_NOTE_WORDS):
                context.append(cell.text)  # the table's footnote: read with the text around it
            else:
                unplaced += 1
                notes.append(f"第 {cell.line} 行“{_short(cell.text)}”无法确定属于哪一行哪一列，未导入")
            continue
        if piece == "section":
            rows.append([cells[j].text])
            continue
        assert isinstance(piece, tuple)
        out = [""] * len(columns)
        for k, c in zip(range(j, i), piece, strict=True):
            out[c] = cells[k].text
        rows.append(out)
        where = f"第 {cells[j].line} 行起的一行"
        placed = row(j, i)
        if ways > 1 or (placed is not None and placed[1] > 1):
            notes.append(f"{where}（“{_short(out[columns.index('title')])}”）可以有不止一种分法，请核对")
        for c, role in enumerate(columns):
            if role in _DUE_ROLES and c not in piece:
                notes.append(f"{where}（“{_short(out[columns.index('title')])}”）没有“{names[c]}”单元格"
                             "（可能是与上一行合并的单元格），未自动补齐")
    if len(notes) > _NOTES:  # a page of junk under a header: the first few say enough
        notes = [*notes[:_NOTES], f"另有 {len(notes) - _NOTES} 处同样无法确定的单元格或缺少的单元格"]
    return Grid(rows=rows, context=context, notes=notes), unplaced


def _short(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= 16 else text[:15] + "…"
