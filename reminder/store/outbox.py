"""Outbox operations: claim with a lease, then record what happened.

Claim-then-send: a row is moved to ``sending`` with a lease before any channel is called, and
every finishing update is conditional on ``claimed_by`` and ``status = 'sending'``. A daemon
killed mid-send leaves rows in ``sending`` whose lease runs out; the next claim takes them again
(at-least-once, never lost). On PostgreSQL the claim locks rows with FOR UPDATE SKIP LOCKED so
two daemons never claim the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.sql.elements import ClauseElement

from reminder.models import Notice
from reminder.store.base import StoreBase
from reminder.store.schema import (
    CANCELLED,
    FAILED,
    FOLDED,
    PENDING,
    SENDING,
    SENT,
    DeliveryNoticeRow,
    DeliveryRow,
    NoticeRow,
)


@dataclass(frozen=True, kw_only=True)
class Claimed:
    """A notice claimed for sending, with the outbox facts the dispatcher needs."""

    id: int
    notice: Notice
    attempts: int
    uncertain: int = 0  # earlier sends of unknown outcome


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One send attempt of one message, as recorded in ``deliveries``."""

    channel: str
    recipient: str
    addresses: tuple[str, ...] = ()
    subject: str = ""
    result: str = "ok"  # ok | retryable | permanent | config | uncertain
    provider_code: str | None = None
    detail: str = ""
    notice_ids: Sequence[int] = field(default_factory=tuple)


# What a send needs of a row: the notice and its attempts (for the back-off), nothing else.
CLAIM_COLUMNS = (
    NoticeRow.id, NoticeRow.attempts, NoticeRow.send_at, NoticeRow.stage, NoticeRow.step,
    NoticeRow.plan_id, NoticeRow.plan_title,
    NoticeRow.task_id, NoticeRow.title, NoticeRow.due, NoticeRow.recipient, NoticeRow.channel,
    NoticeRow.addresses, NoticeRow.mentions, NoticeRow.mobiles, NoticeRow.occurrence,
    NoticeRow.uncertain,
)


class OutboxMixin(StoreBase):
    def claim(
        self, now: datetime, claimant: str, *, lease: timedelta, limit: int = 1000
    ) -> list[Claimed]:
        """Claim every notice due at ``now`` (and every expired lease) for ``claimant``.

        Two index range scans (expired leases, then pending rows by next attempt) reading
        only the columns a send needs, and one UPDATE for all the claimed ids. A batch cut by
        ``limit`` is completed with the rest of its last recipient's due rows, so that
        recipient gets one digest, not two (``run --once`` and a takeover of a dead daemon's
        large claim used to split it)."""
        with self.transaction() as session:
            rows = list(session.execute(self._due_rows(now, limit, leases=True)))
            if len(rows) < limit:
                rows += session.execute(self._due_rows(now, limit - len(rows)))
            if rows and len(rows) >= limit:
                last, taken = rows[-1], [row.id for row in rows]
                for leases in (True, False):
                    rows += session.execute(self._due_rows(now, limit, leases=leases).where(
                        NoticeRow.channel == last.channel, NoticeRow.recipient == last.recipient,
                        NoticeRow.id.not_in(taken)))
            ids = [row.id for row in rows]
            for start in range(0, len(ids), 500):
                session.execute(
                    update(NoticeRow).where(NoticeRow.id.in_(ids[start:start + 500]))
                    .values(status=SENDING, claimed_by=claimant, lease_until=now + lease,
                            updated_at=now)
                    .execution_options(synchronize_session=False))
            return [self._claimed(row) for row in rows]

    def _due_rows(self, now: datetime, limit: int, *, leases: bool = False):  # type: ignore[no-untyped-def]
        """Pending rows due by ``now`` oldest first (``ix_notices_pending``), or with
        ``leases`` the rows whose lease ran out (``ix_notices_status``)."""
        status, column = (SENDING, NoticeRow.lease_until) if leases else (PENDING,
                                                                          NoticeRow.next_attempt_at)
        query = (select(*CLAIM_COLUMNS).where(NoticeRow.status == status, column <= now)
                 .order_by(column, NoticeRow.id).limit(limit))
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return query

    def _claimed(self, row: Any) -> Claimed:
        return Claimed(id=row.id, notice=self.to_notice(row), attempts=row.attempts,
                       uncertain=row.uncertain or 0)

    def mark_sent(self, ids: Sequence[int], claimant: str, now: datetime,
                  delivery: Delivery) -> int:
        return self._finish(ids, claimant, now, delivery, status=SENT, sent_at=now,
                            last_error=None, attempts=NoticeRow.attempts + 1)

    def mark_retry(self, ids: Sequence[int], claimant: str, now: datetime, *,
                   next_attempt_at: datetime, error: str, delivery: Delivery | None) -> int:
        return self._finish(ids, claimant, now, delivery, status=PENDING,
                            next_attempt_at=next_attempt_at, last_error=error,
                            attempts=NoticeRow.attempts + 1)

    def mark_uncertain(self, ids: Sequence[int], claimant: str, now: datetime, *,
                       next_attempt_at: datetime, error: str, delivery: Delivery | None) -> int:
        """A send whose outcome is unknown: pending again at ``next_attempt_at``, counted."""
        return self._finish(ids, claimant, now, delivery, status=PENDING,
                            next_attempt_at=next_attempt_at, last_error=error,
                            attempts=NoticeRow.attempts + 1,
                            uncertain=NoticeRow.uncertain + 1)

    def mark_failed(self, ids: Sequence[int], claimant: str, now: datetime, *, error: str,
                    delivery: Delivery | None) -> int:
        return self._finish(ids, claimant, now, delivery, status=FAILED, last_error=error,
                            attempts=NoticeRow.attempts + 1)

    def release(self, ids: Sequence[int], claimant: str, now: datetime, *,
                next_attempt_at: datetime | None = None) -> int:
        """Give claimed rows back unsent and uncounted (shutdown, rate limit, quiet hours)."""
        values: dict[str, object] = {"status": PENDING}
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        return self._finish(ids, claimant, now, None, **values)

    def fold(self, ids: Sequence[int], claimant: str, now: datetime) -> int:
        """Cancel claimed rows merged into a later notice of the same occurrence."""
        return self._finish(ids, claimant, now, None, status=CANCELLED, reason=FOLDED)

    def renew(self, ids: Sequence[int], claimant: str, lease_until: datetime) -> int:
        """Extend the lease of rows still queued in a long dispatch pass."""
        if not ids:
            return 0
        with self.transaction() as session:
            return session.execute(
                update(NoticeRow)
                .where(NoticeRow.id.in_(list(ids)), NoticeRow.claimed_by == claimant,
                       NoticeRow.status == SENDING)
                .values(lease_until=lease_until)
            ).rowcount

    def record_delivery(self, delivery: Delivery, claimant: str, now: datetime) -> None:
        """Record a message of a split digest whose notices are finished later."""
        with self.transaction() as session:
            self._add_delivery(session, delivery, claimant, now)

    def _finish(self, ids: Sequence[int], claimant: str, now: datetime,
                delivery: Delivery | None, **values: object) -> int:
        if not ids:
            return 0
        provider_code = delivery.provider_code if delivery else None
        with self.transaction() as session:
            if self.dialect == "postgresql":
                # Do not wait for the WAL flush of a send's record (the SQLite side runs
                # synchronous=NORMAL for the same reason): a server crash can lose the last
                # few hundred milliseconds of these, which means one message sent again,
                # never one lost. Only this transaction; a user's `done` stays durable.
                session.execute(text("SET LOCAL synchronous_commit = off"))
            if delivery is not None:
                values.setdefault("provider_code", provider_code)
            # Core, not the ORM's UPDATE: one statement per digest with no session
            # bookkeeping (this runs once per message sent); built once per set of columns,
            # since building and keying a statement cost more than running it.
            # attempts=NoticeRow.attempts + 1 (an expression) counts an attempt in SQL.
            bump = isinstance(values.get("attempts"), ClauseElement)
            if bump:
                del values["attempts"]
            unsure = isinstance(values.get("uncertain"), ClauseElement)
            if unsure:
                del values["uncertain"]
            result = session.execute(
                _finish_statement(tuple(sorted(values)), bump, unsure),
                {"ids": list(ids), "claimant": claimant, "now": now,
                 **{f"set_{k}": v for k, v in values.items()}},
            )
            if delivery is not None:
                self._add_delivery(session, delivery, claimant, now)
            return result.rowcount

    @staticmethod
    def _add_delivery(session, delivery: Delivery, claimant: str, now: datetime) -> None:  # type: ignore[no-untyped-def]
        delivery_id = session.execute(
            _DELIVERY_INSERT,
            {"channel": delivery.channel, "recipient": delivery.recipient,
             "addresses": list(delivery.addresses), "subject": delivery.subject,
             "attempted_at": now, "result": delivery.result,
             "provider_code": delivery.provider_code, "detail": delivery.detail[:4000],
             "claimant": claimant},
        ).scalar_one()
        if delivery.notice_ids:
            session.execute(_DELIVERY_NOTICE_INSERT,
                            [{"delivery_id": delivery_id, "notice_id": i}
                             for i in delivery.notice_ids])

    def live_stages(self, plan: str, task: str, due: date, recipient: str,
                    channel: str) -> set[str]:
        """Stages of the occurrence's notices to this recipient that are not cancelled."""
        with self.transaction() as session:
            return set(session.scalars(
                select(NoticeRow.stage).where(
                    NoticeRow.plan_id == plan, NoticeRow.task_id == task, NoticeRow.due == due,
                    NoticeRow.recipient == recipient, NoticeRow.channel == channel,
                    NoticeRow.status != CANCELLED,
                )
            ))

    def next_wake(self) -> datetime | None:
        """When the next notice becomes due (or the next lease runs out)."""
        with self.transaction() as session:
            pending = session.scalar(
                select(func.min(NoticeRow.next_attempt_at)).where(NoticeRow.status == PENDING)
            )
            lease = session.scalar(
                select(func.min(NoticeRow.lease_until)).where(NoticeRow.status == SENDING)
            )
        # func.min returns its argument's type, so these come back as aware UTC datetimes.
        times = [t for t in (pending, lease) if t is not None]
        return min(times) if times else None

    def notices(self, **where: object) -> list[NoticeRow]:
        """Outbox rows matching column equality filters (for status and tests)."""
        with self.transaction() as session:
            query = select(NoticeRow).order_by(NoticeRow.send_at, NoticeRow.id)
            for column, value in where.items():
                query = query.where(getattr(NoticeRow, column) == value)
            rows = session.scalars(query).all()
            session.expunge_all()
            return list(rows)

    def deliveries(self) -> list[DeliveryRow]:
        with self.transaction() as session:
            rows = session.scalars(select(DeliveryRow).order_by(DeliveryRow.id)).all()
            session.expunge_all()
            return list(rows)



_DELIVERY_INSERT = insert(DeliveryRow.__table__).returning(DeliveryRow.__table__.c.id)
_DELIVERY_NOTICE_INSERT = insert(DeliveryNoticeRow.__table__)


@cache
def _finish_statement(columns: tuple[str, ...], bump: bool, unsure: bool = False) -> Any:
    """UPDATE of a digest's claimed rows setting ``columns`` (bound as ``set_<column>``),
    counting an attempt when ``bump`` and a send of unknown outcome when ``unsure``."""
    notices = NoticeRow.__table__
    values: dict[str, Any] = {c: bindparam(f"set_{c}") for c in columns}
    if bump:
        values["attempts"] = notices.c.attempts + 1
    if unsure:
        values["uncertain"] = notices.c.uncertain + 1
    return (update(notices)
            .where(notices.c.id.in_(bindparam("ids", expanding=True)),
                   notices.c.claimed_by == bindparam("claimant"), notices.c.status == SENDING)
            .values(claimed_by=None, lease_until=None, updated_at=bindparam("now"), **values))
