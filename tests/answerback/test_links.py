"""Signed links: bound to kind, plan and unit; refused when tampered with, expired or signed
with another secret; logged by id, never by token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminder.answerback.links import LinkError, Links, link_id

BASE = "https://reminder.example.gov.cn/"


def links(secret: str = "s3cret", days: int = 60) -> Links:
    return Links(secret, base_url=BASE, max_age_days=days)


def test_round_trip_names_plan_unit_and_a_short_id_not_the_token() -> None:
    token = links().token("unit", "demo-2026", "法规科")
    grant = links().verify(token, "unit")
    assert (grant.kind, grant.plan, grant.unit) == ("unit", "demo-2026", "法规科")
    assert grant.link_id == link_id(token) and len(grant.link_id) == 10
    assert grant.link_id not in token


def test_urls_point_at_the_base_url_and_the_task() -> None:
    url = links().unit_url("demo-2026", "法规科", "5")
    assert url.startswith("https://reminder.example.gov.cn/u/") and url.endswith("#t-5")
    assert links().url("feed", "p", "法规科").endswith(".ics")
    assert links().url("admin", "p").startswith(BASE + "admin/")


def tamper(token: str) -> str:
    head, _, tail = token.rpartition(".")
    return f"{head}.{'A' if tail[0] != 'A' else 'B'}{tail[1:]}"


def swap_unit(token: str) -> str:
    # Replace the payload with another unit's, keeping the original signature.
    other = links().token("unit", "demo-2026", "财务科")
    return other.split(".")[0] + "." + ".".join(token.split(".")[1:])


@pytest.mark.parametrize("change, kind, verifier, now, reason", [
    (tamper, "unit", links(), None, "invalid"),
    (swap_unit, "unit", links(), None, "invalid"),
    (lambda t: t, "unit", links("rotated"), None, "invalid"),
    (lambda t: t, "admin", links(), None, "kind"),
    (lambda t: t, "unit", links(days=60), datetime.now(UTC) + timedelta(days=61), "expired"),
    (lambda t: t[:-3], "unit", links(), None, "invalid"),
], ids=["tampered-signature", "other-units-payload", "secret-rotated", "unit-link-as-admin",
        "expired-after-60-days", "truncated"])
def test_refused(change, kind, verifier, now, reason) -> None:  # type: ignore[no-untyped-def]
    token = links().token("unit", "demo-2026", "法规科")
    with pytest.raises(LinkError) as err:
        verifier.verify(change(token), kind, now=now)
    assert err.value.reason == reason


def test_still_valid_the_day_before_expiry() -> None:
    token = links(days=60).token("unit", "p", "u")
    assert links(days=60).verify(token, "unit", now=datetime.now(UTC) + timedelta(days=59))


def test_csrf_is_tied_to_the_link() -> None:
    signer = links()
    one = signer.verify(signer.token("unit", "p", "法规科"), "unit")
    other = signer.verify(signer.token("unit", "p", "财务科"), "unit")
    assert signer.check_csrf(signer.csrf(one), one)
    assert not signer.check_csrf(signer.csrf(one), other)
    assert not signer.check_csrf("forged", one)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        Links("", base_url=BASE)


@pytest.mark.parametrize("ahead, accepted", [
    (timedelta(days=1), False), (timedelta(days=400), False),
    (timedelta(minutes=2), True),  # a host whose clock runs a little fast
], ids=["1-day-ahead", "400-days-ahead", "2-minutes-ahead"])
def test_tokens_stamped_in_the_future_are_refused(monkeypatch: pytest.MonkeyPatch,
                                                  ahead: timedelta, accepted: bool) -> None:
    """Issue 20 §8: a token stamped ahead of the clock (a leaked secret signing links that
    would outlive their 60 days) is invalid, beyond a few minutes of clock drift."""
    from itsdangerous import TimestampSigner

    real = datetime.now(UTC)
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda self: int((real + ahead).timestamp()))
    token = links().token("unit", "demo-2026", "法规科")
    monkeypatch.undo()
    if accepted:
        assert links().verify(token, "unit", now=real).unit == "法规科"
    else:
        with pytest.raises(LinkError) as refused:
            links().verify(token, "unit", now=real)
        assert refused.value.reason == "invalid"
