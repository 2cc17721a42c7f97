"""Sliding-window rate limits: one in-memory window (per process: the web's POST and login
limits, a dispatcher without a database) and the same window kept in the store, shared by
every daemon and `run --once` (the WeCom robot's 20 a minute)."""

from __future__ import annotations

import threading
import time as _time
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reminder.store import Store

Limit = tuple[int, float]  # (count, seconds)


class RateLimiter:
    """Sliding-window limit per key, on the real (monotonic) clock: the provider counts real
    seconds even when ``run --once --now`` simulates the date. Thread-safe: the web app
    calls it from its worker threads."""

    def __init__(self, clock: Callable[[], float] = _time.monotonic, *,
                 max_keys: int | None = None) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._sent: dict[Hashable, deque[float]] = {}
        self._lock = threading.RLock()
        self._longest = 0.0  # the longest window asked for: older entries count for nothing

    @property
    def keys(self) -> int:
        """How many keys are remembered (not __len__: an empty limiter must stay truthy)."""
        return len(self._sent)

    def _window(self, key: Hashable) -> deque[float]:
        sent = self._sent.get(key)
        if sent is None:
            if self.max_keys is not None and len(self._sent) >= self.max_keys:
                self._forget()
            sent = self._sent[key] = deque()
        return sent

    def _forget(self) -> None:
        """Make room for a key: drop the keys whose sends are all out of every window, then,
        if a flood of fresh keys fills the table, the oldest half (their limits restart:
        that is what a bounded table costs, and a ceiling over all keys covers it)."""
        now = self.clock()
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= now - self._longest]:
            del self._sent[key]
        if self.max_keys is not None and len(self._sent) >= self.max_keys:
            for key in list(self._sent)[: max(1, len(self._sent) // 2)]:
                del self._sent[key]

    def wait(self, key: Hashable, limit: Limit | None) -> float:
        if not limit:
            return 0.0
        count, seconds = limit
        with self._lock:
            self._longest = max(self._longest, seconds)
            sent = self._window(key)
            now = self.clock()
            while sent and sent[0] <= now - seconds:
                sent.popleft()
            return 0.0 if len(sent) < count else sent[0] + seconds - now

    def record(self, key: Hashable) -> None:
        with self._lock:
            self._window(key).append(self.clock())

    def acquire(self, key: Hashable, limit: Limit | None) -> float:
        """Take a slot (0.0) or say how long until one frees up (nothing taken)."""
        with self._lock:
            wait = self.wait(key, limit)
            if wait <= 0:
                self.record(key)
            return wait

    def acquire_many(self, windows: list[tuple[Hashable, Limit]]) -> float:
        """A slot in every window, or none: the longest wait when any is full."""
        with self._lock:
            wait = max((self.wait(key, limit) for key, limit in windows), default=0.0)
            if wait <= 0:
                for key in dict.fromkeys(key for key, _ in windows):
                    self.record(key)
            return wait

    def block(self, key: Hashable, limit: Limit, until_in: float) -> None:
        """No slot for ``key`` for the next ``until_in`` seconds (the provider blocked it)."""
        count, seconds = limit
        with self._lock:
            self._longest = max(self._longest, seconds)
            sent = self._window(key)
            sent.clear()
            sent.extend([self.clock() + until_in - seconds] * count)

    def done(self, key: Hashable) -> None:
        """The send of the slot taken last has finished: count the window from now."""
        with self._lock:
            sent = self._sent.get(key)
            if sent:
                sent[-1] = max(sent[-1], self.clock())


class StoreRateLimiter:
    """The same window kept in the database (``rate_windows``), so the limit holds across
    restarts, `run --once` runs and several daemons; on the real epoch clock, which every
    process shares."""

    def __init__(self, store: Store, clock: Callable[[], float] = _time.time) -> None:
        self.store = store
        self.clock = clock
        self._taken: dict[tuple[str, str], float] = {}

    def acquire(self, key: tuple[str, str], limit: Limit | None) -> float:
        if not limit:
            return 0.0
        count, seconds = limit
        now = self.clock()
        wait = float(self.store.take_slot(":".join(key), count, seconds, now))
        if wait <= 0:
            self._taken[key] = now
        return wait

    def done(self, key: tuple[str, str]) -> None:
        """Re-date the slot to the end of its send: the provider counts arrivals, which a
        slow send puts later than the moment the slot was taken."""
        if (taken := self._taken.pop(key, None)) is not None:
            self.store.move_slot(":".join(key), taken, self.clock())

    def acquire_many(self, windows: list[tuple[tuple[str, str], Limit]]) -> float:
        """A slot in every window at once, or none (see ``Store.take_slots``)."""
        now = self.clock()
        wait = float(self.store.take_slots(
            [(":".join(key), count, seconds) for key, (count, seconds) in windows], now))
        if wait <= 0:
            for key, _ in windows:
                self._taken[key] = now
        return wait

    def block(self, key: tuple[str, str], limit: Limit, until_in: float) -> None:
        """No slot for ``key`` in any process for the next ``until_in`` seconds."""
        count, seconds = limit
        self.store.block_route(":".join(key), count, seconds, self.clock() + until_in)
