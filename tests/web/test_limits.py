"""The web's rate limits (issue 20 §5): a key per client or link, a ceiling for all keys
together, and a bounded table of keys, however many addresses a flood comes from."""

from __future__ import annotations

from reminder.delivery.ratelimit import RateLimiter
from reminder.web.site import RateLimit


def test_the_ceiling_holds_for_all_keys_together_and_a_refusal_takes_nothing() -> None:
    clock = [0.0]
    limit = RateLimit(limit=2, window=60, total=5, clock=lambda: clock[0])
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]
    assert [limit.allow(f"k{i}") for i in range(4)] == [True, True, True, False]
    assert not limit.allow("fresh")  # the ceiling: 5 in the window, whoever asks
    clock[0] += 60
    assert limit.allow("a") and limit.allow("fresh")


def test_a_flood_of_new_keys_keeps_the_table_bounded() -> None:
    clock = [0.0]
    limit = RateLimit(limit=5, window=300, max_keys=1_000, clock=lambda: clock[0])
    for i in range(50_000):
        clock[0] += 0.001
        limit.allow(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert limit.keys <= 1_000


def test_keys_whose_window_has_passed_are_forgotten_first() -> None:
    clock = [0.0]
    limiter = RateLimiter(lambda: clock[0], max_keys=3)
    for key in ("old-1", "old-2"):
        limiter.acquire(key, (1, 10))
    clock[0] = 5
    limiter.acquire("recent", (1, 10))
    clock[0] = 12  # old-1 and old-2 are out of their window, recent is not
    limiter.acquire("new", (1, 10))
    assert limiter.keys == 2
    assert limiter.acquire("recent", (1, 10)) > 0  # still limited: not forgotten
