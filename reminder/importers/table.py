"""Grid of cells → tasks: the logic every reader shares.

A reader hands over a ``Grid``: rows of cell texts with merged cells already expanded to every
position they cover (or left empty when the source flattened them away, ``flattened=True``),
plus the document's text outside the table. Here the header is found by its words, title rows
and repeated headers are skipped, section rows become section paths, and each remaining row
becomes a ``Task``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import pairwise

from reminder.errors import ImportFailed
from reminder.importers import audience
from reminder.importers.confidence import Confidence, assess, count_items
from reminder.importers.header import (
    Header,
    column_kind,
    find_header,
    header_from_names,
    norm,
    period_row,
)
from reminder.importers.infer import infer_header
from reminder.importers.meta import (
    detect_issued,
    detect_title,
    find_deadlines,
    is_report_sentence,
    report_dates,
    year_evidence,
)
from reminder.importers.notice import notice_rows
from reminder.models import PlanDate, Task
from reminder.parse.units import level_aliases, split_names, split_units

_L1 = re.compile(r"^[一二三四五六七八九十百]+\s*[、.．]")
_L2 = re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[）)]")
_NUMBERED = re.compile(r"^\s*(\d{1,3})\s*[.．、]\s*(?=\S)")
_ID = re.compile(r"^\s*(\d{1,4})\s*[.．、]?\s*$")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"))
DEFAULT_DEADLINE = "年底前"


@dataclass
class Grid:
    """What a reader returns: table rows (merged cells expanded) and the text around them."""

    rows: list[list[str]]
    context: list[str] = field(default_factory=list)
    flattened: bool = False  # merged cells arrived empty (text, csv): inherit from above
    from_text: bool = False  # rows were rebuilt from running text, not read from table cells
    skipped: list[str] = field(default_factory=list)  # parts not read, named for the report
    notes: list[str] = field(default_factory=list)  # what the reader could not understand
    name: str = ""  # the sheet's name, when the grid is one sheet of a workbook
    parts: list[Grid] = field(default_factory=list)  # several task tables (one per sheet)


@dataclass(frozen=True)
class PlanTable:
    tasks: tuple[Task, ...]
    columns: dict[str, str]  # role -> header text, for plan.toml [table].columns
    title: str
    year: int
    issued: date | None
    default_deadline: str | None
    dates: tuple[PlanDate, ...]
    units: tuple[str, ...]
    warnings: tuple[str, ...]
    confidence: Confidence
    year_from: str = ""  # the words the year was guessed from; "" when the title states it
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unit -> names as written


def spread_merged(rows: list[list[str]], ranges: Iterable[tuple[int, int, int, int]], width: int,
                  count: Callable[[int], None]) -> None:
    """Copy each merged range's top-left text into every cell it covers, in place.

    Ranges are 0-based and half-open, (top, bottom, left, right), as xlrd gives them; each is
    clipped to the rows present and ``width`` columns, and its area is handed to ``count``
    first (safety.WorkLimit.add_cells), so a file of huge overlapping merges stops at the cap
    instead of filling millions of cells."""
    for top, bottom, left, right in ranges:
        bottom, right = min(bottom, len(rows)), min(right, width)
        if top >= bottom or left >= right:
            continue
        count((bottom - top) * (right - left))
        value = rows[top][left] if left < len(rows[top]) else ""
        for row in rows[top:bottom]:
            if len(row) < right:
                row.extend([""] * (right - len(row)))
            row[left:right] = [value] * (right - left)


def workbook_grid(sheets: list[Grid]) -> Grid:
    """Every sheet with a task table header is read (one per 区县 or 处室 is common); the
    others are named in the report. With none, the fullest sheet goes on for the header to be
    inferred from its cells."""
    tables: list[Grid] = []
    others: list[Grid] = []
    for grid in sheets:
        has_header = find_header([[clean(c) for c in r] for r in grid.rows]) is not None
        (tables if has_header else others).append(grid)
    if not tables:
        return max(others, key=lambda g: len(g.rows), default=Grid(rows=[]))
    skipped = [f"工作表“{g.name}”（没有任务表）" for g in others]
    if len(tables) == 1:
        tables[0].skipped.extend(skipped)
        return tables[0]
    return Grid(rows=[], parts=tables, skipped=skipped)


def clean(text: object) -> str:
    """Cell text with invisible characters gone, spaces collapsed, empty lines dropped."""
    raw = str(text or "").translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


def _level(text: str) -> int | None:
    if _L1.match(text):
        return 1
    if _L2.match(text):
        return 2
    return None


def _section_text(text: str) -> str:
    return " ".join(text.split()).rstrip("。.；;，,、")


class _Path:
    """The section path a row sits under: (level, text) pairs from section rows and group cells."""

    def __init__(self) -> None:
        self.parts: list[tuple[int, str]] = []
        self.row_level = 0  # deepest level set by a spanning section row

    def enter(self, text: str, level: int) -> None:
        self.parts = [p for p in self.parts if p[0] < level] + [(level, _section_text(text))]

    def section_row(self, text: str) -> None:
        level = _level(text) or 1
        self.enter(text, level)
        self.row_level = level

    def group_cell(self, text: str) -> None:
        previous = None
        # " / " joins the levels in our own tasks.csv
        for line in text.replace(" / ", "\n").split("\n"):
            level = _level(line) or (previous + 1 if previous else self.row_level + 1)
            self.enter(line, level)
            previous = level

    def deeper_cells(self, texts: Sequence[str]) -> None:
        """Further category columns, left to right: each one level below the one before it
        (an empty one, flattened from a merge, keeps its level: the text above still holds)."""
        base = self.parts[0][0] if self.parts else self.row_level + 1
        for depth, text in enumerate(texts, start=1):
            if text and all(text != t for _, t in self.parts):
                self.enter(text, _level(text) or base + depth)

    def key(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.parts)


def _cell(row: Sequence[str], header: Header, role: str) -> str:
    index = header.columns.get(role)
    return row[index] if index is not None and index < len(row) else ""


_SIDE_ROLES = ("units", "lead", "support", "deadline")


def _is_section_row(row: Sequence[str], header: Header) -> str | None:
    """A row whose content columns hold one text (spanning, marked 一、/（一）, or outside the
    title column). Units and deadline columns are ignored: a cell merged down the whole table
    passes through section rows."""
    side = {header.columns[r] for r in _SIDE_ROLES if r in header.columns}
    content = [c for i, c in enumerate(row) if i not in side]
    values = [c for c in content if c]
    if not values:
        return None  # "12月底前" alone in its column: a flattened row of the task above
    distinct = set(values)
    if len(distinct) != 1:
        return None
    text = values[0]
    title_col = header.columns.get("title")
    in_title = title_col is not None and title_col < len(row) and row[title_col] == text
    if in_title and _NUMBERED.match(text):
        return None  # a numbered task whose other cells are empty
    if _level(text) or len(values) >= 2 or not in_title:
        return text
    return None


def _number_column(header: Header, body: Sequence[Sequence[str]]) -> Header:
    """A category column holding row numbers (工作任务 merged over the number column too,
    hbdiao.com) is the id column."""
    if "id" in header.columns:
        return header
    for i in header.sections:
        cells = [row[i] for row in body if i < len(row) and row[i]]
        if cells and sum(1 for c in cells if _ID.match(c)) >= 0.8 * len(cells):
            return replace(header, columns={**header.columns, "id": i},
                           sections=tuple(j for j in header.sections if j != i))
    return header


_MEASURES = ("措施", "举措")


def _measures_beside_tasks(header: Header, body: Sequence[Sequence[str]]) -> Header:
    """"主要任务 | … | 主要措施" where every row names its own task (m.xwwlqbz.cn shape): the
    task column is the title and the measures its detail, not a section over a measure.
    A category merged over several rows, or marked 一、/（一）, stays a section."""
    section, title = header.columns.get("section"), header.columns.get("title")
    if section is None or title is None or "detail" in header.columns:
        return header
    if not norm(header.cells[title]).endswith(_MEASURES):
        return header
    cells = [row[section] for row in body if section < len(row) and title < len(row) and row[title]]
    named = [c for c in cells if c]
    if (not named or len(named) < 0.8 * len(cells) or len(set(named)) < len(named)
            or any(_level(c) for c in named)):
        return header
    columns = {role: i for role, i in header.columns.items() if role != "section"}
    return replace(header, columns={**columns, "title": section, "detail": title})


def _units(row: Sequence[str], header: Header) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    text = _cell(row, header, "units")
    if "lead" in header.columns or "support" in header.columns:
        lead_text, support_text = _cell(row, header, "lead"), _cell(row, header, "support")
        lead, support = split_names(lead_text), split_names(support_text)
        if lead or support:
            # A 责任单位 column (or "责任单位：" label) beside 牵头单位 names the units that carry
            # the task with the lead (dawa.gov.cn, lishan.gov.cn): they are supporting units,
            # not a copy of the lead's cell to be ignored.
            own = split_units(text) if text else ((), ())
            support = (*support, *(u for u in (*own[0], *own[1]) if u not in support))
            text = text or "；".join(t for t in (lead_text, support_text) if t)
            return text, lead, tuple(s for s in support if s not in lead)
    lead, support = split_units(text)
    return text, lead, support


def _assign_ids(raw: list[str | None]) -> list[str]:
    """Document numbers where present; counters past the largest number otherwise; a repeated
    number (numbering restarted per section) gets a suffix so every id stays unique."""
    numbers = [int(r) for r in raw if r and r.isdigit()]
    counter = max(numbers, default=0)
    seen: dict[str, int] = {}
    ids = []
    for value in raw:
        if not value:
            counter += 1
            value = str(counter)
        seen[value] = seen.get(value, 0) + 1
        ids.append(value if seen[value] == 1 else f"{value}-{seen[value]}")
    return ids


def _row_text(row: Sequence[str]) -> str:
    return " ".join(dict.fromkeys(c for c in row if c))


def build_table(
    grid: Grid,
    *,
    columns: Mapping[str, str] | None = None,
    today: date | None = None,
    on_row: Callable[[], None] | None = None,
) -> PlanTable:
    """Turn a grid into tasks and plan metadata. ``columns`` is plan.toml's mapping override.
    A grid of several parts (a workbook's sheets) gives one plan: each sheet's name is its
    tasks' top section and the first part of their ids ("区县-3")."""
    if not grid.parts:
        return _build_one(grid, columns=columns, today=today, on_row=on_row)
    context = [*grid.context, *(c for part in grid.parts for c in part.context)]
    tables = [
        _build_one(replace(part, context=context), columns=columns, today=today, on_row=on_row)
        for part in grid.parts
    ]
    first = tables[0]
    tasks = [
        replace(task, id=f"{part.name}-{task.id}", section=(part.name, *task.section))
        for part, table in zip(grid.parts, tables, strict=True) for task in table.tasks
    ]
    dates = list({d.name: d for t in tables for d in t.dates}.values())
    default = DEFAULT_DEADLINE if any(t.default_deadline for t in tables) else None
    units = [u for t in tables for u in t.units]
    confidence = assess(
        tasks, default_deadline=default,
        expected=sum(t.confidence.expected for t in tables), from_text=False,
        skipped=grid.skipped, notes=[n for t in tables for n in t.confidence.notes],
    )
    return replace(
        first, tasks=tuple(tasks), dates=tuple(dates), units=tuple(dict.fromkeys(units)),
        default_deadline=default, confidence=confidence,
        warnings=tuple(dict.fromkeys(w for t in tables for w in t.warnings)),
    )


def _build_one(
    grid: Grid,
    *,
    columns: Mapping[str, str] | None,
    today: date | None,
    on_row: Callable[[], None] | None,
) -> PlanTable:
    rows = [[clean(c) for c in row] for row in grid.rows]
    rows = [row for row in rows if any(row)]
    header = (header_from_names(rows, columns) if columns else None) or find_header(rows)
    if header is None:
        # No task table: a notice whose numbered items carry their units and deadline
        # (in paragraphs, or in a page's layout table) is read before guessing columns.
        lines = [clean(c) for c in grid.context]
        lines += [line for row in rows for cell in dict.fromkeys(row) for line in cell.split("\n")]
        if (notice := notice_rows(lines)) is not None:
            rows, prose, doubts = notice
            grid = replace(grid, context=prose, from_text=True, notes=[*grid.notes, *doubts])
            header = find_header(rows)
    if not rows and grid.notes:
        from reminder.errors import ImportDoubtful

        raise ImportDoubtful("无法可靠地识别任务：" + "；".join(grid.notes),
                             hint="请改用原始 Word/Excel 文件，或整理成表格后再导入")
    if not rows:
        headers = [c for c in grid.context if column_kind(c)]
        if len(headers) >= 2:
            # Header words on lines of their own: a table copied a cell per line whose rows
            # could not be rebuilt (a two-row header, 进度安排 over the quarters, say).
            raise ImportFailed(
                f"文件像是逐格复制的表格（表头 {'、'.join(headers[:4])} 各占一行），但无法可靠地还原成行",
                hint="请从原始 Word/Excel 文件导入，或把网页另存为 .html 后导入")
        raise ImportFailed("文件中没有找到表格或表格为空", hint="请确认文件包含任务分工表")
    if header is None:
        header = infer_header(rows)
    if header is None:
        raise ImportFailed(
            "没有找到任务表的表头", hint="表头应含“工作任务/具体要求”“责任单位”“完成时限”等列"
        )

    header = _number_column(header, rows[header.row + 1 :] if header.row >= 0 else rows)
    header = _measures_beside_tasks(header, rows[header.row + 1 :] if header.row >= 0 else rows)
    context = [*grid.context, *(_row_text(r) for r in rows[: max(header.row, 0)])]
    title = detect_title(context)
    issued = detect_issued(context)
    warnings: list[str] = []

    path = _Path()
    carried = ""
    drafts: list[dict] = []
    prose: list[str] = []  # report sentences that arrived as rows
    candidates = 0  # rows that look like task rows, for the confidence report
    continued: list[int] = []  # drafts that repeat the requirement above (flattened merge)
    untitled: list[str] = []  # rows with units but no requirement, named for review
    body = rows[header.row + 1 :] if header.row >= 0 else rows
    period_cells: list[str] = []
    if body and (periods := period_row(header, body[0])):
        # 进度安排 over 一季度…四季度: every column is a step of the deadline, not only the
        # first, and the row naming them is no task (it made one of "责任单位").
        header, period_cells, body = replace(header, periods=periods), body[0], body[1:]
    for row in body:
        if on_row:
            on_row()
        if header.matches(row) or row == period_cells:  # both header rows repeat on each page
            continue
        if row[0].startswith(("注：", "注:", "备注")) and len(set(row)) <= 2:
            # The table's footnote: read with the prose, where "各牵头单位于每季度结束后5日内
            # …报送" becomes a plan date instead of vanishing with the row.
            prose.append(row[0])
            continue
        deadline_cell = _cell(row, header, "deadline")
        if header.periods:
            deadline_cell = "；".join(f"{label}：{row[j]}" for j, label in header.periods
                                     if j < len(row) and row[j])
        if deadline_cell:
            carried = deadline_cell
        elif grid.flattened:
            deadline_cell = carried  # a deadline merged down the table arrives once
        section = _is_section_row(row, header)
        if section is not None and is_report_sentence(section):
            prose.append(section)  # "请于…前将…报送…" after a table read as text
            continue
        if section is not None:
            path.section_row(section)
            continue
        group = _cell(row, header, "section")
        if group:
            path.group_cell(group)
        if header.sections:
            path.deeper_cells([_section_text(row[i]) if i < len(row) else "" for i in header.sections])
        title_text = _cell(row, header, "title")
        candidates += 1
        if not title_text:
            own = [_cell(row, header, r) for r in ("units", "lead", "support")]
            if grid.flattened and drafts and (any(own) or _cell(row, header, "deadline")):
                # A requirement merged over rows that each have their own units or deadline,
                # flattened: the row is that requirement again, as a merge-aware reader has it.
                above = drafts[-1]
                units_text, lead, support = _units(row, header)
                drafts.append(dict(
                    id=above["id"], title=above["title"], section=path.key(),
                    detail=_cell(row, header, "detail") or above["detail"], lead=lead,
                    support=support, units_text=units_text, deadline_text=deadline_cell,
                ))
                continued.append(len(drafts) - 1)
            elif any(own):
                untitled.append(f"责任单位为“{next(u for u in own if u)}”的一行没有任务内容，未导入")
            continue
        number = _ID.match(_cell(row, header, "id"))
        numbered = _NUMBERED.match(title_text)
        if numbered:
            title_text = title_text[numbered.end() :]
        units_text, lead, support = _units(row, header)
        drafts.append(dict(
            id=number.group(1) if number else numbered.group(1) if numbered else None,
            title=title_text, section=path.key(), detail=_cell(row, header, "detail"),
            lead=lead, support=support, units_text=units_text,
            deadline_text=deadline_cell,
        ))

    if not drafts:
        raise ImportFailed("表格中没有识别出任何任务", hint="请检查表头下是否有任务行")
    year, year_from = year_evidence(title, context, issued, [d["title"] for d in drafts])
    if year is None:
        year = (today or date.today()).year
        year_from = "没有找到年份，按今天的日期"
    if year_from:
        warnings.append(f"计划年度 {year} 是推测的（依据：{year_from}），请核对 plan.toml 的 year")
    filled = _fill_down(drafts) if grid.flattened else []
    ids = _assign_ids([d.pop("id") for d in drafts])
    if continued:
        warnings.append(f"任务 {'、'.join(ids[i] for i in continued)} 的工作任务一栏为空，"
                        "已按合并单元格沿用上一项的任务内容，请核对")
    if filled:
        # A guess, if the likeliest one: say which tasks it made, so a unit that was really
        # missing from the source is caught at review, not in a month of wrong reminders.
        warnings.append(f"任务 {'、'.join(ids[i] for i in filled)} 的责任单位一栏为空，"
                        "已按合并单元格沿用上一项的单位，请核对")
    tasks = [Task(id=i, **d) for i, d in zip(ids, drafts, strict=True)]
    tasks, dates = _resolve_deadlines(tasks, year, issued)
    dates += [d for d in report_dates([*grid.context, *prose], year, issued)
              if d.name not in {x.name for x in dates}]

    has_deadlines = "deadline" in header.columns and any(t.deadline_text for t in tasks)
    default = None if has_deadlines else DEFAULT_DEADLINE
    for task in tasks:
        if not task.units:
            warnings.append(f"任务 {task.id} 没有责任单位")
        if not task.deadline_text and default is None:
            warnings.append(f"任务 {task.id} 没有完成时限")
    tasks, dates, aliases = _merge_aliases(tasks, dates)
    units = [u for t in tasks for u in t.units] + [u for d in dates for u in d.units]
    expected = max(candidates, count_items(c for row in body for c in row))
    if grid.from_text:
        expected = max(expected, count_items(grid.context))
    confidence = assess(tasks, default_deadline=default, expected=expected,
                        from_text=grid.from_text, skipped=grid.skipped, notes=[*grid.notes, *untitled])
    return PlanTable(
        tasks=tuple(tasks), columns=header.names(), title=title, year=year, issued=issued,
        default_deadline=default, dates=tuple(dates), units=tuple(dict.fromkeys(units)),
        warnings=tuple(warnings), confidence=confidence, year_from=year_from, aliases=aliases,
    )


def _merge_aliases(
    tasks: list[Task], dates: list[PlanDate]
) -> tuple[list[Task], list[PlanDate], dict[str, tuple[str, ...]]]:
    """One unit under one name: "市场监管局" in a 区 plan that also names 区市场监管局 becomes
    区市场监管局, with the short name kept as its alias for contacts."""
    names = [u for t in tasks for u in t.units] + [u for d in dates for u in d.units]
    full = level_aliases(names)
    if not full:
        return tasks, dates, {}

    def fix(units: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(full.get(u, u) for u in units))

    tasks = [replace(t, lead=fix(t.lead), support=tuple(u for u in fix(t.support) if u not in fix(t.lead)))
             for t in tasks]
    dates = [replace(d, units=fix(d.units)) for d in dates]
    aliases: dict[str, tuple[str, ...]] = {}
    for short, long in full.items():
        aliases[long] = (*aliases.get(long, ()), short)
    return tasks, dates, aliases


def _fill_down(drafts: list[dict]) -> list[int]:
    """Flattened merged cells: an empty units cell repeats the task above in the same section
    (a units cell is merged over the tasks of one sub-section, never across sections).
    Returns the positions of the drafts filled so."""
    filled = []
    for i, (above, draft) in enumerate(pairwise(drafts), start=1):
        if not draft["units_text"] and draft["section"] == above["section"] and above["units_text"]:
            for key in ("units_text", "lead", "support"):
                draft[key] = above[key]
            filled.append(i)
    return filled


def _resolve_deadlines(
    tasks: list[Task], year: int, issued: date | None
) -> tuple[list[Task], list[PlanDate]]:
    """Multi-audience cells give each task its own clause; an empty cell takes a deadline
    written inside the requirement ("2021年底前通过政府网站…")."""
    result: list[Task] = []
    dates: dict[str, PlanDate] = {}
    split_cache: dict[str, list[audience.Clause] | None] = {}
    for task in tasks:
        cell = task.deadline_text
        if cell:
            if cell not in split_cache:
                split_cache[cell] = audience.split_clauses(cell, year)
                for plan_date in audience.plan_dates(split_cache[cell] or []):
                    dates.setdefault(plan_date.name, plan_date)
            clauses = split_cache[cell]
            if clauses:
                task = replace(task, deadline_text=audience.choose(clauses, task))
        else:
            found = [d for d in find_deadlines(task.title, year, issued) if d.kind == "once"]
            if found:
                task = replace(task, deadline_text=found[0].text or found[0].source)
        result.append(task)
    return result, list(dates.values())
