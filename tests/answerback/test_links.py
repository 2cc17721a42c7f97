"""Signed links: bound to kind, plan and unit; refused when tampered with, expired or signed
with another secret; logged by id, never by token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reminder.answerback.links import LinkError, Links, link_id, verify_file

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
    (timedelta(minutes=5, seconds=30), False),  # just past the 5 minutes allowed
], ids=["1-day-ahead", "400-days-ahead", "2-minutes-ahead", "5½-minutes-ahead"])
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


# -- found by the mutation run of 2026-12-04 (docs/testing.md) ------------------------------

@pytest.mark.parametrize("name", [
    "../../etc/passwd", "AB" * 32, "ab" * 32 + "c", "ab" * 31, "ab" * 31 + "g0", "",
], ids=["path", "upper-case", "65-chars", "62-chars", "not-hex", "empty"])
def test_a_file_link_must_name_a_sha256(name: str) -> None:
    """A file link is served by the name it carries: only a lower-case SHA-256 may pass,
    never a path, even one signed with the deployment's own secret."""
    signer = links()
    token = signer.url("file", "demo-2026", name).rsplit("/", 1)[1]
    with pytest.raises(LinkError) as refused:
        verify_file(signer, token)
    assert refused.value.reason == "invalid"
    good = signer.url("file", "demo-2026", "0a" * 32).rsplit("/", 1)[1]
    assert verify_file(signer, good) == ("demo-2026", "0a" * 32)


@pytest.mark.parametrize("payload", [
    ["unit", "demo-2026"], ["unit", "demo-2026", 3], {"kind": "unit"}, "unit",
], ids=["two-parts", "unit-not-text", "a-mapping", "a-string"])
def test_a_signed_payload_of_the_wrong_shape_is_invalid_not_a_crash(payload: object) -> None:
    """Only this deployment can sign, but a payload of another shape (an older or newer
    version's links) must be refused as invalid, not raise IndexError into a 500."""
    from itsdangerous import URLSafeTimedSerializer

    token = URLSafeTimedSerializer("s3cret", salt="reminder-link").dumps(payload)
    with pytest.raises(LinkError) as refused:
        links().verify(token, "unit")
    assert refused.value.reason == "invalid"


def test_a_secret_of_16_characters_is_strong_and_15_is_not() -> None:
    assert Links("x" * 16, base_url=BASE).strong
    assert not Links("x" * 15, base_url=BASE).strong


def test_links_last_60_days_by_default() -> None:
    signer = Links("s3cret", base_url=BASE)
    token = signer.token("unit", "p", "u")
    start = datetime.now(UTC)
    assert signer.verify(token, "unit", now=start + timedelta(days=59, hours=23))
    with pytest.raises(LinkError) as refused:
        signer.verify(token, "unit", now=start + timedelta(days=60, hours=1))
    assert refused.value.reason == "expired"
