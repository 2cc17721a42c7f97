"""Completions, events and the per-task status view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update

from reminder.models import task_order
from reminder.store.base import StoreBase
from reminder.store.schema import (
    CANCELLED,
    DONE,
    FAILED,
    HELD,
    PENDING,
    SENDING,
    SENT,
    UNROUTABLE,
    CompletionRow,
    EventRow,
    FeedbackRow,
    NoticeRow,
    OccurrenceRow,
    PlanRow,
    TaskRow,
)


@dataclass(frozen=True, kw_only=True)
class TaskStatus:
    plan: str
    task: str
    title: str
    next_due: date | None  # earliest open occurrence (in the past when overdue)
    overdue: bool
    done: bool  # every known occurrence is done
    last_sent: datetime | None
    last_stage: str | None
    pending: int
    failures: int
    last_error: str | None
    held: int  # held back by a configuration failure, resent once it is fixed
    unroutable: tuple[str, ...]  # recipients without any contact in plan.toml


class RecordsMixin(StoreBase):
    # -- events --------------------------------------------------------------------------
    def set_event(self, plan: str, task: str, day: date, *, by: str, now: datetime) -> None:
        with self.transaction() as session:
            row = session.get(EventRow, (plan, task)) or EventRow(plan_id=plan, task_id=task)
            row.event_date, row.recorded_by, row.recorded_at = day, by, now
            session.add(row)

    def events(self) -> dict[tuple[str, str], date]:
        with self.transaction() as session:
            return {(r.plan_id, r.task_id): r.event_date for r in session.scalars(select(EventRow))}

    # -- completions ---------------------------------------------------------------------
    def done_set(self) -> set[tuple[str, str, date]]:
        with self.transaction() as session:
            rows = session.execute(
                select(CompletionRow.plan_id, CompletionRow.task_id, CompletionRow.due)
                .where(CompletionRow.undone_at.is_(None))
            )
            return {(p, t, d) for p, t, d in rows}

    def mark_done(self, plan: str, task: str, due: date, *, by: str, note: str,
                  now: datetime, link: str | None = None) -> int:
        """Record a completion and cancel the occurrence's pending notices; returns how many."""
        with self.transaction() as session:
            active = session.scalar(select(CompletionRow.id).where(
                *self._occurrence(CompletionRow, plan, task, due),
                CompletionRow.undone_at.is_(None)))
            if active is None:
                session.add(CompletionRow(plan_id=plan, task_id=task, due=due, done_by=by,
                                          done_at=now, note=note, link_id=link))
            session.execute(update(OccurrenceRow).where(
                *self._occurrence(OccurrenceRow, plan, task, due)).values(status="done"))
            result = session.execute(
                update(NoticeRow)
                .where(*self._occurrence(NoticeRow, plan, task, due),
                       NoticeRow.status.in_((PENDING, HELD)))
                .values(status=CANCELLED, reason=DONE, updated_at=now)
            )
            return result.rowcount

    def reopen(self, plan: str, task: str, due: date, *, by: str, now: datetime) -> int:
        """Undo a completion; the notices it cancelled become pending again (catch-up folds
        the missed ones into one). Returns how many were revived; -1 if it was not done."""
        with self.transaction() as session:
            result = session.execute(
                update(CompletionRow)
                .where(*self._occurrence(CompletionRow, plan, task, due),
                       CompletionRow.undone_at.is_(None))
                .values(undone_at=now, undone_by=by))
            if not result.rowcount:
                return -1
            session.execute(update(OccurrenceRow).where(
                *self._occurrence(OccurrenceRow, plan, task, due)).values(status="open"))
            revived = session.execute(
                update(NoticeRow)
                .where(*self._occurrence(NoticeRow, plan, task, due),
                       NoticeRow.status == CANCELLED, NoticeRow.reason == DONE)
                .values(status=PENDING, reason=None, updated_at=now))
            return revived.rowcount

    def completions(self, plan: str | None = None) -> list[CompletionRow]:
        return self._rows(CompletionRow, plan_id=plan)

    @staticmethod
    def _occurrence(table, plan: str, task: str, due: date) -> tuple:  # type: ignore[no-untyped-def]
        return (table.plan_id == plan, table.task_id == task, table.due == due)

    # -- occurrences and status ----------------------------------------------------------
    def occurrence_dates(self, plan: str, task: str, *, status: str | None = None) -> list[date]:
        with self.transaction() as session:
            query = select(OccurrenceRow.due).where(
                OccurrenceRow.plan_id == plan, OccurrenceRow.task_id == task
            ).order_by(OccurrenceRow.due)
            if status is not None:
                query = query.where(OccurrenceRow.status == status)
            return list(session.scalars(query))

    def change_marker(self) -> tuple[object, ...]:
        """Changes whenever a command records a completion, reopening or event, so a running
        daemon knows to plan again without watching the clock or the folder."""
        with self.transaction() as session:
            marker = (
                session.scalar(select(func.count()).select_from(CompletionRow)),
                session.scalar(select(func.max(CompletionRow.done_at))),
                session.scalar(select(func.max(CompletionRow.undone_at))),
                session.scalar(select(func.count()).select_from(EventRow)),
                session.scalar(select(func.max(EventRow.recorded_at))),
                # A progress report can stop a 三色预警.
                session.scalar(select(func.max(FeedbackRow.id))),
            )
        # 签收 and approved extensions re-plan as completions do (store/signing.py).
        return marker + self.signing_marker()  # type: ignore[attr-defined]

    def task_status(self, today: date, plan: str | None = None) -> list[TaskStatus]:
        """Each task's state (of one ``plan``, or of all). Plain columns, not ORM objects:
        a board of 60 tasks reads every notice of its plan, thousands of rows, on each view,
        and building mapped objects for them was most of the page's time (issue 21)."""
        def of_plan(query: Any, table: Any) -> Any:
            return query if plan is None else query.where(table.plan_id == plan)

        with self.transaction() as session:
            tasks = session.execute(of_plan(
                select(TaskRow.plan_id, TaskRow.id, TaskRow.title), TaskRow)).all()
            occs: dict[tuple[str, str], list[Any]] = {}
            for occ in session.execute(of_plan(select(
                    OccurrenceRow.plan_id, OccurrenceRow.task_id, OccurrenceRow.status,
                    OccurrenceRow.cycle, OccurrenceRow.due), OccurrenceRow).order_by(OccurrenceRow.due)):
                occs.setdefault((occ.plan_id, occ.task_id), []).append(occ)
            notices: dict[tuple[str, str], list[Any]] = {}
            for n in session.execute(of_plan(select(
                    NoticeRow.plan_id, NoticeRow.task_id, NoticeRow.status, NoticeRow.sent_at,
                    NoticeRow.stage, NoticeRow.last_error, NoticeRow.recipient, NoticeRow.reason),
                    NoticeRow).order_by(NoticeRow.id)):
                notices.setdefault((n.plan_id, n.task_id), []).append(n)
            result = []
            for task in sorted(tasks, key=lambda t: (t.plan_id, task_order(t.id))):
                ident = (task.plan_id, task.id)
                mine = occs.get(ident, [])
                # A 长期 task's past reporting dates are history, not overdue work.
                open_ = [o.due for o in mine if o.status == "open"
                         and not (o.cycle == "ongoing" and o.due < today)]
                sent = [n for n in notices.get(ident, []) if n.status == SENT and n.sent_at]
                last = max(sent, key=lambda n: n.sent_at) if sent else None  # type: ignore[arg-type, return-value]
                failed = [n for n in notices.get(ident, []) if n.status == FAILED]
                held = [n for n in notices.get(ident, []) if n.status == HELD]
                result.append(TaskStatus(
                    plan=task.plan_id, task=task.id, title=task.title,
                    next_due=min(open_) if open_ else None,
                    overdue=bool(open_) and min(open_) < today,
                    done=bool(mine) and all(o.status == "done" for o in mine),
                    last_sent=last.sent_at if last else None,
                    last_stage=last.stage if last else None,
                    pending=sum(n.status in (PENDING, SENDING) for n in notices.get(ident, [])),
                    failures=len(failed),
                    last_error=(failed or held)[-1].last_error if failed or held else None,
                    held=len(held),
                    unroutable=tuple(sorted({n.recipient for n in notices.get(ident, [])
                                             if n.reason == UNROUTABLE})),
                ))
            return result

    def plan_errors(self) -> dict[str, tuple[str, datetime | None]]:
        with self.transaction() as session:
            return {
                p.id: (p.error, p.error_at)
                for p in session.scalars(select(PlanRow).where(PlanRow.error.is_not(None)))
            }
