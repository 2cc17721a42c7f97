"""Fixed-layout pages (PDF, a scan's OCR, OFD) → a ``Grid``: what the three readers share.

A page reader hands over, per page, its ruled tables as cell boxes with their text and the
text lines outside them with positions. Here cell boxes become rows (a box spanning several
column or row lines fills every slot it covers: merged cells), tables continued over a page
break are joined (a header row repeated on the next page dropped, a row split by the break
put back together, a cell merged across the break filled on both sides), running heads, feet
and page numbers are dropped, and wrapped lines are joined back into paragraphs so the notice
parser sees one numbered item per line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from reminder.importers.table import Grid

TOLERANCE = 3.0  # points: ruling lines closer than this are one line
_PAGE_NUMBER = re.compile(
    r"^[\s\-—–_·•]*(?:第\s*)?\d{1,4}\s*(?:页)?\s*(?:[/／]\s*(?:共\s*)?\d{1,4}\s*页?)?[\s\-—–_·•]*$"
    r"|^\s*(?:page\s*)?\d{1,4}\s*(?:of\s*\d{1,4})?\s*$",
    re.I,
)
_MARKER = re.compile(r"^\s*(?:[一二三四五六七八九十]{1,3}\s*[、.．]"
                     r"|[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[）)]|\d{1,3}\s*[.．、]|[①-⑳]|附件)")
_ENDS = "。；;：:！!？?）)”"


@dataclass
class Cell:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str = ""
    score: float = 1.0  # OCR's confidence in the text


@dataclass
class Line:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str


@dataclass
class Table:
    top: float
    bottom: float
    columns: list[float]  # the x of every column line, left to right
    rows: list[list[str]]
    cell_of: list[list[int]]  # for each slot, which cell filled it (merged slots share one)
    spans: dict[int, int]  # cell -> how many rows it covers


@dataclass
class Page:
    number: int  # from 1
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _cluster(values: Sequence[float], tolerance: float) -> list[float]:
    out: list[float] = []
    for value in sorted(values):
        if not out or value - out[-1] > tolerance:
            out.append(value)
    return out


def _index(lines: list[float], value: float) -> int:
    return min(range(len(lines)), key=lambda i: abs(lines[i] - value))


def build_table(cells: Sequence[Cell], tolerance: float = TOLERANCE) -> Table | None:
    """Rows from cell boxes: the distinct column and row lines make the slots, each box fills
    the slots it covers."""
    if not cells:
        return None
    xs = _cluster([c.x0 for c in cells] + [c.x1 for c in cells], tolerance)
    ys = _cluster([c.top for c in cells] + [c.bottom for c in cells], tolerance)
    if len(xs) < 2 or len(ys) < 2:
        return None
    rows = [[""] * (len(xs) - 1) for _ in range(len(ys) - 1)]
    owner = [[-1] * (len(xs) - 1) for _ in range(len(ys) - 1)]
    spans: dict[int, int] = {}
    for n, cell in enumerate(cells):
        left, right = _index(xs, cell.x0), _index(xs, cell.x1)
        top, bottom = _index(ys, cell.top), _index(ys, cell.bottom)
        spans[n] = max(1, bottom - top)
        for r in range(top, bottom):
            for c in range(left, right):
                rows[r][c] = cell.text
                owner[r][c] = n
    keep = [i for i, row in enumerate(owner) if any(o >= 0 for o in row)]
    return Table(top=ys[0], bottom=ys[-1], columns=xs, rows=[rows[i] for i in keep],
                 cell_of=[owner[i] for i in keep], spans=spans)


def text_in(box: tuple[float, float, float, float], items: Sequence[Line]) -> str:
    """The text of the lines (or words) whose centre is inside the box, in reading order."""
    x0, top, x1, bottom = box
    inside = [i for i in items if x0 <= (i.x0 + i.x1) / 2 <= x1 and top <= (i.top + i.bottom) / 2 <= bottom]
    return "\n".join(line.text for line in reading_order(inside))


def reading_order(items: Sequence[Line]) -> list[Line]:
    """Top to bottom; pieces on one line (overlapping vertically) joined left to right."""
    rows: list[list[Line]] = []
    for item in sorted(items, key=lambda i: (i.top + i.bottom) / 2):
        middle = (item.top + item.bottom) / 2
        if rows and abs(middle - _middle(rows[-1])) < max(2.0, (item.bottom - item.top) * 0.5):
            rows[-1].append(item)
        else:
            rows.append([item])
    out = []
    for row in rows:
        row.sort(key=lambda i: i.x0)
        text = "".join(i.text for i in row)
        out.append(Line(row[0].x0, min(i.top for i in row), row[-1].x1,
                        max(i.bottom for i in row), text))
    return out


def join_wrapped(texts: Sequence[str]) -> str:
    """A cell's visual lines as its text: a line wrapped at the cell's edge runs on; a line
    ending a sentence, or a numbered one starting, begins a new line (a paragraph in Word)."""
    out = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if out and not out.endswith(tuple(_ENDS)) and not _MARKER.match(text):
            out += text
        else:
            out += ("\n" if out else "") + text
    return out


def _middle(row: list[Line]) -> float:
    return sum((i.top + i.bottom) / 2 for i in row) / len(row)


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", "".join(text.split()))


def drop_running(pages: Sequence[Page]) -> None:
    """Page numbers, and heads or feet repeated on most pages, go (only in a page's top and
    bottom eighth, so a task line that happens to repeat stays)."""
    def margin(page: Page, line: Line) -> bool:
        return line.bottom < page.height / 8 or line.top > page.height * 7 / 8

    for page in pages:  # pieces (OFD's characters, OCR's boxes) into whole lines first
        page.lines = reading_order(page.lines)
    counts = Counter(key for page in pages for key in
                     {_running_key(line.text) for line in page.lines if margin(page, line)})
    repeated = {k for k, n in counts.items() if len(pages) >= 2 and n >= max(2, len(pages) // 2)}
    for page in pages:
        page.lines = [line for line in page.lines
                      if not (margin(page, line) and (_PAGE_NUMBER.match(line.text)
                                                      or _running_key(line.text) in repeated))]


def paragraphs(pages: Sequence[Page], above: dict[int, float] | None = None) -> list[str]:
    """Wrapped lines joined into paragraphs: a new one starts at a numbered marker, an indent,
    a wide gap, or after a line that stopped short of the right margin."""
    out: list[str] = []
    open_paragraph = False
    for page in pages:
        lines = reading_order(page.lines)
        if not lines:
            continue
        left = min(line.x0 for line in lines)
        # The text's right edge; a page with one short line has none of its own.
        right = max([line.x1 for line in lines] + [t.columns[-1] for t in page.tables]
                    + [page.width * 0.8])
        previous: Line | None = None
        for line in lines:
            size = max(1.0, line.bottom - line.top)
            starts = (
                not open_paragraph or _MARKER.match(line.text) is not None
                or line.x0 > left + 1.5 * size
                or (previous is not None and line.top - previous.bottom > 1.2 * size)
            )
            if starts or not out:
                out.append(line.text.strip())
            else:
                out[-1] += line.text.strip()
            open_paragraph = line.x1 >= right - 2 * size and not line.text.rstrip().endswith(tuple(_ENDS))
            previous = line
    return [p for p in out if p]


def _continues(before: Table, after: Table) -> bool:
    if len(before.columns) != len(after.columns):
        return False
    slack = max(2 * TOLERANCE, 0.015 * (before.columns[-1] - before.columns[0]))
    return all(abs(a - b) <= slack for a, b in zip(before.columns, after.columns, strict=True))


def _norm(row: Sequence[str]) -> list[str]:
    return ["".join(c.split()) for c in row]


def _is_id(text: str) -> bool:
    return bool(re.fullmatch(r"\s*\d{1,4}\s*[.．、]?\s*", text))


def join_tables(pages: Sequence[Page]) -> list[list[str]]:
    """Every page's tables in order, one table continued over a page break joined into one."""
    rows: list[list[str]] = []
    previous: Table | None = None
    header: list[str] | None = None
    for page in pages:
        for n, table in enumerate(page.tables):
            body_rows, owners = [list(r) for r in table.rows], [list(o) for o in table.cell_of]
            continued = previous is not None and n == 0 and _continues(previous, table) and rows
            if not continued:
                header = _norm(body_rows[0]) if body_rows else None
                rows.extend(body_rows)
                previous = table
                continue
            while body_rows and header is not None and _norm(body_rows[0]) == header:
                body_rows.pop(0)  # the header row repeated at the top of the page
                owners.pop(0)
            if body_rows:
                _stitch(previous, rows, table, body_rows, owners)
            rows.extend(body_rows)
            previous = table
    return rows


def _stitch(before: Table, rows: list[list[str]], table: Table, body: list[list[str]],
            owners: list[list[int]]) -> None:
    """The first row after a page break: cells merged across the break get the text written
    above it; a row split by the break goes back into the row it came from."""
    last = rows[-1]
    last_owner = before.cell_of[-1]
    first = body[0]
    for c, text in enumerate(first):
        cell = owners[0][c]
        merged_here = table.spans.get(cell, 1) > 1
        merged_above = before.spans.get(last_owner[c], 1) > 1 if c < len(last_owner) else False
        if not text and (merged_here or merged_above) and c < len(last):
            for r, row in enumerate(body):
                if owners[r][c] == cell:
                    row[c] = last[c]
    own = [(c, t) for c, t in enumerate(first) if t and t != last[c]]
    # A new row carries its own number; where the row above has one and this has none, the
    # break split a row. Without a number column: every piece must run on from above.
    numbered = [c for c, t in enumerate(last) if _is_id(t) and c < len(first)]
    split = bool(own) and (
        all(not first[c] for c in numbered) if numbered else all(
            last[c] and not last[c].rstrip().endswith(tuple(_ENDS)) and not _MARKER.match(t)
            and not _is_id(t) for c, t in own)
    )
    if split:
        for c, t in own:
            old = last[c]
            joined = join_wrapped([old, t])
            for row in reversed(rows):  # the cell may be merged over the rows above too
                if row[c] != old:
                    break
                row[c] = joined
        body.pop(0)
        owners.pop(0)


def grid(pages: Sequence[Page], notes: Sequence[str] = ()) -> Grid:
    drop_running(pages)
    rows = join_tables(pages)
    return Grid(rows=rows, context=paragraphs(pages), notes=list(notes))
