"""A leader's page: the tasks escalated to that leader across plans, with whose they are,
how late, what the units last reported and how often they were reminded; the leader can
leave a 批示 and marks nothing done."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reminder.answerback.links import Grant, leader_anchor
from reminder.answerback.progress import Note, TaskView, task_views
from reminder.plan.wording import days_text
from reminder.web import workflow
from reminder.web.evidence import url_maker
from reminder.web.pages import Refused, checked_form, grant_of, page
from reminder.web.site import Site

log = logging.getLogger("reminder.web")
MAX_TEXT = 2000


@dataclass(frozen=True, kw_only=True)
class Escalated:
    plan: Any
    view: TaskView
    anchor: str
    late: str  # 已逾期12天, from the oldest open due date
    progress: Note | None  # the latest progress report
    difficulty: Note | None  # the latest difficulty
    reminders: tuple[tuple[str, str, int], ...]  # (unit, 牵头/配合, reminders sent)


def _leads(plan: Any, leader: str) -> bool:
    for name in plan.escalate_to:
        contact = plan.contact(name)
        if name == leader or (contact is not None and contact.name == leader):
            return True
    return False


leads = _leads  # the statistics page asks the same question


def stats_links(site: Site, leader: str) -> list[tuple[str, str]]:
    """(plan title, plan id) of every plan that escalates to ``leader``: its statistics
    page is linked from the leader's page."""
    found = []
    for folder in site.config.plan_folders():
        plan = site.plan(folder.name)
        if plan is not None and _leads(plan, leader):
            found.append((plan.title, plan.id))
    return found


def escalated(site: Site, leader: str, today: date) -> list[Escalated]:
    """Every task escalated to ``leader``, across the plans that escalate to them: the most
    overdue first, done ones last."""
    sent = site.store.escalated_to(leader)
    found: list[Escalated] = []
    for folder in site.config.plan_folders():
        plan = site.plan(folder.name)
        if plan is None or not _leads(plan, leader):
            continue
        wanted = {task for p, task in sent if p == plan.id}
        if not wanted:
            continue
        counts = site.store.reminders_by_unit(plan.id)
        for v in task_views(plan, site.store, today, tz=site.config.tz):
            if v.id not in wanted:
                continue
            oldest = v.missed[0] if v.missed else v.current
            found.append(Escalated(
                plan=plan, view=v, anchor=leader_anchor(plan.id, v.id),
                late=days_text(oldest, today) if oldest and v.state == "overdue" else "",
                progress=next((n for n in v.notes if n.kind == "progress"), None),
                difficulty=next((n for n in v.notes if n.kind == "blocked"), None),
                reminders=tuple((u, "牵头" if u in v.lead else "配合", _count(plan, counts, v.id, u))
                                for u in (*v.lead, *v.support)),
            ))
    order = {"overdue": 0, "open": 1, "confirm": 2, "done": 3}
    return sorted(found, key=lambda e: (order[e.view.state], e.view.missed[:1] or
                                        (e.view.current or date.max,), e.plan.id))


def _count(plan: Any, counts: dict[tuple[str, str], int], task: str, unit: str) -> int:
    contact = plan.contact(unit)
    name = contact.name if contact else unit
    return counts.get((task, name), 0)


def _context(site: Site, grant: Grant, **extra: Any) -> dict[str, Any]:
    today = site.now().date()
    tasks = escalated(site, grant.unit, today)
    return {"leader": grant.unit, "today": today, "tasks": tasks,
            "csrf": site.links.csrf(grant), "flash": "", "error": False,
            "file_urls": lambda plan_id: url_maker(site, plan_id),
            "stats_links": stats_links(site, grant.unit), **workflow.leader_context(site, tasks),
            **extra}


async def show(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = grant_of(request, "leader")
    log.info("领导页面：%s", grant.unit)
    return page(request, "leader.html", await run_in_threadpool(_context, site, grant))


def _handle(site: Site, grant: Grant, form: dict[str, Any]) -> dict[str, Any]:
    if form.get("action") != "instruct":
        raise Refused(400, "未知操作。")
    today = site.now().date()
    mine = {(e.plan.id, e.view.id): e for e in escalated(site, grant.unit, today)}
    item = mine.get((str(form.get("plan", "")), str(form.get("task", ""))))
    if item is None:  # a task never escalated to this leader: the link may not touch it
        raise Refused(403, "该任务未报送您督办。")
    text = " ".join(str(form.get("text", "")).split())[:MAX_TEXT]
    if not text:
        return {"flash": "请先填写批示内容再提交。", "error": True}
    site.store.add_instruction(item.plan.id, item.view.id, leader=grant.unit, text=text,
                               now=site.now(), link=grant.link_id)
    units = "、".join((*item.view.lead, *item.view.support)) or "责任单位"
    log.info("领导批示：%s / %s 任务 %s", grant.unit, item.plan.id, item.view.id)
    return {"flash": f"已记录对任务 {item.view.id} 的批示，将在{units}的页面和下一次提醒中转达。"}


async def act(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = grant_of(request, "leader")
    form = await checked_form(request, grant)

    def work() -> dict[str, Any]:
        return _context(site, grant, **_handle(site, grant, form))

    return page(request, "leader.html", await run_in_threadpool(work))
