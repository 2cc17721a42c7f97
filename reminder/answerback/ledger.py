"""The 台账: one row per task as offices hand it in (序号 … 最后提醒), to .xlsx or .csv.

openpyxl is imported inside ``write_xlsx``; the rows are plain records from progress.py.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from reminder.answerback.progress import task_views
from reminder.cells import csv_cell
from reminder.plan.wording import period_name

if TYPE_CHECKING:
    from reminder.store import Store

# 三色预警 (the word, with the colour as the cell's fill) and 佐证材料 (file names, each with
# its signed link when the caller can sign: the board's download can, a CLI export cannot).
EXTRA_HEADERS = ("三色预警", "佐证材料")
EXTRA_WIDTHS = (10, 40)
COLOR_FILLS = {"green": "C6EFCE", "yellow": "FFEB9C", "orange": "F8CBAD", "red": "FF9999"}
# 完成时限 is the deadline; 完成日期 the day the completion was registered, and 登记人 who
# registered it (a unit from its page, the coordinator on the board): a late completion
# shows as late.
# 延期情况 keeps the original date beside an approved one (完成时限 is the date in force);
# 签收情况 who signed and when (issue 19).
HEADERS = ("序号", "工作任务", "牵头单位", "配合单位", "完成时限", "延期情况", "签收情况", "状态",
           "完成日期", "登记人", "进展情况", "领导批示", "提醒次数", "最后提醒", *EXTRA_HEADERS)
WIDTHS = (6, 44, 14, 18, 16, 24, 20, 8, 12, 14, 36, 30, 8, 16, *EXTRA_WIDTHS)
FILLS = {"逾期": "F8D7DA", "已完成": "D4EDDA", "待确认": "FFF3CD"}


@dataclass(frozen=True, kw_only=True)
class LedgerRow:
    no: str
    title: str
    lead: str
    support: str
    deadline: str
    state: str
    done_date: str
    done_by: str
    progress: str
    instructions: str
    reminders: int
    last_reminder: str
    color: str = ""  # 黄 预警 …, "" when none
    color_key: str = ""  # green | yellow | orange | red: the cell's fill
    files: str = ""  # one line per file: name, and its link when signed
    extension: str = ""
    signing: str = ""

    def cells(self) -> tuple[Any, ...]:
        return (self.no, self.title, self.lead, self.support, self.deadline, self.extension,
                self.signing, self.state,
                self.done_date, self.done_by, self.progress, self.instructions, self.reminders,
                self.last_reminder, self.color, self.files)


def ledger_rows(plan: Any, store: Store, today: date, *, period: str | None = None,
                tz: Any = None, file_link: Callable[[str], str] | None = None
                ) -> list[LedgerRow]:
    """The plan's tasks in table order. ``period`` (e.g. 2026Q3) keeps that period's progress
    notes only; without it every note is listed, newest first. ``file_link(sha256)`` signs
    a link to a 佐证材料 (without it the names are listed alone)."""
    views = {v.id: v for v in task_views(plan, store, today, tz=tz)}
    sent = store.notice_counts(plan.id)
    extended, signed = workflow_cells(plan, store, tz)
    rows = []
    for task in plan.tasks:
        view = views.get(task.id)
        if view is None:
            continue
        notes = [n for n in view.notes if period is None or n.period == period]
        count, last = sent.get(task.id, (0, None))
        deadline = view.current.isoformat() if view.current else (
            view.last_done.isoformat() if view.last_done else "")
        if view.deadline_text and view.deadline_text != deadline:
            deadline = f"{deadline}\n（{view.deadline_text}）" if deadline else view.deadline_text
        rows.append(LedgerRow(
            no=task.id, title=task.title, lead="、".join(view.lead),
            support="、".join(view.support), deadline=deadline, state=view.state_name,
            done_date=view.done_at.isoformat() if view.state in ("done", "confirm")
            and view.done_at else "",
            done_by=view.done_by if view.state in ("done", "confirm") else "",
            progress="\n".join(
                f"{period_name(n.period)} {n.unit}：{n.text}" if n.kind == "progress" else
                f"{period_name(n.period)} {n.unit}（{n.kind_name}）：{n.text}" for n in notes)
            or (view.done_note if view.state == "done" else ""),
            instructions="\n".join(f"{i.day.isoformat()} {i.leader}：{i.text}"
                                   for i in view.instructions),
            reminders=count,
            last_reminder=(last.astimezone(tz) if tz else last).strftime("%Y-%m-%d %H:%M")
            if last else "",
            color=view.color.label if view.color else "",
            color_key=view.color.color if view.color else "",
            files="\n".join(f"{f.name} {file_link(f.sha256)}" if file_link else f.name
                             for f in view.files),
            extension=extended.get(task.id, ""), signing=signed.get(task.id, ""),
        ))
    return rows


def workflow_cells(plan: Any, store: Store, tz: Any) -> tuple[dict[str, str], dict[str, str]]:
    """task id -> its 延期情况 cell (every request: original, requested and approved date,
    decision), and its 签收情况 cell (each unit, signed when or not)."""
    from reminder.answerback.extensions import extensions
    from reminder.answerback.signing import receipts

    extended = {
        task: "\n".join(
            f"{'逾期申请' if e.late else '申请'}：原定 {e.due.isoformat()}，申请延至 "
            f"{e.requested.isoformat()}（{e.unit}，{e.asked[:10]}）{e.status_name}"
            + (f"（{e.decided[:10]}）" if e.decided else "")
            + (f"，批准延至 {e.approved.isoformat()}" if e.approved else "")
            + (f"：{e.note}" if e.note else "")
            for e in reversed(found))
        for task, found in extensions(plan, store, tz).items()}
    signed = {task: "\n".join(f"{r.unit} {r.when}" if r.signed else f"{r.unit} 未签收"
                              for r in found)
              for task, found in receipts(plan, store, tz).items()}
    return extended, signed


def title_of(plan: Any, period: str | None) -> str:
    return f"{plan.title}工作台账" + (f"（{period_name(period)}）" if period else "")


def write_csv(rows: Sequence[LedgerRow], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow([csv_cell(v) for v in HEADERS])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row.cells()])


def _append_text(sheet: Any, values: Sequence[Any]) -> None:
    """Append a row whose text stays text: openpyxl stores a str starting with = as a
    formula, and a progress note =HYPERLINK("http://…") became a live link."""
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _extra_cells(sheet: Any, row: LedgerRow) -> None:
    """The 三色预警 cell filled in its colour (the word stays: a black-and-white print
    keeps it), and the 佐证材料 cell linked when it holds exactly one file."""
    from openpyxl.styles import PatternFill

    color = sheet.cell(row=sheet.max_row, column=HEADERS.index("三色预警") + 1)
    if row.color_key in COLOR_FILLS:
        color.fill = PatternFill("solid", fgColor=COLOR_FILLS[row.color_key])
    files = sheet.cell(row=sheet.max_row, column=HEADERS.index("佐证材料") + 1)
    lines = row.files.splitlines()
    if len(lines) == 1 and " http" in lines[0]:
        files.hyperlink = lines[0].rsplit(" ", 1)[1]


def write_xlsx(rows: Sequence[LedgerRow], target: Path | IO[bytes], *, title: str,
               made: datetime) -> None:
    """Title row, bold frozen header, widths, wrapped text, overdue/done fills, landscape A4
    with the header repeated on every printed page."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    last = get_column_letter(len(HEADERS))
    _append_text(sheet, [title])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 30
    _append_text(sheet, [f"制表日期：{made:%Y-%m-%d}"])
    sheet.merge_cells(f"A2:{last}2")
    sheet["A2"].alignment = Alignment(horizontal="right")
    _append_text(sheet, HEADERS)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    for row in rows:
        _append_text(sheet, row.cells())
        fill = FILLS.get(row.state)
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = border
            if fill:
                cell.fill = PatternFill("solid", fgColor=fill)
        _extra_cells(sheet, row)
    for index, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    book.save(target)
