"""Provider tokens kept in the store (channel_tokens), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from reminder.store import Store


def test_the_longer_lasting_token_wins_and_a_stale_drop_leaves_a_fresh_one(store: Store) -> None:
    assert store.token("app") is None
    store.put_token("app", "sealed-1", 1000.0)
    store.put_token("app", "sealed-0", 900.0)  # a slower rival's older fetch: ignored
    assert store.token("app") == ("sealed-1", 1000.0)
    store.put_token("app", "sealed-2", 1100.0)
    # A process refused with sealed-1 drops only that one, not the fresh token stored since.
    assert store.drop_token("app", "sealed-1") is False
    assert store.token("app") == ("sealed-2", 1100.0)
    assert store.drop_token("app", "sealed-2") is True
    assert store.token("app") is None
    store.put_token("app", "sealed-3", 50.0)  # after a drop, any token is taken
    assert store.token("app") == ("sealed-3", 50.0)


def test_a_block_fills_the_window_until_it_ends(store: Store) -> None:
    store.block_route("dingtalk:群", 20, 60.0, until=1600.0)
    assert store.take_slot("dingtalk:群", 20, 60.0, 1000.0) == pytest.approx(600.0)
    assert store.take_slot("dingtalk:群", 20, 60.0, 1599.0) == pytest.approx(1.0)
    assert store.take_slot("dingtalk:群", 20, 60.0, 1600.0) == 0
