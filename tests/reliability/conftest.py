"""Reliability trials: real daemon processes killed, raced and starved, against real SQLite
files, a real PostgreSQL and the loopback servers of tests/servers.py. Slow by nature, so
marked ``reliability``: the quick run skips them, `.ci/run` runs them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/servers.py


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.reliability)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the trials table of docs/reliability.md from the results file when this run
    recorded any trial (so the quick suite, which runs none, never touches the page)."""
    import trials_table

    if trials_table.recorded():
        trials_table.write()
