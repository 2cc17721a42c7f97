"""The store: the outbox and everything the daemon must remember, in SQLite or PostgreSQL.

    store = open_store("sqlite:////var/lib/reminder/reminder.db")   # migrates on open
    store.sync_plan(...); store.claim(now, me, lease=...); store.mark_sent(...)

Import this package only inside commands: it pulls in SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

from reminder.store.engine import DaemonLock, create_store_engine, migrate, redact, sqlite_path
from reminder.store.evidence import EvidenceMixin
from reminder.store.feedback import FeedbackMixin
from reminder.store.holds import ADMIN_UNREACHABLE, HeldNotice, HeldRoute, HoldsMixin, RetryResult
from reminder.store.instructions import InstructionsMixin
from reminder.store.limits import LimitsMixin
from reminder.store.outbox import Claimed, Delivery, OutboxMixin
from reminder.store.records import RecordsMixin, TaskStatus
from reminder.store.schema import (
    CANCELLED,
    DONE,
    FAILED,
    FOLDED,
    HELD,
    NO_CHANNEL,
    OBSOLETE,
    PENDING,
    REROUTED,
    SENDING,
    SENT,
    STALE,
    UNROUTABLE,
)
from reminder.store.sessions import SessionsMixin
from reminder.store.signing import SigningMixin
from reminder.store.sync import SyncMixin, SyncResult
from reminder.store.tallies import TalliesMixin
from reminder.store.tokens import TokensMixin

__all__ = [
    "ADMIN_UNREACHABLE",
    "CANCELLED",
    "DONE",
    "FAILED",
    "FOLDED",
    "HELD",
    "NO_CHANNEL",
    "OBSOLETE",
    "PENDING",
    "REROUTED",
    "SENDING",
    "SENT",
    "STALE",
    "UNROUTABLE",
    "Claimed",
    "DaemonLock",
    "Delivery",
    "HeldNotice",
    "HeldRoute",
    "RetryResult",
    "Store",
    "SyncResult",
    "TaskStatus",
    "open_store",
    "redact",
    "sqlite_path",
]


class Store(OutboxMixin, SyncMixin, RecordsMixin, HoldsMixin, LimitsMixin,
            FeedbackMixin, SessionsMixin, TalliesMixin, EvidenceMixin, InstructionsMixin,
            TokensMixin, SigningMixin):
    """Every store operation; each method is one short transaction."""

    def watcher(self, stop: Any = None) -> Any:
        """What tells a daemon within a second that another process wrote (see watch.py)."""
        from reminder.store.watch import watcher

        return watcher(self.engine, stop)


def open_store(url: str, *, timezone: str = "Asia/Shanghai", migrate_schema: bool = True) -> Store:
    engine = create_store_engine(url)
    if migrate_schema:
        migrate(engine)
    return Store(engine, timezone=timezone)
