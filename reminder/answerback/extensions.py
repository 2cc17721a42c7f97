"""延期申请: a unit asks from its page for a new date, with a reason and its progress so far;
the coordinator approves or rejects it on the board with a note the unit reads on its page
and in its next message. An approved date replaces the due date for reminders and
escalation from then on (plan/occurrences.extend); the 台账 keeps both dates, and on-time
figures count against the original date unless the extension was approved before it.

Thin over the store; the pages and the statistics read these records, never the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from reminder.models import outside_window
from reminder.plan.occurrences import occurrences
from reminder.plan.wording import cn_date

if TYPE_CHECKING:
    from reminder.store import Store

STATUS_NAMES = {"pending": "待审批", "approved": "已批准", "rejected": "未批准"}


class ExtensionRefused(ValueError):
    """Why a request or a decision cannot be recorded: one Chinese sentence for the page."""


@dataclass(frozen=True, kw_only=True)
class Extension:
    id: int
    task: str
    unit: str
    due: date  # the occurrence's original date
    current: date  # its date when asked
    requested: date
    approved: date | None  # the date approved, which may differ from the one asked for
    reason: str
    progress: str
    late: bool  # asked after the date it asks to move (逾期申请)
    status: str  # pending | approved | rejected
    note: str  # the coordinator's
    asked: str  # 2026-12-04 09:30
    decided: str  # "" while pending
    decided_by: str
    decided_on: date | None  # office date of the decision
    approved_in_time: bool  # approved on or before the original date: on-time figures move

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def pending(self) -> bool:
        return self.status == "pending"


def _when(moment: datetime | None, tz: Any) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(tz) if tz is not None else moment


def extensions(plan: Any, store: Store, tz: Any = None) -> dict[str, list[Extension]]:
    """task id -> its requests, newest first."""
    found: dict[str, list[Extension]] = {}
    for row in store.extensions(plan.id):
        asked, decided = _when(row.created_at, tz), _when(row.decided_at, tz)
        assert asked is not None
        found.setdefault(row.task_id, []).insert(0, Extension(
            id=row.id, task=row.task_id, unit=row.unit, due=row.due, current=row.current,
            requested=row.requested, reason=row.reason, progress=row.progress,
            approved=(row.approved or row.requested) if row.status == "approved" else None,
            late=bool(row.late), status=row.status, note=row.note or "",
            asked=f"{asked:%Y-%m-%d %H:%M}",
            decided=f"{decided:%Y-%m-%d %H:%M}" if decided else "",
            decided_by=row.decided_by or "",
            decided_on=decided.date() if decided else None,
            approved_in_time=row.status == "approved" and decided is not None
            and decided.date() <= row.due))
    return found


def original_due(plan: Any, store: Store, task_id: str, current: date) -> date:
    """The original date of the occurrence now due on ``current`` (an earlier extension
    may have moved it): extensions are recorded against the original."""
    extended = store.extended_dates()
    before = {o.nominal: o.due for o in occurrences(plan, events=store.events())
              if o.task == task_id}
    for occ in occurrences(plan, events=store.events(), extended=extended):
        if occ.task == task_id and occ.due == current:
            return before.get(occ.nominal, current)
    return current


def ask(plan: Any, store: Store, task_id: str, current: date | None, *, unit: str,
        requested: str, reason: str, progress: str, now: datetime,
        link: str | None = None) -> str:
    """Record a unit's request; the page's message. ExtensionRefused says what to fix."""
    if not plan.policy.allow_extension:
        raise ExtensionRefused("本计划不受理延期申请，如有困难请点“有困难”告知牵头处室。")
    if current is None:
        raise ExtensionRefused(f"任务 {task_id} 没有待办的一期，无需申请延期。")
    try:
        new = date.fromisoformat(requested.strip())
    except ValueError:
        raise ExtensionRefused("请选择申请延至的日期。") from None
    if new <= current:
        raise ExtensionRefused(f"申请的日期应晚于现在的完成时限 {current.isoformat()}。")
    why = outside_window(new, plan.year)
    if why:
        raise ExtensionRefused(f"{why}。")
    if not reason:
        raise ExtensionRefused("请填写延期理由。")
    today = now.date()
    late = today > current
    due = original_due(plan, store, task_id, current)
    made = store.request_extension(plan.id, task_id, due=due, current=current, requested=new,
                                   unit=unit, reason=reason, progress=progress, late=late,
                                   now=now, link=link)
    if made is None:
        raise ExtensionRefused(f"任务 {task_id} 已有一份延期申请等待审批，请等候结果。")
    kind = "逾期申请（已过完成时限）" if late else "延期申请"
    return (f"已提交任务 {task_id} 的{kind}：延至 {new.isoformat()}。"
            "审批前仍按原时限提醒。")


def decide(plan: Any, store: Store, ident: int, *, approve: bool, by: str, note: str,
           now: datetime, approved: str = "") -> Extension:
    """Approve (to ``approved``, an ISO date; empty: the date asked for) or reject a waiting
    request of this plan; the decided record."""
    mine = {e.id: e for found in extensions(plan, store).values() for e in found}
    if ident not in mine:
        raise ExtensionRefused("没有这份延期申请。")
    if not approve and not note:
        raise ExtensionRefused("不予批准时请填写意见，意见将转达申请单位。")
    granted = _approved_date(plan, mine[ident], approved) if approve else None
    row = store.decide_extension(ident, approve=approve, by=by, note=note, now=now,
                                 approved=granted)
    if row is None:
        raise ExtensionRefused("这份延期申请已经审批过了。")
    return next(e for e in extensions(plan, store, now.tzinfo).get(row.task_id, ())
                if e.id == ident)


def _approved_date(plan: Any, ext: Extension, given: str) -> date:
    """The date the coordinator approves: ``given`` when filled in, else the one asked for;
    after the original date and inside the plan's window."""
    if not given.strip():
        return ext.requested
    try:
        day = date.fromisoformat(given.strip())
    except ValueError:
        raise ExtensionRefused("批准延至的日期应写作 2026-08-31。") from None
    if day <= ext.due:
        raise ExtensionRefused(f"批准延至的日期应晚于原定完成时限 {ext.due.isoformat()}。")
    why = outside_window(day, plan.year)
    if why:
        raise ExtensionRefused(f"{why}。")
    return day


def decision_text(plan: Any, ext: Extension) -> str:
    """The sentence a unit reads on its page and in its next message."""
    who = plan.coordinator or "牵头处室"
    if ext.approved is not None:
        text = f"{who}已批准延期至 {cn_date(ext.approved)}，原定 {ext.due.isoformat()}"
        if ext.approved != ext.requested:  # say so, or the unit works to the date it asked for
            text += f"（本单位申请延至 {ext.requested.isoformat()}）"
    else:
        text = f"{who}未批准延期，仍按 {ext.current.isoformat()} 办理"
    return text + (f"。意见：{ext.note}" if ext.note else "。")


def latest_decision(found: Mapping[str, list[Extension]], task_id: str) -> Extension | None:
    return next((e for e in found.get(task_id, ()) if not e.pending), None)
