"""Where each task of a plan stands (done, overdue, open, awaiting confirmation): for the
unit's page, the board and the 台账, built from the plan folder and the store as plain frozen
records. The web routes render these and never query the store themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from reminder.plan.colors import Warning, color_of, period_start
from reminder.plan.occurrences import deadlines_of, effective_task, occurrences
from reminder.plan.wording import cn_date, days_text

if TYPE_CHECKING:
    from reminder.store import Store

State = Literal["done", "confirm", "overdue", "open"]
STATE_NAMES: dict[str, str] = {"done": "已完成", "confirm": "待确认", "overdue": "逾期",
                               "open": "进行中"}
KIND_NAMES = {"progress": "进展", "blocked": "困难", "rejected": "退回"}


@dataclass(frozen=True, kw_only=True)
class Note:
    kind: str
    kind_name: str
    unit: str
    period: str
    text: str
    when: str


@dataclass(frozen=True, kw_only=True)
class Instruction:
    """A leader's 批示 on a task."""

    leader: str
    text: str
    when: str  # 2026-12-04 10:30
    day: date


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """A 佐证材料 on a task: shown by its cleaned name, fetched by its hash (never a path)."""

    ident: int
    name: str
    sha256: str
    kind: str  # png … pdf docx zip
    size: int
    unit: str
    report: str  # 进展 / 困难 / 完成, what it came with ("" when unknown)
    when: str

    @property
    def size_text(self) -> str:
        return f"{self.size / 1048576:.1f} MB" if self.size >= 1048576 else \
            f"{max(1, round(self.size / 1024))} KB"


@dataclass(frozen=True, kw_only=True)
class TaskView:
    id: str
    title: str
    detail: str
    lead: tuple[str, ...]
    support: tuple[str, ...]
    role: str  # 牵头 / 配合 for the unit looking at it; "" on the board
    deadline_text: str
    state: State
    current: date | None  # the occurrence 已完成 marks
    current_text: str
    days_text: str
    missed: tuple[date, ...]  # earlier open occurrences of a recurring task, already overdue
    recurring: bool
    event: bool  # counted from an event date the coordinator records
    standing: bool  # no date at all (及时, 长期 without a rhythm): progress only, never done
    done_dates: tuple[date, ...]  # completed occurrences, oldest first
    done_text: str  # who and when, of the latest completion
    done_note: str
    notes: tuple[Note, ...]  # newest first
    instructions: tuple[Instruction, ...] = ()  # leaders' 批示, newest first
    done_at: date | None = None  # when the latest completion was registered
    done_by: str = ""  # and by whom (a unit, or the coordinator on the board)
    color: Warning | None = None  # 三色预警 of the task: its worst open period's
    # The current period's own colour when an earlier period is still open (so ``color`` is
    # 红 for that one): a recurring task is coloured per period.
    period_color: Warning | None = None
    files: tuple[Attachment, ...] = ()  # 佐证材料, oldest first

    @property
    def state_name(self) -> str:
        return STATE_NAMES[self.state]

    @property
    def state_word(self) -> str:
        """The state as the pages print it beside the colour mark: "" when the mark says it
        already (红 逾期), so 逾期 is not written twice."""
        if self.state == "overdue" and self.color is not None and self.color.color == "red":
            return ""
        return self.state_name

    @property
    def last_done(self) -> date | None:
        return self.done_dates[-1] if self.done_dates else None


def period_of(day: date, cycle: str) -> str:
    """The reporting period a day falls in: 2026Q3, 2026-07, 2026H2 or 2026."""
    if cycle == "monthly":
        return f"{day.year}-{day.month:02d}"
    if cycle == "semiannual":
        return f"{day.year}H{1 if day.month <= 6 else 2}"
    if cycle == "yearly":
        return str(day.year)
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def belongs(plan: Any, unit: str, names: Sequence[str]) -> bool:
    """Whether ``unit`` is among ``names`` (as written or by one of its aliases)."""
    for name in names:
        contact = plan.contact(name)
        if name == unit or (contact is not None and contact.name == unit):
            return True
    return False


def task_views(plan: Any, store: Store, today: date, *, unit: str | None = None,
               tz: Any = None) -> list[TaskView]:
    """Every task of the plan (or of one unit), the nearest deadline first and done ones last."""
    events = store.events()
    occs: dict[str, list[Any]] = {}
    for occ in occurrences(plan, events=events, extended=store.extended_dates()):
        occs.setdefault(occ.task, []).append(occ)
    finished: dict[str, dict[date, Any]] = {}
    for row in store.completions(plan.id):
        if row.undone_at is None:
            finished.setdefault(row.task_id, {})[row.due] = row
    notes: dict[str, list[Note]] = {}
    for f in store.feedback(plan.id):
        when = f.created_at.astimezone(tz) if tz else f.created_at
        notes.setdefault(f.task_id, []).insert(0, Note(
            kind=f.kind, kind_name=KIND_NAMES.get(f.kind, f.kind), unit=f.unit, period=f.period,
            text=f.text, when=f"{when:%m-%d %H:%M}"))
    reports: dict[str, list[Any]] = {}
    for f in store.feedback(plan.id):
        if f.kind == "progress":
            reports.setdefault(f.task_id, []).append(f)
    files = attachments(plan, store, tz)
    given: dict[str, list[Instruction]] = {}
    for i in store.instructions(plan.id):
        when = i.created_at.astimezone(tz) if tz else i.created_at
        given.setdefault(i.task_id, []).insert(0, Instruction(
            leader=i.leader, text=i.text, when=f"{when:%Y-%m-%d %H:%M}", day=when.date()))
    views = []
    for raw in plan.tasks:
        task = effective_task(plan, raw)
        if unit is not None and not belongs(plan, unit, task.units):
            continue
        override = plan.overrides.get(task.id)
        if override is not None and override.skip:
            continue
        mine = occs.get(task.id, [])
        event = any(d.kind == "event" for d in deadlines_of(plan, task))
        # A task with no date (及时) is still the unit's duty: it stays on the page, the
        # board and the 台账 to report progress on, with nothing to mark done.
        standing = not mine and not event
        done = finished.get(task.id, {})
        is_done = [o.due in done or o.nominal in done for o in mine]
        open_ = [o for o, d in zip(mine, is_done, strict=True) if not d
                 and not (o.cycle == "ongoing" and o.due < today)]
        upcoming = [o for o in open_ if o.due >= today]
        current = upcoming[0] if upcoming else (open_[-1] if open_ else None)
        missed = tuple(o.due for o in open_ if current is not None and o.due < current.due)
        latest = max(done.values(), key=lambda r: r.done_at) if done else None
        if not mine:  # waits for its event date: nothing to do yet
            state: State = "open"
        elif current is None:
            state = "done"
        elif any(o.due < today for o in open_):
            state = "overdue"
        else:
            state = "open"
        if state == "done" and latest is not None and plan.policy.confirm_done \
                and latest.link_id and latest.confirmed_at is None:
            state = "confirm"
        done_at = latest.done_at.astimezone(tz) if latest and tz else (latest.done_at if latest
                                                                        else None)
        own = warning_of(plan, current, state, reports.get(task.id, ()), today, tz,
                         event=events.get((plan.id, task.id)) or (
                             override.event if override is not None else None))
        views.append(TaskView(
            id=task.id, title=task.title, detail=task.detail, lead=task.lead,
            support=tuple(u for u in task.support if u not in task.lead),
            role=("牵头" if belongs(plan, unit, task.lead) else "配合") if unit else "",
            deadline_text=task.deadline_text, state=state,
            current=current.due if current else None,
            current_text=cn_date(current.due) if current else "",
            days_text=days_text(current.due, today) if current else (
                "" if mine else "无固定时限" if standing else "待记录事件日期"),
            missed=missed, recurring=len(mine) > 1, event=event, standing=standing,
            done_dates=tuple(sorted(done)),
            done_text=f"{who_registered(latest.done_by)} 于 {done_at:%Y-%m-%d %H:%M} 登记"
            if latest and done_at else "",
            done_at=done_at.date() if done_at else None,
            done_by=who_registered(latest.done_by) if latest else "",
            instructions=tuple(given.get(task.id, ())),
            done_note=latest.note if latest else "",
            notes=tuple(notes.get(task.id, ())),
            color=headline(own, missed), period_color=own if missed else None,
            files=tuple(files.get(task.id, ())),
        ))
    order = {"overdue": 0, "open": 1, "confirm": 2, "done": 3}
    return sorted(views, key=lambda v: (order[v.state], v.current or date.max))


def warning_of(plan: Any, occ: Any, state: str, reports: Sequence[Any], today: date,
               tz: Any = None, event: date | None = None) -> Warning | None:
    """The 三色预警 of a task's open occurrence: 红 when overdue; else by the share of its
    period left and whether a progress report came in during that period (one for its due
    date, or sent since the period opened). None when done, 长期, without a date or off."""
    if not plan.policy.colors or occ is None or state in ("done", "confirm") \
            or occ.cycle == "ongoing":
        return None
    start = period_start(occ, plan.issued, plan.year, event)

    def day(row: Any) -> date:
        return (row.created_at.astimezone(tz) if tz else row.created_at).date()

    reported = any(r.due == occ.due or start <= day(r) <= today for r in reports)
    return color_of(start=start, due=occ.due, today=today, reported=reported,
                    policy=plan.policy)


def headline(own: Warning | None, missed: Sequence[date]) -> Warning | None:
    """A task's colour is its worst open period's: with an earlier period missed it is 红
    whatever the current period's own colour, as an office counts it overdue until that
    period is done (and 红 is what reaches the leaders)."""
    if own is None or not missed or own.color == "red":
        return own
    return Warning(color="red", left=own.left, reported=own.reported)


REPORT_NAMES = {"progress": "进展", "blocked": "困难", "done": "完成"}


def attachments(plan: Any, store: Store, tz: Any = None) -> dict[str, list[Attachment]]:
    """task id -> its 佐证材料, oldest first; what each came with from its report's kind."""
    if not hasattr(store, "evidence"):
        return {}
    kinds = {f.id: f.kind for f in store.feedback(plan.id)}
    found: dict[str, list[Attachment]] = {}
    for row in store.evidence(plan.id):
        when = row.created_at.astimezone(tz) if tz else row.created_at
        report = row.report or kinds.get(row.feedback_id or -1, "")
        found.setdefault(row.task_id, []).append(Attachment(
            ident=row.id, name=row.name, sha256=row.sha256, kind=row.kind, size=row.size,
            unit=row.unit, report=REPORT_NAMES.get(report, ""), when=f"{when:%m-%d %H:%M}"))
    return found


def who_registered(done_by: str) -> str:
    """Who registered a completion, as a user reads it: the unit or office, without the
    link id kept for the audit (信息中心（链接 2b1465b7a1） → 信息中心; 局政务公开办（看板，
    链接 …） → 局政务公开办（看板）)."""
    import re

    return re.sub(r"[，,]?\s*链接\s*[0-9a-f]{6,}", "", done_by).replace("（）", "")


@dataclass(frozen=True, kw_only=True)
class Counts:
    done: int
    open: int
    overdue: int
    confirm: int


def counts(views: Sequence[TaskView]) -> Counts:
    return Counts(done=sum(v.state == "done" for v in views),
                  open=sum(v.state == "open" for v in views),
                  overdue=sum(v.state == "overdue" for v in views),
                  confirm=sum(v.state == "confirm" for v in views))
