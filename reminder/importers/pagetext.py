"""Text copied out of an online document reader (or OCR) that showed a Word table.

What arrives: the site's chrome (file name, upload and page lines, "第2页 / 共12页", "展开阅读全文",
ICP and 公网安备 footers), page fragments numbered "1、", "2、"…, the table's header words again
at every page break, and the cells run together with nothing between them: a task group, its
numbered measures ("1 .…于2021年9月底前…"), then the units as bare names
("市司法局市政府各部门、各区县政府"). Here the chrome goes, the measures are split at their
numbers, and each group of measures gets the unit names that follow it (rules/units.toml).
What cannot be split with confidence is said in ``Grid.notes``, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reminder.importers.header import GROUP_WORDS, HEADER_WORDS, REQUIREMENT_WORDS
from reminder.importers.table import Grid
from reminder.parse.units import org_grammar

_FILE_LINE = re.compile(r"^\S.{0,80}\.(?:docx?|wps|pdf|xlsx?|txt)\s*$", re.I)
_CHROME_WORDS = re.compile(
    r"(文档编号|上传时间|上传者|上传人|下载积分|下载次数|浏览次数|阅读次数|由会员分享|可在线阅读|"
    r"请在.{1,12}上搜索|展开阅读全文|阅读已结束|下载文档到电脑|相关资源|版权所有|Copyright|"
    r"ICP\s*备|ICP证|公网安备|^\s*(?:格式|页数|大小|分类|星级)\s*[:：])",
    re.I,
)
_PAGE = re.compile(r"第\s*\d+\s*页\s*[/／,，]?\s*(?:共\s*\d+\s*页)?")
_FRAGMENT_NO = re.compile(r"^\s*(\d{1,3})\s*、")
# "1 ." "2．" "3." — a measure number; not part of a longer number, not a decimal
_MEASURE = re.compile(r"(?<![\d.．])(\d{1,2})\s*[.．]\s*(?!\d)")
_SENTENCE_END = "。；;"
_HEADER_WORDS = sorted(
    {w for w in (*GROUP_WORDS, *REQUIREMENT_WORDS, *(x for ws in HEADER_WORDS.values() for x in ws))
     if len(w) >= 2},
    key=len, reverse=True,
)
_HEADER_RUN = re.compile(
    "(?:(?:" + "|".join(map(re.escape, _HEADER_WORDS)) + r")\s*){3,}"
)
HEADER = ["序号", "工作任务", "具体措施", "牵头单位", "配合单位"]


def looks_like_reader_text(lines: Sequence[str]) -> bool:
    """Two signs of a reader's chrome, or page markers: the text came from a reader site."""
    chrome = sum(1 for line in lines if _CHROME_WORDS.search(line) or _FILE_LINE.match(line))
    pages = sum(1 for line in lines if _PAGE.search(line))
    return chrome >= 2 or pages >= 2


def strip_chrome(lines: Sequence[str]) -> list[str]:
    """The document's own text: chrome lines dropped, page markers cut out, and the page
    fragments' running numbers ("1、", "2、"… at each fragment's start) removed."""
    kept = []
    for line in lines:
        if _CHROME_WORDS.search(line) or _FILE_LINE.match(line):
            continue
        line = _PAGE.sub("", line).strip()
        if line:
            kept.append(line)
    numbers = [int(m.group(1)) if (m := _FRAGMENT_NO.match(line)) else None for line in kept]
    counted = [n for n in numbers if n is not None]
    if len(counted) >= 2 and counted == list(range(1, len(counted) + 1)):
        kept = [_FRAGMENT_NO.sub("", line, count=1) if n is not None else line
                for line, n in zip(kept, numbers, strict=True)]
    return kept


def _measures(text: str) -> list[re.Match[str]]:
    """Measure numbers that count on (n+1) or start again at 1; any other number is text."""
    accepted: list[re.Match[str]] = []
    last = 0
    for m in _MEASURE.finditer(text):
        n = int(m.group(1))
        if n == last + 1 or (n == 1 and accepted):
            accepted.append(m)
            last = n
    return accepted


def _heading(text: str) -> str:
    """A task group's name, as left between one group's units and the next measure."""
    return text.strip(" 。；;，,、").lstrip("0123456789 ").strip()


def reader_grid(lines: Sequence[str]) -> Grid:
    lines = strip_chrome(lines)
    grid = Grid(rows=[], from_text=True)
    first = next((i for i, line in enumerate(lines) if len(_measures(line)) >= 1), None)
    if first is None:
        grid.context = list(lines)
        grid.notes.append("文字中找不到编号措施（1. 2. …），无法切分成任务")
        return grid
    grid.context = [line for line in lines[:first] if not _HEADER_RUN.fullmatch(line)]
    text = _HEADER_RUN.sub("", "".join(lines[first:]))  # the header again at each page break
    found = _measures(text)
    if len(found) < 2:
        grid.notes.append("文字中只找到一条编号措施，无法可靠切分")
        return grid

    grammar = org_grammar()
    restarts = any(int(m.group(1)) == 1 for m in found[1:])
    rows: list[list[str]] = [HEADER]
    heading = _heading(text[: found[0].start()])
    group: list[list[str]] = []
    unplaced = 0
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        segment = text[m.end() : nxt.start() if nxt else len(text)]
        cut = max(segment.rfind(c) for c in _SENTENCE_END)
        body, tail = (segment[: cut + 1], segment[cut + 1 :]) if cut >= 0 else (segment, "")
        names, end = grammar.leading_names(tail)
        if not names:
            body, tail = segment, ""
        row = ["" if restarts else m.group(1), heading, body.strip(), "", ""]
        group.append(row)
        rows.append(row)
        if names:
            for member in group:
                member[3], member[4] = names[0], "；".join(names[1:])
            group = []
            heading = _heading(tail[end:]) or heading
    unplaced = len(group)
    if unplaced:
        grid.notes.append(f"最后 {unplaced} 条措施后面没有认出责任单位")
    grid.rows = rows
    return grid
