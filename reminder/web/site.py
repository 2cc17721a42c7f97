"""What the routes share: config, store, links, loaded plans, the POST rate limit, and telling
the coordinator about a difficulty."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reminder.delivery.channels.base import Message
from reminder.delivery.ratelimit import RateLimiter, StoreRateLimiter
from reminder.delivery.render.environment import md_safe

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.delivery.channels.base import Channel
    from reminder.plan.cache import PlanCache
    from reminder.store import Store

log = logging.getLogger("reminder.web")


class RateLimit:
    """At most ``limit`` requests per ``window`` seconds per key, and at most ``total`` for
    all keys together (None: no ceiling): a leaked or scripted link cannot flood the store or
    the coordinator's inbox, and guesses spread over many addresses still meet the ceiling.
    At most ``max_keys`` keys are remembered, so a stream of new addresses cannot grow it."""

    def __init__(self, limit: int = 30, window: float = 60.0, *, total: int | None = None,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.total = limit, window, total
        self._keys = RateLimiter(clock, max_keys=max_keys)
        self._all = RateLimiter(clock)  # one key: the ceiling, never evicted
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take a slot for ``key`` and one of the ceiling; False, taking nothing, when either
        is used up."""
        with self._lock:
            if self.total is not None and self._all.wait("all", (self.total, self.window)) > 0:
                return False
            if self._keys.acquire(key, (self.limit, self.window)) > 0:
                return False
            if self.total is not None:
                self._all.record("all")
            return True

    @property
    def keys(self) -> int:
        return self._keys.keys


class Site:
    def __init__(self, config: Config, store: Store, links: Any, *, plans: PlanCache,
                 channels: Callable[[], dict[str, Any]],
                 clock: Callable[[], datetime] | None = None, rate: RateLimit | None = None,
                 login_rate: RateLimit | None = None) -> None:
        self.config, self.store, self.links = config, store, links
        self.plans = plans
        self._build_channels = channels
        self._channels: dict[str, Channel] | None = None
        self.clock = clock or (lambda: datetime.now(config.tz))
        self.rate = rate or RateLimit(total=600)
        # Password guesses: a few per client, and a ceiling for all clients together (60 in
        # 5 minutes: an office's logins, not a dictionary).
        self.login_rate = login_rate or RateLimit(limit=5, window=300.0, total=60)
        # Each password check takes scrypt's 128 MiB: two at a time at most, the rest wait
        # their turn (cheaply, in the event loop) instead of each holding its own 128 MiB.
        self.password_checks = asyncio.Semaphore(2)
        # The robots' 20 posts a minute are the daemon's window in the store (rate_windows):
        # what the web posts counts in it too.
        self.robot_limit = StoreRateLimiter(store) if hasattr(store, "take_slot") else None

    def now(self) -> datetime:
        return self.clock()

    def plan(self, plan_id: str) -> Any | None:
        """The plan folder of that id as its files are now; None when unknown or broken (the
        page then says so instead of failing)."""
        return self.plans.get(plan_id, warn=lambda text: log.warning("%s：%s", plan_id, text))

    def password_hash(self) -> str | None:
        """The board password's hash from the secrets file ([web] password_hash), read anew
        each time so a new password applies at once; None when there is none or the file
        cannot be read (the admin link still works; the error is logged, not shown)."""
        from reminder.config import read_secrets
        from reminder.errors import ConfigError

        try:
            web = read_secrets(self.config).get("web")
        except ConfigError as exc:
            log.error("无法读取看板密码：%s", exc)
            return None
        value = web.get("password_hash") if isinstance(web, dict) else None
        return value if isinstance(value, str) and value else None

    def channels(self) -> dict[str, Any]:
        if self._channels is None:
            self._channels = self._build_channels()
        return self._channels

    def tell_coordinator(self, plan: Any, subject: str, text: str) -> bool:
        """Send at once to the plan's coordinator (else the admin contact)."""
        contact = (plan.contact(plan.coordinator) if plan.coordinator else None) or self.config.admin
        return self.tell(contact, subject, text)

    def tell(self, contact: Any, subject: str, text: str) -> bool:
        """Send one message now to a contact's e-mail and WeCom robot; False when nothing was
        delivered. A failure is logged, never shown to the person who acted as an error.

        What a unit typed goes into WeCom through md_safe, like every digest: a note must
        not mention the whole group or turn into a link. A robot without a free slot in its
        window (shared with the daemon) is skipped: the feedback is stored and on the board."""
        sent = False
        try:
            channels = self.channels()
        except Exception as exc:  # a missing secret: the feedback itself is already stored
            log.error("无法发送通知（渠道配置错误）：%s", exc)
            return False
        targets: list[tuple[str, Message]] = []
        if contact.email and "email" in channels:
            targets.append(("email", Message(subject=subject, text=text, to=tuple(contact.email))))
        if contact.wecom and "wecom" in channels:
            line = md_safe(" ".join(text.split()))
            targets.append(("wecom", Message(subject=md_safe(subject), text=line,
                                             markdown=f"**{md_safe(subject)}**\n> {line}",
                                             to=(contact.wecom,),
                                             mentions=tuple(contact.wecom_users))))
        for kind, message in targets:
            channel = channels[kind]
            key = (kind, str(channel.rate_key(message)))
            limit = getattr(channel, "rate_limit", None)
            if limit and self.robot_limit is not None:
                try:
                    wait = self.robot_limit.acquire(key, limit)
                except Exception as exc:  # the database is down: do not post unmetered
                    log.error("通知未发送（%s）：无法读取发送频率窗口：%s", kind, exc)
                    continue
                if wait > 0:
                    log.warning("通知未发送（%s）：%s 已达发送频率上限，%.0f 秒后才有空位",
                                kind, message.to[0] if message.to else kind, wait)
                    continue
            try:
                result = channel.send(message)
            except Exception as exc:
                log.error("通知发送失败（%s）：%s", kind, exc)
                continue
            finally:
                if limit and self.robot_limit is not None:
                    self.robot_limit.done(key)
            if result.status == "ok":
                sent = True
            else:
                log.error("通知发送失败（%s）：%s %s", kind, result.provider_code, result.detail)
        return sent
