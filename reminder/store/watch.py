"""Learning that another process wrote to the database, within a second, without a query
per second on the outbox.

`reminder done`, `undo`, `event` and the board write completions, events and notices from
their own processes; an idle daemon has nothing scheduled and would otherwise notice only at
its next tick. PostgreSQL: a trigger (migration 0004) sends NOTIFY on the completions and
events tables and the daemon LISTENs on a connection of its own. SQLite: ``PRAGMA
data_version`` on a connection of our own changes whenever any other connection commits a
change to the file; reading it costs no table access.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from reminder.store.engine import sqlite_path

CHANNEL = "reminder_changes"


class ChangeWatcher(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when the database changed meanwhile."""

    def close(self) -> None: ...


class DataVersionWatcher:
    """SQLite: poll the file's change counter (our own writes count too: harmless, the
    daemon's answer to a change is a cheap check that finds nothing new)."""

    def __init__(self, path: str, stop: threading.Event | None = None) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._stop = stop or threading.Event()
        self._version = self._read()

    def _read(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout: float) -> bool:
        self._stop.wait(timeout)
        version = self._read()
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        self._conn.close()


class NotifyWatcher:
    """PostgreSQL: LISTEN on a connection of its own, outside the pool, for the daemon's
    lifetime. A connection lost (the server restarted) is opened again by the next ``wait``,
    which then answers True: notifications sent meanwhile were lost with it."""

    def __init__(self, engine: Engine) -> None:
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn: Any = None
        self._connect()

    def _connect(self) -> None:
        import psycopg

        conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def wait(self, timeout: float) -> bool:
        if self._conn is None:
            self._connect()  # raises while the server is still down
            return True
        try:
            return any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        except Exception:
            self.close()  # the caller backs off; the next wait reconnects
            raise

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()


def watcher(engine: Engine, stop: threading.Event | None = None) -> ChangeWatcher | None:
    """The watcher for this database, or None (an in-memory SQLite database has no other
    writer)."""
    if engine.dialect.name == "postgresql":
        return NotifyWatcher(engine)
    path = sqlite_path(str(engine.url))
    return DataVersionWatcher(str(path), stop) if path is not None else None
