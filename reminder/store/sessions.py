"""The generation of the board's password sessions, kept in the database so that a logout
holds across restarts and across every process serving the pages: a session cookie names the
generation it was opened in, and a logout or a new password moves the generation on."""

from __future__ import annotations

from sqlalchemy import select

from reminder.store.base import StoreBase
from reminder.store.schema import WebSessionRow


class SessionsMixin(StoreBase):
    def session_generation(self, scope: str = "board") -> int:
        with self.transaction() as session:
            row = session.get(WebSessionRow, scope)
            return row.generation if row is not None else 0

    def end_sessions(self, scope: str = "board") -> int:
        """Move the generation on, ending every session opened before; the new generation."""
        with self.transaction() as session:
            query = select(WebSessionRow).where(WebSessionRow.scope == scope)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            row = session.scalars(query).one_or_none()
            if row is None:
                row = WebSessionRow(scope=scope, generation=0)
                session.add(row)
            row.generation += 1
            return row.generation
