"""What the routes share: config, store, links, loaded plans, the POST rate limit, and telling
the coordinator about a difficulty."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reminder.delivery.channels.base import Message
from reminder.delivery.ratelimit import RateLimiter

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.delivery.channels.base import Channel
    from reminder.plan.cache import PlanCache
    from reminder.store import Store

log = logging.getLogger("reminder.web")


class RateLimit:
    """At most ``limit`` POSTs per ``window`` seconds per key (client and link): a leaked or
    scripted link cannot flood the store or the coordinator's inbox."""

    def __init__(self, limit: int = 30, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window = limit, window
        self._window = RateLimiter(clock)

    def allow(self, key: str) -> bool:
        return self._window.acquire(key, (self.limit, self.window)) <= 0


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
        self.rate = rate or RateLimit()
        # Password guesses: a few per client, and a ceiling for all clients together.
        self.login_rate = login_rate or RateLimit(limit=5, window=300.0)

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
        delivered. A failure is logged, never shown to the person who acted as an error."""
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
            targets.append(("wecom", Message(subject=subject, text=text,
                                             markdown=f"**{subject}**\n> {text}",
                                             to=(contact.wecom,),
                                             mentions=tuple(contact.wecom_users))))
        for kind, message in targets:
            try:
                result = channels[kind].send(message)
            except Exception as exc:
                log.error("通知发送失败（%s）：%s", kind, exc)
                continue
            if result.status == "ok":
                sent = True
            else:
                log.error("通知发送失败（%s）：%s %s", kind, result.provider_code, result.detail)
        return sent
