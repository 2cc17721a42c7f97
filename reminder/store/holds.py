"""Notices held back by a configuration failure, `reminder retry`, and standing alerts.

A bad SMTP password or webhook key is the deployment's fault, not the message's: failing the
notices for good would lose them. They wait as ``held`` with the fingerprint of the route's
configuration in ``reason``; the dispatcher sends them again once that fingerprint changes,
and `reminder retry` requeues them (and, if asked, failed ones) by hand.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select, update

from reminder.store.base import StoreBase
from reminder.store.schema import (
    CANCELLED,
    FAILED,
    HELD,
    PENDING,
    REROUTED,
    SENDING,
    SENT,
    STALE,
    UNCERTAIN,
    AlertRow,
    CompletionRow,
    NoticeRow,
    OccurrenceRow,
)

ADMIN_UNREACHABLE = "admin"


@dataclass(frozen=True, kw_only=True)
class HeldRoute:
    """Held notices of one route and configuration fingerprint."""

    channel: str
    addresses: tuple[str, ...]  # of one of its notices: enough to name the route
    fingerprint: str
    ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class HeldNotice:
    """A held notice as the planner knows it: which reminder to whom, and when it was due."""

    plan: str
    task: str
    due: date
    stage: str
    step: str
    recipient: str
    send_at: datetime

    @property
    def identity(self) -> tuple[str, date, str, str, str]:
        """The notice apart from its channel (Notice.key without the channel)."""
        return (self.task, self.due, self.stage, self.step, self.recipient)


@dataclass(frozen=True, kw_only=True)
class RetryResult:
    requeued: int
    closed: int  # done since, or past the next occurrence: left closed
    rerouted: int = 0  # the unit's next channel took them while their route was held


class HoldsMixin(StoreBase):
    def mark_held(self, ids: Sequence[int], claimant: str, now: datetime, *, fingerprint: str,
                  error: str, delivery: object | None) -> int:
        """Settle claimed rows as held; counted as an attempt like any other failure."""
        return self._finish(ids, claimant, now, delivery, status=HELD,  # type: ignore[attr-defined]
                            reason=fingerprint, last_error=error,
                            attempts=NoticeRow.attempts + 1)

    def held_routes(self) -> list[HeldRoute]:
        with self.transaction() as session:
            rows = session.execute(
                select(NoticeRow.id, NoticeRow.channel, NoticeRow.addresses, NoticeRow.reason)
                .where(NoticeRow.status == HELD).order_by(NoticeRow.id)
            ).all()
        routes: dict[tuple[str, str], list[tuple[int, tuple[str, ...]]]] = {}
        for ident, channel, addresses, reason in rows:
            routes.setdefault((channel, reason or ""), []).append((ident, tuple(addresses or ())))
        return [HeldRoute(channel=channel, addresses=items[0][1], fingerprint=fp,
                          ids=tuple(i for i, _ in items))
                for (channel, fp), items in routes.items()]

    def held_notices(self, channels: Collection[str]) -> dict[str, list[HeldNotice]]:
        """The notices held on ``channels`` (routes held on their configuration), by plan:
        the daemon plans them again through each unit's next channel."""
        if not channels:
            return {}
        with self.transaction() as session:
            rows = session.execute(
                select(NoticeRow.plan_id, NoticeRow.task_id, NoticeRow.due, NoticeRow.stage,
                       NoticeRow.step, NoticeRow.recipient, NoticeRow.send_at)
                .where(NoticeRow.status == HELD, NoticeRow.channel.in_(list(channels)),
                       NoticeRow.reason != UNCERTAIN)).all()
        found: dict[str, list[HeldNotice]] = {}
        for plan, task, due, stage, step, recipient, send_at in rows:
            found.setdefault(plan, []).append(HeldNotice(
                plan=plan, task=task, due=due, stage=stage, step=step or "",
                recipient=recipient, send_at=send_at))
        return found

    def _rerouted(self, session, rows: Sequence[NoticeRow]) -> set[int]:  # type: ignore[no-untyped-def]
        """The held rows whose notice another channel has taken (sent, or on its way): the
        unit's next channel while their route was held. Requeuing them would repeat it."""
        rerouted: set[int] = set()
        for plan, task, due in {(r.plan_id, r.task_id, r.due) for r in rows}:
            live = {(o.stage, o.step or "", o.recipient, o.channel) for o in session.execute(
                select(NoticeRow.stage, NoticeRow.step, NoticeRow.recipient, NoticeRow.channel)
                .where(NoticeRow.plan_id == plan, NoticeRow.task_id == task,
                       NoticeRow.due == due, NoticeRow.status.in_([PENDING, SENDING, SENT])))}
            for row in rows:
                if (row.plan_id, row.task_id, row.due) == (plan, task, due) and any(
                        (stage, step, recipient) == (row.stage, row.step or "", row.recipient)
                        and channel != row.channel for stage, step, recipient, channel in live):
                    rerouted.add(row.id)
        return rerouted

    def release_held(self, ids: Sequence[int], now: datetime) -> int:
        """Held rows become due now (the configuration they failed under has changed),
        except those another channel took meanwhile (cancelled, rerouted)."""
        if not ids:
            return 0
        with self.transaction() as session:
            rows = session.scalars(select(NoticeRow).where(
                NoticeRow.id.in_(list(ids)), NoticeRow.status == HELD)).all()
            taken = self._rerouted(session, rows)
            if taken:
                session.execute(update(NoticeRow).where(NoticeRow.id.in_(list(taken))).values(
                    status=CANCELLED, reason=REROUTED, updated_at=now))
            return session.execute(
                update(NoticeRow).where(NoticeRow.id.in_([r.id for r in rows if r.id not in taken]),
                                        NoticeRow.status == HELD)
                .values(status=PENDING, reason=None, next_attempt_at=now, updated_at=now)
            ).rowcount

    def retry(self, now: datetime, today: date, *, plan: str | None = None,
              task: str | None = None, failed: bool = False,
              since: datetime | None = None) -> RetryResult:
        """Requeue held (and with ``failed``, failed) notices still worth sending. A notice
        whose occurrence was completed, or whose task's next occurrence is already due, is
        closed instead (cancelled/stale): reminding about it now would only confuse."""
        statuses = [HELD, FAILED] if failed else [HELD]
        with self.transaction() as session:
            query = select(NoticeRow).where(NoticeRow.status.in_(statuses))
            if plan is not None:
                query = query.where(NoticeRow.plan_id == plan)
            if task is not None:
                query = query.where(NoticeRow.task_id == task)
            if since is not None:
                query = query.where(NoticeRow.updated_at >= since)
            rows = session.scalars(query).all()
            dues: dict[tuple[str, str], list[date]] = {}
            for plan_id, task_id in {(r.plan_id, r.task_id) for r in rows}:
                dues[(plan_id, task_id)] = list(session.scalars(select(OccurrenceRow.due).where(
                    OccurrenceRow.plan_id == plan_id, OccurrenceRow.task_id == task_id)))
            done = set(session.execute(
                select(CompletionRow.plan_id, CompletionRow.task_id, CompletionRow.due)
                .where(CompletionRow.undone_at.is_(None))).all())
            requeue, close = [], []
            rerouted = self._rerouted(session, [r for r in rows if r.status == HELD])
            for row in rows:
                superseded = any(row.due < d <= today for d in dues[(row.plan_id, row.task_id)])
                finished = (row.plan_id, row.task_id, row.due) in done
                if row.id in rerouted:
                    continue  # another channel took it while this route was held
                (close if finished or superseded else requeue).append(row.id)
            if rerouted:
                session.execute(update(NoticeRow).where(NoticeRow.id.in_(list(rerouted))).values(
                    status=CANCELLED, reason=REROUTED, updated_at=now))
            if requeue:
                session.execute(update(NoticeRow).where(NoticeRow.id.in_(requeue)).values(
                    status=PENDING, reason=None, attempts=0, uncertain=0, next_attempt_at=now,
                    updated_at=now))
            held_closed = [r.id for r in rows if r.id in set(close) and r.status == HELD]
            if held_closed:  # failed rows stay failed; held ones must not linger held
                session.execute(update(NoticeRow).where(NoticeRow.id.in_(held_closed)).values(
                    status=CANCELLED, reason=STALE, updated_at=now))
            return RetryResult(requeued=len(requeue), closed=len(close), rerouted=len(rerouted))

    def held_count(self) -> int:
        return len([i for r in self.held_routes() for i in r.ids])

    # -- standing alerts -----------------------------------------------------------------
    def set_alert(self, name: str, detail: str, now: datetime) -> None:
        with self.transaction() as session:
            row = session.get(AlertRow, name)
            if row is None:
                session.add(AlertRow(name=name, detail=detail, since=now))
            else:
                row.detail = detail

    def clear_alert(self, name: str) -> bool:
        with self.transaction() as session:
            return bool(session.execute(delete(AlertRow).where(AlertRow.name == name)).rowcount)

    def alerts(self) -> dict[str, tuple[str, datetime]]:
        with self.transaction() as session:
            return {r.name: (r.detail, r.since) for r in session.scalars(select(AlertRow))}

