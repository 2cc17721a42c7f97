"""WeCom application messages (企业微信应用消息) to members by userid.

``gettoken`` (corpid + the app's secret) gives an access token for ``expires_in`` seconds;
it is shared by every process through the store (see ``tokens``), renewed a few minutes
before it expires and at once when WeCom calls it invalid or expired (40014, 42001, 40082).
``message/send`` carries a markdown digest, or a textcard whose button opens the reader's
page.

What WeCom's answers mean here:
- 60020: this server's address is not among the app's 企业可信IP. Every message would fail
  alike, so the route is held and the admin is told, in Chinese, what to set up.
- ``invaliduser`` in an otherwise good reply: those members were not reached (left, wrong
  userid); the others were. Only when nobody is left (81013) does the message fail.
- 45009 and the other frequency limits: retried later. The limits themselves (per member
  30 a minute and 1,000 an hour; a daily cap per app) are ``rate_windows``, applied by the
  dispatcher across processes, so they are not normally reached.
"""

from __future__ import annotations

import json
import logging
import re
import time as _time
from collections.abc import Callable, Sequence
from typing import Literal

import requests

from reminder.delivery.channels.base import (
    Channel,
    Message,
    SendResult,
    config_digest,
    network_failure,
    truncate_bytes,
    utf8_len,
)
from reminder.delivery.channels.tokens import MemoryTokens, TokenStore, seal, unseal
from reminder.redact import mask

log = logging.getLogger("reminder.channels.wecom_app")

DEFAULT_BASE = "https://qyapi.weixin.qq.com"
MARKDOWN_MAX_BYTES = 2048  # the app message's markdown content, as WeCom counts it
TEXTCARD_TITLE_BYTES = 128
TEXTCARD_DESCRIPTION_BYTES = 512
MEMBER_MINUTE = (30, 60.0)  # per app and member, from WeCom's 发送应用消息 limits
MEMBER_HOUR = (1000, 3600.0)
DEFAULT_DAILY_CAP = 10000  # per app; WeCom's real cap is 200 × the account's licences a day
REFRESH_MARGIN = 300.0  # renew this long before expiry: a token dying mid-send costs a retry

TOKEN_CODES = {40014, 42001, 40082}  # invalid / expired access_token
RETRYABLE_CODES: dict[int, float | None] = {-1: None, 45009: 60.0, 45011: 60.0, 45033: 60.0,
                                            45047: 60.0}
CONFIG_HINTS: dict[int, str] = {
    40001: "应用 Secret 不正确（在 管理后台 → 应用管理 → 本应用 中查看）",
    40013: "企业ID（corpid）不正确（在 管理后台 → 我的企业 中查看）",
    40056: "应用 AgentId 不正确",
    40091: "应用 Secret 不正确或已重置",
    48002: "该应用没有调用此接口的权限",
    60011: "成员不在应用的可见范围内，请在应用的可见范围中加入这些成员",
    301002: "应用无权限向这些成员发送消息",
}
TRUSTED_IP_HINT = ("本服务器的出口 IP{ip}不在企业微信应用“{app}”的“企业可信IP”中。"
                   "请企业微信管理员登录管理后台，进入 应用管理 → {app} → 开发者接口 → 企业可信IP，"
                   "添加该 IP 后运行 reminder retry 重发暂停的提醒")

WeComAppFormat = Literal["markdown", "textcard"]


class WeComAppChannel(Channel):
    name = "wecom_app"
    max_bytes = MARKDOWN_MAX_BYTES
    personal = True  # reaches people, not a group: working hours only by default

    def __init__(
        self,
        *,
        corpid: str,
        secret: str,
        agentid: int,
        app_name: str = "督办提醒",
        base_url: str = DEFAULT_BASE,
        fmt: WeComAppFormat = "markdown",
        timeout: float = 10,
        daily_cap: int = DEFAULT_DAILY_CAP,
        tokens: TokenStore | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = _time.time,
    ) -> None:
        if fmt not in ("markdown", "textcard"):
            raise ValueError(f"unknown WeCom app format {fmt!r}")
        self.corpid, self.agentid, self.app_name = corpid, agentid, app_name
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.fmt: WeComAppFormat = fmt
        self.timeout = timeout
        self.daily_cap = daily_cap
        self.tokens: TokenStore = tokens if tokens is not None else MemoryTokens()
        self._session = session
        self._own_session = session is None
        self.clock = clock
        self._fingerprint = config_digest(self.name, corpid, agentid, self.base_url,
                                          secret=secret)

    def __repr__(self) -> str:
        return (f"WeComAppChannel(corpid={self.corpid!r}, agentid={self.agentid!r}, "
                f"base_url={self.base_url!r}, fmt={self.fmt!r})")

    def bind_store(self, store: TokenStore) -> None:
        """Share the token through the deployment's database from now on."""
        self.tokens = store

    @property
    def token_name(self) -> str:
        return f"wecom_app:{self.corpid}:{self.agentid}"

    # -- routing and limits ---------------------------------------------------------------
    def routes(self, addresses: Sequence[str]) -> bool:
        return bool(addresses)

    def route(self, addresses: Sequence[str]) -> str:
        return f"{self.corpid}/{self.agentid}"

    def fingerprint(self, addresses: Sequence[str]) -> str:
        return self._fingerprint

    def rate_windows(self, message: Message) -> list[tuple[str, tuple[int, float]]]:
        """Every window one message counts against: each member's minute and hour, and the
        app's day (``daily_cap`` counts messages, as config.example.toml says, though WeCom's
        own cap counts 人次: keep it under that divided by the members a unit lists)."""
        windows: list[tuple[str, tuple[int, float]]] = []
        for user in message.to:
            windows.append((f"{self.agentid}:member:{user}", MEMBER_MINUTE))
            windows.append((f"{self.agentid}:member:{user}", MEMBER_HOUR))
        if self.daily_cap:
            # Counted per message, not per member: a bounded list per send (see limits.py).
            windows.append((f"{self.agentid}:day", (self.daily_cap, 86400.0)))
        return windows

    def close(self) -> None:
        if self._own_session and self._session is not None:
            self._session.close()
            self._session = None

    # -- the token ------------------------------------------------------------------------
    def access_token(self, *, fresh: bool = False) -> tuple[str | None, SendResult | None]:
        """A token valid for a while yet, from the store or else from gettoken; or the
        failure of gettoken."""
        if not fresh and (held := self.tokens.token(self.token_name)) is not None:
            sealed, expires_at = held
            token = unseal(sealed, self._secret)
            if token and expires_at - REFRESH_MARGIN > self.clock():
                return token, None
        return self._fetch_token()

    def _fetch_token(self) -> tuple[str | None, SendResult | None]:
        try:
            resp = self._http().get(f"{self.base_url}/cgi-bin/gettoken",
                                    params={"corpid": self.corpid, "corpsecret": self._secret},
                                    timeout=self.timeout)
        except requests.RequestException as exc:
            return None, self._network_failure(exc, "获取 access_token", sent=False)
        reply, failure = self._json(resp)
        if failure is not None:
            return None, failure
        code = int(reply.get("errcode", 0))
        if code != 0 or not reply.get("access_token"):
            return None, self._classify(code, str(reply.get("errmsg", "")), "获取 access_token")
        token = str(reply["access_token"])
        expires_at = self.clock() + float(reply.get("expires_in", 7200))
        from reminder import redact

        redact.remember(token)  # no log line may show it from here on
        self.tokens.put_token(self.token_name, seal(token, self._secret), expires_at)
        return token, None

    def _drop(self, token: str) -> None:
        held = self.tokens.token(self.token_name)
        if held is not None and unseal(held[0], self._secret) == token:
            self.tokens.drop_token(self.token_name, held[0])

    def check(self) -> SendResult:
        """`reminder doctor`: fetch a token (sends nothing to anyone)."""
        _token, failure = self.access_token()
        return failure or SendResult(status="ok", provider_code="0")

    # -- sending --------------------------------------------------------------------------
    def payload(self, message: Message) -> dict[str, object]:
        body: dict[str, object] = {"touser": "|".join(message.to), "agentid": self.agentid,
                                   "enable_duplicate_check": 0}
        if self.fmt == "textcard" and message.url:
            body["msgtype"] = "textcard"
            body["textcard"] = {
                "title": truncate_bytes(message.subject, TEXTCARD_TITLE_BYTES),
                "description": truncate_bytes(message.text, TEXTCARD_DESCRIPTION_BYTES),
                "url": message.url, "btntxt": "查看与反馈"}
        else:
            content = message.markdown or message.text
            if utf8_len(content) > MARKDOWN_MAX_BYTES:
                log.error("WeCom app message of %d bytes cut to %d: its end is lost",
                          utf8_len(content), MARKDOWN_MAX_BYTES)
            body["msgtype"] = "markdown"
            body["markdown"] = {"content": truncate_bytes(content, MARKDOWN_MAX_BYTES)}
        return body

    def send(self, message: Message) -> SendResult:
        if not message.to:
            return SendResult(status="permanent", provider_code="no-user",
                              detail="没有企业微信账号（userid），无法发送应用消息")
        token, failure = self.access_token()
        if failure is not None:
            return failure
        assert token is not None
        result = self._post(message, token)
        if result.provider_code in {str(c) for c in TOKEN_CODES}:
            # Expired or revoked early (a secret reset, a rival's refresh): one fresh token,
            # one more try; the message did not go out the first time.
            self._drop(token)
            token, failure = self.access_token(fresh=True)
            if failure is not None:
                return failure
            assert token is not None
            result = self._post(message, token)
        return result

    def _post(self, message: Message, token: str) -> SendResult:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        try:
            resp = self._http().post(f"{self.base_url}/cgi-bin/message/send",
                                     params={"access_token": token}, data=body,
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              # a fresh connection: a reset is then this post's
                                              "Connection": "close"},
                                     timeout=self.timeout)
        except requests.RequestException as exc:
            return self._network_failure(exc, "发送应用消息", sent=True, token=token)
        reply, failure = self._json(resp, token)
        if failure is not None:
            return failure
        code = int(reply.get("errcode", 0))
        errmsg = mask(str(reply.get("errmsg", "")), [token, self._secret])
        if code != 0:
            return self._classify(code, errmsg, "发送应用消息")
        invalid = [u for u in str(reply.get("invaliduser") or "").split("|") if u]
        if invalid:
            # Reached the others; these members are not in WeCom (left, mistyped).
            log.error("企业微信应用消息未送达这些成员（账号无效或已离职，请更正通讯录）：%s",
                      "、".join(invalid))
            return SendResult(status="ok", provider_code="0", unreached=tuple(invalid),
                              detail="以下企业微信账号无效，未送达（请更正通讯录）：" + "、".join(invalid))
        return SendResult(status="ok", provider_code="0")

    # -- reading answers -------------------------------------------------------------------
    def _classify(self, code: int, errmsg: str, what: str) -> SendResult:
        if code in TOKEN_CODES:
            return SendResult(status="retryable", provider_code=str(code),
                              detail=f"{what}：access_token 无效或已过期：{errmsg}")
        if code == 60020:
            found = re.search(r"\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]{3,}:[0-9a-fA-F]+", errmsg)
            ip = f" {found.group(0)} " if found else ""
            hint = TRUSTED_IP_HINT.format(ip=ip, app=self.app_name)
            log.error("%s", hint)
            return SendResult(status="config", provider_code="60020", detail=hint)
        if code in RETRYABLE_CODES:
            return SendResult(status="retryable", provider_code=str(code),
                              detail=f"{what}：企业微信接口繁忙或超出频率限制：{errmsg}",
                              retry_after=RETRYABLE_CODES[code])
        if code == 81013:
            return SendResult(status="permanent", provider_code="81013",
                              detail="收件人的企业微信账号全部无效（已离职或填错），请更正通讯录")
        if code in CONFIG_HINTS:
            log.error("WeCom app %s: errcode %s %s", what, code, errmsg)
            return SendResult(status="config", provider_code=str(code),
                              detail=f"企业微信应用配置有误（{CONFIG_HINTS[code]}）：{errmsg}")
        log.error("WeCom app %s rejected: errcode %s %s", what, code, errmsg)
        return SendResult(status="permanent", provider_code=str(code),
                          detail=f"企业微信拒绝{what}：{errmsg}")

    def _json(self, resp: requests.Response,
              token: str | None = None) -> tuple[dict[str, object], SendResult | None]:
        status = resp.status_code
        if status >= 500 or status == 429:
            return {}, SendResult(status="retryable", provider_code=f"http {status}",
                                  detail=f"企业微信接口返回 HTTP {status}")
        if status >= 400:
            return {}, SendResult(status="config", provider_code=f"http {status}",
                                  detail=f"企业微信接口返回 HTTP {status}，请检查 base_url")
        try:
            reply = resp.json()
            if not isinstance(reply, dict):
                raise ValueError
            return reply, None
        except ValueError:
            return {}, SendResult(status="retryable", provider_code=f"http {status}",
                                  detail=mask(f"企业微信接口返回了无法识别的内容：{resp.text[:200]}",
                                              [token, self._secret]))

    def _network_failure(self, exc: Exception, what: str, *, sent: bool,
                         token: str | None = None) -> SendResult:
        log.warning("WeCom app: %s", mask(f"{what}：{type(exc).__name__}: {exc}", [token, self._secret]))
        return network_failure(exc, "企业微信接口", "base_url", self.timeout, sent=sent,
                               masked=lambda text: mask(text, [token, self._secret]))

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
        return self._session
