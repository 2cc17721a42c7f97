"""签收: a unit confirms from its page that it has received a task (policy ``sign_within``).

Signing is a POST from the unit's page, never the opening of a link: mail gateways and the
WeCom in-app browser open links by themselves. Until a unit signs, the planner chases it
once and then tells the coordinator (plan/planner.sign_batches). Thin over the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reminder.plan.occurrences import effective_task

if TYPE_CHECKING:
    from reminder.store import Store


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """One unit's 签收 of one task, as the pages and the 台账 show it."""

    unit: str
    signed: bool
    when: str = ""  # 2026-12-04 09:30 (office time), "" while unsigned


def asks_to_sign(plan: Any) -> bool:
    return plan.policy.sign_within is not None


def signers(plan: Any, task_id: str) -> list[str]:
    """The units that sign for a task, by their contact names: those its reminders reach
    (lead and supporting units, or lead only when ``remind_support`` is off)."""
    raw = plan.task(task_id)
    if raw is None:
        return []
    task = effective_task(plan, raw)
    names = task.units if plan.policy.remind_support else (task.lead or task.units)
    seen: dict[str, None] = {}
    for name in names:
        contact = plan.contact(name)
        seen[contact.name if contact is not None else name] = None
    return list(seen)


def receipts(plan: Any, store: Store, tz: Any = None) -> dict[str, list[Receipt]]:
    """task id -> each signer's 签收, in the task's unit order; empty when the plan does not
    ask units to sign."""
    if not asks_to_sign(plan):
        return {}
    signed: dict[tuple[str, str], datetime] = {
        (row.task_id, row.unit): row.signed_at for row in store.signatures(plan.id)}
    result: dict[str, list[Receipt]] = {}
    for task in plan.tasks:
        found = []
        for unit in signers(plan, task.id):
            when = signed.get((task.id, unit))
            local = when.astimezone(tz) if when is not None and tz is not None else when
            found.append(Receipt(unit=unit, signed=when is not None,
                                 when=f"{local:%Y-%m-%d %H:%M}" if local is not None else ""))
        result[task.id] = found
    return result


def sign(plan: Any, store: Store, task_id: str, unit: str, *, now: datetime,
         link: str | None = None) -> str:
    """Record the 签收 and say so (Chinese, for the page). The caller has checked that the
    task is the unit's own."""
    if not asks_to_sign(plan):
        return "本计划不需要签收。"
    when, new = store.sign(plan.id, task_id, unit, now=now, link=link)
    if not new:
        return f"任务 {task_id} 已于 {when.astimezone(now.tzinfo):%Y-%m-%d %H:%M} 签收。"
    return f"已签收任务 {task_id}，不再催签。"


def unsigned_units(plan: Any, store: Store, task_id: str) -> list[str]:
    """The signers of a task that have not signed: what the coordinator's copy names."""
    if not asks_to_sign(plan):
        return []
    done = {row.unit for row in store.signatures(plan.id) if row.task_id == task_id}
    return [u for u in signers(plan, task_id) if u not in done]


def message_notes(plan: Any, store: Store, task_id: str, recipient: str, role: str, *,
                  since: datetime | None, linked: bool) -> tuple[str, ...]:
    """Lines a message adds on a task's row for 签收 and 延期申请: a unit that has not signed
    is asked to; the coordinator's copy names the units that have not; a unit hears of the
    decision on its 延期申请 made since its previous message (``since``)."""
    from reminder.answerback.extensions import decision_text, extensions

    lines: list[str] = []
    if role == "unit" and recipient in unsigned_units(plan, store, task_id):
        lines.append("请签收：打开“查看与反馈”链接，点击“签收”确认已收到本任务。" if linked
                     else f"请签收：请告知{plan.coordinator or '牵头处室'}本单位已收到本任务。")
    elif role == "coordinator":
        missing = unsigned_units(plan, store, task_id)
        if missing:
            lines.append("尚未签收：" + "、".join(missing))
    if role == "unit":
        for ext in extensions(plan, store).get(task_id, ()):
            if ext.pending or ext.decided_on is None:
                continue
            decided = next(r.decided_at for r in store.extensions(plan.id, task_id)
                           if r.id == ext.id)
            if since is None or (decided is not None and decided > since):
                lines.append("延期申请：" + decision_text(plan, ext))
            break
    return tuple(lines)
