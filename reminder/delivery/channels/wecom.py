"""WeCom group robot (企业微信群机器人) webhook channel.

WeCom answers almost every error with HTTP 200 and a JSON ``errcode``, so the body is always
read. Limits are counted in UTF-8 bytes, as WeCom counts them: markdown 4,096, text 2,048.
The webhook key is a secret: it appears only in the request URL and is masked everywhere
else (details, logs, repr), including inside requests' own exception messages.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from reminder.delivery.channels.base import (
    Message,
    RobotChannel,
    SendResult,
    caused_by,
    config_digest,
    refused,
    truncate_bytes,
    utf8_len,
)
from reminder.redact import mask

if TYPE_CHECKING:
    import requests

log = logging.getLogger("reminder.channels.wecom")

DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MARKDOWN_MAX_BYTES = 4096
TEXT_MAX_BYTES = 2048
RATE_LIMIT = (20, 60.0)  # per robot, as documented by WeCom
# The form of the key= value in a robot's webhook address (a UUID in hex).
KEY_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Codes worth another try later; the value is the pause WeCom implies (None: dispatcher's backoff).
RETRYABLE_CODES: dict[int, float | None] = {
    -1: None,  # system busy
    45009: 60.0,  # api freq out of limit (the robot's 20/min)
    45011: 60.0,  # api minute-quota reached
    45033: 60.0,  # too many concurrent calls
}
PERMANENT_HINTS: dict[int, str] = {
    93000: "webhook key 无效或机器人已被移出群聊，请联系管理员检查配置",
    93004: "机器人已被停用",
    93008: "机器人不在群聊中",
    40008: "消息类型无效",
    40058: "消息内容超长（不应发生，请报告缺陷）",
}
# Codes that mean the robot's configuration is wrong (key invalid or rotated, robot removed or
# disabled, request refused as invalid): every message over it would fail alike, so its
# notices are held until the configuration changes instead of failing for good.
CONFIG_CODES = {93000, 93004, 93008, 40058}

WeComFormat = Literal["markdown", "text"]


def mention_suffix(mentions: tuple[str, ...] | list[str]) -> str:
    """The lines appended to a markdown body to @mention users (markdown has no mention list)."""
    return "".join(f"\n<@{user}>" for user in mentions)


class WeComChannel(RobotChannel):
    name = "wecom"
    max_bytes = MARKDOWN_MAX_BYTES
    rate_limit = RATE_LIMIT
    shared = True  # a group chat: units on one robot share a post, a section each

    def __init__(
        self,
        robots: Mapping[str, str],
        base_url: str = DEFAULT_URL,
        fmt: WeComFormat = "markdown",
        timeout: float = 10,
        session: requests.Session | None = None,
    ) -> None:
        if fmt not in ("markdown", "text"):
            raise ValueError(f"unknown WeCom format {fmt!r}")
        self._robots = dict(robots)
        self.base_url = base_url
        self.fmt: WeComFormat = fmt
        self.max_bytes = MARKDOWN_MAX_BYTES if fmt == "markdown" else TEXT_MAX_BYTES
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        # Worked out when a route's fingerprint is first asked for (a held notice, a send):
        # scrypt over each key cost every `run --once` 30-120 ms a robot before it did anything.
        self._fingerprints: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"WeComChannel(robots={sorted(self._robots)!r}, base_url={self.base_url!r}, "
            f"fmt={self.fmt!r}, timeout={self.timeout!r})"
        )

    def key_problems(self) -> dict[str, str]:
        """What is wrong with the form of each robot's key, by robot name (`reminder doctor`).
        Only the form: checking a key with WeCom means sending a message. Never the key."""
        problems = {}
        for robot, key in self._robots.items():
            if "key=" in key or key.lower().startswith("http"):
                problems[robot] = "填的是整个 webhook 地址，只需填 key= 后面的部分"
            elif key != key.strip():
                problems[robot] = "key 前后有空格或换行"
            elif not KEY_FORM.fullmatch(key):
                problems[robot] = ("key 格式不对：应为 8-4-4-4-12 位十六进制字符"
                                   "（如 693a91f6-7e1b-4bc4-97a0-0ec2a1fa5aaa）")
        return problems

    def fingerprint(self, addresses: Sequence[str]) -> str:
        robot = self.route(addresses)
        if robot not in self._robots:
            return config_digest(self.name, robot, self.base_url)
        known = self._fingerprints.get(robot)
        if known is None:
            known = self._fingerprints[robot] = config_digest(self.name, robot, self.base_url,
                                                              secret=self._robots[robot])
        return known

    def close(self) -> None:
        if self._own_session and self._session is not None:
            self._session.close()
            self._session = None

    def payload(self, message: Message) -> dict[str, object]:
        """The JSON body for ``message``. A markdown channel sends a message whose markdown is
        empty as text: that is how the short @-message for mobile numbers travels."""
        if self.fmt == "markdown" and message.markdown:
            suffix = mention_suffix(message.mentions)
            body = _fit(message.markdown, MARKDOWN_MAX_BYTES - utf8_len(suffix))
            return {"msgtype": "markdown", "markdown": {"content": body + suffix}}
        text: dict[str, object] = {"content": _fit(message.text, TEXT_MAX_BYTES)}
        if message.mentions:
            text["mentioned_list"] = list(message.mentions)
        if message.mobiles:
            text["mentioned_mobile_list"] = list(message.mobiles)
        return {"msgtype": "text", "text": text}

    def send(self, message: Message) -> SendResult:
        # Here, not at the top: a `run --once` with nothing to post paid ~0.1 s for it.
        import requests

        robot = message.to[0] if message.to else ""
        key = self._robots.get(robot)
        if not key:
            return SendResult(
                status="permanent",
                provider_code="no-robot",
                detail=f"未配置企业微信群机器人“{robot}”的 webhook key",
            )
        if self._session is None:
            self._session = requests.Session()
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        try:
            resp = self._session.post(
                self.base_url,
                params={"key": key},
                data=body,
                # A fresh connection per post: on a reused one, the server's idle close
                # racing our write would look like a hang-up after the request (uncertain,
                # below), and cost an hour's delay for a post that never arrived.
                headers={"Content-Type": "application/json; charset=utf-8",
                         "Connection": "close"},
                timeout=self.timeout,
            )
        except requests.ReadTimeout as exc:
            # The request went out whole; WeCom may have posted it and only the answer is
            # missing (a 60 s hang was posted 4 times when this was "retryable").
            return self._fail("uncertain", "timeout",
                              f"请求已发出但 {self.timeout} 秒内没有应答，消息可能已经发出", exc, key)
        except requests.Timeout as exc:  # no connection made: nothing was sent
            return self._fail("retryable", "timeout", f"请求超时（{self.timeout}秒）", exc, key)
        except requests.ConnectionError as exc:
            if refused(exc):  # nothing listens at base_url: the address is wrong
                return self._fail("config", "refused", "企业微信接口拒绝连接，请检查 base_url", exc,
                                  key)
            if caused_by(exc, ConnectionResetError, BrokenPipeError):
                # The connection was made and the request written, then the server hung up
                # without an answer. It may have posted the message first, and a client
                # cannot tell a close after reading from one before (an RST can arrive
                # either way), so this is uncertain: one late retry, not a duplicate burst.
                return self._fail("uncertain", "hangup",
                                  "请求已发出，但企业微信接口未应答就断开了连接，消息可能已经发出",
                                  exc, key)
            return self._fail("retryable", "connection", "无法连接企业微信接口", exc, key)
        except requests.RequestException as exc:
            return self._fail("permanent", "request", "请求无法发出", exc, key)
        return self._read(resp, robot, key)

    def _read(self, resp: requests.Response, robot: str, key: str) -> SendResult:
        status = resp.status_code
        if status >= 500 or status == 429:
            return SendResult(
                status="retryable", provider_code=f"http {status}",
                detail=f"企业微信接口返回 HTTP {status}",
            )
        if status >= 400:  # a wrong base_url: every message would get the same answer
            return SendResult(
                status="config", provider_code=f"http {status}",
                detail=f"企业微信接口返回 HTTP {status}，请检查 webhook 地址",
            )
        try:
            reply = resp.json()
            code = int(reply["errcode"])
        except (ValueError, KeyError, TypeError):
            return SendResult(
                status="retryable", provider_code=f"http {status}",
                detail=mask(f"企业微信接口返回了无法识别的内容：{resp.text[:200]}", [key]),
            )
        errmsg = mask(str(reply.get("errmsg", "")), [key])
        if code == 0:
            return SendResult(status="ok", provider_code="0")
        if code in RETRYABLE_CODES:
            return SendResult(
                status="retryable", provider_code=str(code),
                detail=f"群机器人“{robot}”暂时无法发送：{errmsg}",
                retry_after=RETRYABLE_CODES[code],
            )
        hint = PERMANENT_HINTS.get(code, "请检查群机器人配置和消息参数")
        log.error("WeCom robot %s rejected a message: errcode %s %s", robot, code, errmsg)
        return SendResult(
            status="config" if code in CONFIG_CODES else "permanent", provider_code=str(code),
            detail=f"群机器人“{robot}”拒绝发送（{hint}）：{errmsg}",
        )

    @staticmethod
    def _fail(
        status: Literal["retryable", "permanent", "config", "uncertain"], code: str, what: str,
        exc: Exception, key: str,
    ) -> SendResult:
        # requests puts the full URL, key included, into its exception messages.
        detail = mask(f"{what}：{type(exc).__name__}: {exc}", [key])
        log.warning("WeCom send failed: %s", detail)
        return SendResult(status=status, provider_code=code, detail=detail)


def _fit(content: str, limit: int) -> str:
    # Last line of defence: messages.py already splits digests to fit, but errcode 40058 must
    # never happen, even for a hand-built Message. Mentions are kept; the body gives way.
    # A cut here loses text whose notices will be marked sent, so it is an error, not a note.
    if utf8_len(content) > limit:
        log.error("WeCom message of %d bytes cut to %d: its end is lost (the digest split "
                  "should have prevented this; please report it)", utf8_len(content), limit)
    return truncate_bytes(content, limit)
