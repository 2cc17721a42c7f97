"""The dry run's engine: every notice the policy asks for, as a pure function of the plans.

The daemon calls the same function with events and completions from its store, so what
`reminder plan` shows is exactly what `reminder run` sends.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from reminder.models import STAGE_URGENCY, Contact, Notice, Occurrence, Offset, Stage, task_order
from reminder.plan.calendar import WorkCalendar, add_months
from reminder.plan.colors import audience_names, change_days, period_start
from reminder.plan.folder import Plan
from reminder.plan.occurrences import (
    Done,
    Events,
    Extended,
    effective_task,
    occurrences,
    plan_date_task_id,
    without_done,
)
from reminder.plan.wording import SIGN_TOLD

# (plan, task, due) of the occurrences a progress report came in for: they get no 三色预警.
Reported = frozenset[tuple[str, str, date]] | set[tuple[str, str, date]]
# (plan, task, unit) of every 签收 recorded: those units are not chased to sign.
Signed = AbstractSet[tuple[str, str, str]]

# The default dry-run window reaches this far past the last due date: enough to show the
# overdue notice, the first escalation and its first repeat.
DEFAULT_TAIL = timedelta(days=30)


def before(due: date, offset: Offset, calendar: WorkCalendar) -> date:
    """The workday ``offset`` before ``due``; a reminder that would fall on a non-workday
    goes out on the workday before it."""
    if offset.unit == "workday":
        return calendar.add_workdays(due, -offset.n)
    day = add_months(due, -offset.n) if offset.unit == "month" else due - timedelta(days=offset.n)
    return calendar.shift(day, "before")


def after(day: date, offset: Offset, calendar: WorkCalendar) -> date:
    if offset.unit == "workday":
        return calendar.add_workdays(day, offset.n)
    later = add_months(day, offset.n) if offset.unit == "month" else day + timedelta(days=offset.n)
    return calendar.shift(later, "after")


def _reminders(occ: Occurrence, offsets: Iterable[Offset], plan: Plan) -> list[tuple[date, str]]:
    """Reminder days before a due date, one per day, none before the plan was issued, before
    the previous occurrence of a recurring task was due, or before the work opens (a range's
    start: reminding a unit of work it may not begin yet is noise)."""
    days: dict[date, str] = {}
    for offset in offsets:
        day = before(occ.due, offset, plan.calendar)
        if (
            day < occ.due
            and (occ.previous_due is None or day > occ.previous_due)
            and (plan.issued is None or day >= plan.issued)
            and (occ.start is None or day >= occ.start)
        ):
            days.setdefault(day, str(offset))
    return sorted(days.items())


def _warnings(occ: Occurrence, plan: Plan, reported: bool) -> list[tuple[date, Stage, str]]:
    """三色预警 sends: on the first workday an occurrence without a progress report in its
    period is 黄 or 橙, when that colour's policy names anyone to tell (step: the colour).
    Never on or after the due day (the due-day reminder speaks then) and never before the
    plan was issued."""
    policy = plan.policy
    # An event-relative occurrence's period opens at its event, which the planner is not
    # given: its colour shows on the pages, and its own reminders speak for it.
    if not policy.colors or reported or occ.kind == "event":
        return []
    steps: list[tuple[date, Stage, str]] = []
    for day, color in change_days(period_start(occ, plan.issued, plan.year), occ.due, policy):
        if not (policy.yellow_to if color == "yellow" else policy.orange_to):
            continue
        send = plan.calendar.shift(day, "after")
        if send < occ.due and (plan.issued is None or send >= plan.issued) \
                and all(d != send for d, _, _ in steps):
            steps.append((send, "warn", color))
    return steps


def schedule(occ: Occurrence, plan: Plan, end: date, *, reported: bool = False
             ) -> list[tuple[date, Stage, str]]:
    """(send day, stage, step) for one occurrence up to ``end``; ``reported``: a progress
    report came in for it, so no 三色预警 is sent."""
    policy, calendar = plan.policy, plan.calendar
    if occ.task.startswith("@"):
        steps: list[tuple[date, Stage, str]] = [
            (d, "report", s) for d, s in _reminders(occ, policy.report_remind_before, plan)
        ]
        return [*steps, (calendar.shift(occ.due, "before"), "report", "0")]
    if occ.cycle == "ongoing":
        return [(d, "remind", s) for d, s in _reminders(occ, policy.ongoing_remind_before, plan)]
    steps = [(d, "remind", s) for d, s in _reminders(occ, policy.remind_before, plan)]
    steps.extend(_warnings(occ, plan, reported))
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


def _escalation(plan: Plan) -> list[str]:
    return list(plan.escalate_to) or ([plan.coordinator] if plan.coordinator else [])


def recipients(plan: Plan, occ: Occurrence, stage: Stage, step: str = "") -> list[Contact]:
    """Who a stage addresses: units for reminders, lead units and the coordinator when
    overdue (and whom the 红 colour adds), the escalation contacts (or the coordinator) for
    escalations, whom the colour ``step`` names for a 三色预警."""
    names: list[str]
    if occ.task.startswith("@"):
        plan_date = next(d for d in plan.dates if plan_date_task_id(d.name) == occ.task)
        names = list(plan_date.units) or _all_units(plan)
    else:
        task = effective_task(plan, plan.task(occ.task))  # type: ignore[arg-type]
        units = list(task.units if plan.policy.remind_support else task.lead or task.units)
        if stage in ("remind", "due"):
            names = units
        elif stage == "warn":
            who = plan.policy.yellow_to if step == "yellow" else plan.policy.orange_to
            names = audience_names(plan, who, units, _escalation(plan))
        elif stage == "overdue":
            names = [*(task.lead or task.units), *([plan.coordinator] if plan.coordinator else [])]
            if plan.policy.colors:
                names += audience_names(plan, plan.policy.red_to, list(task.lead or task.units),
                                        _escalation(plan))
        else:
            names = _escalation(plan)
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


def ways(contact: Contact) -> dict[str, Route]:
    """Every way the contact has an address for, by channel."""
    found: dict[str, Route] = {}
    if contact.email:
        found["email"] = ("email", contact.email, (), ())
    if contact.wecom:
        found["wecom"] = ("wecom", (contact.wecom,), contact.wecom_users, contact.wecom_mobiles)
    if contact.dingtalk:
        found["dingtalk"] = ("dingtalk", (contact.dingtalk,), (), contact.dingtalk_mobiles)
    if contact.wecom_users:
        found["wecom_app"] = ("wecom_app", contact.wecom_users, (), ())
    if contact.mobiles:
        found["sms"] = ("sms", contact.mobiles, (), ())
    return found


def _channels(contact: Contact, usable: Collection[str] | None = None) -> list[Route]:
    """(channel, addresses, mentions, mobiles) for each way the contact is reached.

    With an order (``contact.channels``): only the first channel in it that the contact has
    an address for and the deployment has (``usable``; None: any). Without one: email and
    every group robot the contact names; personal channels only when asked for by name, since
    the userids and mobiles are first of all the ones a group post @-mentions."""
    found = ways(contact)
    if contact.channels:
        for name in contact.channels:
            if name in found and (usable is None or name in usable):
                return [found[name]]
        return [("none", (), (), ())]
    routes = [found[name] for name in ("email", "wecom", "dingtalk") if name in found]
    return routes or [("none", (), (), ())]


def plan_window(plans: Sequence[Plan], *, events: Events | None = None,
                occs: Mapping[str, Sequence[Occurrence]] | None = None) -> tuple[date, date]:
    """The default dry-run window: from the earliest issue date (or the plan year's start)
    to a month past the last due date. ``occs``: each plan's occurrences, when the caller
    has them already."""
    start = min(p.issued or date(p.year, 1, 1) for p in plans)
    dues = [o.due for p in plans
            for o in (occs[p.id] if occs is not None else occurrences(p, events=events))]
    end = max(dues, default=max(date(p.year, 12, 31) for p in plans)) + DEFAULT_TAIL
    return start, end


# (recipient, channel, addresses, mentions, mobiles): one notice of a batch.
Target = tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Batch(NamedTuple):
    """The notices of one step of one occurrence: same time, stage and task, one per
    recipient and channel (``targets``, in recipient then channel order). Writers format
    the shared part once; ``notices()`` gives the records the store and the table use.

    A named tuple, not a frozen dataclass like the other records: a big dry run makes
    hundreds of thousands of these, and a frozen dataclass takes three times as long to
    build (one ``object.__setattr__`` per field). Immutable all the same."""

    send_at: datetime
    stage: Stage
    step: str
    plan: str
    plan_title: str
    task: str
    title: str
    due: date
    occurrence: str
    targets: tuple[Target, ...]

    def notices(self) -> Iterator[Notice]:
        for recipient, channel, addresses, mentions, mobiles in self.targets:
            yield Notice(
                send_at=self.send_at, stage=self.stage, step=self.step, plan=self.plan,
                plan_title=self.plan_title, task=self.task, title=self.title, due=self.due,
                recipient=recipient, channel=channel, addresses=addresses,
                mentions=mentions, mobiles=mobiles, occurrence=self.occurrence,
            )


def _targets(plan: Plan, occ: Occurrence, stage: Stage, step: str = "",
             usable: Collection[str] | None = None) -> tuple[Target, ...]:
    found = [(c.name, channel, addresses, mentions, mobiles)
             for c in recipients(plan, occ, stage, step)
             for channel, addresses, mentions, mobiles in _channels(c, usable)]
    return tuple(sorted(found, key=lambda t: (t[0], t[1])))


def plan_batches(
    plan: Plan,
    occs: Iterable[Occurrence],
    *,
    start: date,
    end: date,
    now: datetime | None = None,
    usable: Collection[str] | None = None,
    reported: Reported = frozenset(),
    signed: Signed = frozenset(),
) -> list[Batch]:
    """One plan's notices from ``start`` to ``end`` (and at or after ``now``), as batches in
    time order. ``occs`` are the plan's open occurrences (see ``occurrences``); ``usable``
    the deployment's channels, for units that name an order (None: all of them);
    ``reported`` the (plan, task, due) a progress report came in for (no 三色预警 for those);
    ``signed`` the 签收 recorded, when the plan's policy asks units to sign."""
    zone = ZoneInfo(plan.policy.timezone)
    moments: dict[date, datetime] = {}
    # Many tasks share a due date and many occurrences a task: their schedules and
    # recipients are worked out once each, not once per occurrence.
    schedules: dict[tuple[object, ...], list[tuple[date, Stage, str]]] = {}
    targets: dict[tuple[str, Stage, str], tuple[Target, ...]] = {}
    orders: dict[str, tuple[int, str]] = {}
    titles: dict[str, str] = {}
    batches: list[Batch] = []
    occs = list(occs)
    for occ in occs:
        nominal = occ.nominal.isoformat()
        title = titles.get(occ.task)
        if title is None:
            title = titles[occ.task] = _title(plan, occ)
            orders[occ.task] = task_order(occ.task)
        was_reported = (plan.id, occ.task, occ.due) in reported
        shape = (occ.task.startswith("@"), occ.cycle == "ongoing", occ.due, occ.previous_due,
                 occ.next_due, occ.start, was_reported)
        steps = schedules.get(shape)
        if steps is None:
            steps = schedules[shape] = schedule(occ, plan, end, reported=was_reported)
        for day, stage, step in steps:
            if not start <= day <= end:
                continue
            send_at = moments.get(day)
            if send_at is None:
                send_at = moments[day] = datetime.combine(day, plan.policy.send_time, tzinfo=zone)
            if now is not None and send_at < now:
                continue
            # Only a 三色预警's recipients depend on its step (the colour).
            which = step if stage == "warn" else ""
            found = targets.get((occ.task, stage, which))
            if found is None:
                found = targets[occ.task, stage, which] = _targets(plan, occ, stage, which, usable)
            if found:
                batches.append(Batch(send_at, stage, step, plan.id, plan.title, occ.task, title,
                                     occ.due, nominal, found))
    if plan.policy.sign_within is not None:
        for batch in sign_batches(plan, occs, signed, usable):
            if start <= batch.send_at.date() <= end and (now is None or batch.send_at >= now):
                batches.append(batch)
                orders.setdefault(batch.task, task_order(batch.task))
    # Two occurrences of one task can share a moment and stage (two deadlines in one
    # cell, both overdue): the earlier due date first.
    batches.sort(key=lambda b: (b.send_at, STAGE_URGENCY[b.stage], orders[b.task], b.due))
    return batches


def plan_notices(
    plans: Sequence[Plan],
    *,
    start: date,
    end: date,
    now: datetime | None = None,
    events: Events | None = None,
    done: Done = frozenset(),
    occs: Mapping[str, Sequence[Occurrence]] | None = None,
    usable: Collection[str] | None = None,
    reported: Reported = frozenset(),
    signed: Signed = frozenset(),
    extended: Extended | None = None,
) -> list[Notice]:
    """Every notice to be sent from ``start`` to ``end`` (inclusive), and at or after
    ``now`` when given, in time order across all plans (held in memory: for many plans
    stream ``plan_batches`` plan by plan instead). ``occs``: each plan's occurrences (with
    ``events`` applied), when the caller has them already; ``usable``: see plan_batches."""
    notices = [
        n for plan in plans
        for batch in plan_batches(
            plan, without_done(occs[plan.id], done) if occs is not None
            else occurrences(plan, events=events, done=done, extended=extended), start=start,
            end=end, now=now, usable=usable, reported=reported, signed=signed)
        for n in batch.notices()
    ]
    # Stable: within one plan and moment the batches are already in order.
    notices.sort(key=lambda n: (n.send_at, n.plan))
    return notices


def sign_batches(plan: Plan, occs: Iterable[Occurrence], signed: Signed,
                 usable: Collection[str] | None = None) -> Iterator[Batch]:
    """The 签收 chase of every task (policy ``sign_within``): a unit that has not signed is
    reminded once, ``sign_within`` after the task's first message to it, and the coordinator
    is told ``sign_within`` after that, one notice per unsigned unit. The first message is
    the earliest step of the task's first open occurrence, worked out over the whole
    schedule whatever the window, so the chase lands on the same day in every run."""
    within = plan.policy.sign_within
    if within is None:
        return
    zone = ZoneInfo(plan.policy.timezone)
    first: dict[str, Occurrence] = {}
    for occ in occs:
        if not occ.task.startswith("@") and (occ.task not in first or occ.due < first[occ.task].due):
            first[occ.task] = occ
    coordinator = _contact(plan, plan.coordinator) if plan.coordinator else None
    told = _targets_of(coordinator, usable) if coordinator is not None else ()
    for task_id, occ in sorted(first.items(), key=lambda kv: task_order(kv[0])):
        days = [day for day, stage, _ in schedule(occ, plan, occ.due) if stage != "escalate"]
        if not days:
            continue
        chase = after(min(days), within, plan.calendar)
        tell = after(chase, within, plan.calendar)
        title = _title(plan, occ)
        for unit in recipients(plan, occ, "remind"):
            if (plan.id, task_id, unit.name) in signed:
                continue
            chased = _targets_of(unit, usable)
            if chased:
                yield Batch(datetime.combine(chase, plan.policy.send_time, tzinfo=zone), "sign",
                            str(within), plan.id, plan.title, task_id, title, occ.due,
                            occ.nominal.isoformat(), chased)
            if told and coordinator is not None and coordinator.name != unit.name:
                yield Batch(datetime.combine(tell, plan.policy.send_time, tzinfo=zone), "sign",
                            SIGN_TOLD + unit.name, plan.id, plan.title, task_id, title, occ.due,
                            occ.nominal.isoformat(), told)


def _targets_of(contact: Contact, usable: Collection[str] | None = None) -> tuple[Target, ...]:
    return tuple(sorted(((contact.name, channel, addresses, mentions, mobiles)
                         for channel, addresses, mentions, mobiles in _channels(contact, usable)),
                        key=lambda t: (t[0], t[1])))


def _title(plan: Plan, occ: Occurrence) -> str:
    if occ.task.startswith("@"):
        return occ.task[1:]
    task = plan.task(occ.task)
    return task.short_title if task else occ.task



Role = Literal["unit", "coordinator", "leader"]


def reader_role(plan: Plan, recipient: str, task_id: str) -> Role:
    """Why a notice of ``task_id`` reaches ``recipient``: the task is theirs ("unit"), they
    are the plan's coordinator and get a copy to chase it, or they are a leader it was
    escalated to. A unit that is also the coordinator reads its own tasks as a unit."""

    def same(name: str) -> bool:
        contact = plan.contact(name)
        return name == recipient or (contact is not None and contact.name == recipient)

    if task_id.startswith("@"):
        return "unit"
    task = plan.task(task_id)
    if task is None or any(same(u) for u in effective_task(plan, task).units):
        return "unit"
    if any(same(name) for name in plan.escalate_to):
        return "leader"
    if plan.coordinator and same(plan.coordinator):
        return "coordinator"
    return "unit"
