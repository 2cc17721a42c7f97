"""The board's password: only its salted scrypt hash is kept, in the secrets file's
``[web] password_hash``; standard library only, so `reminder web-password` starts fast.

The stored form is ``scrypt$N$r$p$salt$hash`` (salt and hash in URL-safe base64): the cost
travels with the hash, so raising it later leaves earlier hashes checkable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P, DKLEN = 2**14, 8, 1, 32  # 16 MiB and a few tens of milliseconds per check
MIN_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for a malformed or unknown form (never
    an exception: a hand-edited secrets file must not turn a login into a 500)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(expected), maxmem=2**27)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def well_formed(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(parts[1:])


def stamp(stored: str) -> str:
    """A short fingerprint of the stored hash, kept in the board's session: a new password
    ends every session opened with the old one."""
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:12]
