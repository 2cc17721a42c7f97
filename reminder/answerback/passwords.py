"""The board's password: only its salted scrypt hash is kept, in the secrets file's
``[web] password_hash``; standard library only, so `reminder web-password` starts fast.

The stored form is ``scrypt$N$r$p$salt$hash`` (salt and hash in URL-safe base64): the cost
travels with the hash, so raising it later leaves earlier hashes checkable. Hashes made before
the cost was raised (N=2^14) still verify; a new password gets the current cost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from typing import NamedTuple

log = logging.getLogger("reminder.web")

# N=2^17 is the current recommended minimum for scrypt (OWASP); it takes 128 MiB and a few
# tenths of a second per check, and only a login or `reminder web-password` pays it.
N, R, P, DKLEN = 2**17, 8, 1, 32
MIN_LENGTH = 8
# A stored hash names its own cost, so a mistyped or planted one could ask a login for
# gigabytes or minutes: refuse anything above twice today's memory or work.
MAX_MEMORY = 2 * 128 * R * (N + 2 + P)
MAX_WORK = 2 * N * R * P

_FORM = re.compile(r"scrypt\$([0-9]{1,10})\$([0-9]{1,4})\$([0-9]{1,4})\$([A-Za-z0-9_-]+)"
                   r"\$([A-Za-z0-9_-]+)")


class _Params(NamedTuple):
    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _memory(n: int, r: int, p: int) -> int:
    """Bytes OpenSSL's scrypt asks for (its V and B arrays): what ``maxmem`` must allow."""
    return 128 * r * (n + 2 + p)


def _parse(stored: str) -> _Params | None:
    """The parameters of a stored hash, or None when it is not one this module can check
    within MAX_MEMORY and MAX_WORK."""
    match = _FORM.fullmatch(stored)
    if match is None:
        return None
    n, r, p = (int(x) for x in match.group(1, 2, 3))
    try:
        salt, digest = _unb64(match.group(4)), _unb64(match.group(5))
    except ValueError:  # binascii.Error: a length base64 cannot have
        return None
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or not salt or not 16 <= len(digest) <= 64:
        return None
    if n.bit_length() - 1 >= 16 * r:  # scrypt's own bound: N < 2^(16r)
        return None
    if _memory(n, r, p) > MAX_MEMORY or n * r * p > MAX_WORK:
        return None
    return _Params(n, r, p, salt, digest)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=DKLEN,
                            maxmem=_memory(N, R, P))
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; False for a malformed or unknown form, with
    one warning that says what to do (never an exception: a hand-edited secrets file must not
    turn a login into a 500)."""
    params = _parse(stored) if isinstance(stored, str) else None
    try:
        if params is not None:
            got = hashlib.scrypt(password.encode("utf-8"), salt=params.salt, n=params.n,
                                 r=params.r, p=params.p, dklen=len(params.digest),
                                 maxmem=_memory(params.n, params.r, params.p))
            return hmac.compare_digest(got, params.digest)
    except ValueError:  # OpenSSL's own limits, e.g. N must stay below 2^(16r)
        pass
    log.warning("密钥文件中的 [web] password_hash 格式不对（或代价超出上限），无法登录；"
                "运行 reminder web-password 重新设置")
    return False


def well_formed(stored: str) -> bool:
    """Whether ``stored`` is a hash `check_password` can check (the old N=2^14 form and the
    current one alike); `reminder doctor` reports it."""
    return _parse(stored) is not None


def stamp(stored: str) -> str:
    """A short fingerprint of the stored hash, kept in the board's session: a new password
    ends every session opened with the old one."""
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:12]
