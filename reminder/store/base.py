"""What every part of the store shares: the engine, sessions, the timezone, row→record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from reminder.models import Notice
from reminder.store.engine import dispose_engine
from reminder.store.schema import NoticeRow

T = TypeVar("T")


class StoreBase:
    def __init__(self, engine: Engine, *, timezone: str = "Asia/Shanghai") -> None:
        self.engine = engine
        self.tz = ZoneInfo(timezone)
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session, one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def _rows(self, table: type[T], *where: ColumnElement[bool], **equal: object) -> list[T]:
        """The rows of ``table`` meeting ``where`` and, for each column named in ``equal``
        with a value that is not None, holding that value; oldest (lowest id) first, and
        detached, so they can be read after the session ends."""
        query = select(table).where(*where).order_by(table.id)  # type: ignore[attr-defined]
        for column, value in equal.items():
            if value is not None:
                query = query.where(getattr(table, column) == value)
        with self.transaction() as session:
            rows = list(session.scalars(query).all())
            session.expunge_all()
            return rows

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def to_notice(self, row: NoticeRow) -> Notice:
        return Notice(
            send_at=self.local(row.send_at),
            stage=row.stage,  # type: ignore[arg-type]
            step=row.step,
            plan=row.plan_id,
            plan_title=row.plan_title,
            task=row.task_id,
            title=row.title,
            due=row.due,
            recipient=row.recipient,
            channel=row.channel,
            addresses=tuple(row.addresses or ()),
            mentions=tuple(row.mentions or ()),
            mobiles=tuple(row.mobiles or ()),
            occurrence=row.occurrence,
        )

    def dispose(self) -> None:
        dispose_engine(self.engine)
