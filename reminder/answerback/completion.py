"""Marking an occurrence done or reopening it: the one path `reminder done`/`undo`, the units'
page and the coordinator's board all take, so a completion means the same wherever it was made.

Thin over the store (passed in) and the plan folder; no SQL here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from reminder.errors import ConfigError, PlanError

if TYPE_CHECKING:
    from reminder.plan.cache import PlanCache
    from reminder.store import Store


@dataclass(frozen=True, kw_only=True)
class Completed:
    plan: str
    task: str
    due: date
    cancelled: int  # pending notices cancelled
    already: bool  # it was done before; nothing changed


@dataclass(frozen=True, kw_only=True)
class Reopened:
    plan: str
    task: str
    due: date
    revived: int


def known_dates(plans: PlanCache, store: Store, plan_id: str, task: str, plan: Any | None = None,
                warn: Callable[[str], None] | None = None) -> list[tuple[date, date]]:
    """(due, nominal) of every occurrence of the task: from the plan itself when it loads
    (works before the daemon ever ran), else from the store."""
    plan = plan if plan is not None else plans.get(plan_id, warn)
    if plan is not None:
        from reminder.plan.occurrences import occurrences

        if plan.task(task) is None and not task.startswith("@"):
            raise PlanError(f"计划 {plan_id} 中没有编号为 {task} 的任务", file=plan.path,
                            hint="用 reminder tasks 查看任务编号")
        return [(o.due, o.nominal) for o in occurrences(plan, events=store.events(),
                                                        extended=store.extended_dates())
                if o.task == task]
    dates = store.occurrence_dates(plan_id, task)
    if not dates and plan_id not in {row.id for row in store.plan_rows()}:
        known = "、".join(f.name for f in plans.folders()) or "（没有）"
        raise ConfigError(f"未知计划 {plan_id}", file=plans.source, place="plans",
                          hint=f"计划以文件夹名区分，配置中的计划：{known}")
    return [(d, d) for d in dates]


def pick(dates: list[tuple[date, date]], wanted: date | None, candidates: set[date],
         what: str, plan: str, task: str) -> date:
    if wanted is not None:
        for due, nominal in dates:
            if wanted in (due, nominal):
                return due
        if wanted in candidates:
            return wanted
        listed = "、".join(d.isoformat() for d, _ in dates[:6]) or "无"
        raise PlanError(f"任务 {task} 没有 {wanted} 这一期", place=f"{plan}/{task}",
                        hint=f"已知各期截止日：{listed}")
    ordered = sorted(d for d, _ in dates if d in candidates) if dates else sorted(candidates)
    if not ordered:
        raise PlanError(f"任务 {task} 没有{what}的一期", place=f"{plan}/{task}")
    return ordered[0]


def finished_dates(store: Store, plan: str, task: str) -> set[date]:
    return {d for p, t, d in store.done_set() if (p, t) == (plan, task)}


def open_through(plans: PlanCache, store: Store, plan: str, task: str, last: date, *,
                 loaded: Any | None = None, warn: Callable[[str], None] | None = None
                 ) -> list[date]:
    """The open occurrences due (or nominally due) on or before ``last``: catching up on
    several missed periods at once."""
    dates = known_dates(plans, store, plan, task, loaded, warn)
    finished = finished_dates(store, plan, task)
    picked = sorted(d for d, n in dates
                    if d not in finished and n not in finished and min(d, n) <= last)
    if not picked:
        raise PlanError(f"任务 {task} 在 {last} 及以前没有未完成的一期", place=f"{plan}/{task}",
                        hint="已完成：" + ("、".join(sorted(d.isoformat() for d in finished)) or "无"))
    return picked


def mark_done(plans: PlanCache, store: Store, plan: str, task: str, *, occurrence: date | None,
              by: str, note: str, now: datetime, link: str | None = None,
              loaded: Any | None = None, warn: Callable[[str], None] | None = None) -> Completed:
    """Record the occurrence (default: the earliest open one) done and cancel its pending
    notices. ``link`` is the id of the signed link it was marked through, if any."""
    dates = known_dates(plans, store, plan, task, loaded, warn)
    finished = finished_dates(store, plan, task)
    open_dates = {d for d, n in dates if d not in finished and n not in finished}
    due = pick(dates, occurrence, open_dates, "未完成", plan, task)
    if due in finished:
        return Completed(plan=plan, task=task, due=due, cancelled=0, already=True)
    cancelled = store.mark_done(plan, task, due, by=by, note=note, now=now, link=link)
    return Completed(plan=plan, task=task, due=due, cancelled=cancelled, already=False)


def reopen(store: Store, plan: str, task: str, *, occurrence: date | None, by: str,
           now: datetime) -> Reopened:
    """Undo a completion (default: the latest one); its cancelled notices become pending."""
    finished = finished_dates(store, plan, task)
    if not finished:
        raise PlanError(f"任务 {task} 没有已完成的记录", place=f"{plan}/{task}")
    due = occurrence if occurrence in finished else (max(finished) if occurrence is None else None)
    if due is None:
        raise PlanError(f"任务 {task} 的 {occurrence} 这一期未标记完成", place=f"{plan}/{task}",
                        hint="已完成：" + "、".join(sorted(d.isoformat() for d in finished)))
    revived = store.reopen(plan, task, due, by=by, now=now)
    return Reopened(plan=plan, task=task, due=due, revived=max(revived, 0))
