"""Progress of a reader through a long document (pages of a PDF or a scan), shown by the
import's progress bar when there is one; readers call ``start`` and ``step`` regardless.

Readers run in a bounded child process (safety.run_bounded): there ``forward`` sends each
report up the pipe, and the parent hands it to the bar with ``relay``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Tick = Callable[[int | None, str], None]  # tick(total, label) starts a stage; tick(0, "") steps

_TICK: ContextVar[Tick | None] = ContextVar("reminder_import_tick", default=None)


@contextmanager
def reporting(tick: Tick) -> Iterator[None]:
    token = _TICK.set(tick)
    try:
        yield
    finally:
        _TICK.reset(token)


def forward(send: Tick) -> None:
    """In the reading child: reports go to ``send`` (the pipe), not the parent's bar."""
    _TICK.set(send)


def relay(total: int | None, label: str) -> None:
    """In the parent: a report that came up the pipe."""
    tick = _TICK.get()
    if tick is not None:
        tick(total, label)


def start(total: int, label: str) -> None:
    relay(total, label)


def step() -> None:
    relay(0, "")
