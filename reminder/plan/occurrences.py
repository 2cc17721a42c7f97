"""From a plan's tasks and their parsed deadlines to concrete due dates on the calendar."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from reminder.models import Deadline, Occurrence, Offset, Policy, Task, task_order
from reminder.parse.deadlines import Context, parse, task_deadlines
from reminder.plan.calendar import WorkCalendar, add_months

if TYPE_CHECKING:  # only annotations: `explain` needs no plan folders
    from reminder.plan.folder import Plan

Events = Mapping[tuple[str, str], date]
Done = AbstractSet[tuple[str, str, date]]
# (plan, task, original due) -> the date an approved 延期申请 set: the occurrence falls due
# then instead, for its reminders, overdue notice and escalations.
Extended = Mapping[tuple[str, str, date], date]


def plan_date_task_id(name: str) -> str:
    """Plan-level dates share the occurrence machinery under a task id that no table uses."""
    return f"@{name}"


def context(plan: Plan) -> Context:
    return Context(year=plan.year, issued=plan.issued, reporting_cycle=plan.reporting_cycle,
                   term_ends=plan.policy.term_ends)


def effective_task(plan: Plan, task: Task) -> Task:
    """The task with its plan.toml override applied (deadline text, units)."""
    override = plan.overrides.get(task.id)
    if override is None:
        return task
    changes: dict[str, object] = {}
    if override.deadline is not None:
        changes["deadline_text"] = override.deadline
    if override.units is not None:
        changes["lead"], changes["support"] = override.units, ()
    if not changes:
        return task
    return replace(task, **changes)  # type: ignore[arg-type]


def named_units(plan: Plan) -> dict[str, str]:
    """Every unit or person a plan addresses, with the first place that names it."""
    named: dict[str, str] = {}
    for raw in plan.tasks:
        for unit in effective_task(plan, raw).units:
            named.setdefault(unit, f"任务 {raw.id}")
    for plan_date in plan.dates:
        for unit in plan_date.units:
            named.setdefault(unit, f"dates.{plan_date.name}")
    if plan.coordinator:
        named.setdefault(plan.coordinator, "coordinator")
    for name in plan.escalate_to:
        named.setdefault(name, "escalate_to")
    return named


def deadlines_of(plan: Plan, task: Task) -> list[Deadline]:
    cache = plan.deadline_cache
    if task.id not in cache:
        found = task_deadlines(effective_task(plan, task), context(plan), plan.rules,
                               plan.default_deadline)
        shared = plan.deadline_values  # equal deadlines of many tasks kept once (memory)
        cache[task.id] = [shared.setdefault(d, d) for d in found]
    return cache[task.id]


def after_event(event: date, offset: Offset, calendar: WorkCalendar) -> date:
    """The nominal deadline ``offset`` after an event ("5个工作日内" counts real workdays)."""
    if offset.unit == "workday":
        return calendar.add_workdays(event, offset.n)
    if offset.unit == "month":
        return add_months(event, offset.n)
    return event + timedelta(days=offset.n)


def nominal_dates(deadline: Deadline, calendar: WorkCalendar) -> tuple[date, ...]:
    """The nominal dates of a dated deadline; a recurring one with ``after`` falls due that
    long after each period (每季度结束后10个工作日内 counts real workdays)."""
    if deadline.kind == "recurring" and deadline.offsets:
        return tuple(after_event(d, o, calendar)
                     for d, o in zip(deadline.dates, deadline.offsets, strict=True))
    if deadline.kind == "recurring" and deadline.after is not None:
        return tuple(after_event(d, deadline.after, calendar) for d in deadline.dates)
    return deadline.dates


def counted_from(deadline: Deadline, event: date | None = None) -> tuple[date | None, ...]:
    """The moment each nominal date of ``deadline`` is counted from: a period's end for
    每季度结束后5日内, the event for 收到后10日内; None for a calendar deadline (6月底前)."""
    if deadline.kind == "recurring" and deadline.offsets:
        return tuple(d if o.n > 0 else None
                     for d, o in zip(deadline.dates, deadline.offsets, strict=True))
    if (deadline.after is None or deadline.after.n <= 0
            or deadline.kind not in ("recurring", "event")):
        return (None,) * max(1, len(deadline.dates))
    if deadline.kind == "event":
        return (event,)
    return deadline.dates


def due_date(nominal: date, moment: date | None, calendar: WorkCalendar, policy: Policy
             ) -> date:
    """Where a nominal date falls due. A calendar deadline moves by ``policy.shift``; a limit
    counted from ``moment`` by ``policy.limit_shift`` (民法典 第二百零三条: a last day on a
    holiday ends on the first workday after it), and never on or before that moment: the
    third-quarter report due 5 days after 09-30 is not due on 09-30 itself."""
    if moment is None:
        return calendar.shift(nominal, policy.shift)
    due = calendar.shift(nominal, policy.limit_shift)
    if due <= moment:
        due = calendar.shift(max(nominal, moment + timedelta(days=1)), "after")
    return due


def due_pairs(deadline: Deadline, calendar: WorkCalendar, policy: Policy,
              event: date | None = None) -> list[tuple[date, date]]:
    """(nominal, due) for each date of a dated deadline; an event-relative one needs
    ``event`` and has none without it."""
    if deadline.kind == "none":
        return []
    if deadline.kind == "event":
        if event is None or deadline.after is None:
            return []
        nominals: tuple[date, ...] = (after_event(event, deadline.after, calendar),)
    else:
        nominals = nominal_dates(deadline, calendar)
    moments = counted_from(deadline, event)
    pairs = [(n, due_date(n, m, calendar, policy)) for n, m in zip(nominals, moments, strict=True)]
    if deadline.kind == "recurring" and deadline.cycle == "weekly":
        weekly = ((n, in_own_week(n, due, m, calendar))
                  for (n, due), m in zip(pairs, moments, strict=True))
        return [(n, due) for n, due in weekly if due is not None]
    return pairs


def in_own_week(nominal: date, due: date, moment: date | None, calendar: WorkCalendar
                ) -> date | None:
    """A weekly deadline stays in its own week (Monday to Sunday). Moved off a holiday into
    another week, it would fall due a day after the week before's (每周五前: 02-13, then the
    holiday Friday 02-20 back onto the make-up Saturday 02-14), or on the same day as it;
    so it moves the other way, and a week with no workday at all (春节) has no report. A
    limit counted from a moment keeps its own rule (it never falls before the moment)."""
    monday = nominal - timedelta(days=nominal.weekday())
    sunday = monday + timedelta(days=6)
    if moment is not None or monday <= due <= sunday:
        return due
    for direction in ("before", "after"):
        moved = calendar.shift(nominal, direction)
        if monday <= moved <= sunday:
            return moved
    return None


def shift_policy(deadline: Deadline, policy: Policy) -> tuple[str, str] | None:
    """The named policy that moves this deadline off a holiday, and its value: a limit
    counted from a moment follows ``limit_shift``, a calendar deadline ``shift``."""
    if deadline.kind == "none":
        return None
    if counted_from(deadline, date.min)[0] is not None:
        return "limit_shift", policy.limit_shift
    return "shift", policy.shift


def shift_note(deadline: Deadline, policy: Policy) -> str:
    """Which named policy moves this deadline off a holiday, for ``explain``."""
    if deadline.kind == "none":
        return ""
    if counted_from(deadline, date.min)[0] is not None:
        rule = {"after": "顺延至其后第一个工作日（民法典第二百零三条）",
                "before": "提前至其前最后一个工作日", "none": "不调整"}[policy.limit_shift]
        return (f"自某一时刻起算的期限，末日遇节假日{rule}，且不早于起算时刻的次日"
                f"[limit_shift = {policy.limit_shift}]")
    rule = {"before": "提前至其前最后一个工作日", "after": "顺延至其后第一个工作日",
            "none": "不调整"}[policy.shift]
    note = f"日历时限，遇非工作日{rule}[shift = {policy.shift}]"
    if deadline.kind == "recurring" and deadline.cycle == "weekly" and policy.shift != "none":
        note += "；每周的时限不移出本周（移出时改向另一侧调整），整周放假的一周不设时限"
    return note


def _task_occurrences(plan: Plan, task: Task, event: date | None) -> list[Occurrence]:
    result: list[Occurrence] = []
    for deadline in deadlines_of(plan, task):
        pairs = due_pairs(deadline, plan.calendar, plan.policy, event)
        for i, (nominal, due) in enumerate(pairs):
            # A plan cannot ask for work due before it was issued (the Q1 report of a
            # plan issued in July): such occurrences are history, not reminders.
            if plan.issued and due < plan.issued:
                continue
            recurring = deadline.kind == "recurring"
            result.append(Occurrence(
                plan=plan.id, task=task.id, kind=deadline.kind, nominal=nominal, due=due,
                cycle=deadline.cycle, rule=deadline.rule,
                previous_due=pairs[i - 1][1] if recurring and i else None,
                next_due=pairs[i + 1][1] if recurring and i + 1 < len(pairs) else None,
                start=deadline.start,
            ))
    return result


def occurrences(plan: Plan, *, events: Events | None = None, done: Done = frozenset(),
                extended: Extended | None = None) -> list[Occurrence]:
    """Every open occurrence of the plan's tasks and plan-level dates, by due date.

    ``events`` (from plan.toml or the store) give event-relative deadlines their date;
    ``done`` removes completed occurrences, matched by due or nominal date; ``extended``
    (approved 延期申请, from the store) moves an occurrence's due date, its nominal date kept.
    """
    events = events or {}
    found: dict[tuple[str, date], Occurrence] = {}
    for task in plan.tasks:
        override = plan.overrides.get(task.id)
        if override is not None and override.skip:
            continue
        event = events.get((plan.id, task.id)) or (override.event if override else None)
        for occ in _task_occurrences(plan, task, event):
            # Several phrases can name the same day ("2021年底" in the cell and
            # "2021年底前" in the requirement): one occurrence.
            found.setdefault((occ.task, occ.due), occ)
    if extended:
        found = {key: extend(occ, extended) for key, occ in found.items()}
    ctx = context(plan)
    for plan_date in plan.dates:
        task_id = plan_date_task_id(plan_date.name)
        for deadline in parse(plan_date.deadline_text, ctx, plan.rules):
            for nominal, due in (due_pairs(deadline, plan.calendar, plan.policy)
                                 if deadline.kind in ("once", "recurring") else ()):
                found.setdefault((task_id, due), Occurrence(
                    plan=plan.id, task=task_id, kind="once", nominal=nominal, due=due,
                    rule=deadline.rule, start=deadline.start,
                ))
    ordered = sorted(found.values(), key=lambda o: (o.due, task_order(o.task)))
    return without_done(ordered, done) if done else ordered


def extend(occ: Occurrence, extended: Extended) -> Occurrence:
    """The occurrence with its approved new date, if it has one."""
    new = extended.get((occ.plan, occ.task, occ.due))
    return occ if new is None or new == occ.due else replace(occ, due=new)


def without_done(occs: Iterable[Occurrence], done: Done) -> list[Occurrence]:
    """The occurrences not completed, matched by due or nominal date: lets a caller compute
    occurrences once and drop the completed ones where only open ones count."""
    return [occ for occ in occs
            if (occ.plan, occ.task, occ.due) not in done
            and (occ.plan, occ.task, occ.nominal) not in done]
