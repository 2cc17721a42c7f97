"""The one place that turns a Config into working parts: the store, the channels with their
secrets, the link signer, the digest renderer with the offices' names, and the plan cache.

The CLI, the daemon and the web app take these parts from here instead of building their
own, so a second copy of a plan cache or a channel set cannot creep in. Heavy modules are
imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reminder.config import Config, read_secrets, secret_value, web_secret

if TYPE_CHECKING:
    from reminder.answerback.links import Links
    from reminder.delivery.channels.base import Channel
    from reminder.plan.cache import PlanCache


def load(path: Path | None) -> Config:
    """The deployment's config.toml: the given path, else the usual places."""
    from reminder.config import load_config, require_config

    return load_config(require_config(path))


def now(config: Config) -> datetime:
    """The moment in the office's timezone; only the CLI and the daemon read the clock."""
    return datetime.now(config.tz)


def open_store(config: Config, **options: Any) -> Any:
    from reminder.store import open_store as _open

    return _open(config.database_url, timezone=config.timezone, **options)


def build_links(config: Config, environ: Mapping[str, str] | None = None) -> Links | None:
    """The link signer of a deployment with [web]; None without it (messages then carry
    no links)."""
    if config.web is None:
        return None
    from reminder.answerback.links import Links

    # A short secret is refused here, so run, serve and doctor all stop on it (exit 2).
    secret = web_secret(config, environ)
    return Links(secret, base_url=config.web.url, max_age_days=config.web.link_days)


def build_channels(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Channel objects by channel name ("email", "wecom") with their secrets resolved."""
    environ = os.environ if environ is None else environ
    secrets = read_secrets(config, environ)
    channels: dict[str, Channel] = {}
    if config.email is not None:
        from reminder.delivery.channels.email import EmailChannel

        e = config.email
        password = None
        if e.username:
            password = secret_value(config, e.password_env, "smtp", "password", secrets, environ,
                                    "channels.email.password_env")
        channels["email"] = EmailChannel(
            host=e.host, port=e.port, security=e.security, username=e.username,
            password=password, sender=e.sender, sender_name=e.sender_name, timeout=e.timeout)
    if config.wecom is not None:
        from reminder.delivery.channels.wecom import WeComChannel

        w = config.wecom
        keys = {name: secret_value(config, env, "wecom", name, secrets, environ,
                                   f"channels.wecom.robots.{name}.key_env")
                for name, env in w.robots.items()}
        channels["wecom"] = WeComChannel(robots=keys, base_url=w.base_url, fmt=w.fmt,
                                         timeout=w.timeout)
    return channels


def plan_cache(config: Config) -> PlanCache:
    from reminder.plan.cache import PlanCache

    return PlanCache(config.plan_folders, rules=config.rules, contacts=config.contacts,
                     timezone=config.timezone, source=config.path)


def office_name(config: Config) -> str:
    """The deployment's own name for messages not about one plan (the admin's failure
    report, test-channel): config sender_name, else the e-mail sender's display name."""
    return config.sender_name or (config.email.sender_name if config.email else "")


class Offices:
    """plan id -> (sender, coordinator): whose reminders a plan's messages say they are.

    From the plan's ``sender_name``, else the config's ``sender_name`` or the e-mail sender's
    display name, else the plan's coordinator; read from the shared plan cache, so a plan is
    re-read only when its files change."""

    def __init__(self, config: Config, plans: PlanCache) -> None:
        self.fallback = office_name(config)
        self.plans = plans

    def __call__(self, plan_id: str) -> tuple[str, str]:
        plan = self.plans.get(plan_id)
        coordinator = (plan.coordinator if plan else None) or ""
        sender = (plan.sender_name if plan else "") or self.fallback or coordinator
        return sender, coordinator


def digest_renderer(config: Config, plans: PlanCache | None = None) -> Callable[..., list[Any]]:
    """render_digest with the deployment's links (when [web] is configured) and office names."""
    from reminder.delivery.render.messages import render_digest

    links = build_links(config)  # fails fast when [web] has no secret
    return partial(render_digest, office=Offices(config, plans or plan_cache(config)),
                   link=links.unit_url if links is not None else None)
