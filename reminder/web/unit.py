"""A unit's page: its tasks with 已完成 / 报进展 / 有困难, and undo after a completion."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from reminder.answerback.completion import mark_done, reopen
from reminder.answerback.links import Grant
from reminder.answerback.progress import TaskView, period_of, task_views
from reminder.errors import ReminderError
from reminder.plan.wording import period_name
from reminder.web import workflow
from reminder.web.evidence import url_maker, with_files
from reminder.web.pages import Refused, checked_form, grant_of, page
from reminder.web.site import Site

log = logging.getLogger("reminder.web")
MAX_TEXT = 2000


def _plan(site: Site, grant: Grant) -> Any:
    plan = site.plan(grant.plan)
    if plan is None:
        raise Refused(404, f"计划 {grant.plan} 暂时无法打开，请联系牵头处室。")
    return plan


def _context(site: Site, grant: Grant, plan: Any, **extra: Any) -> dict[str, Any]:
    today = site.now().date()
    views = task_views(plan, site.store, today, unit=grant.unit, tz=site.config.tz)
    return {
        "plan": plan, "unit": grant.unit, "tasks": views, "today": today,
        "csrf": site.links.csrf(grant), "period": period_of(today, plan.reporting_cycle),
        "feed": site.links.url("feed", plan.id, grant.unit),
        "coordinator": plan.coordinator or "牵头处室", "flash": "", "undo": None,
        "file_url": url_maker(site, plan.id), **workflow.context(site, plan), **extra,
    }


async def show(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = grant_of(request, "unit")
    plan = _plan(site, grant)
    log.info("单位页面：%s / %s（链接 %s）", plan.id, grant.unit, grant.link_id)
    context = await run_in_threadpool(_context, site, grant, plan)
    return page(request, "unit.html", context)


def _dates(values: list[str]) -> list[date]:
    try:
        return [date.fromisoformat(v) for v in values if v]
    except ValueError:
        raise Refused(400, "日期格式错误。") from None


def _text(form: dict[str, Any], name: str) -> str:
    return " ".join(str(form.get(name, "")).split())[:MAX_TEXT]


def _handle(site: Site, grant: Grant, plan: Any, form: dict[str, Any]) -> dict[str, Any]:
    today = site.now().date()
    views = {v.id: v for v in task_views(plan, site.store, today, unit=grant.unit)}
    task: TaskView | None = views.get(str(form.get("task", "")))
    if task is None:  # another unit's task, or none at all: this link may not touch it
        log.warning("拒绝操作：%s 不属于 %s（链接 %s）", form.get("task"), grant.unit, grant.link_id)
        raise Refused(403, "该任务不属于本单位。")
    action, now = form.get("action"), site.now()
    by = f"{grant.unit}（链接 {grant.link_id}）"
    log.info("单位操作 %s：%s / %s 任务 %s（链接 %s）", action, plan.id, grant.unit, task.id,
             grant.link_id)
    answered = workflow.unit_action(site, grant, plan, task, form)  # 签收, 延期申请
    if answered is not None:
        return answered
    if action == "done":
        if task.standing:
            return {"flash": f"任务 {task.id} 没有固定完成时限，无需登记完成；请按期报送进展。",
                    "error": True}
        wanted = [task.current] if task.current else []
        if form.get("missed") == "1":
            wanted = [*task.missed, *wanted]
        if not wanted:
            return {"flash": f"任务 {task.id} 已经登记完成。"}
        marked = []
        for due in wanted:
            done = mark_done(site.plans, site.store, plan.id, task.id, occurrence=due, by=by,
                             note=_text(form, "note") or _text(form, "text"), now=now,
                             link=grant.link_id, loaded=plan)
            marked.append(done.due)
        waits = "，等待牵头处室确认" if plan.policy.confirm_done else ""
        return {"flash": f"已登记完成：任务 {task.id}（" + "、".join(d.isoformat() for d in marked)
                + f" 截止）{waits}。不再提醒。", "undo": {"task": task.id, "dates": marked}}
    if action == "undo":
        mine = {r.due for r in site.store.completions(plan.id)
                if r.task_id == task.id and r.undone_at is None and r.done_by.startswith(grant.unit)}
        dates = [d for d in _dates(form["_multi"].getlist("due")) if d in mine]
        if not dates:
            raise Refused(403, "只能撤销本单位自己登记的完成。")
        for due in dates:
            reopen(site.store, plan.id, task.id, occurrence=due, by=by, now=now)
        return {"flash": f"已撤销任务 {task.id} 的完成登记，将照常提醒。"}
    if action in ("progress", "blocked"):
        text = _text(form, "text")
        if not text:
            return {"flash": "请先填写内容再提交。", "error": True}
        period = _text(form, "period")[:20] or period_of(today, plan.reporting_cycle)
        site.store.add_feedback(plan.id, task.id, unit=grant.unit, kind=action, text=text,
                                now=now, period=period, due=task.current, link=grant.link_id)
        if action == "progress":
            return {"flash": f"已报送任务 {task.id} {period_name(period)}的进展。"}
        told = site.tell_coordinator(
            plan, f"【有困难】{grant.unit}：任务 {task.id}",
            f"{grant.unit}反映任务 {task.id}（{task.title[:40]}）遇到困难：{text}")
        return {"flash": f"已将任务 {task.id} 的困难告知{plan.coordinator or '牵头处室'}"
                + ("。" if told else "（通知暂未送达，已记录，牵头处室可在看板查看）。")}
    raise Refused(400, "未知操作。")


async def act(request: Request) -> Response:
    site: Site = request.app.state.site
    grant = grant_of(request, "unit")
    plan = _plan(site, grant)
    form = await checked_form(request, grant)

    def work() -> dict[str, Any]:
        try:
            result = with_files(site, grant, plan, form, _handle(site, grant, plan, form))
        except ReminderError as err:
            result = {"flash": f"未能登记：{err}", "error": True}
        return _context(site, grant, plan, **result)

    return page(request, "unit.html", await run_in_threadpool(work))
