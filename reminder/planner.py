"""The dry run's engine: every notice the policy asks for, as a pure function of the plans.

The daemon calls the same function with events and completions from its store, so what
`reminder plan` shows is exactly what `reminder run` sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from reminder.calendar import WorkCalendar
from reminder.models import Contact, Notice, Occurrence, Offset, Stage
from reminder.occurrences import Done, Events, effective_task, occurrences, plan_date_task_id
from reminder.planfolder import Plan

STAGE_ORDER = {"overdue": 0, "escalate": 1, "due": 2, "remind": 3, "report": 4}
# The default dry-run window reaches this far past the last due date: enough to show the
# overdue notice, the first escalation and its first repeat.
DEFAULT_TAIL = timedelta(days=30)


def before(due: date, offset: Offset, calendar: WorkCalendar) -> date:
    """The workday ``offset`` before ``due``; a reminder that would fall on a non-workday
    goes out on the workday before it."""
    if offset.unit == "workday":
        return calendar.add_workdays(due, -offset.n)
    day = due - relativedelta(months=offset.n) if offset.unit == "month" else due - timedelta(days=offset.n)
    return calendar.shift(day, "before")


def after(day: date, offset: Offset, calendar: WorkCalendar) -> date:
    if offset.unit == "workday":
        return calendar.add_workdays(day, offset.n)
    later = day + relativedelta(months=offset.n) if offset.unit == "month" else day + timedelta(days=offset.n)
    return calendar.shift(later, "after")


def _reminders(occ: Occurrence, offsets: Iterable[Offset], plan: Plan) -> list[tuple[date, str]]:
    """Reminder days before a due date, one per day, none before the plan was issued or
    before the previous occurrence of a recurring task was due."""
    days: dict[date, str] = {}
    for offset in offsets:
        day = before(occ.due, offset, plan.calendar)
        if (
            day < occ.due
            and (occ.previous_due is None or day > occ.previous_due)
            and (plan.issued is None or day >= plan.issued)
        ):
            days.setdefault(day, str(offset))
    return sorted(days.items())


def schedule(occ: Occurrence, plan: Plan, end: date) -> list[tuple[date, Stage, str]]:
    """(send day, stage, step) for one occurrence up to ``end``."""
    policy, calendar = plan.policy, plan.calendar
    if occ.task.startswith("@"):
        steps: list[tuple[date, Stage, str]] = [
            (d, "report", s) for d, s in _reminders(occ, policy.report_remind_before, plan)
        ]
        return [*steps, (calendar.shift(occ.due, "before"), "report", "0")]
    if occ.cycle == "ongoing":
        return [(d, "remind", s) for d, s in _reminders(occ, policy.ongoing_remind_before, plan)]
    steps = [(d, "remind", s) for d, s in _reminders(occ, policy.remind_before, plan)]
    if policy.on_due_day:
        steps.append((calendar.shift(occ.due, "before"), "due", "0"))
    overdue = after(occ.due, policy.overdue_after, calendar)
    steps.append((overdue, "overdue", str(policy.overdue_after)))
    # A recurring task's next period brings its own reminders and overdue notice; chasing
    # the old period past that would only stack duplicate escalations.
    last = min(end, occ.next_due - timedelta(days=1)) if occ.next_due else end
    escalation, n = after(overdue, policy.escalate_after, calendar), 1
    while escalation <= last:
        steps.append((escalation, "escalate", f"#{n}"))
        escalation, n = after(escalation, policy.escalate_every, calendar), n + 1
    return steps


def _contact(plan: Plan, name: str) -> Contact:
    return plan.contact(name) or Contact(name=name)


def recipients(plan: Plan, occ: Occurrence, stage: Stage) -> list[Contact]:
    """Who a stage addresses: units for reminders, lead units and the coordinator when
    overdue, the escalation contacts (or the coordinator) for escalations."""
    names: list[str]
    if occ.task.startswith("@"):
        plan_date = next(d for d in plan.dates if plan_date_task_id(d.name) == occ.task)
        names = list(plan_date.units) or _all_units(plan)
    else:
        task = effective_task(plan, plan.task(occ.task))  # type: ignore[arg-type]
        if stage in ("remind", "due"):
            names = list(task.units if plan.policy.remind_support else task.lead or task.units)
        elif stage == "overdue":
            names = [*(task.lead or task.units), *([plan.coordinator] if plan.coordinator else [])]
        else:
            names = list(plan.escalate_to) or ([plan.coordinator] if plan.coordinator else [])
        if not names and plan.coordinator:
            names = [plan.coordinator]
    seen: dict[str, Contact] = {}
    for name in names:
        contact = _contact(plan, name)
        seen.setdefault(contact.name, contact)
    return list(seen.values())


def _all_units(plan: Plan) -> list[str]:
    names: dict[str, None] = {}
    for task in plan.tasks:
        for unit in effective_task(plan, task).units:
            names[unit] = None
    return list(names)


Route = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _channels(contact: Contact) -> list[Route]:
    """(channel, addresses, mentions, mobiles) for each way the contact can be reached."""
    routes: list[Route] = []
    if contact.email:
        routes.append(("email", contact.email, (), ()))
    if contact.wecom:
        routes.append(("wecom", (contact.wecom,), contact.wecom_users, contact.wecom_mobiles))
    return routes or [("none", (), (), ())]


def plan_window(plans: Sequence[Plan], *, events: Events | None = None) -> tuple[date, date]:
    """The default dry-run window: from the earliest issue date (or the plan year's start)
    to a month past the last due date."""
    start = min(p.issued or date(p.year, 1, 1) for p in plans)
    dues = [o.due for p in plans for o in occurrences(p, events=events)]
    end = max(dues, default=max(date(p.year, 12, 31) for p in plans)) + DEFAULT_TAIL
    return start, end


def plan_notices(
    plans: Sequence[Plan],
    *,
    start: date,
    end: date,
    now: datetime | None = None,
    events: Events | None = None,
    done: Done = frozenset(),
) -> list[Notice]:
    """Every notice to be sent from ``start`` to ``end`` (inclusive), and at or after
    ``now`` when given, in time order."""
    notices: list[Notice] = []
    for plan in plans:
        zone = ZoneInfo(plan.policy.timezone)
        for occ in occurrences(plan, events=events, done=done):
            title = _title(plan, occ)
            routes: dict[str, list[tuple[Contact, list[Route]]]] = {}
            for day, stage, step in schedule(occ, plan, end):
                if not start <= day <= end:
                    continue
                send_at = datetime.combine(day, plan.policy.send_time, tzinfo=zone)
                if now is not None and send_at < now:
                    continue
                if stage not in routes:
                    routes[stage] = [(c, _channels(c)) for c in recipients(plan, occ, stage)]
                for contact, channels in routes[stage]:
                    for channel, addresses, mentions, mobiles in channels:
                        notices.append(Notice(
                            send_at=send_at, stage=stage, step=step, plan=plan.id,
                            plan_title=plan.title, task=occ.task, title=title, due=occ.due,
                            recipient=contact.name, channel=channel, addresses=addresses,
                            mentions=mentions, mobiles=mobiles,
                            occurrence=occ.nominal.isoformat(),
                        ))
    notices.sort(key=lambda n: (n.send_at, n.plan, STAGE_ORDER[n.stage], _order(n.task),
                                n.recipient, n.channel))
    return notices


def _title(plan: Plan, occ: Occurrence) -> str:
    if occ.task.startswith("@"):
        return occ.task[1:]
    task = plan.task(occ.task)
    return task.short_title if task else occ.task


def _order(task_id: str) -> tuple[int, str]:
    return (int(task_id), "") if task_id.isdigit() else (10**9, task_id)
