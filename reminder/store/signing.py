"""签收 and 延期申请 as the store keeps them: who signed for which task, and each request for a
new date with the coordinator's decision. The rules (who may ask, what is late) live in
answerback/signing.py and answerback/extensions.py; this is storage only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update

from reminder.store.base import StoreBase
from reminder.store.schema import ExtensionRow, SignatureRow

PENDING_REQUEST, APPROVED, REJECTED = "pending", "approved", "rejected"


class SigningMixin(StoreBase):
    # -- 签收 ------------------------------------------------------------------------------
    def sign(self, plan: str, task: str, unit: str, *, now: datetime,
             link: str | None = None) -> tuple[datetime, bool]:
        """Record ``unit``'s 签收 of the task: (when it signed, whether this call signed it).
        Signing twice keeps the first time."""
        with self.transaction() as session:
            row = session.scalar(select(SignatureRow).where(
                SignatureRow.plan_id == plan, SignatureRow.task_id == task,
                SignatureRow.unit == unit))
            if row is not None:
                return row.signed_at, False
            session.add(SignatureRow(plan_id=plan, task_id=task, unit=unit, signed_at=now,
                                     link_id=link))
            return now, True

    def signatures(self, plan: str | None = None) -> list[SignatureRow]:
        return self._rows(SignatureRow, plan_id=plan)

    def signed_set(self) -> set[tuple[str, str, str]]:
        """(plan, task, unit) of every 签收: what the planner leaves out of its chase."""
        with self.transaction() as session:
            rows = session.execute(select(SignatureRow.plan_id, SignatureRow.task_id,
                                          SignatureRow.unit))
            return {(p, t, u) for p, t, u in rows}

    # -- 延期申请 ---------------------------------------------------------------------------
    def request_extension(self, plan: str, task: str, *, due: date, current: date,
                          requested: date, unit: str, reason: str, progress: str, late: bool,
                          now: datetime, link: str | None = None) -> int | None:
        """A new request for the occurrence originally due on ``due``; None when one is
        already waiting for a decision (one at a time)."""
        with self.transaction() as session:
            waiting = session.scalar(select(ExtensionRow.id).where(
                ExtensionRow.plan_id == plan, ExtensionRow.task_id == task,
                ExtensionRow.due == due, ExtensionRow.status == PENDING_REQUEST))
            if waiting is not None:
                return None
            row = ExtensionRow(plan_id=plan, task_id=task, due=due, current=current,
                               requested=requested, unit=unit, reason=reason, progress=progress,
                               late=late, status=PENDING_REQUEST, link_id=link, created_at=now,
                               note="")
            session.add(row)
            session.flush()
            return row.id

    def decide_extension(self, ident: int, *, approve: bool, by: str, note: str,
                         now: datetime, approved: date | None = None) -> ExtensionRow | None:
        """Approve (to ``approved``, by default the date asked for) or reject a waiting
        request; None when it is not waiting any more (decided already, on another tab or
        by a colleague)."""
        granted = (approved if approved is not None else ExtensionRow.requested) \
            if approve else None
        with self.transaction() as session:
            result = session.execute(
                update(ExtensionRow)
                .where(ExtensionRow.id == ident, ExtensionRow.status == PENDING_REQUEST)
                .values(status=APPROVED if approve else REJECTED, decided_by=by,
                        decided_at=now, note=note, approved=granted))
            if not result.rowcount:
                return None
            row = session.get(ExtensionRow, ident)
            session.flush()
            session.expunge_all()
            return row

    def extensions(self, plan: str | None = None, task: str | None = None) -> list[ExtensionRow]:
        """Oldest first."""
        return self._rows(ExtensionRow, plan_id=plan, task_id=task)

    def extended_dates(self) -> dict[tuple[str, str, date], date]:
        """(plan, task, original due) -> the date of its latest approved extension."""
        with self.transaction() as session:
            rows = session.execute(
                select(ExtensionRow.plan_id, ExtensionRow.task_id, ExtensionRow.due,
                       func.coalesce(ExtensionRow.approved, ExtensionRow.requested))
                .where(ExtensionRow.status == APPROVED).order_by(ExtensionRow.decided_at,
                                                                 ExtensionRow.id))
            return {(p, t, d): new for p, t, d, new in rows}

    def signing_marker(self) -> tuple[object, ...]:
        """Moves with every 签收 and every decision: part of the daemon's change marker."""
        with self.transaction() as session:
            return (
                session.scalar(select(func.count()).select_from(SignatureRow)),
                session.scalar(select(func.count()).select_from(ExtensionRow)
                               .where(ExtensionRow.status == APPROVED)),
                session.scalar(select(func.max(ExtensionRow.decided_at))),
            )
