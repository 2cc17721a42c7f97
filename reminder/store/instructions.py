"""Leaders' 批示, and what the leader's page counts: the tasks escalated to a leader and
how many reminders each unit has had."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from reminder.store.base import StoreBase
from reminder.store.schema import SENT, InstructionRow, NoticeRow


class InstructionsMixin(StoreBase):
    def add_instruction(self, plan: str, task: str, *, leader: str, text: str, now: datetime,
                        link: str | None = None) -> int:
        if not text.strip():
            raise ValueError("an instruction needs text")
        with self.transaction() as session:
            row = InstructionRow(plan_id=plan, task_id=task, leader=leader, text=text,
                                 link_id=link, created_at=now)
            session.add(row)
            session.flush()
            return row.id

    def instructions(self, plan: str, task: str | None = None) -> list[InstructionRow]:
        """Oldest first."""
        return self._rows(InstructionRow, plan_id=plan, task_id=task)

    def instructions_since(self, since: datetime | None) -> list[InstructionRow]:
        """Every plan's 批示 given after ``since`` (all of them when None), oldest first."""
        with self.transaction() as session:
            query = select(InstructionRow)
            if since is not None:
                query = query.where(InstructionRow.created_at > since)
            rows = session.scalars(query.order_by(InstructionRow.id)).all()
            session.expunge_all()
            return list(rows)

    def last_sent_to(self, recipient: str) -> datetime | None:
        """When ``recipient``'s previous message went: the 批示 given since are news to it."""
        with self.transaction() as session:
            last = session.scalar(select(func.max(NoticeRow.sent_at))
                                  .where(NoticeRow.recipient == recipient,
                                         NoticeRow.status == SENT))
            return last.replace(tzinfo=UTC) if last is not None and last.tzinfo is None else last

    def escalated_to(self, recipient: str) -> set[tuple[str, str]]:
        """(plan, task) of every escalation sent to ``recipient``."""
        with self.transaction() as session:
            rows = session.execute(
                select(NoticeRow.plan_id, NoticeRow.task_id).distinct()
                .where(NoticeRow.recipient == recipient, NoticeRow.stage == "escalate",
                       NoticeRow.status == SENT))
            return {(p, t) for p, t in rows}

    def reminders_by_unit(self, plan: str) -> dict[tuple[str, str], int]:
        """(task, recipient) -> notices sent (one per step, whatever the channels)."""
        with self.transaction() as session:
            rows = session.execute(
                select(NoticeRow.task_id, NoticeRow.recipient,
                       func.count(func.distinct(NoticeRow.send_at)))
                .where(NoticeRow.plan_id == plan, NoticeRow.status == SENT)
                .group_by(NoticeRow.task_id, NoticeRow.recipient))
            return {(t, r): n for t, r, n in rows}
