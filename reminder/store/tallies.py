"""What the statistics count from the outbox: the notices that went out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from reminder.store.base import StoreBase
from reminder.store.schema import SENT, NoticeRow


class TalliesMixin(StoreBase):
    def sent_notices(self, plan: str) -> list[tuple[str, str, datetime]]:
        """(task, recipient, sent at) of every notice of ``plan`` that was sent, oldest
        first: the 统计's 提醒次数 counts them per unit and period."""
        with self.transaction() as session:
            rows = session.execute(
                select(NoticeRow.task_id, NoticeRow.recipient, NoticeRow.sent_at)
                .where(NoticeRow.plan_id == plan, NoticeRow.status == SENT,
                       NoticeRow.sent_at.is_not(None))
                .order_by(NoticeRow.sent_at, NoticeRow.id))
            return [(t, r, s) for t, r, s in rows]
