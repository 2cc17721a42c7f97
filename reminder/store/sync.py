"""Syncing a freshly planned list of notices into the outbox.

The outbox is the truth; planning is a pure function. Sync makes the outbox agree with a new
plan without ever sending anything twice:
- a notice whose key is new is added (unless its send time was before the cutoff: a moment the
  daemon never knew about, e.g. the months before the first start, is not caught up);
- a pending notice the plan no longer produces (deadline changed, task skipped or completed)
  is cancelled, but only inside the planned window, since outside it absence means nothing;
- a notice cancelled as obsolete or done that the plan produces again is revived if its send
  time is still ahead of the cutoff;
- a notice the deployment cannot route (no channel or robot configured for it) is kept as
  cancelled/nochannel rather than failing at send time, and revived like the above once the
  configuration can route it;
- sent, failed and folded rows are never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, text

from reminder.models import Notice, Occurrence, Task
from reminder.store.base import StoreBase
from reminder.store.schema import (
    CANCELLED,
    DONE,
    NO_CHANNEL,
    OBSOLETE,
    PENDING,
    UNROUTABLE,
    NoticeRow,
    OccurrenceRow,
    PlanRow,
    TaskRow,
)

REVIVABLE = (OBSOLETE, DONE)


@dataclass(frozen=True, kw_only=True)
class SyncResult:
    plan: str
    added: int = 0
    cancelled: int = 0
    revived: int = 0
    updated: int = 0


class SyncMixin(StoreBase):
    def sync_plan(
        self,
        *,
        plan_id: str,
        title: str,
        path: str,
        fingerprint: str | None,
        tasks: Iterable[Task],
        occurrences: Iterable[Occurrence],
        notices: Sequence[Notice],
        window: tuple[date, date],
        cutoff: datetime,
        now: datetime,
        done: Iterable[tuple[str, str, date]] = (),
        keep_error: bool = False,
        routable: Callable[[Notice], bool] | None = None,
    ) -> SyncResult:
        """``keep_error``: the folder is broken and this is its last good version, so the
        recorded load error stays visible in `reminder status`. ``routable`` says whether the
        deployment has a channel for a notice (default: every channel is configured)."""
        def can_route(notice: Notice) -> bool:
            return routable is None or routable(notice)

        done_set = {d for d in done if d[0] == plan_id}
        wanted = {n.key: n for n in notices if n.plan == plan_id}
        added = cancelled = revived = updated = 0
        with self.transaction() as session:
            if self.dialect == "postgresql":
                # Two daemons syncing one plan would both insert its new keys; one would
                # fail on the unique key. Take turns per plan (SQLite's BEGIN IMMEDIATE
                # already serializes every write transaction).
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:plan))"),
                                {"plan": plan_id})
            plan = session.get(PlanRow, plan_id) or PlanRow(id=plan_id)
            plan.title, plan.path, plan.fingerprint = title, path, fingerprint
            plan.synced_at = now
            if not keep_error:
                plan.error, plan.error_at = None, None
            session.add(plan)
            session.flush()
            self._sync_tasks(session, plan_id, tasks)
            self._sync_occurrences(session, plan_id, occurrences, done_set)

            existing = {
                row.key: row
                for row in session.scalars(select(NoticeRow).where(NoticeRow.plan_id == plan_id))
            }
            for key, notice in wanted.items():
                row = existing.get(key)
                if row is None:
                    if notice.send_at >= cutoff:
                        session.add(self._new_row(notice, now, can_route(notice)))
                        added += 1
                elif row.status == PENDING and notice.channel != "none" and not can_route(notice):
                    row.status, row.reason, row.updated_at = CANCELLED, NO_CHANNEL, now
                    cancelled += 1
                elif row.status == PENDING:
                    updated += self._refresh(row, notice, now, reschedule=row.attempts == 0)
                elif (row.status == CANCELLED and notice.send_at >= cutoff
                      and (row.reason in REVIVABLE
                           or (row.reason == NO_CHANNEL and can_route(notice)))):
                    self._refresh(row, notice, now)
                    row.status, row.reason, row.updated_at = PENDING, None, now
                    revived += 1
            first, last = window
            for key, row in existing.items():
                if key in wanted or row.status != PENDING:
                    continue
                if first <= self.local(row.send_at).date() <= last:
                    row.status = CANCELLED
                    row.reason = DONE if (plan_id, row.task_id, row.due) in done_set else OBSOLETE
                    row.updated_at = now
                    cancelled += 1
        return SyncResult(plan=plan_id, added=added, cancelled=cancelled, revived=revived,
                          updated=updated)

    def _sync_tasks(self, session, plan_id: str, tasks: Iterable[Task]) -> None:  # type: ignore[no-untyped-def]
        session.execute(delete(TaskRow).where(TaskRow.plan_id == plan_id))
        session.add_all(
            TaskRow(plan_id=plan_id, id=t.id, title=t.short_title, deadline_text=t.deadline_text,
                    units="；".join(t.units))
            for t in {t.id: t for t in tasks}.values()
        )

    def _sync_occurrences(self, session, plan_id: str, occurrences: Iterable[Occurrence],  # type: ignore[no-untyped-def]
                          done_set: set[tuple[str, str, date]]) -> None:
        current = {
            (row.task_id, row.due): row
            for row in session.scalars(
                select(OccurrenceRow).where(OccurrenceRow.plan_id == plan_id))
        }
        seen = set()
        for occ in occurrences:
            ident = (occ.task, occ.due)
            if ident in seen:
                continue
            seen.add(ident)
            row = current.get(ident) or OccurrenceRow(plan_id=plan_id, task_id=occ.task,
                                                      due=occ.due)
            row.nominal, row.kind, row.cycle = occ.nominal, occ.kind, occ.cycle
            row.status = "done" if (plan_id, occ.task, occ.due) in done_set else "open"
            session.add(row)
        for ident, row in current.items():
            if ident not in seen:
                session.delete(row)

    def _new_row(self, notice: Notice, now: datetime, routable: bool = True) -> NoticeRow:
        row = NoticeRow(key=notice.key, status=PENDING, attempts=0, created_at=now)
        self._refresh(row, notice, now)
        if notice.channel == "none":
            # Recorded so `reminder status` shows the unit lacks contacts, but never sent.
            row.status, row.reason = CANCELLED, UNROUTABLE
        elif not routable:
            row.status, row.reason = CANCELLED, NO_CHANNEL
        return row

    @staticmethod
    def _refresh(row: NoticeRow, notice: Notice, now: datetime, *,
                 reschedule: bool = True) -> int:
        """Copy the plan's current wording and addresses onto a not-yet-sent row.

        Addresses, titles and send time are not part of the key, so a corrected e-mail
        address or send time reaches the existing row instead of making a new one."""
        before = (row.title, row.plan_title, row.addresses, row.mentions, row.mobiles,
                  row.send_at)
        row.plan_id, row.plan_title = notice.plan, notice.plan_title
        row.task_id, row.title, row.due = notice.task, notice.title, notice.due
        row.occurrence, row.stage, row.step = notice.occurrence, notice.stage, notice.step
        row.recipient, row.channel = notice.recipient, notice.channel
        row.addresses, row.mentions = list(notice.addresses), list(notice.mentions)
        row.mobiles = list(notice.mobiles)
        row.send_at = notice.send_at
        if reschedule:  # a row waiting out a retry keeps its backoff
            row.next_attempt_at = notice.send_at
        row.updated_at = now
        after = (row.title, row.plan_title, row.addresses, row.mentions, row.mobiles,
                 row.send_at)
        return int(before != after)

    def record_plan_error(self, plan_id: str, path: str, message: str, now: datetime) -> None:
        """Remember why a plan folder stopped loading; its last good notices stay as they are."""
        with self.transaction() as session:
            plan = session.get(PlanRow, plan_id) or PlanRow(id=plan_id, title="", path=path)
            plan.error, plan.error_at = message, now
            session.add(plan)

    def earliest_pending(self, plan_id: str) -> datetime | None:
        with self.transaction() as session:
            return session.scalar(
                select(func.min(NoticeRow.send_at)).where(
                    NoticeRow.plan_id == plan_id, NoticeRow.status == PENDING)
            )

    def plan_rows(self) -> list[PlanRow]:
        with self.transaction() as session:
            rows = session.scalars(select(PlanRow).order_by(PlanRow.id)).all()
            session.expunge_all()
            return list(rows)
