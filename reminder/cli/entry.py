"""The `reminder` command's entry point: what can be answered without click first.

Importing click, the store and the daemon costs more than the answer when cron's
`run --once` finds nothing to do (reminder/cli/idle.py); everything else goes to the click
CLI (reminder/cli/main.py) unchanged."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["run"]:
        from reminder.cli.idle import SUMMARY, nothing_to_do

        if nothing_to_do(sys.argv[1:]):
            sys.stdout.write(SUMMARY + "\n")
            sys.exit(0)
    from reminder.cli.main import main as full

    full()
