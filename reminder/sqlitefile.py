"""What of the database can be had without SQLAlchemy: the daemon's lock on a SQLite file,
whether its files can still be written, and the newest schema revision, read from the
migration scripts.

Outside ``reminder.store`` on purpose: importing that package imports SQLAlchemy, and
`run --once` with nothing to do must finish before it would (reminder/cli/idle.py).

Only one daemon may send from a SQLite file (SQLite has no row locks to share the outbox
safely), so the daemon takes an exclusive ``flock`` on ``<database>.lock``. The kernel drops
the lock when the process dies, so a killed daemon never leaves a stale lock behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from reminder.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "store" / "migrations"


def scripted_heads() -> set[str] | None:
    """The newest revisions, read from the migration scripts' ``revision`` and
    ``down_revision`` lines without importing alembic; None when a script does not read so
    (then alembic decides)."""
    import re

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*[\"'](\w+)[\"']\s*$", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"[\"'](\w+)[\"']", down.group(1)))
    return (revisions - parents) or None


class DaemonLock:
    """Exclusive lock that keeps a second daemon off one SQLite file."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        import fcntl

        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "未知"
            handle.close()
            raise StoreError(
                f"另一个 reminder 守护进程（{holder}）正在使用此数据库", file=self.path.parent,
                hint="同一个 SQLite 文件只能运行一个守护进程；要运行多个请改用 PostgreSQL",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the flock
            self._file = None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def unwritable(database: Path) -> Path | None:
    """The first of the SQLite file, its -wal and its -shm (those that exist) that this
    process can no longer read and write; None while all can. ``access(2)`` answers for a
    file turned read-only and for one made immutable (``chattr +i``, refused even to root).

    SQLite writes its -shm through a memory map: on a file the kernel will not let it write
    any more, the write is SIGBUS, and the process dies without a word. So the store asks
    before each transaction, and before the close that would checkpoint (store/engine.py)."""
    for part in (database, database.with_name(database.name + "-wal"),
                 database.with_name(database.name + "-shm")):
        if not os.access(part, os.R_OK | os.W_OK) and os.path.lexists(part):
            return part
    return None
