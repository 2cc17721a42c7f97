"""Fitting a table to the terminal: which columns to keep and how wide each may be.

Widths are counted in terminal cells (a Chinese character takes two), with rich's own
measure. The rules, in order: a column with nothing in it is not shown; columns are kept
by priority while their narrowest form fits; only a "flex" column (a title) is cut, with an
ellipsis; an "items" column (addresses) wraps between items, never inside one; a "wrap"
column (free text) wraps anywhere.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from rich.cells import cell_len

GAP = 2  # cells between two columns
Kind = Literal["fixed", "flex", "items", "wrap"]


@dataclass(frozen=True, kw_only=True)
class Column:
    key: str
    header: str
    priority: int = 0  # lower is more important; kept first
    kind: Kind = "fixed"
    min_width: int = 8  # for "flex": the narrowest a title may be cut to
    align: Literal["left", "right"] = "left"
    fallback_for: str | None = None  # shown only when that (wider) column is not


def cells(value: Any) -> tuple[str, ...]:
    """A cell as its unbreakable items: a list stays a list, anything else is one item."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v))
    text = str(value)
    return (text,) if text else ()


def terminal_width(out: TextIO) -> int | None:
    """The width to fit: the terminal's, or $COLUMNS when set; None when the output is a
    pipe or file, which gets plain unwrapped lines."""
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        return shutil.get_terminal_size((80, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def fit(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]],
        width: int | None) -> list[tuple[Column, int]]:
    """(column, width) of the columns to show, in their given order."""
    natural: dict[str, int] = {}
    narrowest: dict[str, int] = {}
    for col in columns:
        items = [cells(row.get(col.key)) for row in rows]
        if not any(items):
            continue  # never an empty column
        one_line = max((cell_len("，".join(i)) for i in items), default=0)
        widest_item = max((cell_len(x) for i in items for x in i), default=0)
        head = cell_len(col.header)
        natural[col.key] = max(head, one_line)
        narrowest[col.key] = max(head, {"fixed": one_line, "items": widest_item,
                                        "flex": min(col.min_width, one_line),
                                        "wrap": min(col.min_width, one_line)}[col.kind])
    shown = [c for c in columns if c.key in natural]
    if width is None:
        names = {c.key for c in shown}
        return [(c, natural[c.key]) for c in shown if c.fallback_for not in names]
    kept: list[Column] = []
    used = 0
    for col in sorted(shown, key=lambda c: c.priority):
        if col.fallback_for is not None and any(k.key == col.fallback_for for k in kept):
            continue
        need = narrowest[col.key] + (GAP if kept else 0)
        if used + need <= width:
            kept.append(col)
            used += need
    widths = {c.key: narrowest[c.key] for c in kept}
    spare = width - used
    # Room left goes to the texts that can use it (titles, wrapped text), in proportion to
    # what each lacks; then to wrapped items, so they take fewer lines.
    for kinds in (("flex", "wrap"), ("items",)):
        wanting = {c.key: natural[c.key] - widths[c.key] for c in kept if c.kind in kinds}
        total = sum(wanting.values())
        if total <= 0 or spare <= 0:
            continue
        share = min(spare, total)
        given = {k: want * share // total for k, want in wanting.items()}
        for k in sorted(wanting, key=lambda k: -wanting[k]):  # rounding leftovers
            if sum(given.values()) < share and given[k] < wanting[k]:
                given[k] += 1
        for k, extra in given.items():
            widths[k] += extra
        spare -= sum(given.values())
    return [(c, widths[c.key]) for c in shown if c in kept]


def pack(items: Sequence[str], width: int, sep: str = "，") -> list[str]:
    """Items on as few lines of at most ``width`` cells as possible, never split."""
    lines: list[str] = []
    for item in items:
        if lines and cell_len(lines[-1] + sep + item) <= width:
            lines[-1] += sep + item
        else:
            lines.append(item)
    return lines


def chop(text: str, width: int) -> list[str]:
    """Free text in lines of at most ``width`` cells."""
    lines = [""]
    for ch in text:
        if cell_len(lines[-1] + ch) > width:
            lines.append("")
        lines[-1] += ch
    return lines


def wrap_text(items: Sequence[str], width: int) -> list[str]:
    """Free text in lines of ``width``, broken after punctuation or a space where it can be,
    so a date is not cut in two."""
    lines = [""]
    for item_no, item in enumerate(items):
        for piece in re.split(r"(?<=[；，。、）\s])", ("，" if item_no else "") + item):
            if cell_len(lines[-1] + piece) <= width:
                lines[-1] += piece
            elif cell_len(piece) <= width:
                lines.append(piece)
            else:  # longer than a line anyway: fill this line and go on
                lines[-1:] = chop(lines[-1] + piece, width)
    return [line.rstrip() for line in lines]


def clip(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    out = ""
    for ch in text:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], out: TextIO,
           width: int | None) -> None:
    """Print rows as aligned plain text: a header, a rule, then each row (several lines
    when an items column wraps)."""
    layout = fit(columns, rows, width)
    if not layout:
        return

    def line(parts: Sequence[str]) -> str:
        padded = []
        for (col, w), text in zip(layout, parts, strict=True):
            pad = " " * max(w - cell_len(text), 0)
            padded.append(pad + text if col.align == "right" else text + pad)
        return (" " * GAP).join(padded).rstrip()

    out.write(line([c.header for c, _ in layout]) + "\n")
    out.write(line(["─" * w for _, w in layout]) + "\n")
    for row in rows:
        blocks: list[list[str]] = []
        for col, w in layout:
            items = cells(row.get(col.key))
            if width is None:
                blocks.append(["，".join(items)])
            elif col.kind == "items":
                blocks.append(pack(items, w))
            elif col.kind == "wrap":
                blocks.append(wrap_text(items, w))
            else:
                text = "，".join(items)
                blocks.append([clip(text, w)])
        for i in range(max(len(b) for b in blocks)):
            out.write(line([b[i] if i < len(b) else "" for b in blocks]) + "\n")
