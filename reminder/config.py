"""Deployment configuration: config.toml plus secrets from the environment or a secrets file.

Secrets (the SMTP password, WeCom webhook keys) are read only when channels are built, are
never accepted inline in config.toml (which tends to get shared and committed), and are kept
out of every repr, log line and database row.
"""

from __future__ import annotations

import os
import random
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reminder import redact
from reminder.errors import ConfigError
from reminder.models import Contact

ENV_CONFIG = "REMINDER_CONFIG"
SECURITY = ("ssl", "starttls", "none")
ADMIN = "管理员"  # the admin is a contact like any unit: told when notices fail for good
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"  # the robot's key is a query arg
CREDENTIAL = "secrets.toml"  # the systemd credential's name: LoadCredential=secrets.toml:…


# -- delivery settings: read here, applied by the dispatcher --------------------------------

@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 8
    base: float = 60.0  # seconds before the first retry (before jitter)
    cap: float = 3600.0
    # After a send of unknown outcome (no reply to a message that left): one more try this
    # much later, then the notice is held for the admin.
    uncertain_delay: float = 3600.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        Exponential with "equal jitter": half the step is fixed, half random, so retries of
        many notices spread out but none comes back sooner than half its step or after cap."""
        step = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return step / 2 + rng.uniform(0, step / 2)


@dataclass(frozen=True, kw_only=True)
class QuietHours:
    """Local time range in which nothing is sent; it may wrap midnight (21:00–08:00).
    ``workdays_only``: days off are quiet all day too (a Saturday or a 国庆 day is not
    working hours), judged by the working calendar the caller passes to :meth:`until`."""

    start: time
    end: time
    workdays_only: bool = False

    def until(self, moment: datetime, tz: ZoneInfo,
              is_workday: Callable[[date], bool] | None = None) -> datetime | None:
        """End of the quiet period containing ``moment``, or None when not quiet."""
        end = self._clock_until(moment, tz)
        if not self.workdays_only or is_workday is None:
            return end
        day = (end or moment).astimezone(tz).date()
        if is_workday(day):
            return end
        for _ in range(366):  # the longest break is 春节's week: a year's bound is no limit
            day += timedelta(days=1)
            if is_workday(day):
                break
        # A wrapping range (18:00–08:30) opens at its end; a daytime one at midnight.
        return datetime.combine(day, self.end if self.start > self.end else time(0), tz)

    def _clock_until(self, moment: datetime, tz: ZoneInfo) -> datetime | None:
        local = moment.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        today_end = datetime.combine(local.date(), self.end, tz)
        if self.start == self.end:
            return None
        if self.start < self.end:
            return today_end if self.start <= clock < self.end else None
        if clock >= self.start:
            return datetime.combine(local.date() + timedelta(days=1), self.end, tz)
        return today_end if clock < self.end else None


@dataclass(frozen=True, kw_only=True)
class EmailConfig:
    host: str
    port: int = 465
    security: str = "ssl"
    username: str | None = None
    password_env: str | None = None
    sender: str
    sender_name: str = ""
    timeout: float = 30.0


@dataclass(frozen=True, kw_only=True)
class WeComConfig:
    base_url: str = WECOM_URL
    fmt: str = "markdown"
    timeout: float = 10.0
    robots: Mapping[str, str | None] = field(default_factory=dict)  # name -> key_env


# Personal channels (an app message, an SMS) reach a phone in someone's pocket: outside
# working hours only when the office says so (quiet_hours = { start = "00:00", end = "00:00" }).
WORKING_HOURS_ONLY = QuietHours(start=time(18, 0), end=time(8, 30), workdays_only=True)


@dataclass(frozen=True, kw_only=True)
class WeComAppConfig:
    corpid: str
    agentid: int
    secret_env: str | None = None  # else [wecom_app] secret in the secrets file
    app_name: str = "督办提醒"
    fmt: str = "markdown"  # or "textcard"
    base_url: str = "https://qyapi.weixin.qq.com"
    timeout: float = 10.0
    daily_cap: int = 10000
    quiet: QuietHours | None = WORKING_HOURS_ONLY


@dataclass(frozen=True, kw_only=True)
class DingTalkRobotConfig:
    token_env: str | None = None  # else [dingtalk.<robot>] token in the secrets file
    secret_env: str | None = None  # 加签; else [dingtalk.<robot>] secret, when there
    keyword: str | None = None  # 自定义关键词


@dataclass(frozen=True, kw_only=True)
class DingTalkConfig:
    base_url: str = "https://oapi.dingtalk.com/robot/send"
    timeout: float = 10.0
    robots: Mapping[str, DingTalkRobotConfig] = field(default_factory=dict)
    quiet: QuietHours | None = None


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    """An office's own HTTP notification API (政务短信平台 …), one request per mobile."""

    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)  # "secret:NAME" values resolved
    body: str = ""  # Jinja2 template rendered per recipient
    body_format: str = "json"  # or "form"
    success_status: tuple[int, ...] = (200,)
    success_path: str | None = None  # dotted JSON path, e.g. "code" or "data.status"
    success_value: str | None = None  # compared as text
    timeout: float = 10.0
    quiet: QuietHours | None = WORKING_HOURS_ONLY
    # Template name -> secret name: an account and password many 短信平台 want in the body,
    # read like the headers' "secret:NAME" (environment or secrets file), never from here.
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    """The units' pages: where they are served and the address units reach them by."""

    listen: str = "127.0.0.1:8080"
    base_url: str = ""  # empty: http://{listen}
    secret_env: str | None = None  # else [web] secret in the secrets file
    link_days: int = 60
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For names the client;
    # empty: the header is ignored, whoever sends it, and each client is its own address.
    trusted_proxies: tuple[str, ...] = ()
    # 佐证材料: where the files live (empty: evidence/ beside the SQLite database, else in
    # the state directory), and how many days a file no task refers to any more is kept
    # before the server removes it (retention; attached files are never removed).
    evidence_dir: str = ""
    evidence_keep_days: int = 30

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def url(self) -> str:
        return (self.base_url or f"http://{self.listen}").rstrip("/")


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path | None
    database_url: str
    timezone: str = "Asia/Shanghai"
    plans: tuple[Path, ...] = ()
    rules: tuple[Path, ...] = ()
    templates: Path | None = None
    contacts: Path | None = None  # the 通讯录 (.xlsx or .csv) every plan's units come from
    email: EmailConfig | None = None
    wecom: WeComConfig | None = None
    wecom_app: WeComAppConfig | None = None
    dingtalk: DingTalkConfig | None = None
    sms: GatewayConfig | None = None
    secrets_file: Path | None = None
    quiet: QuietHours | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    admin: Contact = field(default_factory=lambda: Contact(name=ADMIN))
    tick_seconds: float = 300.0
    lease_seconds: float = 300.0
    max_wait_seconds: float = 65.0  # longest rate-limit wait done inline, holding the lease
    window_days: int = 60
    # Tell the admin once the database has been out of reach (server down, disk full) this long.
    alert_after_seconds: float = 120.0
    web: WebConfig | None = None
    sender_name: str = ""  # the office's name in messages, e.g. 局办公室; else the plan's coordinator

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def channel_names(self) -> frozenset[str]:
        """The channels this deployment configures (a unit's order picks among these)."""
        return frozenset(name for name, part in (
            ("email", self.email), ("wecom", self.wecom), ("wecom_app", self.wecom_app),
            ("dingtalk", self.dingtalk), ("sms", self.sms)) if part is not None)

    def plan_folders(self) -> list[Path]:
        """Plan folders: each entry is a folder with plan.toml, or a folder of such folders."""
        found: list[Path] = []
        for entry in self.plans:
            if (entry / "plan.toml").is_file():
                found.append(entry)
            elif entry.is_dir():
                found.extend(sorted(p.parent for p in entry.glob("*/plan.toml")))
            else:
                raise ConfigError(f"方案目录不存在：{entry}", file=self.path, place="plans",
                                  hint="写方案文件夹（含 plan.toml）或其上级目录的路径")
        return found


def default_database_url() -> str:
    # systemd's StateDirectory= exports STATE_DIRECTORY; otherwise the user's state dir.
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if not state:
        import platformdirs

        state = platformdirs.user_state_dir("reminder")
    return f"sqlite:///{Path(state) / 'reminder.db'}"


def config_places() -> list[Path]:
    """Where a config is looked for when neither --config nor $REMINDER_CONFIG names one."""
    import platformdirs

    return [Path(platformdirs.user_config_dir("reminder")) / "config.toml",
            Path("/etc/reminder/config.toml")]


def find_config(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    for candidate in config_places():
        if candidate.is_file():
            return candidate
    return None


def require_config(explicit: Path | None) -> Path:
    """The config a daemon command works from. Without one it stops: defaults would open a
    database in a place nobody chose and answer about plans nobody configured."""
    found = find_config(explicit)
    if found is None:
        looked = "、".join(str(p) for p in config_places())
        raise ConfigError(
            f"找不到配置文件（未用 --config 指定，环境变量 {ENV_CONFIG} 未设置，{looked} 都不存在）",
            hint=f"复制 config.example.toml 为 {config_places()[0]} 并填写 plans 和渠道，"
                 "或用 --config 指定")
    return found


def load_config(path: Path | None) -> Config:
    """Read config.toml; with no file at all, the defaults (SQLite, no channels)."""
    if path is None:
        return Config(path=None, database_url=default_database_url())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("配置文件不存在", file=path, hint="参考 config.example.toml") from None
    except UnicodeDecodeError:
        raise ConfigError("配置文件不是 UTF-8 编码", file=path,
                          hint="用文本编辑器另存为 UTF-8（无 BOM）") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件：{exc.strerror}", file=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML 语法错误：{exc}", file=path) from exc
    return _Reader(path).config(data)


class _Reader:
    """Checks every table and key, so a typo is an error naming its place, not a silent
    default."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, message: str, place: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.path, place=place, hint=hint)

    def table(self, data: Mapping[str, Any], place: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise self.fail("应为一个表", place)
        for key in data:
            if key in {"password", "key", "webhook", "secret", "token"}:
                raise self.fail("密钥不能写在配置文件里", f"{place}.{key}".lstrip("."),
                                "改用 password_env / key_env / secret_env / token_env 指定环境变量，"
                                "或写入 secrets_file")
            if key not in allowed:
                raise self.fail(f"未知配置项 {key!r}", place or "顶层",
                                "可用：" + "、".join(sorted(allowed)))
        return dict(data)

    def get(self, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...],
            place: str, default: Any = None) -> Any:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.fail("应为数字", f"{place}.{key}")
        if not isinstance(value, kind):
            raise self.fail(f"类型错误：{value!r}", f"{place}.{key}".lstrip("."))
        return value

    def resolve(self, text: str) -> Path:
        return (self.base / Path(text).expanduser()).resolve()

    def config(self, data: Mapping[str, Any]) -> Config:
        top = self.table(data, "", {"database", "timezone", "plans", "rules", "templates",
                                    "channels", "secrets_file", "quiet_hours", "retry",
                                    "admin", "daemon", "contacts", "web", "sender_name"})
        tz = self.get(top, "timezone", str, "", "Asia/Shanghai")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(f"未知时区 {tz!r}", "timezone", "例如 Asia/Shanghai") from None
        db = self.table(top.get("database", {}), "database", {"url", "path"})
        url = self.get(db, "url", str, "database")
        if url is None and "path" in db:
            url = f"sqlite:///{self.resolve(self.get(db, 'path', str, 'database'))}"
        plans = tuple(self.resolve(p) for p in self.strings(top, "plans", ""))
        rules = tuple(self.resolve(p) for p in self.strings(top, "rules", ""))
        templates = self.get(top, "templates", str, "")
        secrets = self.get(top, "secrets_file", str, "")
        contacts = self.get(top, "contacts", str, "")
        channels = self.table(top.get("channels", {}), "channels",
                              {"email", "wecom", "wecom_app", "dingtalk", "sms"})
        return Config(
            path=self.path, database_url=url or default_database_url(), timezone=tz,
            plans=plans, rules=rules, templates=self.resolve(templates) if templates else None,
            contacts=self.resolve(contacts) if contacts else None,
            email=self.email(channels["email"]) if "email" in channels else None,
            wecom=self.wecom(channels["wecom"]) if "wecom" in channels else None,
            wecom_app=self.wecom_app(channels["wecom_app"]) if "wecom_app" in channels else None,
            dingtalk=self.dingtalk(channels["dingtalk"]) if "dingtalk" in channels else None,
            sms=self.gateway(channels["sms"]) if "sms" in channels else None,
            secrets_file=self.resolve(secrets) if secrets else None,
            quiet=self.quiet(top["quiet_hours"]) if "quiet_hours" in top else None,
            retry=self.retry(top.get("retry", {})),
            admin=self.admin(top.get("admin", {})),
            **self.daemon(top.get("daemon", {})),
            web=self.web(top["web"]) if "web" in top else None,
            sender_name=self.get(top, "sender_name", str, "", ""),
        )

    def strings(self, data: Mapping[str, Any], key: str, place: str) -> list[str]:
        value = data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("应为字符串列表", f"{place}.{key}".lstrip("."))
        return value

    def email(self, data: Mapping[str, Any]) -> EmailConfig:
        p = "channels.email"
        t = self.table(data, p, {"host", "port", "security", "username", "password_env",
                                 "sender", "sender_name", "timeout"})
        for required in ("host", "sender"):
            if not isinstance(t.get(required), str) or not t[required]:
                raise self.fail(f"缺少 {required}", p)
        security = self.get(t, "security", str, p, "ssl")
        if security not in SECURITY:
            raise self.fail(f"security 应为 {' / '.join(SECURITY)}", f"{p}.security")
        default_port = {"ssl": 465, "starttls": 587, "none": 25}[security]
        return EmailConfig(
            host=t["host"], port=self.get(t, "port", int, p, default_port), security=security,
            username=self.get(t, "username", str, p), password_env=self.get(
                t, "password_env", str, p), sender=t["sender"],
            sender_name=self.get(t, "sender_name", str, p, ""),
            timeout=float(self.get(t, "timeout", (int, float), p, 30)),
        )

    def wecom(self, data: Mapping[str, Any]) -> WeComConfig:
        p = "channels.wecom"
        t = self.table(data, p, {"base_url", "format", "timeout", "robots"})
        fmt = self.get(t, "format", str, p, "markdown")
        if fmt not in ("markdown", "text"):
            raise self.fail("format 应为 markdown 或 text", f"{p}.format")
        robots: dict[str, str | None] = {}
        for name, spec in self.table(t.get("robots", {}), f"{p}.robots",
                                     set(t.get("robots", {}))).items():
            spec = self.table(spec, f"{p}.robots.{name}", {"key_env"})
            robots[name] = self.get(spec, "key_env", str, f"{p}.robots.{name}")
        return WeComConfig(
            base_url=self.get(t, "base_url", str, p, WECOM_URL),
            fmt=fmt, timeout=float(self.get(t, "timeout", (int, float), p, 10)), robots=robots,
        )

    def wecom_app(self, data: Mapping[str, Any]) -> WeComAppConfig:
        p = "channels.wecom_app"
        t = self.table(data, p, {"corpid", "agentid", "secret_env", "app_name", "format",
                                 "base_url", "timeout", "daily_cap", "quiet_hours"})
        corpid = self.get(t, "corpid", str, p, "")
        if not corpid:
            raise self.fail("缺少 corpid（企业ID）", p, "在企业微信管理后台 → 我的企业 → 企业信息 中查看")
        agentid = self.get(t, "agentid", int, p)
        if agentid is None:
            raise self.fail("缺少 agentid（应用的 AgentId）", p,
                            "在管理后台 → 应用管理 → 自建应用 中查看，如 agentid = 1000002")
        fmt = self.get(t, "format", str, p, "markdown")
        if fmt not in ("markdown", "textcard"):
            raise self.fail("format 应为 markdown 或 textcard", f"{p}.format")
        cap = self.get(t, "daily_cap", int, p, 10000)
        if cap < 0:
            raise self.fail("daily_cap 应为非负整数（0 表示不限）", f"{p}.daily_cap")
        return WeComAppConfig(
            corpid=corpid, agentid=agentid, secret_env=self.get(t, "secret_env", str, p),
            app_name=self.get(t, "app_name", str, p, "督办提醒"), fmt=fmt,
            base_url=self.get(t, "base_url", str, p, "https://qyapi.weixin.qq.com"),
            timeout=float(self.get(t, "timeout", (int, float), p, 10)), daily_cap=cap,
            quiet=self.channel_quiet(t, p, WORKING_HOURS_ONLY))

    def dingtalk(self, data: Mapping[str, Any]) -> DingTalkConfig:
        p = "channels.dingtalk"
        t = self.table(data, p, {"base_url", "timeout", "robots", "quiet_hours"})
        robots = {}
        for name, spec in self.table(t.get("robots", {}), f"{p}.robots",
                                     set(t.get("robots", {}))).items():
            q = f"{p}.robots.{name}"
            spec = self.table(spec, q, {"token_env", "secret_env", "keyword"})
            robots[name] = DingTalkRobotConfig(
                token_env=self.get(spec, "token_env", str, q),
                secret_env=self.get(spec, "secret_env", str, q),
                keyword=self.get(spec, "keyword", str, q) or None)
        return DingTalkConfig(
            base_url=self.get(t, "base_url", str, p, "https://oapi.dingtalk.com/robot/send"),
            timeout=float(self.get(t, "timeout", (int, float), p, 10)), robots=robots,
            quiet=self.channel_quiet(t, p, None))

    def gateway(self, data: Mapping[str, Any]) -> GatewayConfig:
        p = "channels.sms"
        t = self.table(data, p, {"url", "method", "headers", "body", "body_format",
                                 "success_status", "success_path", "success_value", "timeout",
                                 "quiet_hours", "secrets"})
        url = self.get(t, "url", str, p, "")
        if not re.match(r"https?://", url):
            raise self.fail("缺少接口地址 url（应以 http:// 或 https:// 开头）", f"{p}.url")
        method = self.get(t, "method", str, p, "POST").upper()
        if method not in ("POST", "PUT", "GET"):
            raise self.fail("method 应为 POST、PUT 或 GET", f"{p}.method")
        headers = self.get(t, "headers", dict, p, {})
        for name, value in headers.items():
            if not isinstance(value, str):
                raise self.fail("请求头的值应为字符串", f"{p}.headers.{name}")
        secrets = self.get(t, "secrets", dict, p, {})
        for name, value in secrets.items():
            if not (isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)
                    and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)):
                raise self.fail("应写作 模板中的名字 = \"密钥名\"（环境变量或密钥文件 [sms] 中的名字），"
                                "不要把密钥本身写在这里", f"{p}.secrets.{name}")
        body_format = self.get(t, "body_format", str, p, "json")
        if body_format not in ("json", "form"):
            raise self.fail("body_format 应为 json 或 form", f"{p}.body_format")
        statuses = self.get(t, "success_status", (int, list), p, [200])
        statuses = [statuses] if isinstance(statuses, int) else statuses
        if not statuses or not all(isinstance(x, int) and not isinstance(x, bool)
                                   for x in statuses):
            raise self.fail("success_status 应为 HTTP 状态码或其列表，如 [200]", f"{p}.success_status")
        path = self.get(t, "success_path", str, p)
        value = t.get("success_value")
        if (path is None) != (value is None):
            raise self.fail("success_path 与 success_value 应同时填写", p,
                            '例如 success_path = "code"，success_value = "0"')
        body = self.get(t, "body", str, p, "")
        if body:
            from jinja2 import TemplateSyntaxError
            from jinja2.sandbox import SandboxedEnvironment

            try:
                SandboxedEnvironment().parse(body)
            except TemplateSyntaxError as exc:
                raise self.fail(f"body 模板语法错误（第 {exc.lineno} 行）：{exc.message}",
                                f"{p}.body") from None
        return GatewayConfig(
            url=url, method=method, headers=dict(headers), body=body, body_format=body_format,
            success_status=tuple(statuses), success_path=path,
            success_value=None if value is None else str(value).lower()
            if isinstance(value, bool) else str(value),
            timeout=float(self.get(t, "timeout", (int, float), p, 10)),
            quiet=self.channel_quiet(t, p, WORKING_HOURS_ONLY), secrets=dict(secrets))

    def channel_quiet(self, t: Mapping[str, Any], place: str,
                      default: QuietHours | None) -> QuietHours | None:
        if "quiet_hours" not in t:
            return default
        # A personal channel given its own hours still keeps days off unless told otherwise.
        hours = self.quiet(t["quiet_hours"], f"{place}.quiet_hours",
                           workdays_only=default is not None and default.workdays_only)
        # Equal ends say 全天可发 (the example's words): any day too, unless workdays_only
        # is written beside them.
        explicit = isinstance(t["quiet_hours"], Mapping) and "workdays_only" in t["quiet_hours"]
        if hours.start == hours.end and not (explicit and hours.workdays_only):
            return None
        return hours

    def quiet(self, data: Mapping[str, Any], place: str = "quiet_hours", *,
              workdays_only: bool = False) -> QuietHours:
        t = self.table(data, place, {"start", "end", "workdays_only"})
        workdays_only = self.get(t, "workdays_only", bool, place, workdays_only)
        try:
            return QuietHours(start=_clock(t["start"]), end=_clock(t["end"]),
                              workdays_only=workdays_only)
        except (KeyError, ValueError, TypeError):
            raise self.fail("应写作 start = \"21:00\", end = \"08:00\"", place) from None

    def retry(self, data: Mapping[str, Any]) -> RetryPolicy:
        t = self.table(data, "retry", {"max_attempts", "base_seconds", "cap_seconds",
                                       "uncertain_seconds"})
        policy = RetryPolicy(
            max_attempts=self.get(t, "max_attempts", int, "retry", 8),
            base=float(self.get(t, "base_seconds", (int, float), "retry", 60)),
            cap=float(self.get(t, "cap_seconds", (int, float), "retry", 3600)),
            uncertain_delay=float(self.get(t, "uncertain_seconds", (int, float), "retry", 3600)),
        )
        if policy.max_attempts < 1 or policy.base <= 0 or policy.cap < policy.base:
            raise self.fail("应满足 max_attempts ≥ 1、0 < base_seconds ≤ cap_seconds", "retry")
        if policy.uncertain_delay <= 0:
            raise self.fail("uncertain_seconds 应为正数", "retry.uncertain_seconds")
        return policy

    def admin(self, data: Mapping[str, Any]) -> Contact:
        from reminder.addresses import address_problem

        t = self.table(data, "admin", {"email", "wecom", "wecom_users"})
        found = {kind: tuple(v.strip() for v in self.strings(t, kind, "admin") if v.strip())
                 for kind in ("email", "wecom_users")}
        for kind, values in found.items():
            for value in values:  # a CR/LF in the admin's address would add mail headers
                problem = address_problem(kind, value)
                if problem:
                    raise self.fail(problem, f"admin.{kind}")
        return Contact(name=ADMIN, email=found["email"],
                     wecom=self.get(t, "wecom", str, "admin"),
                     wecom_users=found["wecom_users"])

    def daemon(self, data: Mapping[str, Any]) -> dict[str, Any]:
        t = self.table(data, "daemon", {"tick_seconds", "lease_seconds", "max_wait_seconds",
                                        "window_days", "alert_after_seconds"})
        values = {
            "tick_seconds": float(self.get(t, "tick_seconds", (int, float), "daemon", 300)),
            "lease_seconds": float(self.get(t, "lease_seconds", (int, float), "daemon", 300)),
            "max_wait_seconds": float(self.get(t, "max_wait_seconds", (int, float), "daemon", 65)),
            "window_days": self.get(t, "window_days", int, "daemon", 60),
            "alert_after_seconds": float(self.get(t, "alert_after_seconds", (int, float),
                                                  "daemon", 120)),
        }
        if min(values.values()) <= 0:
            raise self.fail("应为正数", "daemon")
        # The lease is renewed while waiting on a rate limit, but a lease shorter than twice
        # the wait leaves too little margin for a slow database or a stalled renewal.
        if values["lease_seconds"] < 2 * values["max_wait_seconds"]:
            raise self.fail(
                f"lease_seconds（{values['lease_seconds']:g}）应至少为 max_wait_seconds"
                f"（{values['max_wait_seconds']:g}）的两倍", "daemon.lease_seconds",
                f"把 lease_seconds 调到 {2 * values['max_wait_seconds']:g} 以上，或调小 max_wait_seconds")
        return values


    def web(self, data: Mapping[str, Any]) -> WebConfig:
        t = self.table(data, "web", {"listen", "base_url", "secret_env", "link_days",
                                     "trusted_proxies", "evidence_dir", "evidence_keep_days"})
        listen = self.get(t, "listen", str, "web", "127.0.0.1:8080")
        if not re.fullmatch(r"[\w.\-]*:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5}", listen):
            raise self.fail(f"监听地址应写作 主机:端口：{listen!r}", "web.listen",
                            "例如 127.0.0.1:8080")
        if not 1 <= int(listen.rpartition(":")[2]) <= 65535:  # 99999 failed in bind() at start
            raise self.fail(f"端口应在 1 至 65535 之间：{listen!r}", "web.listen",
                            "例如 127.0.0.1:8080")
        base_url = self.get(t, "base_url", str, "web", "")
        if base_url and not re.match(r"https?://", base_url):
            raise self.fail("base_url 应以 http:// 或 https:// 开头", "web.base_url",
                            "填写单位访问本服务的地址，如 https://reminder.example.gov.cn")
        if "?" in base_url or "#" in base_url:
            # Links are base_url + "/u/<token>": a query or fragment would swallow the path.
            raise self.fail("base_url 不能带 ? 或 # 之后的部分", "web.base_url",
                            "只写地址和路径，如 https://reminder.example.gov.cn/reminder")
        days = self.get(t, "link_days", int, "web", 60)
        if days < 1:
            raise self.fail("应为正整数", "web.link_days")
        proxies = self.get(t, "trusted_proxies", list, "web", [])
        import ipaddress  # only for a config with [web]: `reminder plan` starts without it

        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except (TypeError, ValueError):
                raise self.fail(f"不是 IP 地址或网段：{proxy!r}", "web.trusted_proxies",
                                '写反向代理的地址，如 ["127.0.0.1"] 或 ["10.0.0.0/8"]；'
                                "没有反向代理时不写") from None
        keep = self.get(t, "evidence_keep_days", int, "web", 30)
        if keep < 1:
            raise self.fail("应为正整数（天数）", "web.evidence_keep_days")
        return WebConfig(listen=listen, base_url=base_url,
                         secret_env=self.get(t, "secret_env", str, "web"), link_days=days,
                         trusted_proxies=tuple(proxies),
                         evidence_dir=self.get(t, "evidence_dir", str, "web", ""),
                         evidence_keep_days=keep)


def _clock(text: str) -> time:
    hour, minute = text.strip().split(":")
    return time(int(hour), int(minute))


# -- secrets and channels ----------------------------------------------------------------

def secret_files(config: Config, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where secrets are read from, strongest first: the systemd credential (the service
    files pass /etc/reminder/secrets.toml with LoadCredential=, which works under
    DynamicUser=yes), then secrets_file. Environment variables beat both."""
    environ = os.environ if environ is None else environ
    found = []
    credentials = environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL).is_file():
        found.append(Path(credentials) / CREDENTIAL)
    if config.secrets_file is not None:
        found.append(config.secrets_file)
    return found


def read_secrets(config: Config, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every secrets file merged, the stronger one winning per [section] key."""
    merged: dict[str, Any] = {}
    for path in reversed(secret_files(config, environ)):
        for section, values in _read_secret_file(path).items():
            if isinstance(values, dict) and isinstance(merged.get(section), dict):
                merged[section] = {**merged[section], **values}
            else:
                merged[section] = values
    return merged


def _read_secret_file(path: Path) -> dict[str, Any]:
    """One secrets file, refused unless only its owner can read it."""
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ConfigError("密钥文件的位置是一个目录", file=path, place="secrets_file",
                              hint="secrets_file 应指向一个 TOML 文件")
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError("密钥文件权限过宽", file=path, place="secrets_file",
                              hint=f"执行 chmod 600 {path}")
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("密钥文件不存在", file=path, place="secrets_file") from None
    except PermissionError:
        raise ConfigError("无法读取密钥文件：权限不足", file=path, place="secrets_file",
                          hint="systemd 服务（DynamicUser=yes）请去掉 secrets_file，改用服务文件中的 "
                               "LoadCredential=；手动运行时让运行 reminder 的用户拥有此文件") from None
    except UnicodeDecodeError:
        raise ConfigError("密钥文件不是 UTF-8 编码", file=path, place="secrets_file") from None
    except OSError as exc:
        raise ConfigError(f"无法读取密钥文件：{exc.strerror}", file=path,
                          place="secrets_file") from None
    except tomllib.TOMLDecodeError as exc:
        # The message may quote a secret, so only the position is shown.
        line = re.search(r"line (\d+)", str(exc))
        where = f"（第 {line.group(1)} 行）" if line else ""
        raise ConfigError(f"密钥文件 TOML 语法错误{where}", file=path) from None


WEB_SECRET_MIN = 16  # shorter, the HMAC of every link can be forged by guessing the secret


def web_secret(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The [web] signing secret, refused when missing or shorter than WEB_SECRET_MIN."""
    assert config.web is not None
    environ = os.environ if environ is None else environ
    secret = secret_value(config, config.web.secret_env, "web", "secret",
                          read_secrets(config, environ), environ, "web.secret_env")
    if len(secret) < WEB_SECRET_MIN:
        raise ConfigError(f"[web] 签名密钥太短（{len(secret)} 个字符，至少 {WEB_SECRET_MIN} 个），"
                          "链接可能被伪造", file=config.path, place="web.secret_env",
                          hint="用 python3 -c 'import secrets; print(secrets.token_urlsafe(32))' 生成")
    return secret


def secret_value(config: Config, env_name: str | None, section: str, name: str,
            secrets: Mapping[str, Any], environ: Mapping[str, str], place: str) -> str:
    value = environ.get(env_name) if env_name else None
    if not value:
        found = secrets.get(section, {}).get(name) if isinstance(secrets.get(section), dict) else None
        value = found if isinstance(found, str) else None
    if value:
        # From here on no log line of this process can show it, whoever logs it.
        redact.remember(value)
        return value
    where = f"环境变量 {env_name}" if env_name else "（未指定环境变量）"
    raise ConfigError(f"缺少密钥：{where}未设置，密钥文件中也没有 [{section}] {name}",
                      file=config.path, place=place,
                      hint="设置该环境变量，或写入 secrets_file（systemd 下为 LoadCredential= 传入的 "
                           "secrets.toml）")
