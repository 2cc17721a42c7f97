"""The coordinator's board: tasks with their responsible units, status, next due, last notice,
progress and leaders' 批示, filtered by unit, status and stage;
confirm or reject a unit's completion, mark done or undo, record an event date; the 台账."""

from __future__ import annotations

import io
import logging
from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reminder.answerback.completion import mark_done, reopen
from reminder.answerback.extensions import ExtensionRefused
from reminder.answerback.links import Grant
from reminder.answerback.progress import STATE_NAMES, belongs, counts, period_of, task_views
from reminder.errors import ReminderError
from reminder.models import outside_window
from reminder.plan.wording import STAGE_NAMES
from reminder.web import workflow
from reminder.web.evidence import url_maker
from reminder.web.login import admin_grant, board_path
from reminder.web.pages import Refused, checked_form, page
from reminder.web.site import Site

log = logging.getLogger("reminder.web")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan(site: Site, grant: Grant) -> Any:
    plan = site.plan(grant.plan)
    if plan is None:
        raise Refused(404, f"计划 {grant.plan} 暂时无法加载，请检查计划文件夹（reminder check）。")
    return plan


def _units(plan: Any, views: list[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for v in views:
        for name in (*v.lead, *v.support):
            contact = plan.contact(name)
            seen.setdefault(contact.name if contact else name)
    return list(seen)


def _context(site: Site, grant: Grant, plan: Any, query: dict[str, str], token: str,
             **extra: Any) -> dict[str, Any]:
    today = site.now().date()
    views = task_views(plan, site.store, today, tz=site.config.tz)
    units = _units(plan, views)
    unit, state = query.get("unit", ""), query.get("state", "")
    stage = query.get("stage", "")
    status = {s.task: s for s in site.store.task_status(today, plan=plan.id)}

    def staged(v: Any) -> bool:
        last = status.get(v.id)
        return not stage or (last is not None and last.last_stage == stage)

    # One 责任单位 column, filtered by unit: a real plan has 20-60 units, far too many to
    # give each a column.
    shown = [v for v in views if (not unit or belongs(plan, unit, (*v.lead, *v.support)))
             and (not state or v.state == state) and staged(v)]
    return {
        "plan": plan, "today": today, "tasks": shown, "all": len(views), "units": units,
        "status": status, "stages": {k: v for k, v in STAGE_NAMES.items() if k != "report"},
        "counts": counts(views), "states": STATE_NAMES, "unit": unit, "state": state,
        "stage": stage,
        "csrf": site.links.csrf(grant), "period": period_of(today, plan.reporting_cycle),
        "token": token, "flash": "", "error": False, "file_url": url_maker(site, plan.id),
        **workflow.context(site, plan), **extra,
    }


async def show(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = admin_grant(request)
    plan = _plan(site, grant)
    log.info("看板：%s（链接 %s）", plan.id, grant.link_id)
    context = await run_in_threadpool(_context, site, grant, plan, dict(request.query_params),
                                       board_path(request))
    return page(request, "board.html", context)


def _handle(site: Site, grant: Grant, plan: Any, form: dict[str, Any]) -> str:
    today, now = site.now().date(), site.now()
    views = {v.id: v for v in task_views(plan, site.store, today)}
    task = views.get(str(form.get("task", "")))
    if task is None:
        raise Refused(400, "没有这项任务。")
    action, note = form.get("action"), " ".join(str(form.get("note", "")).split())[:2000]
    by = f"{plan.coordinator or '牵头处室'}（看板，链接 {grant.link_id}）"
    log.info("看板操作 %s：%s 任务 %s（链接 %s）", action, plan.id, task.id, grant.link_id)
    decided = workflow.board_action(site, grant, plan, task, form, by)  # 延期申请
    if decided is not None:
        return decided
    if action == "done":
        done = mark_done(site.plans, site.store, plan.id, task.id, occurrence=task.current,
                         by=by, note=note, now=now)
        return f"已标记任务 {task.id}（{done.due} 截止）完成，取消待发提醒 {done.cancelled} 条。"
    if action == "undo":
        back = reopen(site.store, plan.id, task.id, occurrence=None, by=by, now=now)
        return f"已撤销任务 {task.id}（{back.due} 截止）的完成登记，恢复提醒 {back.revived} 条。"
    if action == "confirm" and task.last_done:
        site.store.confirm_done(plan.id, task.id, task.last_done, by=by, now=now)
        return f"已确认任务 {task.id} 办结。"
    if action == "reject" and task.last_done:
        back = reopen(site.store, plan.id, task.id, occurrence=task.last_done, by=by, now=now)
        for unit in task.lead or task.support:
            site.store.add_feedback(plan.id, task.id, unit=unit, kind="rejected", text=note,
                                    now=now, period="", due=back.due, link=grant.link_id)
            contact = plan.contact(unit)
            if contact is not None:
                site.tell(contact, f"【退回】任务 {task.id} 的完成登记未通过",
                          f"{plan.coordinator or '牵头处室'}退回了任务 {task.id}（{task.title[:40]}）"
                          f"的完成登记，将继续提醒。意见：{note or '（无）'}")
        return f"已退回任务 {task.id} 的完成登记并告知责任单位，恢复提醒 {back.revived} 条。"
    if action == "event":
        try:
            day = date.fromisoformat(str(form.get("date", "")))
        except ValueError:
            raise Refused(400, "事件日期应写作 2026-07-01。") from None
        why = outside_window(day, plan.year)  # 9999-12-31 would stop the plan's reminders
        if why:
            raise Refused(400, f"{why}。")
        site.store.set_event(plan.id, task.id, day, by=by, now=now)
        return f"已记录任务 {task.id} 的事件日期 {day}，守护进程将重新计划提醒。"
    raise Refused(400, "未知操作。")


async def act(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = admin_grant(request)
    plan = _plan(site, grant)
    form = await checked_form(request, grant)

    def work() -> dict[str, Any]:
        try:
            flash, error = _handle(site, grant, plan, form), False
        except ExtensionRefused as err:
            flash, error = f"未能审批：{err}", True
        except ReminderError as err:
            flash, error = f"未能完成：{err}", True
        return _context(site, grant, plan, dict(request.query_params), board_path(request),
                        flash=flash, error=error)

    return page(request, "board.html", await run_in_threadpool(work))


async def ledger(request: Request) -> Response:
    from reminder.answerback.ledger import ledger_rows, title_of, write_xlsx

    site: Site = request.app.state.site
    grant = admin_grant(request)
    plan = _plan(site, grant)
    period = request.query_params.get("period") or None

    def build() -> bytes:
        rows = ledger_rows(plan, site.store, site.now().date(), period=period, tz=site.config.tz,
                           file_link=url_maker(site, plan.id))
        buffer = io.BytesIO()
        write_xlsx(rows, buffer, title=title_of(plan, period), made=site.now())
        return buffer.getvalue()

    body = await run_in_threadpool(build)
    name = quote(f"{plan.title}台账.xlsx")
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=ledger.xlsx; filename*=UTF-8''{name}",
        "Cache-Control": "no-store"})
