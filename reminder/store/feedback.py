"""The units' answers: progress reports, difficulties, and the coordinator's confirmations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select, update

from reminder.store.base import StoreBase
from reminder.store.schema import SENT, CompletionRow, FeedbackRow, NoticeRow

KINDS = ("progress", "blocked", "rejected")


class FeedbackMixin(StoreBase):
    def add_feedback(self, plan: str, task: str, *, unit: str, kind: str, text: str,
                     now: datetime, period: str = "", due: date | None = None,
                     link: str | None = None) -> int:
        if kind not in KINDS:
            raise ValueError(f"unknown feedback kind {kind!r}")
        with self.transaction() as session:
            row = FeedbackRow(plan_id=plan, task_id=task, due=due, unit=unit, kind=kind,
                              period=period, text=text, link_id=link, created_at=now)
            session.add(row)
            session.flush()
            return row.id

    def feedback(self, plan: str, task: str | None = None) -> list[FeedbackRow]:
        """Oldest first."""
        return self._rows(FeedbackRow, plan_id=plan, task_id=task)

    def reported_set(self) -> set[tuple[str, str, date]]:
        """(plan, task, due) of every occurrence a progress report came in for: the planner
        sends those no 三色预警 (plan/colors.py)."""
        with self.transaction() as session:
            rows = session.execute(select(FeedbackRow.plan_id, FeedbackRow.task_id, FeedbackRow.due)
                                   .where(FeedbackRow.kind == "progress",
                                          FeedbackRow.due.is_not(None)).distinct())
            return {(p, t, d) for p, t, d in rows}

    def confirm_done(self, plan: str, task: str, due: date, *, by: str, now: datetime) -> bool:
        """The coordinator accepts a unit's completion; False when there is none to accept."""
        with self.transaction() as session:
            result = session.execute(
                update(CompletionRow)
                .where(CompletionRow.plan_id == plan, CompletionRow.task_id == task,
                       CompletionRow.due == due, CompletionRow.undone_at.is_(None))
                .values(confirmed_by=by, confirmed_at=now))
            return bool(result.rowcount)

    def notice_counts(self, plan: str) -> dict[str, tuple[int, datetime | None]]:
        """task id -> (reminders sent, when the last one went), for the 台账."""
        with self.transaction() as session:
            rows = session.execute(
                select(NoticeRow.task_id, func.count(), func.max(NoticeRow.sent_at))
                .where(NoticeRow.plan_id == plan, NoticeRow.status == SENT)
                .group_by(NoticeRow.task_id))
            return {t: (n, last.replace(tzinfo=UTC) if last and last.tzinfo is None else last)
                    for t, n, last in rows}
