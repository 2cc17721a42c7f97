"""The `reminder` command's entry point: what can be answered without click first.

Importing click costs about a third of `reminder explain 2021年底`, and click, the store and
the daemon cost more than the answer when cron's `run --once` finds nothing to do. So three
plain forms are answered here — `explain PHRASE`, `plan DIR… [--format F]` and
`run --once [--config PATH] [--now MOMENT]` with nothing to do (reminder/cli/idle.py) —
and everything else (any other option, -h/--help, a path that does not exist, any doubt)
goes to the click CLI (reminder/cli/main.py), which writes what it always wrote. The quick
forms run the click commands' own bodies (reminder/cli/quick.py) inside the same error
boundary, so their output is the click path's byte for byte (tests/cli/test_cli_quick.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

FORMATS = ("table", "json", "jsonl", "csv")  # plan's --format choices (cli/common.py)


def quick_command(args: Sequence[str]) -> Callable[[], None] | None:
    """The command to run without click for exactly ``explain PHRASE`` or ``plan DIR…
    [--format F]`` (``--format=F`` too, at most once; every DIR existing); None for
    anything else, and when the streams are not UTF-8 (click rewraps such streams)."""
    if not all((getattr(s, "encoding", "") or "").lower().replace("-", "") == "utf8"
               for s in (sys.stdout, sys.stderr)):
        return None
    if len(args) == 2 and args[0] == "explain" and _plain(args[1]):
        return lambda: _cached(lambda q: q.explain_phrase(args[1], None, None, False, ()))
    if not args or args[0] != "plan":
        return None
    dirs: list[Path] = []
    fmt = None
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name == "--format" and fmt is None:
            if not eq:
                value = rest.pop(0) if rest else ""
            if value not in FORMATS:
                return None
            fmt = value
        elif _plain(arg) and _exists(arg):
            dirs.append(Path(arg))
        else:
            return None
    if not dirs:
        return None
    return lambda: _cached(lambda q: q.dry_run(tuple(dirs), None, None, None, (), (), (), None,
                                               False, fmt or "table", ()))


def _plain(arg: str) -> bool:
    """An argument click takes as a value: not empty, not an option, not ``--``."""
    return bool(arg) and not arg.startswith("-")


def _exists(path: str) -> bool:
    """As click.Path(exists=True) asks."""
    try:
        os.stat(path)
    except OSError:
        return False
    return True


def _cached(body: Callable[..., None]) -> None:
    """The body with the rules cache, as the click commands' ``cached_rules`` runs it."""
    from reminder.cli import quick
    from reminder.cli.rulecache import rule_cache

    with rule_cache(False):
        body(quick)


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        from reminder.cli.idle import SUMMARY, nothing_to_do

        if nothing_to_do(args):
            sys.stdout.write(SUMMARY + "\n")
            sys.exit(0)
    command = quick_command(args)
    if command is not None:
        from reminder.cli.echo import guarded

        guarded(lambda: _or_click(command))
    from reminder.cli.main import main as full

    full()


def _or_click(command: Callable[[], None]) -> None:
    """Run a quick command; a value click would refuse (found before anything was written)
    is left to the click CLI, which reports it in its own words."""
    try:
        command()
    except Exception as err:
        click = sys.modules.get("click")
        if click is None or not isinstance(err, click.ClickException):
            raise
    else:
        return
    from reminder.cli.main import main as full

    full()
