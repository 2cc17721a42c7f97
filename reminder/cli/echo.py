"""``click.echo`` for text without importing click, and the one error boundary of every
command.

The quick commands (``explain PHRASE``, ``plan DIR``) run without click when the entry point
answers them itself (reminder/cli/entry.py). Their output must be byte for byte what click
writes: once click is loaded (every other way in) this is ``click.echo`` itself; before,
it writes what ``click.echo`` writes to a UTF-8 text stream — the message, a newline, a
flush. Text with an escape character (which click strips from a stream that is not a
terminal) goes through click whatever the way in."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import NoReturn


def echo(message: str = "", err: bool = False) -> None:
    if "click" in sys.modules or "\x1b" in message:
        import click

        click.echo(message, err=err)
        return
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no console (pythonw): click writes nothing either
        return
    stream.write(message + "\n")
    stream.flush()


def warn(message: str) -> None:
    echo(f"提示：{message}", err=True)


def guarded(run: Callable[[], object]) -> NoReturn:
    """Run a command: bad input becomes one line on stderr and an exit status, never a
    traceback. Click's own exceptions are turned into lines by its caller (cli/main.py); the quick
    commands meet none (cli/entry.py)."""
    from reminder.errors import ReminderError, environment_trouble

    # Collect young objects after 50,000 allocations instead of 700: a dry run or a sync
    # allocates millions of short-lived tuples and almost no cycles, and the default
    # threshold spent a fifth of a 10k-task dry run in the collector.
    gc.set_threshold(50_000, 20, 100)
    try:
        code = run()
    except ReminderError as err:
        echo(f"错误：{err}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as err:
        line = environment_trouble(err)
        if line is None:
            raise
        echo(f"错误：{line}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
