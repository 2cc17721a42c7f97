"""The key a plan's sync is stored under: what went into it, as one digest.

Light on purpose (hashlib and the standard library only): `run --once` computes the same keys
before SQLAlchemy is imported (reminder/cli/idle.py) to see whether anything changed, and
the daemon computes them after loading the plans (reminder/delivery/daemon.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from reminder.config import Config


def deployment(config: Config, channels: Iterable[str]) -> str:
    """What of the deployment shapes planning and routing: the version and the shipped
    rules, the configured channels and robots, the timezone and the planning window."""
    from reminder import __version__
    from reminder.plan.cache import fingerprint as folder_mark
    from reminder.resources import data_dir

    robots = sorted(config.wecom.robots) if config.wecom is not None else []
    if config.dingtalk is not None:
        robots += [f"dingtalk:{r}" for r in sorted(config.dingtalk.robots)]
    return repr((__version__, folder_mark(data_dir("rules")), (sorted(channels), robots),
                 config.timezone, config.window_days))


def plan_inputs(plan_id: str, mark: str, today: date, broken: bool,
                facts: tuple[Any, ...]) -> tuple[Any, ...]:
    """One plan's part of ``facts`` (done, events, held channels, reported, signed,
    extended: see ``Daemon._facts``) beside its folder mark: the inputs of its sync, the same
    whether computed before the plan loads (`run --once`) or after."""
    done, events, held, reported, signed, extended = facts
    return (mark, today, broken,
            frozenset(d for d in done if d[0] == plan_id),
            frozenset((k, v) for k, v in events.items() if k[0] == plan_id), held,
            frozenset(r for r in reported if r[0] == plan_id),
            frozenset(x for x in signed if x[0] == plan_id),
            frozenset((k, v) for k, v in extended.items() if k[0] == plan_id))


def sync_key(inputs: tuple[Any, ...], deployment: str) -> str:
    """The inputs of one plan's sync as one digest, the same in every process: the plan
    folder (and 通讯录), the day, whether it is broken, its completions and events, and
    ``deployment`` (kept in the plan's row)."""
    fingerprint, today, broken, done, events, held, reported, signed, extended = inputs
    raw = repr((fingerprint, today.isoformat(), broken,
                sorted((d[1], d[2].isoformat()) for d in done),
                sorted((k[1], v.isoformat()) for k, v in events), sorted(held),
                deployment)) + (repr(sorted((r[1], r[2].isoformat()) for r in reported))
                                if reported else "") + (
        repr((sorted(x[1:] for x in signed),
              sorted((k[1], k[2].isoformat(), v.isoformat()) for k, v in extended)))
        if signed or extended else "")
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
