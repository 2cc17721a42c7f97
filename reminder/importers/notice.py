"""A 通知 written as numbered paragraphs instead of a table.

"1. 做好…。（责任单位：区司法局牵头，区政府各部门配合；完成时限：长期）": each numbered item is
a task, its labelled parts (in full- or half-width brackets, at the item's end or on a line of
their own after it) its units and deadline. Marker kinds that carry labels are the task level;
shallower ones (一、 over 1.) are sections; lines after a finished item are the notice's prose,
where the report sentences are found. The result is a grid like any table's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reminder.importers.header import column_kind
from reminder.importers.stream import units_cell
from reminder.parse.units import split_names, split_units

HEADER = ["序号", "具体要求", "牵头单位", "配合单位", "责任单位", "完成时限"]
_ROLE_COLUMN = {"lead": 2, "support": 3, "units": 4, "deadline": 5}
# Marker kinds, shallow to deep: 一、  （一）  1. / 1、  ①
_MARKERS = (
    ("cn", re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、.．]\s*")),
    ("paren", re.compile(r"^\s*[（(]\s*([一二三四五六七八九十]{1,3})\s*[）)]\s*")),
    ("arabic", re.compile(r"^\s*(\d{1,3})\s*[.．、]\s*(?=\D)")),
    ("circled", re.compile(r"^\s*([①-⑳])\s*")),
)
_DEPTH = {kind: i for i, (kind, _) in enumerate(_MARKERS)}
_LABEL = re.compile(r"([\u4e00-\u9fff]{2,8})\s*[:：]")
_OPEN, _CLOSE = "（(", "）)"
_ROLES = ("units", "lead", "support", "deadline")
_LABEL_ONLY = {"时间": "deadline"}  # a label, though too vague for a table header
_SEPARATORS = " \u3000\t，,；;、。.．"
_ROLE_WORDS = re.compile(r"牵头|配合|负责|落实|参与")


def _marker(line: str) -> tuple[str, str, str] | None:
    """(kind, number, text after the marker) of a numbered line."""
    for kind, pattern in _MARKERS:
        m = pattern.match(line)
        if m and line[m.end() :].strip():
            return kind, m.group(1), line[m.end() :].strip()
    return None


def labels(text: str) -> dict[str, str] | None:
    """{role: value} of "责任单位：…；完成时限：…" when every label names a column role."""
    found = list(_LABEL.finditer(text))
    if not found or text[: found[0].start()].strip(" （(【[，,；;"):
        return None
    parts: dict[str, str] = {}
    for m, nxt in zip(found, [*found[1:], None], strict=True):
        word = m.group(1)
        kind = _LABEL_ONLY.get(word) or (column_kind(word) or ("",))[0]
        if kind not in _ROLES:
            return None
        value = text[m.end() : nxt.start() if nxt else len(text)]
        # Any separator may stand between labelled parts: ，；、 or spaces, full or half width.
        parts[kind] = value.strip().strip(_SEPARATORS).strip()
    return parts


def _trailing_group(text: str) -> tuple[str, str] | None:
    """Split "…。（责任单位：…）" into the text and the last bracket group's inside."""
    body = text.rstrip(" 。.；;")
    if not body or body[-1] not in _CLOSE:
        return None
    depth = 0
    for i in range(len(body) - 1, -1, -1):
        if body[i] in _CLOSE:
            depth += 1
        elif body[i] in _OPEN:
            depth -= 1
            if depth == 0:
                return body[:i].rstrip(), body[i + 1 : -1]
    return None


def split_labels(text: str) -> tuple[str, dict[str, str]]:
    """(item text, labelled parts) — parts {} when the text ends with none. A bracket of
    units without a label, "（市政府办公室、市审改办牵头，市级各有关部门按职责分工负责）"
    (newton.com.tw, sxqzlawfirm.com shapes), is the item's units."""
    group = _trailing_group(text)
    if group is not None and (parts := labels(group[1])) is not None:
        return group[0], parts
    if group is not None and _ROLE_WORDS.search(group[1]) and units_cell(group[1]):
        return group[0], {"units": group[1].strip()}
    return text, {}


def _label_line(line: str) -> dict[str, str] | None:
    """A line holding only labelled parts: "（牵头单位：…；配合单位：…）" or "责任单位：…"."""
    stripped = line.strip()
    group = _trailing_group(stripped)
    if group is not None and not group[0].strip():
        return labels(group[1])
    return labels(stripped)


def notice_rows(lines: Sequence[str]) -> tuple[list[list[str]], list[str], list[str]] | None:
    """(rows with a header first, the prose lines, doubts) of a notice; None when no item is
    labelled. A doubt is a line of labelled units or deadline that follows no item: it is kept
    with the prose, and named so the import stops for review rather than drop it in silence."""
    lines = [line.strip() for line in lines if line.strip()]
    marked = [(_marker(line), i) for i, line in enumerate(lines)]
    labelled_kinds: set[str] = set()
    for (found, i) in marked:
        if found is None:
            continue
        own = split_labels(found[2])[1]
        after = []  # the item's own lines, up to the next numbered one
        for j in range(i + 1, min(i + 6, len(lines))):
            if marked[j][0] is not None:
                break
            after.append(lines[j])
        if own or any(_label_line(line) for line in after):
            labelled_kinds.add(found[0])
    if not labelled_kinds:
        return None
    task_depth = min(_DEPTH[k] for k in labelled_kinds)
    rows: list[list[str]] = [HEADER]
    prose: list[str] = []
    doubts: list[str] = []
    current: list[str] | None = None  # the open task row, until its labels are read
    labelled: list[str] | None = None  # the row the line above labelled
    for found, i in marked:
        line = lines[i]
        previous, labelled = labelled, None
        if found is None and previous is not None and (parts := _label_line(line)) is not None \
                and not any(previous[_ROLE_COLUMN[r]] for r in parts):
            # "牵头单位：…" and "责任单位：…" on lines of their own, one after the other
            # (lishan.gov.cn): both belong to the item above.
            _fill(previous, parts)
            labelled = previous
        elif found is not None and _DEPTH[found[0]] == task_depth:
            kind, number, text = found
            text, parts = split_labels(text)
            current = [number if kind == "arabic" else "", text.rstrip("。"), "", "", "", ""]
            rows.append(current)
            if parts:
                _fill(current, parts)
                current, labelled = None, current
        elif found is not None and _DEPTH[found[0]] < task_depth:
            rows.append([line])
            current = None
        elif current is not None and (parts := _label_line(line)) is not None:
            _fill(current, parts)
            current, labelled = None, current
        elif current is not None:
            text, parts = split_labels(line)  # the item's paragraph went on (or a sub-item)
            current[1] = f"{current[1]}{text}".rstrip("。")
            if parts:
                _fill(current, parts)
                current, labelled = None, current
        else:
            if _label_line(line) is not None and len(rows) > 1:
                shown = line if len(line) <= 40 else line[:39] + "…"
                doubts.append(f"“{shown}”没有紧跟在某项任务之后，未归入任何任务，请核对")
            prose.append(line)
    return rows, prose, doubts


def _fill(row: list[str], parts: dict[str, str]) -> None:
    for role, value in parts.items():
        row[_ROLE_COLUMN[role]] = value
    if parts.get("units") and parts.get("support") and not parts.get("lead"):
        # （责任单位：法规科，配合单位：各科室）: the 责任单位 leads. Left in 责任单位 alone, the
        # loader (which splits that column only when 牵头 and 配合 are both empty) would
        # chase 各科室 and never 法规科.
        lead, support = split_units(parts["units"])
        extra = [s for s in split_names(parts["support"]) if s not in support]
        row[_ROLE_COLUMN["lead"]] = "；".join(lead)
        row[_ROLE_COLUMN["support"]] = "；".join([*support, *extra])
