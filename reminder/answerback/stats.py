"""统计: per unit and plan, for a period, how the units did on the tasks due in it.

Every figure is counted from the plan (its occurrences, recomputed from the folder) and the
store (completions, sent notices), so `reminder stats`, the 通报 and later the statistics page
read one computation. An item is one occurrence of a task (a recurring task has one per
period), counted for each of its lead units (牵头单位): they answer for the date.

Judged against the original date unless a 延期申请 was approved on or before it: then the
approved date is the one the item is judged by (an extension granted after the item was
already late does not make it on time). 延期 counts the items with an approved extension;
未签收 the items whose unit has not signed for the task, or None ("—") where the plan does
not ask units to sign (policy ``sign_within``).
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from reminder.answerback.signing import asks_to_sign
from reminder.plan.occurrences import effective_task, occurrences
from reminder.plan.wording import QUARTER_NUMERALS, half_name, month_name, quarter_name, year_name

if TYPE_CHECKING:
    from reminder.store import Store

ItemState = Literal["on_time", "late", "overdue", "pending"]
NO_UNIT = "（未明确责任单位）"


@dataclass(frozen=True, kw_only=True)
class Period:
    start: date
    end: date  # inclusive
    label: str  # 2026年第三季度
    key: str  # 2026Q3, 2026-09, 2026H2, 2026: the progress reports' period keys

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


_PERIOD = re.compile(
    r"(?P<year>\d{4})(?:年度?|年全年)?"
    r"(?:(?:第?(?P<q>[1-4一二三四])季度)|(?:[Qq](?P<qq>[1-4]))"
    r"|(?:(?P<m>1[0-2]|0?[1-9])月(?:份)?)|(?:-(?P<mm>1[0-2]|0[1-9]))"
    r"|(?P<h>[上下])半年|(?:[Hh](?P<hh>[12])))?")


def parse_period(text: str) -> Period:
    """``2026年第三季度`` (also 2026Q3), ``2026年9月`` (2026-09), ``2026年上半年`` (2026H1),
    ``2026年`` (2026). ValueError, in Chinese, for anything else."""
    clean = "".join(unicodedata.normalize("NFKC", text).split())
    match = _PERIOD.fullmatch(clean)
    if not match or not 1900 < int(match["year"]) < 2200:
        raise ValueError(f"无法识别统计期“{text}”，请写作 2026年第三季度、2026年9月、"
                         "2026年上半年或 2026年")
    year = int(match["year"])
    quarter = match["q"] or match["qq"]
    month = match["m"] or match["mm"]
    half = {"上": 1, "下": 2}.get(match["h"] or "") or (int(match["hh"]) if match["hh"] else 0)
    if quarter:
        q = int(quarter) if quarter.isdigit() else QUARTER_NUMERALS.index(quarter) + 1
        start, end = date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
        return Period(start=start, end=end, label=quarter_name(year, q), key=f"{year}Q{q}")
    if month:
        m = int(month)
        return Period(start=date(year, m, 1), end=_month_end(year, m), label=month_name(year, m),
                      key=f"{year}-{m:02d}")
    if half:
        return Period(start=date(year, 6 * half - 5, 1), end=_month_end(year, 6 * half),
                      label=half_name(year, half), key=f"{year}H{half}")
    return Period(start=date(year, 1, 1), end=date(year, 12, 31), label=year_name(year),
                  key=str(year))


def _month_end(year: int, month: int) -> date:
    return date(year, month, _calendar.monthrange(year, month)[1])


@dataclass(frozen=True, kw_only=True)
class Item:
    """One occurrence due in the period, for one lead unit."""

    plan: str
    task: str
    title: str
    unit: str
    due: date
    done_on: date | None  # the completion's date (office time), None while open
    state: ItemState
    days_overdue: int  # days past the due date: until done, or until today while open
    judged: date | None = None  # the approved new date it is judged by, if any
    extended: bool = False  # a 延期申请 was approved for it (in time or not)
    unsigned: bool = False  # its unit has not signed for the task (sign_within)

    @property
    def deadline(self) -> date:
        """The date the item is judged against."""
        return self.judged or self.due


@dataclass(frozen=True, kw_only=True)
class UnitStats:
    plan: str
    unit: str
    tasks: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0  # not yet due and not done
    days_overdue: int = 0
    reminders: int = 0
    extensions: int | None = None  # 延期: items with an approved extension
    unsigned: int | None = None  # 未签收: None where the plan does not ask units to sign
    rank: int | None = None

    @property
    def judged(self) -> int:
        """Items whose date has come, or that are done: the on-time rate's denominator."""
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        return self.on_time / self.judged if self.judged else None

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate:.1%}"

    def record(self) -> dict[str, Any]:
        """The machine-readable form (JSON)."""
        return {"plan": self.plan, "unit": self.unit, "tasks": self.tasks,
                "on_time": self.on_time, "late": self.late, "overdue": self.overdue,
                "pending": self.pending, "days_overdue": self.days_overdue,
                "reminders": self.reminders, "extensions": self.extensions,
                "unsigned": self.unsigned,
                "on_time_rate": None if self.rate is None else round(self.rate, 4),
                "rank": self.rank}


# (record key, Chinese header) of the table and the CSV, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "排名"), ("unit", "责任单位"), ("tasks", "任务数"), ("on_time", "按时完成"),
    ("late", "逾期完成"), ("overdue", "当前逾期"), ("days_overdue", "逾期天数"),
    ("pending", "未到期"), ("on_time_rate", "按时完成率"), ("reminders", "提醒次数"),
    ("extensions", "延期"), ("unsigned", "未签收"),
)


def cells(row: UnitStats) -> list[str]:
    """One row as people read it: the rate in per cent, unrecorded columns as —."""
    record = row.record()
    shown = {**record, "on_time_rate": row.rate_text}
    return ["—" if shown[key] is None else str(shown[key]) for key, _ in COLUMNS]


@dataclass(frozen=True, kw_only=True)
class PlanStats:
    plan: str
    title: str
    units: list[UnitStats]  # ranked: best first
    total: UnitStats
    items: list[Item]
    overdue_trend: list[tuple[date, int]]  # items of the period overdue at each point


@dataclass(frozen=True, kw_only=True)
class Stats:
    period: Period
    today: date
    plans: list[PlanStats] = field(default_factory=list)


def lead_units(plan: Any, task_id: str) -> list[str]:
    """Who answers for a task's date: its lead units by their contact names (an alias
    counts as the unit), else every unit named, else the coordinator."""
    task = plan.task(task_id)
    if task is None:
        return []
    task = effective_task(plan, task)
    names = list(task.lead or task.units) or ([plan.coordinator] if plan.coordinator else [NO_UNIT])
    seen: dict[str, None] = {}
    for name in names:
        contact = plan.contact(name)
        seen[contact.name if contact is not None else name] = None
    return list(seen)


def plan_stats(plan: Any, store: Store, period: Period, today: date, *, tz: Any = None
               ) -> PlanStats:
    tz = tz or store.tz
    done: dict[tuple[str, date], date] = {}
    for row in store.completions(plan.id):
        day = row.done_at.astimezone(tz).date()
        # A completion after "today" (a report run for an earlier day) had not happened yet.
        if row.undone_at is None and day <= today:
            done[(row.task_id, row.due)] = day
    items: list[Item] = []
    approved = approved_extensions(plan, store, tz, today)
    signing = asks_to_sign(plan)
    signed = {(r.task_id, r.unit) for r in store.signatures(plan.id)
              if r.signed_at.astimezone(tz).date() <= today} if signing else set()
    for occ in occurrences(plan, events=store.events()):
        # 长期 tasks only report, never fall due; plan-level dates (@…) are no unit's task.
        if occ.task.startswith("@") or occ.cycle == "ongoing" or occ.due not in period:
            continue
        new, in_time = approved.get((occ.task, occ.due), (None, False))
        judged = new if in_time else None
        deadline = judged or occ.due
        done_on = (done.get((occ.task, occ.due)) or done.get((occ.task, occ.nominal))
                   or (done.get((occ.task, new)) if new else None))
        if done_on is not None:
            state: ItemState = "on_time" if done_on <= deadline else "late"
            late_days = max(0, (done_on - deadline).days)
        elif deadline < today:
            state, late_days = "overdue", (today - deadline).days
        else:
            state, late_days = "pending", 0
        task = plan.task(occ.task)
        for unit in lead_units(plan, occ.task):
            items.append(Item(plan=plan.id, task=occ.task, title=task.title if task else "",
                              unit=unit, due=occ.due, done_on=done_on, state=state,
                              days_overdue=late_days, judged=judged, extended=new is not None,
                              unsigned=signing and (occ.task, unit) not in signed))
    sent = store.sent_notices(plan.id)
    units: dict[str, dict[str, int]] = {}
    for item in items:
        tally = units.setdefault(item.unit, {})
        tally["tasks"] = tally.get("tasks", 0) + 1
        tally[item.state] = tally.get(item.state, 0) + 1
        tally["days_overdue"] = tally.get("days_overdue", 0) + item.days_overdue
        tally["extensions"] = tally.get("extensions", 0) + item.extended
        if signing:
            tally["unsigned"] = tally.get("unsigned", 0) + item.unsigned
    for _task, recipient, sent_at in sent:
        day = sent_at.astimezone(tz).date()
        if recipient in units and day in period and day <= today:
            units[recipient]["reminders"] = units[recipient].get("reminders", 0) + 1
    rows = [UnitStats(plan=plan.id, unit=unit, **tally) for unit, tally in units.items()]
    ranked = rank(rows)
    total = UnitStats(plan=plan.id, unit="合计", **{
        key: sum(getattr(r, key) or 0 for r in rows)
        for key in ("tasks", "on_time", "late", "overdue", "pending", "days_overdue",
                    "reminders", "extensions", *(("unsigned",) if signing else ()))})
    return PlanStats(plan=plan.id, title=plan.title, units=ranked, total=total, items=items,
                     overdue_trend=overdue_trend(items, period, today))


def approved_extensions(plan: Any, store: Store, tz: Any, today: date
                        ) -> dict[tuple[str, date], tuple[date, bool]]:
    """(task, original due) -> (approved date, approved on or before the original date), of
    the extensions approved by ``today`` (a report for an earlier day does not see later
    ones); the latest approval wins."""
    from reminder.answerback.extensions import extensions

    found: dict[tuple[str, date], tuple[date, bool]] = {}
    for task, requests in extensions(plan, store, tz).items():
        for e in reversed(requests):  # oldest first: the latest approval is kept
            if e.approved is not None and e.decided_on is not None and e.decided_on <= today:
                found[(task, e.due)] = (e.approved, e.approved_in_time)
    return found


def rank(rows: Sequence[UnitStats]) -> list[UnitStats]:
    """Best first: the higher on-time rate, then the fewer items overdue now. Units with
    nothing due yet come last, unranked. Equal figures share a rank (1, 1, 3)."""
    order = sorted(rows, key=lambda r: (r.rate is None, -(r.rate or 0.0), r.overdue))
    result: list[UnitStats] = []
    for index, row in enumerate(order):
        if row.rate is None:
            result.append(row)
            continue
        before = result[-1] if result else None
        same = before is not None and (before.rate, before.overdue) == (row.rate, row.overdue)
        result.append(_with_rank(row, before.rank if same and before else index + 1))
    return result


def _with_rank(row: UnitStats, value: int | None) -> UnitStats:
    from dataclasses import replace

    return replace(row, rank=value)


def trend_points(period: Period, today: date) -> list[date]:
    """The days the overdue trend is read at: each week's end (Sunday) in a month, each
    month's end in a longer period, never past today; and today itself, so the last point
    is the 当前逾期 of the table even when the period is over."""
    points: list[date] = []
    if (period.end - period.start).days <= 31:
        day = period.start + timedelta(days=(6 - period.start.weekday()) % 7)
        while day <= period.end:
            points.append(day)
            day += timedelta(days=7)
        points.append(period.end)
    else:
        year, month = period.start.year, period.start.month
        while date(year, month, 1) <= period.end:
            points.append(_month_end(year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if period.start <= today:
        points.append(today)
    return sorted({p for p in points if p <= today})


def overdue_trend(items: Sequence[Item], period: Period, today: date) -> list[tuple[date, int]]:
    """How many of the period's items were overdue at the end of each point's day: due
    before it and not done by it. The last point (today) equals the overdue count now."""
    unique = {(i.task, i.due): i for i in items}.values()  # a task with two leads is one item
    return [(point, sum(1 for i in unique if i.deadline < point
                        and (i.done_on is None or i.done_on > point)))
            for point in trend_points(period, today)]


def compute(plans: Sequence[Any], store: Store, period: Period, now: datetime) -> Stats:
    today = now.date()
    return Stats(period=period, today=today,
                 plans=[plan_stats(p, store, period, today, tz=now.tzinfo) for p in plans])
