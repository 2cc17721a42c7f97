"""签收 and 延期申请 on the pages: what the unit page, the board and the leader page add for
them (context), and the POST actions they take (sign, extend; approve / reject an
extension). Routes stay in unit.py and board.py; the rules live in answerback/signing.py and
answerback/extensions.py. Every action here runs behind the routes' signed link, rate limit
and CSRF check (pages.checked_form)."""

from __future__ import annotations

import logging
from typing import Any

from reminder.answerback import extensions as ext
from reminder.answerback.links import Grant
from reminder.answerback.signing import asks_to_sign, receipts, sign
from reminder.web.pages import Refused
from reminder.web.site import Site

log = logging.getLogger("reminder.web")
MAX_TEXT = 2000


def _text(form: dict[str, Any], name: str) -> str:
    return " ".join(str(form.get(name, "")).split())[:MAX_TEXT]


def context(site: Site, plan: Any) -> dict[str, Any]:
    """What every page showing a plan's tasks needs for 签收 and 延期申请."""
    tz = site.config.tz
    found = ext.extensions(plan, site.store, tz)
    return {"sign_on": asks_to_sign(plan), "receipts": receipts(plan, site.store, tz),
            "allow_extension": plan.policy.allow_extension, "extensions": found,
            "decisions": {task: ext.decision_text(plan, e) for task in found
                          if (e := ext.latest_decision(found, task)) is not None}}


def unit_action(site: Site, grant: Grant, plan: Any, task: Any,
                form: dict[str, Any]) -> dict[str, Any] | None:
    """签收 or 延期申请 from the unit's page; None for any other action."""
    action, now = form.get("action"), site.now()
    if action == "sign":
        return {"flash": sign(plan, site.store, task.id, grant.unit, now=now, link=grant.link_id)}
    if action != "extend":
        return None
    reason, progress = _text(form, "reason"), _text(form, "progress")
    try:
        flash = ext.ask(plan, site.store, task.id, task.current, unit=grant.unit,
                        requested=str(form.get("date", "")), reason=reason, progress=progress,
                        now=now, link=grant.link_id)
    except ext.ExtensionRefused as err:
        return {"flash": str(err), "error": True}
    late = "（逾期申请）" if task.current and now.date() > task.current else ""
    told = site.tell_coordinator(
        plan, f"【延期申请】{grant.unit}：任务 {task.id}",
        f"{grant.unit}申请将任务 {task.id}（{task.title[:40]}）延至 {form.get('date')}{late}。"
        f"理由：{reason}" + (f"；目前进展：{progress}" if progress else "")
        + "。请在督办看板审批。")
    if not told:
        flash += "（通知暂未送达牵头处室，申请已记录，可在看板查看。）"
    return {"flash": flash}


def board_action(site: Site, grant: Grant, plan: Any, task: Any, form: dict[str, Any],
                 by: str) -> str | None:
    """Approve or reject a 延期申请 on the board; None for any other action."""
    action = form.get("action")
    if action not in ("approve_extension", "reject_extension"):
        return None
    try:
        ident = int(str(form.get("extension", "")))
    except ValueError:
        raise Refused(400, "没有这份延期申请。") from None
    mine = {e.id for e in ext.extensions(plan, site.store).get(task.id, ())}
    if ident not in mine:
        raise Refused(400, "没有这份延期申请。")
    approve = action == "approve_extension"
    # An ExtensionRefused (a bad date, a rejection without a note) reaches the board's
    # handler, which shows it as an error, not as a done deed.
    decided = ext.decide(plan, site.store, ident, approve=approve, by=by,
                         note=_text(form, "note"), now=site.now(),
                         approved=str(form.get("approved", "")))
    line = ext.decision_text(plan, decided)
    contact = plan.contact(decided.unit)
    if contact is not None:
        site.tell(contact, f"【延期申请{'已批准' if approve else '未批准'}】任务 {task.id}",
                  f"任务 {task.id}（{task.title[:40]}）：{line}")
    log.info("延期申请 %d %s：%s 任务 %s", ident, decided.status, plan.id, task.id)
    if decided.approved is not None:
        return (f"已批准任务 {task.id} 延期至 {decided.approved.isoformat()}，"
                "此后按新时限提醒，并已告知申请单位。")
    return f"已退回任务 {task.id} 的延期申请并告知申请单位，仍按原时限提醒。"


def leader_context(site: Site, items: list[Any]) -> dict[str, Any]:
    """The leader page's tasks come from several plans: the same context, per plan."""
    plans = {e.plan.id: e.plan for e in items}
    return {"workflow": {pid: context(site, plan) for pid, plan in plans.items()}}
