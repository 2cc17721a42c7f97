"""Tables of the store, as SQLAlchemy 2 declarative models.

Every fact has a real column: the outbox is queried and repaired with plain SQL, never by
unpickling. Times are stored as naive UTC (``UTCDateTime``) so SQLite and PostgreSQL compare
them the same way; dates are calendar dates in the deployment's timezone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Outbox statuses. "cancelled" rows carry a reason: obsolete (the plan no longer wants them),
# done (the occurrence was completed), folded (merged into a later notice of the same
# occurrence during catch-up), unroutable (the recipient has no contact), nochannel (the
# deployment has no channel or robot for it yet: revived once the config provides one), stale
# (`reminder retry` found the task done since, or its next occurrence already due).
# "held" rows failed because the deployment's configuration is wrong (bad password or webhook
# key, server refusing connections); ``reason`` holds the fingerprint of the route's config
# at that moment, so a changed config (or `reminder retry`) sends them again.
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
HELD = "held"
# The reason of a notice held after its second send of unknown outcome: no configuration
# change revives it, only `reminder retry` (the admin decides whether it went out).
UNCERTAIN = "uncertain"
STATUSES = (PENDING, SENDING, SENT, FAILED, CANCELLED, HELD)
OBSOLETE, DONE, FOLDED, UNROUTABLE = "obsolete", "done", "folded", "unroutable"
NO_CHANNEL, STALE = "nochannel", "stale"
# A held notice the unit's next channel took while its own route was held: never requeued.
REROUTED = "rerouted"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the folder name
    title: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)  # last parse error; None when it loads
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskRow(Base):
    __tablename__ = "tasks"

    plan_id: Mapped[str] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    deadline_text: Mapped[str] = mapped_column(Text, default="")
    units: Mapped[str] = mapped_column(Text, default="")  # joined with "；" for display


class OccurrenceRow(Base):
    __tablename__ = "occurrences"
    __table_args__ = (UniqueConstraint("plan_id", "task_id", "due", name="uq_occurrence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200), index=True)
    task_id: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    nominal: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20), default="once")
    cycle: Mapped[str | None] = mapped_column(String(20))  # "ongoing": never overdue
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | done


class NoticeRow(Base):
    """The outbox: one row per planned message."""

    __tablename__ = "notices"
    __table_args__ = (
        # The claim: pending rows due by now, oldest first; partial, so the index holds only
        # the rows still to send however many sent rows pile up; with id, the ORDER BY is
        # the index order even where thousands of rows share one send time (09:00).
        Index("ix_notices_pending", "next_attempt_at", "id",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        # A claim cut by its limit completes its last recipient's due rows (one digest, not
        # two): without this, that query walks every due row of the backlog (3 s at 1M rows).
        Index("ix_notices_pending_recipient", "recipient", "channel", "next_attempt_at",
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
        # Expired leases (a daemon died mid-send) and counts by status.
        Index("ix_notices_status", "status", "lease_until"),
        Index("ix_notices_occurrence", "plan_id", "task_id", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    plan_title: Mapped[str] = mapped_column(Text, default="")
    task_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[date] = mapped_column(Date)
    occurrence: Mapped[str] = mapped_column(String(20), default="")
    stage: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(20), default="")
    recipient: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    mobiles: Mapped[list[str]] = mapped_column(JSON, default=list)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    reason: Mapped[str | None] = mapped_column(String(20))  # why cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_code: Mapped[str | None] = mapped_column(String(50))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Hash of the columns a plan decides (see store.sync.content_hash): sync rewrites a row
    # only when it differs.
    content_hash: Mapped[str | None] = mapped_column(String(32))
    # Sends whose outcome is unknown (the message left, no answer came): the first is
    # retried once after a long delay, the second holds the notice for the admin, so a lost
    # reply costs at most one duplicate.
    uncertain: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DeliveryRow(Base):
    """One attempt to send one message (a digest of one or more notices)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(Text)
    addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(12))  # ok | retryable | permanent
    provider_code: Mapped[str | None] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(Text, default="")  # the provider's reply
    claimant: Mapped[str] = mapped_column(String(200), default="")


class DeliveryNoticeRow(Base):
    __tablename__ = "delivery_notices"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CompletionRow(Base):
    """Who marked an occurrence done; ``undone_at`` is set when it is reopened (history kept)."""

    __tablename__ = "completions"
    __table_args__ = (Index("ix_completions_occurrence", "plan_id", "task_id", "due"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    done_by: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    undone_by: Mapped[str | None] = mapped_column(Text)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_id: Mapped[str | None] = mapped_column(String(20))  # the signed link it came through
    confirmed_by: Mapped[str | None] = mapped_column(Text)  # policy confirm_done
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventRow(Base):
    """The date an event-relative deadline counts from (one per task)."""

    __tablename__ = "events"

    plan_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_date: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateWindowRow(Base):
    """Recent sends over one rate-limited route (a WeCom robot), as epoch seconds on the real
    clock, shared by every process: one row per route, locked while a sender decides."""

    __tablename__ = "rate_windows"

    route: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent: Mapped[list[float]] = mapped_column(JSON, default=list)


class ChannelTokenRow(Base):
    """An access token a provider hands out for a while (a WeCom app's gettoken), shared by
    every process so they do not each fetch one. ``sealed`` is the token encrypted under the
    app's own secret (see delivery/channels/tokens.py): the database never holds it in clear."""

    __tablename__ = "channel_tokens"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float] = mapped_column(Float)  # real epoch seconds


class AlertRow(Base):
    """A standing condition `reminder status` must show, e.g. the admin cannot be told."""

    __tablename__ = "alerts"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedbackRow(Base):
    """What a unit reported on a task: progress for a period, a difficulty, or the
    coordinator's note on a rejected completion."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_task", "plan_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(200))
    due: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))  # progress | blocked | rejected
    period: Mapped[str] = mapped_column(String(20), default="")  # 2026Q3, 2026-07, 2026H2
    text: Mapped[str] = mapped_column(Text, default="")
    link_id: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSessionRow(Base):
    """The generation of the board's password sessions: a session carries the generation it
    was opened in and is refused once a logout or a new password has bumped it."""

    __tablename__ = "web_sessions"

    scope: Mapped[str] = mapped_column(String(50), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class InstructionRow(Base):
    """A leader's 批示 on a task escalated to them: shown to the responsible units on their
    page and in their next message, on the board and in the 台账. It changes no state."""

    __tablename__ = "instructions"
    __table_args__ = (Index("ix_instructions_task", "plan_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(200))
    leader: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    link_id: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignatureRow(Base):
    """A unit's 签收 of a task: it has received it (one per task and unit, kept for good)."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("plan_id", "task_id", "unit", name="uq_signatures_unit"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    link_id: Mapped[str | None] = mapped_column(String(20))


class ExtensionRow(Base):
    """A 延期申请: a unit asks that one occurrence (``due``, its original date) fall due on
    ``requested``; the coordinator approves or rejects it with a note. ``late`` marks a
    request made after the date it asked to move (逾期申请)."""

    __tablename__ = "extensions"
    __table_args__ = (Index("ix_extensions_task", "plan_id", "task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)  # the occurrence's original due date
    current: Mapped[date] = mapped_column(Date)  # its due date when asked (an earlier extension)
    requested: Mapped[date] = mapped_column(Date)
    # The date approved (批准延期至…), which may differ from ``requested``; NULL until
    # approved, and on rows approved before migration 0013 (approved as asked).
    approved: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # approved | rejected
    link_id: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
