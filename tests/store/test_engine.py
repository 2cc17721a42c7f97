"""Opening a store at the newest schema revision asks the version table itself, without
importing alembic (issue 21: that import was a fifth of a cron-style `run --once` start);
a SQLite file turned immutable under a process is an error line, never SIGBUS (issue 20)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from reminder.store.engine import MIGRATIONS, scripted_heads


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert scripted_heads() == set(ScriptDirectory.from_config(config).get_heads())


def opened_with_alembic(database: Path) -> bool:
    code = ("import sys\nfrom reminder.store import open_store\n"
            f"open_store('sqlite:///{database}').dispose()\n"
            "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_a_store_at_head_opens_without_alembic_and_a_new_one_migrates(tmp_path: Path) -> None:
    database = tmp_path / "reminder.db"
    assert opened_with_alembic(database)  # a new file: alembic creates the schema
    assert not opened_with_alembic(database)  # at head: the version table says so
    import sqlite3

    with sqlite3.connect(database) as connection:
        tables = {r[0] for r in connection.execute("select name from sqlite_master")}
        version = connection.execute("select version_num from alembic_version").fetchall()
    assert "notices" in tables and version == [tuple(scripted_heads() or ())]


# -- a database that turns read-only or immutable under a running process (issue 20 §3) ----

CHILD = """
import os, subprocess, sys
from datetime import date, datetime
from zoneinfo import ZoneInfo
from reminder.errors import environment_trouble
from reminder.store import open_store
folder, write = sys.argv[1], sys.argv[2] == "write"
store = open_store(f"sqlite:///{folder}/r.db")
now = datetime.now(ZoneInfo("Asia/Shanghai"))
store.set_event("p", "1", date(2026, 5, 1), by="t", now=now)
# Written back to disk, the -shm's pages are clean again: SQLite's next write through its
# memory map faults, and on an immutable file the kernel answers the fault with SIGBUS.
fd = os.open(f"{folder}/r.db-shm", os.O_RDONLY)
os.fsync(fd)
os.close(fd)
subprocess.run(["chattr", "-R", "+i", folder], check=True)
if write:
    try:
        store.set_event("p", "1", date(2026, 5, 2), by="t", now=now)
    except Exception as exc:
        print(environment_trouble(exc))
store.dispose()
print("closed")
"""


def immutable_midway(tmp_path: Path, action: str) -> subprocess.CompletedProcess[str]:
    folder = tmp_path / "state"
    folder.mkdir()
    if shutil.which("chattr") is None or subprocess.run(
            ["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("needs chattr +i (root on a filesystem that has it)")
    subprocess.run(["chattr", "-i", str(folder)], check=True)
    try:
        return subprocess.run([sys.executable, "-c", CHILD, str(folder), action],
                              capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)


def test_a_write_to_a_database_made_immutable_is_one_error_not_sigbus(tmp_path: Path) -> None:
    """SQLite wrote to the immutable -shm through its memory map: SIGBUS, no word said."""
    done = immutable_midway(tmp_path, "write")
    assert done.returncode == 0, done.returncode  # -7 (SIGBUS) before
    line, closed = done.stdout.splitlines()
    assert "不可写" in line and "r.db" in line and "chattr +i" in line
    assert closed == "closed" and "Traceback" not in done.stderr


def test_closing_a_database_made_immutable_leaves_it_open_not_sigbus(tmp_path: Path) -> None:
    """The last close checkpoints the WAL through the -shm's memory map: SIGBUS at the very
    end of a command, after its one line (the daemon's exit status was a signal's)."""
    done = immutable_midway(tmp_path, "close")
    assert done.returncode == 0, done.returncode  # -7 (SIGBUS) before
    assert done.stdout.strip() == "closed"
    # What was written is all there, in the WAL SQLite replays at the next open.
    from reminder.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'state' / 'r.db'}")
    try:
        assert store.events() == {("p", "1"): date(2026, 5, 1)}
    finally:
        store.dispose()
