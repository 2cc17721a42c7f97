"""Opening a store at the newest schema revision asks the version table itself, without
importing alembic (issue 21: that import was a fifth of a cron-style `run --once` start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
