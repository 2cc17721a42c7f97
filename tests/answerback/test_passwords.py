"""The board password's hash: the cost travels in the stored string, new hashes use N=2^17,
hashes made before the raise still verify, and a malformed or over-costly hash is one refusal
(False and one warning), never an exception."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest

from reminder.answerback import passwords
from reminder.answerback.passwords import check_password, hash_password, well_formed

# Made by the code before N was raised (N=2^14, maxmem 2^27), with
# hash_password("旧口令 old-pass 1"): secrets files in use hold hashes like this one.
OLD_PASSWORD = "旧口令 old-pass 1"
OLD_HASH = "scrypt$16384$8$1$1Z32tpAr42oTY9m2X7cLfw$1zIW3zPMXHAS2zz0jH_gSLwUMdGRtpWW0aLc4WKfQIM"
PASSWORD = "督办看板-2026"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def test_a_hash_made_before_the_raise_still_verifies() -> None:
    assert check_password(OLD_PASSWORD, OLD_HASH)
    assert not check_password(OLD_PASSWORD + " ", OLD_HASH)
    assert not check_password("", OLD_HASH)
    assert well_formed(OLD_HASH)


def test_a_new_hash_carries_n_2_17_and_its_salt() -> None:
    stored = hash_password(PASSWORD)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert len(base64.urlsafe_b64decode(salt + "==")) == 16
    assert len(base64.urlsafe_b64decode(digest + "==")) == 32
    assert check_password(PASSWORD, stored)
    assert not check_password(PASSWORD.upper() + "x", stored)
    assert well_formed(stored)
    assert hash_password(PASSWORD) != stored  # a fresh salt each time


def test_maxmem_follows_the_parameters_in_the_hash() -> None:
    # N=2^17, r=8 needs just over 128 MiB: a fixed maxmem of 2^27 refused to check it.
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**17, r=8, p=1, dklen=32,
                            maxmem=2**28)
    stored = f"scrypt${2**17}$8$1${_b64(salt)}${_b64(digest)}"
    assert check_password(PASSWORD, stored)
    assert hash_password(PASSWORD, salt=salt) == stored


@pytest.mark.parametrize("stored", [
    pytest.param("hunter2", id="plain-password"),
    pytest.param("", id="empty"),
    pytest.param(OLD_HASH.replace("scrypt", "bcrypt"), id="other-scheme"),
    pytest.param(OLD_HASH + "$extra", id="seven-parts"),
    pytest.param(OLD_HASH.replace("$16384$", "$16000$"), id="n-not-power-of-two"),
    pytest.param(OLD_HASH.replace("$16384$", "$-16384$"), id="n-negative"),
    pytest.param(OLD_HASH.replace("$8$1$", "$0$1$"), id="r-zero"),
    pytest.param(OLD_HASH.replace("$8$1$", "$8$x$"), id="p-not-a-number"),
    pytest.param(OLD_HASH.replace("$8$1$", "$1$1$").replace("$16384$", "$131072$"),
                 id="n-beyond-scrypt-bound-for-r"),
    pytest.param(OLD_HASH.replace("1Z32tpAr42oTY9m2X7cLfw", "1Z32t"), id="salt-bad-base64"),
    pytest.param(OLD_HASH.replace("1Z32tpAr42oTY9m2X7cLfw", "密码"), id="salt-not-ascii"),
    pytest.param(OLD_HASH.rsplit("$", 1)[0] + "$AAAA", id="digest-too-short"),
    # A planted hash must not make a login ask for gigabytes or minutes.
    pytest.param(OLD_HASH.replace("$16384$", f"${2**24}$"), id="n-2-24-gigabytes"),
    pytest.param(OLD_HASH.replace("$8$1$", "$8$64$"), id="p-64-minutes"),
])
def test_a_malformed_or_hostile_hash_is_one_refusal(
        stored: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[dict] = []
    real = hashlib.scrypt
    monkeypatch.setattr(passwords.hashlib, "scrypt",
                        lambda *a, **kw: tried.append(kw) or real(*a, **kw))
    caplog.set_level(logging.WARNING)
    assert not well_formed(stored)
    assert check_password(OLD_PASSWORD, stored) is False
    assert tried == []  # refused from the form alone, before any scrypt work
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "password_hash 格式不对" in record.getMessage()
    assert "reminder web-password" in record.getMessage()
    assert OLD_PASSWORD not in caplog.text


def test_a_wrong_password_logs_nothing_here(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert not check_password("wrong password", OLD_HASH)
    assert caplog.records == []  # the login page logs the failure, with the client address
