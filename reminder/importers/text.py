"""Text pasted out of a PDF or a web page (.txt, .md): Markdown/pipe tables, tab-separated
rows, one-cell-per-line streams (pasted.py when a header of cell lines leads them), and web
text whose cell ends were left as "/td>"."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

from reminder.importers import pagetext, pasted, stream
from reminder.importers.header import column_kind
from reminder.importers.html import decode
from reminder.importers.meta import detect_year
from reminder.importers.notice import notice_rows
from reminder.importers.table import Grid

_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CELL_END = re.compile(r"/t[dh]>")
# Within such a page a cell also ends where the scrape lost even the "/td>" and left a run of
# spaces (single spaces occur inside cells: "依托 12345 政务服务").
_SCRAPED_CELL_END = re.compile(r"/t[dh]>|\s{2,}")
# "&ldquo;" whose "&" was lost: "落?ldquo;六保"
_ENTITY = re.compile(r"[?&](ldquo|rdquo|lsquo|rsquo|mdash|hellip|middot|nbsp);")
# Some scrapes drop each closing tag's "<" and take one off the code point of the character
# before it (室 becomes 宣, 处 becomes 夃, 。 becomes 、); "?" marks a byte lost for good.
_SHIFTED_END = re.compile(r"([^?\s])(/(?:td|th|p|span|div|strong|a)>)")
_BR = re.compile(r"<br\s*/?>", re.I)  # Markdown tables write a line break inside a cell so


class TextImporter:
    name = "文本"
    suffixes = (".txt", ".md", ".markdown", ".tsv", ".text")

    def read(self, path: Path, data: bytes) -> Grid:
        text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        nonempty = [line for line in lines if line.strip()]
        year = detect_year("", text.splitlines())
        if pagetext.looks_like_reader_text(nonempty):
            return pagetext.reader_grid(nonempty)
        if _CELL_END.search(text):
            return _scraped(lines)
        if sum(1 for line in nonempty if line.count("|") >= 2) >= 3:
            return _pipe_rows(lines)
        if (cells := pasted.grid(lines, year)) is not None:
            return cells
        if nonempty and sum(1 for line in nonempty if line.rstrip().endswith("|")) >= len(nonempty) / 2:
            rows, context = stream.rebuild([line.rstrip().rstrip("|") for line in lines], year)
            return Grid(rows=rows, context=context, flattened=True, notes=stream.doubts(rows))
        if sum(1 for line in nonempty if "\t" in line.strip(" \t")) >= 3:
            return _tab_rows(lines)
        if sum(1 for line in nonempty if line.startswith("\t")) >= 3:
            return _tab_groups(lines)
        if (found := notice_rows(lines)) is not None:
            return Grid(rows=found[0], context=found[1], from_text=True, notes=found[2])
        rows, context = stream.rebuild(lines, year)
        return Grid(rows=rows, context=context, flattened=True, notes=stream.doubts(rows))


def _pipe_rows(lines: list[str]) -> Grid:
    """Markdown tables and "a | b | c" rows; lines without pipes before the table are context."""
    rows: list[list[str]] = []
    context: list[str] = []
    for line in lines:
        if not line.strip() or _RULE.match(line):
            continue
        if line.count("|") >= 1 and (rows or line.count("|") >= 2):
            cells = line.strip().split("|")
            if line.strip().startswith("|"):
                cells = cells[1:]
            if line.strip().endswith("|"):
                cells = cells[:-1]
            rows.append([_BR.sub("\n", c).strip() for c in cells])
        elif rows:
            rows.append([line.strip().lstrip("#").strip()])
        else:
            context.append(line.strip().lstrip("#").strip())
    return Grid(rows=_unshifted(rows), context=context, flattened=True)


def _unshifted(rows: list[list[str]]) -> list[list[str]]:
    """Rows a site wrote without their merged cells: "3.及时答复… | 各科室 | |" under
    "工作任务 | 具体要求 | 责任部门" (sd-xs.com) lost the category cell and slid left. Such a row
    has its numbered requirement left of the title column and empty cells at its end; it is
    moved right so the requirement sits under the title (the category, merged, is empty)."""
    from reminder.importers.header import find_header

    header = find_header(rows)
    title = header.columns.get("title") if header else None
    if header is None or not title:
        return rows
    out = rows[: header.row + 1]
    for row in rows[header.row + 1 :]:
        at = next((i for i, c in enumerate(row) if c.strip()), len(row))
        shift = title - at
        under_title = row[title] if title < len(row) else ""
        if (shift > 0 and at < len(row) and stream._NUMBERED.match(row[at])
                and not stream._NUMBERED.match(under_title)
                and not any(c.strip() for c in row[len(row) - shift :])):
            row = [""] * shift + row[: len(row) - shift]
        out.append(row)
    return out


def _tab_rows(lines: list[str]) -> Grid:
    """One row per line, cells between tabs (empty cells kept: they are merged ones)."""
    rows = [line.rstrip("\n").split("\t") for line in lines if line.strip()]
    return Grid(rows=rows, flattened=True)


def _tab_groups(lines: list[str]) -> Grid:
    """Word tables pasted as one tab-led line per cell, a blank line between rows."""
    rows: list[list[str]] = []
    context: list[str] = []
    group: list[str] = []

    def flush() -> None:
        if group:
            rows.append(list(group))
            group.clear()

    for line in [*lines, ""]:
        if not line.strip() and not line.startswith("\t"):
            flush()
        elif line.startswith("\t"):
            group.append(line[1:].strip())
        elif group:
            group[-1] += line.strip()  # a cell's text wrapped onto a line of its own
        elif rows:
            rows.append([line.strip()])
        else:
            context.append(line.strip())
    return Grid(rows=rows, context=context, flattened=True)


def _scraped(lines: list[str]) -> Grid:
    """A scraped page whose "</td>" became "X/td>": cut cells there. Cells the scrape merged
    away are restored by anchoring each row on its numbered requirement (cells before it
    fill the columns before the title from the right, cells after it those after)."""
    rows: list[list[str]] = []
    context: list[str] = []
    header: list[str] | None = None
    if _shifted("\n".join(lines)):
        lines = [_SHIFTED_END.sub(lambda m: chr(ord(m.group(1)) + 1) + m.group(2), line)
                 for line in lines]
    lines = [_ENTITY.sub(lambda m: html.unescape(f"&{m.group(1)};"), line) for line in lines]
    for line in lines:
        if not line.strip():
            continue
        words = line.split()
        if header is None and len(words) >= 3 and all(column_kind(w) for w in words):
            header = words
            rows.append(words)
            continue
        if header is None:
            context.append(line.strip())
            continue
        cells = [c.strip() for c in _SCRAPED_CELL_END.split(line)]
        cells = [c for c in cells if c] or [line.strip()]
        rows.append(_align(cells, header) if len(cells) > 1 else cells)
    return Grid(rows=rows, context=context, flattened=True)


def _shifted(text: str) -> bool:
    """Cells of a plan end their sentences with 。; a page whose cells mostly end in 、
    instead went through the code-point-shifting scrape."""
    ends = Counter(m.group(1) for m in _SHIFTED_END.finditer(text))
    return ends["、"] > 2 * ends["。"] and ends["、"] >= 3


def _align(cells: list[str], header: list[str]) -> list[str]:
    from reminder.importers.header import assign

    title = assign(header).get("title", 1)
    at = next((i for i, c in enumerate(cells) if stream._NUMBERED.match(c)), None)
    if at is None or len(cells) >= len(header):
        return cells
    before, after = cells[:at], cells[at + 1 :]
    row = [""] * len(header)
    for i, cell in enumerate(reversed(before)):
        if title - 1 - i >= 0:
            row[title - 1 - i] = cell
    row[title] = cells[at]
    for i, cell in enumerate(reversed(after)):
        if len(header) - 1 - i > title:
            row[len(header) - 1 - i] = cell
    return row
