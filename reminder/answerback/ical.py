"""A plan's deadlines as an iCalendar file: one all-day event per due date, with an alarm at
each moment the policy reminds (so Outlook or the WeCom calendar reminds when we would).

icalendar is imported inside ``build_calendar``: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from reminder.addresses import one_line
from reminder.answerback.progress import belongs
from reminder.plan.occurrences import effective_task, occurrences, plan_date_task_id
from reminder.plan.planner import before

PRODID = "-//reminder//政务任务提醒//ZH"


def alarm_offsets(plan: Any, due: date, offsets: Iterable[Any], on_due_day: bool
                  ) -> list[timedelta]:
    """Each reminder as an offset from the event's start (midnight of the due date): the
    reminder's day at the policy's send time. Workday offsets land on real workdays."""
    send = plan.policy.send_time
    start = datetime.combine(due, time())
    days = sorted({before(due, o, plan.calendar) for o in offsets} | ({due} if on_due_day else set()))
    return [datetime.combine(d, send) - start for d in days if d <= due]


def build_calendar(plan: Any, *, events: Any = None, unit: str | None = None,
                   stamp: datetime, extended: Any = None) -> bytes:
    """The .ics bytes of the plan's (or one unit's) deadlines. ``stamp`` is DTSTAMP (passed in:
    the clock is read at the edge)."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # Names folded to one line: icalendar refuses a raw line break (the feed answered 500).
    cal.add("x-wr-calname", one_line(f"{plan.title}{'·' + unit if unit else ''}"))
    cal.add("x-wr-timezone", plan.policy.timezone)
    tasks = {t.id: effective_task(plan, t) for t in plan.tasks}
    for occ in occurrences(plan, events=events or {}, extended=extended):
        task = tasks.get(occ.task)
        if task is None:  # a plan-level date (报送进展): for whoever it goes to
            dated = next((d for d in plan.dates if plan_date_task_id(d.name) == occ.task), None)
            if unit is not None and dated is not None and dated.units \
                    and not belongs(plan, unit, dated.units):
                continue
            title, detail, offsets = (dated.name if dated else occ.task), "", \
                plan.policy.report_remind_before
        else:
            if unit is not None and not belongs(plan, unit, task.units):
                continue
            title = f"〔{task.id}〕{task.title}"  # whole: a calendar has room (issue 17)
            detail = "\n".join(filter(None, (
                task.title, "牵头单位：" + "、".join(task.lead) if task.lead else "",
                "配合单位：" + "、".join(task.support) if task.support else "",
                "原文时限：" + task.deadline_text if task.deadline_text else "")))
            offsets = (plan.policy.ongoing_remind_before if occ.cycle == "ongoing"
                       else plan.policy.remind_before)
        event = Event()
        event.add("uid", f"{plan.id}-{occ.task}-{occ.due.isoformat()}@reminder")
        event.add("dtstamp", stamp)
        event.add("dtstart", occ.due)
        event.add("dtend", occ.due + timedelta(days=1))
        title = one_line(title)
        event.add("summary", f"截止：{title}")
        if detail:
            event.add("description", detail)
        event.add("transp", "TRANSPARENT")
        for offset in alarm_offsets(plan, occ.due, offsets, plan.policy.on_due_day):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{title}：{occ.due.isoformat()} 截止")
            alarm.add("trigger", offset)
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
