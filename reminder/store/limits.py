"""Rate windows kept in the database, so a provider's limit (a WeCom robot's 20 messages a
minute) holds across restarts, `run --once` runs and several daemons.

Deciding and recording are one transaction on the route's row: ``SELECT … FOR UPDATE`` on
PostgreSQL, and SQLite's ``BEGIN IMMEDIATE`` (see engine.py) serializes writers anyway. Times
are real epoch seconds: the provider counts real seconds even when `--now` simulates a date.
"""

from __future__ import annotations

from sqlalchemy import select

from reminder.store.base import StoreBase
from reminder.store.schema import RateWindowRow


class LimitsMixin(StoreBase):
    def take_slot(self, route: str, count: int, seconds: float, now: float) -> float:
        """Record a send over ``route`` at ``now`` and return 0 when fewer than ``count``
        were recorded in the last ``seconds``; otherwise record nothing and return how many
        seconds until a slot frees up."""
        with self.transaction() as session:
            self._ensure_route(session, route)
            query = select(RateWindowRow).where(RateWindowRow.route == route)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            row = session.scalars(query).one()
            recent = sorted(t for t in (row.sent or []) if now - seconds < t <= now + seconds)
            if len(recent) >= count:
                return max(recent[-count] + seconds - now, 0.001)
            row.sent = [*recent, now]  # a new list: JSON columns do not track in-place edits
            return 0.0

    def move_slot(self, route: str, taken: float, now: float) -> None:
        """Re-date the send recorded at ``taken`` to ``now`` (when it actually finished)."""
        with self.transaction() as session:
            query = select(RateWindowRow).where(RateWindowRow.route == route)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            row = session.scalars(query).one_or_none()
            if row is not None and taken in (row.sent or []):
                sent = list(row.sent)
                sent[sent.index(taken)] = max(taken, now)
                row.sent = sorted(sent)

    def _ensure_route(self, session, route: str) -> None:  # type: ignore[no-untyped-def]
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(RateWindowRow).values(route=route, sent=[])
                        .on_conflict_do_nothing())
