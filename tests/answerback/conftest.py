"""The reports' tests read a store holding reportdata's known completions and sends."""

from __future__ import annotations

import pytest
from reportdata import fill

from reminder.store import Store


@pytest.fixture
def store(store: Store) -> Store:
    """The suite's store (SQLite, then PostgreSQL), filled by ``reportdata.fill``."""
    fill(store)
    return store
