"""The daemon's watch over its own database: the file still there and writable, how long the
server has been out of reach, and a word to the admin that needs no database to be said.

A SQLite file deleted under a running daemon keeps working for the daemon (the inode lives on
while it is open) while every other command meets a new, empty file: the daemon's sends are
recorded where nobody will look, and a restart sends everything again. So the file's device
and inode are compared every second, and the daemon stops at the first difference, after
saving the database it still holds open. A file turned read-only or immutable is caught the
same way; the store itself refuses to begin a transaction on such a file, and leaves it
unclosed at the end (reminder/sqlitefile.py ``unwritable``), since SQLite's write to it
through a memory map is SIGBUS, which killed the daemon without a log line.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from reminder.sqlitefile import unwritable

log = logging.getLogger("reminder.daemon")


class DatabaseHealth:
    """``lost()`` says why the database can no longer be used (None while it can);
    ``failing``/``working`` time an outage, and ``overdue()`` is True once, when it has lasted
    ``alert_after`` seconds."""

    def __init__(self, path: Path | None, *, alert_after: float = 120.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.alert_after = alert_after
        self._clock = clock
        self._identity = _identity(path) if path is not None else None
        # The file and its WAL held open from the start: after a deletion they still read the
        # old inodes, so what the daemon recorded can be saved (see ``rescue``). SQLite itself
        # refuses to read a WAL database whose file was unlinked (disk I/O error).
        self._fds: list[int] = []
        if path is not None:
            for part in (path, path.with_name(path.name + "-wal")):
                try:
                    self._fds.append(os.open(part, os.O_RDONLY))
                except OSError:
                    break
        self._down_since: float | None = None
        self._why = ""
        self._told = False

    # -- the file ------------------------------------------------------------------------
    def lost(self) -> str | None:
        if self.path is None:
            return None
        now = _identity(self.path)
        if now is None:
            return f"数据库文件 {self.path} 已被删除"
        if now != self._identity:
            return f"数据库文件 {self.path} 已被替换（不再是启动时打开的文件）"
        part = unwritable(self.path)
        if part is not None:
            return f"数据库文件 {part} 变为只读或不可修改（chattr +i）"
        if not os.access(self.path.parent, os.W_OK):
            return f"数据库所在目录 {self.path.parent} 变为只读"
        return None

    def rescue(self, stamp: datetime) -> Path | None:
        """Copy the database this process still holds open beside where it was (with its
        WAL, folded in), so the sends it recorded are not lost with it; None when that
        failed too."""
        if not self._fds or self.path is None:
            return None
        target = self.path.with_name(f"{self.path.name}.rescued-{stamp:%Y%m%d-%H%M%S}")
        try:
            for fd, suffix in zip(self._fds, ("", "-wal"), strict=False):
                with open(f"{target}{suffix}", "wb") as out:
                    os.chmod(out.fileno(), 0o600)
                    offset = 0
                    while chunk := os.pread(fd, 1 << 20, offset):
                        out.write(chunk)
                        offset += len(chunk)
            copy = sqlite3.connect(target)
            try:
                copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("quick_check failed")
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        except (sqlite3.Error, OSError) as exc:
            log.error("无法保存仍打开的数据库副本：%s", exc)
            return None
        return target

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    # -- the server ----------------------------------------------------------------------
    def failing(self, why: str) -> None:
        if self._down_since is None:
            self._down_since = self._clock()
        self._why = why

    def working(self) -> bool:
        """The database answered again; True when an outage the admin was told of ended."""
        told, self._down_since, self._told = self._told, None, False
        return told

    @property
    def why(self) -> str:
        return self._why

    def down_for(self) -> float:
        return 0.0 if self._down_since is None else self._clock() - self._down_since

    def overdue(self) -> bool:
        if self._told or self._down_since is None or self.down_for() < self.alert_after:
            return False
        self._told = True
        return True


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)
