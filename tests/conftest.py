"""Suite-wide: the rules cache of every command run by a test (in-process or a child) goes
to a throwaway directory, never the tester's own ~/.cache; and the database fixtures that
run a test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import fresh_postgres

from reminder.store import Store, open_store


@pytest.fixture(autouse=True, scope="session")
def _private_cache_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each engine the project supports: a SQLite file in the test's
    folder, then a new PostgreSQL database (skipped, saying why, when no server answers)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reminder.db'}"
        return
    # Named after the test file, so a database left behind says where it came from.
    with fresh_postgres(f"reminder_{request.module.__name__.rpartition('.')[2]}") as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The store on ``db_url``; a test file with a store of its own defines its own fixture."""
    opened = open_store(db_url)
    yield opened
    opened.dispose()
