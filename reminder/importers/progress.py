"""Progress of a reader through a long document (pages of a PDF or a scan), shown by the
import's progress bar when there is one; readers call ``start`` and ``step`` regardless."""

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


def start(total: int, label: str) -> None:
    tick = _TICK.get()
    if tick is not None:
        tick(total, label)


def step() -> None:
    tick = _TICK.get()
    if tick is not None:
        tick(0, "")
