"""Signed links a unit (or the coordinator) opens from a reminder.

A token is an itsdangerous signature over (kind, plan, unit) with a timestamp: it is bound to
one plan and one unit, expires after ``max_age_days``, and stops working when the server secret
changes. Logs name a link by its ``link_id`` (a short hash), never by the token itself, since
the token is the key to the page.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer

Kind = Literal["unit", "admin", "feed", "file", "leader"]
# A leader's link names no plan: its page lists what was escalated to them across plans.
PATHS: dict[str, str] = {"unit": "u", "admin": "admin", "feed": "ics", "file": "f", "leader": "l"}
DEFAULT_DAYS = 60
# Clocks of two hosts behind one deployment (the daemon signs, the web checks) drift a little;
# a token stamped further ahead than this was not signed by this deployment's clock.
MAX_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class Grant:
    """What a valid token allows: one kind of page for one plan (and unit)."""

    kind: Kind
    plan: str
    unit: str
    link_id: str
    issued: datetime


class LinkError(Exception):
    """A token that is tampered with, expired, of another kind or signed with an old secret."""

    def __init__(self, reason: Literal["invalid", "expired", "kind"], link_id: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.link_id = link_id


def link_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:10]


def leader_anchor(plan: str, task: str) -> str:
    """The id of a task's card on the leader's page, which lists several plans."""
    return f"p-{plan}-t-{task}"


class Links:
    def __init__(self, secret: str, *, base_url: str, max_age_days: int = DEFAULT_DAYS) -> None:
        if not secret:
            raise ValueError("an empty secret would make every link forgeable")
        self._serializer = URLSafeTimedSerializer(secret, salt="reminder-link")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.max_age = timedelta(days=max_age_days)

    @property
    def strong(self) -> bool:
        """Long enough that the HMAC cannot be forged by guessing the secret."""
        return len(self._secret) >= 16

    def derived(self, purpose: str) -> str:
        """A key for ``purpose`` (the board's session cookie) from the server secret: it
        rotates with the secret, and knowing it reveals nothing about the link signatures."""
        return hmac.new(self._secret.encode("utf-8"), purpose.encode("utf-8"),
                        hashlib.sha256).hexdigest()

    def token(self, kind: Kind, plan: str, unit: str = "") -> str:
        return self._serializer.dumps([kind, plan, unit])

    def url(self, kind: Kind, plan: str, unit: str = "", *, anchor: str = "") -> str:
        suffix = ".ics" if kind == "feed" else ""
        fragment = f"#{quote(anchor)}" if anchor else ""
        return f"{self.base_url}/{PATHS[kind]}/{self.token(kind, plan, unit)}{suffix}{fragment}"

    def unit_url(self, plan: str, unit: str, task: str = "") -> str:
        return self.url("unit", plan, unit, anchor=f"t-{task}" if task else "")

    def leader_url(self, leader: str, plan: str = "", task: str = "") -> str:
        return self.url("leader", "", leader, anchor=leader_anchor(plan, task) if task else "")

    def verify(self, token: str, kind: Kind, *, now: datetime | None = None) -> Grant:
        """The grant of a token; LinkError when it must be refused. ``now`` is passed in so
        expiry is testable without waiting 60 days."""
        ident = link_id(token)
        try:
            payload, stamp = self._serializer.loads(token, return_timestamp=True)
        except BadSignature:
            raise LinkError("invalid", ident) from None
        if not (isinstance(payload, list) and len(payload) == 3
                and all(isinstance(p, str) for p in payload)):
            raise LinkError("invalid", ident)
        if payload[0] != kind:
            raise LinkError("kind", ident)
        issued = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        # Stamps are on the real clock whatever date the pages simulate (``now``), so the
        # future is judged by it: only a leaked secret or a wrong clock stamps ahead of it.
        if issued - datetime.now(UTC) > MAX_SKEW:
            raise LinkError("invalid", ident)
        if (now or datetime.now(UTC)) - issued > self.max_age:
            raise LinkError("expired", ident)
        return Grant(kind=kind, plan=payload[1], unit=payload[2], link_id=ident, issued=issued)

    def csrf(self, grant: Grant) -> str:
        """The form token of a page: ties a POST to the link the page was opened with."""
        return self._serializer.dumps(grant.link_id, salt="reminder-csrf")

    def check_csrf(self, value: str, grant: Grant) -> bool:
        try:
            return bool(self._serializer.loads(value, salt="reminder-csrf") == grant.link_id)
        except BadSignature:
            return False


def file_url(links: Links, plan: str, sha256: str) -> str:
    """The signed link to one 佐证材料 of ``plan``: it names the file by its hash (never a
    path), expires like every link, and a changed signature is refused (``verify_file``)."""
    return links.url("file", plan, sha256)


def verify_file(links: Links, token: str, *, now: datetime | None = None) -> tuple[str, str]:
    """(plan, sha256) of a file link; LinkError when tampered with, expired or another kind."""
    grant = links.verify(token, "file", now=now)
    if len(grant.unit) != 64 or any(c not in "0123456789abcdef" for c in grant.unit):
        raise LinkError("invalid", grant.link_id)
    return grant.plan, grant.unit
