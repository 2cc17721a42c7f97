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
    if config.wecom_app is not None:
        from reminder.delivery.channels.wecom_app import WeComAppChannel

        a = config.wecom_app
        secret = secret_value(config, a.secret_env, "wecom_app", "secret", secrets, environ,
                              "channels.wecom_app.secret_env")
        channels["wecom_app"] = WeComAppChannel(
            corpid=a.corpid, secret=secret, agentid=a.agentid, app_name=a.app_name,
            base_url=a.base_url, fmt=a.fmt, timeout=a.timeout,  # type: ignore[arg-type]
            daily_cap=a.daily_cap)
        channels["wecom_app"].quiet = a.quiet
    if config.dingtalk is not None:
        channels["dingtalk"] = _dingtalk(config, secrets, environ)
    if config.sms is not None:
        channels["sms"] = _gateway(config, secrets, environ)
    return channels


def _dingtalk(config: Config, secrets: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    from reminder.delivery.channels.dingtalk import DingTalkChannel, DingTalkRobot

    d = config.dingtalk
    assert d is not None
    robots = {}
    for name, spec in d.robots.items():
        # [dingtalk.<robot>] token / secret in the secrets file, when not in the environment
        own = secrets.get("dingtalk", {}).get(name) if isinstance(secrets.get("dingtalk"), dict) else None
        scoped = {"robot": own if isinstance(own, dict) else {}}
        place = f"channels.dingtalk.robots.{name}"
        token = secret_value(config, spec.token_env, "robot", "token", scoped, environ,
                             f"{place}.token_env")
        secret = None
        if spec.secret_env or "secret" in scoped["robot"]:
            secret = secret_value(config, spec.secret_env, "robot", "secret", scoped, environ,
                                  f"{place}.secret_env")
        robots[name] = DingTalkRobot(access_token=token, secret=secret, keyword=spec.keyword)
    channel = DingTalkChannel(robots, base_url=d.base_url, timeout=d.timeout)
    channel.quiet = d.quiet
    return channel


def _gateway(config: Config, secrets: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    """The SMS gateway, with each header value "secret:NAME" and each name of its
    ``secrets`` table read from the environment variable NAME or the secrets file's [sms]
    NAME."""
    from reminder.delivery.channels.gateway import GatewayChannel

    g = config.sms
    assert g is not None
    headers, hidden = {}, []
    for header, value in g.headers.items():
        if value.startswith("secret:"):
            name = value.removeprefix("secret:").strip()
            value = secret_value(config, name, "sms", name, secrets, environ,
                                 f"channels.sms.headers.{header}")
            hidden.append(value)
        headers[header] = value
    body_secrets = {key: secret_value(config, name, "sms", name, secrets, environ,
                                      f"channels.sms.secrets.{key}")
                    for key, name in g.secrets.items()}
    channel = GatewayChannel(
        url=g.url, method=g.method, headers=headers, body=g.body, body_format=g.body_format,
        success_status=g.success_status, success_path=g.success_path,
        success_value=g.success_value, timeout=g.timeout,
        secrets=[*hidden, *body_secrets.values()], body_secrets=body_secrets)
    channel.quiet = g.quiet
    return channel


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


class Readers(Offices):
    """What a message needs of the plans beyond its notices: the office it speaks for, each
    task's whole title, responsible units and latest 批示 (from the store, when given), and
    the link that opens the reader's own view at the task: a unit its page, the
    coordinator the board, a leader the leader's page across plans."""

    def __init__(self, config: Config, plans: PlanCache, links: Links | None = None,
                 store: Any = None) -> None:
        super().__init__(config, plans)
        self.config, self.links, self.store = config, links, store

    def role(self, plan_id: str, recipient: str, task: str) -> str:
        from reminder.plan.planner import reader_role

        plan = self.plans.get(plan_id)
        return reader_role(plan, recipient, task) if plan is not None and task else "unit"

    def facts(self, plan_id: str, task_id: str, recipient: str) -> Any:
        from reminder.delivery.render.digest import TaskFacts
        from reminder.plan.occurrences import effective_task
        from reminder.plan.planner import reader_role

        plan = self.plans.get(plan_id)
        raw = plan.task(task_id) if plan is not None and not task_id.startswith("@") else None
        if plan is None or raw is None:
            return TaskFacts()
        task = effective_task(plan, raw)
        role = reader_role(plan, recipient, task_id)
        instruction = ""
        if self.store is not None and role == "unit":
            from reminder.plan.wording import cn_day

            given = self.store.instructions(plan_id, task_id)
            if given:
                last = given[-1]
                when = last.created_at.astimezone(self.config.tz)
                instruction = f"{last.text}（{last.leader}，{cn_day(when.date())}）"
        workflow: tuple[str, ...] = ()
        if self.store is not None:
            from reminder.answerback.signing import message_notes

            workflow = message_notes(plan, self.store, task_id, recipient, role,
                                     since=self.store.last_sent_to(recipient),
                                     linked=self.links is not None)
        return TaskFacts(title=task.title, detail=task.detail, lead=task.lead,
                         support=tuple(u for u in task.support if u not in task.lead),
                         role=role, instruction=instruction, workflow=workflow)

    def news(self, recipient: str) -> list[tuple[str, str, str]]:
        """(plan, task, line) for each 批示 on ``recipient``'s tasks since its last message."""
        if self.store is None:
            return []
        from reminder.plan.occurrences import effective_task
        from reminder.plan.wording import cn_day

        found = []
        for row in self.store.instructions_since(self.store.last_sent_to(recipient)):
            plan = self.plans.get(row.plan_id)
            raw = plan.task(row.task_id) if plan is not None else None
            if raw is None:
                continue
            if not any(u == recipient or ((c := plan.contact(u)) is not None and c.name == recipient)
                       for u in effective_task(plan, raw).units):
                continue
            when = row.created_at.astimezone(self.config.tz).date()
            found.append((row.plan_id, row.task_id, f"〔{row.task_id}〕{raw.title}："
                          f"{row.text}（{row.leader}，{cn_day(when)}）"))
        return found

    def link(self, plan_id: str, recipient: str, task: str) -> str:
        assert self.links is not None
        role = self.role(plan_id, recipient, task)
        if role == "leader":
            return self.links.leader_url(recipient, plan_id, task)
        if role == "coordinator":
            return self.links.url("admin", plan_id, anchor=f"t-{task}" if task else "")
        return self.links.unit_url(plan_id, recipient, task)


def digest_renderer(config: Config, plans: PlanCache | None = None,
                    store: Any = None) -> Callable[..., list[Any]]:
    """render_digest with the deployment's links (when [web] is configured), office names,
    whose task each is, and (with ``store``) the leaders' latest 批示."""
    from reminder.delivery.render.messages import render_digest

    links = build_links(config)  # fails fast when [web] has no secret
    readers = Readers(config, plans or plan_cache(config), links, store)
    return partial(render_digest, office=readers, facts=readers.facts, news=readers.news,
                   link=readers.link if links is not None else None)
