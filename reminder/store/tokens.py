"""Provider access tokens kept in the database, so every daemon, `run --once` and
`test-channel` use one token per app instead of each fetching its own (WeCom counts gettoken
calls, and a fresh fetch per process is what its docs warn against).

The store only keeps what it is given: the channel seals the token before handing it over.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from reminder.store.base import StoreBase
from reminder.store.schema import ChannelTokenRow


class TokensMixin(StoreBase):
    def token(self, name: str) -> tuple[str, float] | None:
        """(sealed token, expiry as epoch seconds) stored under ``name``, if any."""
        with self.transaction() as session:
            row = session.get(ChannelTokenRow, name)
            return (row.sealed, row.expires_at) if row is not None else None

    def put_token(self, name: str, sealed: str, expires_at: float) -> None:
        """Store a token, unless one that lasts longer is already there (a rival process
        fetched after us): the later one is the one WeCom keeps valid."""
        with self.transaction() as session:
            query = select(ChannelTokenRow).where(ChannelTokenRow.name == name)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            row = session.scalars(query).one_or_none()
            if row is None:
                self._insert_token(session, name, sealed, expires_at)
            elif expires_at >= row.expires_at:
                row.sealed, row.expires_at = sealed, expires_at

    def drop_token(self, name: str, sealed: str | None = None) -> bool:
        """Forget the token (only if it is still ``sealed``, when given: a rival may have
        stored a fresh one since ours was refused)."""
        with self.transaction() as session:
            query = delete(ChannelTokenRow).where(ChannelTokenRow.name == name)
            if sealed is not None:
                query = query.where(ChannelTokenRow.sealed == sealed)
            return bool(session.execute(query).rowcount)

    def _insert_token(self, session, name: str, sealed: str,  # type: ignore[no-untyped-def]
                      expires_at: float) -> None:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(ChannelTokenRow).values(
            name=name, sealed=sealed, expires_at=expires_at).on_conflict_do_update(
            index_elements=["name"], set_={"sealed": sealed, "expires_at": expires_at}))
