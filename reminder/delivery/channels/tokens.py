"""Access tokens a provider hands out for a while, shared by every process of a deployment.

A WeCom app's token comes from ``gettoken`` and lasts ``expires_in`` seconds (7,200 today).
Each process fetching its own wastes WeCom's gettoken quota and, worse, a process never learns
of a token refreshed elsewhere; so the token lives in the store (``channel_tokens``) and every
daemon, `run --once` and `test-channel` reads it there first.

The database must never hold a usable secret, so the token is sealed under the app's own
secret before it is stored: an HMAC-SHA256 keystream (the standard library has no AES) with
an HMAC tag. Only a process that knows the app secret can read it back; a rotated secret just
makes the stored token unreadable, and a fresh one is fetched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from typing import Protocol

NONCE = 16
TAG = 16


class TokenStore(Protocol):
    """What the store offers (``reminder.store.tokens``); tests and `doctor` use memory."""

    def token(self, name: str) -> tuple[str, float] | None: ...

    def put_token(self, name: str, sealed: str, expires_at: float) -> None: ...

    def drop_token(self, name: str, sealed: str | None = None) -> bool: ...


class MemoryTokens:
    """A TokenStore for one process (no database at hand)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, name: str) -> tuple[str, float] | None:
        with self._lock:
            return self._tokens.get(name)

    def put_token(self, name: str, sealed: str, expires_at: float) -> None:
        with self._lock:
            held = self._tokens.get(name)
            if held is None or expires_at >= held[1]:
                self._tokens[name] = (sealed, expires_at)

    def drop_token(self, name: str, sealed: str | None = None) -> bool:
        with self._lock:
            held = self._tokens.get(name)
            if held is None or (sealed is not None and held[0] != sealed):
                return False
            del self._tokens[name]
            return True


def _keys(secret: str) -> tuple[bytes, bytes]:
    root = hashlib.sha256(b"reminder-channel-token\x00" + secret.encode("utf-8")).digest()
    return (hmac.new(root, b"stream", hashlib.sha256).digest(),
            hmac.new(root, b"tag", hashlib.sha256).digest())


def _stream(key: bytes, nonce: bytes, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return bytes(out[:size])


def seal(token: str, secret: str) -> str:
    """``token`` encrypted and authenticated under ``secret``, as ASCII for a Text column."""
    stream_key, tag_key = _keys(secret)
    nonce = os.urandom(NONCE)
    data = token.encode("utf-8")
    body = bytes(a ^ b for a, b in zip(data, _stream(stream_key, nonce, len(data)), strict=True))
    tag = hmac.new(tag_key, nonce + body, hashlib.sha256).digest()[:TAG]
    return base64.urlsafe_b64encode(nonce + tag + body).decode("ascii")


def unseal(sealed: str, secret: str) -> str | None:
    """The token, or None when ``sealed`` was not made with ``secret`` (or is damaged)."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    if len(raw) < NONCE + TAG:
        return None
    nonce, tag, body = raw[:NONCE], raw[NONCE:NONCE + TAG], raw[NONCE + TAG:]
    stream_key, tag_key = _keys(secret)
    if not hmac.compare_digest(tag, hmac.new(tag_key, nonce + body, hashlib.sha256).digest()[:TAG]):
        return None
    data = bytes(a ^ b for a, b in zip(body, _stream(stream_key, nonce, len(body)), strict=True))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
