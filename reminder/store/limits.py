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

# Sends dated further ahead than a window are a clock that jumped, and are dropped; but a
# block (``block_route``) dates its entries up to this far ahead on purpose.
BLOCK_HORIZON = 3600.0


class LimitsMixin(StoreBase):
    def take_slot(self, route: str, count: int, seconds: float, now: float) -> float:
        """Record a send over ``route`` at ``now`` and return 0 when fewer than ``count``
        were recorded in the last ``seconds``; otherwise record nothing and return how many
        seconds until a slot frees up."""
        return self.take_slots([(route, count, seconds)], now)

    def take_slots(self, windows: list[tuple[str, int, float]], now: float) -> float:
        """``take_slot`` over several windows at once, all or none: a WeCom app message
        counts against each member's minute and hour and the app's day. Returns 0 when every
        window had room (and records the send in each), else the longest wait (nothing
        recorded). Rows are locked in name order, so two senders never deadlock."""
        if not windows:
            return 0.0
        with self.transaction() as session:
            rows = {}
            for route in sorted({w[0] for w in windows}):
                rows[route] = self._window(session, route)
            wait, kept = 0.0, {}
            for route, count, seconds in windows:
                recent = sorted(t for t in (rows[route].sent or [])
                                if now - seconds < t <= now + max(seconds, BLOCK_HORIZON))
                if len(recent) >= count:
                    wait = max(wait, recent[-count] + seconds - now, 0.001)
                # One route may carry two windows (minute and hour): keep the longest span.
                if len(kept.get(route, ())) <= len(recent):
                    kept[route] = recent
            if wait > 0:
                return wait
            for route, recent in kept.items():
                rows[route].sent = [*recent, now]  # a new list: JSON columns miss in-place edits
            return 0.0

    def block_route(self, route: str, count: int, seconds: float, until: float) -> None:
        """Fill ``route``'s window so no slot frees up before ``until``: the provider
        blocked it (a DingTalk robot over its 20 a minute takes nothing for 10 minutes), and
        every process must wait, not only the one that was told."""
        with self.transaction() as session:
            self._window(session, route).sent = [until - seconds] * count

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

    def _window(self, session, route: str) -> RateWindowRow:  # type: ignore[no-untyped-def]
        """``route``'s row, made when missing, locked until the transaction ends."""
        self._ensure_route(session, route)
        query = select(RateWindowRow).where(RateWindowRow.route == route)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return session.scalars(query).one()

    def _ensure_route(self, session, route: str) -> None:  # type: ignore[no-untyped-def]
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(RateWindowRow).values(route=route, sent=[])
                        .on_conflict_do_nothing())
