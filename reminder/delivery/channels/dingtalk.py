"""DingTalk custom robot (钉钉自定义机器人) webhook channel.

Each robot is a webhook ``access_token`` plus its security mode, chosen when the robot was
added to the group:
- 加签: every request carries ``timestamp`` (milliseconds) and ``sign``, the base64 of
  HMAC-SHA256 keyed by the robot's secret over "timestamp\\nsecret", URL-encoded. DingTalk
  refuses a timestamp more than an hour off, so the server's clock matters.
- 自定义关键词: the message must contain one of the robot's keywords; the configured keyword
  is put in the title line when the text lacks it.
- IP地址（段）: nothing to send; the office lists this server's address with DingTalk.

A robot takes 20 messages a minute; going over blocks it for 10 minutes (130101). The
dispatcher keeps the 20 a minute across processes, and a block that happens anyway (another
system posting through the same robot) holds the route for the 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import requests

from reminder.delivery.channels.base import (
    Message,
    RobotChannel,
    SendResult,
    config_digest,
    network_failure,
)
from reminder.redact import mask

log = logging.getLogger("reminder.channels.dingtalk")

DEFAULT_URL = "https://oapi.dingtalk.com/robot/send"
RATE_LIMIT = (20, 60.0)
BLOCK_SECONDS = 600.0  # what 130101 costs: the robot takes nothing for 10 minutes


@dataclass(frozen=True, kw_only=True)
class DingTalkRobot:
    """One robot's secrets and security mode (never in repr)."""

    access_token: str
    secret: str | None = None  # 加签
    keyword: str | None = None  # 自定义关键词

    def __repr__(self) -> str:
        mode = "加签" if self.secret else "关键词" if self.keyword else "IP"
        return f"DingTalkRobot(mode={mode!r})"


def sign(secret: str, timestamp_ms: int) -> str:
    """The 加签 signature, before URL encoding (requests encodes query values)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkChannel(RobotChannel):
    name = "dingtalk"
    rate_limit = RATE_LIMIT
    fmt = "markdown"
    block_codes = frozenset({"130101", "410100"})  # the dispatcher pauses the robot

    def __init__(self, robots: Mapping[str, DingTalkRobot], *, base_url: str = DEFAULT_URL,
                 timeout: float = 10, session: requests.Session | None = None,
                 clock: Callable[[], float] = _time.time) -> None:
        self._robots = dict(robots)
        self.base_url = base_url
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        self.clock = clock
        self._fingerprints = {
            name: config_digest(self.name, name, base_url, r.keyword,
                                secret=f"{r.access_token}\x1f{r.secret or ''}")
            for name, r in self._robots.items()}

    def __repr__(self) -> str:
        return f"DingTalkChannel(robots={sorted(self._robots)!r}, base_url={self.base_url!r})"

    def fingerprint(self, addresses: Sequence[str]) -> str:
        robot = self.route(addresses)
        return self._fingerprints.get(robot) or config_digest(self.name, robot, self.base_url)

    def close(self) -> None:
        if self._own_session and self._session is not None:
            self._session.close()
            self._session = None

    def params(self, robot: DingTalkRobot) -> dict[str, str]:
        """The query string: the token, and with 加签 the timestamp and its signature."""
        params = {"access_token": robot.access_token}
        if robot.secret:
            stamp = int(self.clock() * 1000)
            params.update(timestamp=str(stamp), sign=sign(robot.secret, stamp))
        return params

    def payload(self, message: Message, robot: DingTalkRobot) -> dict[str, object]:
        text = message.markdown or message.text
        title = message.subject or "提醒"
        if robot.keyword and robot.keyword not in text:
            # 关键词 mode drops any message without the word (310000): carry it visibly.
            text = f"【{robot.keyword}】{text}"
            title = f"{robot.keyword}：{title}"
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text},
                "at": {"atMobiles": list(message.mobiles), "isAtAll": False}}

    def form_problems(self) -> dict[str, str]:
        """`reminder doctor`: what is wrong with each robot's settings, by name; checks the
        signature can be made without sending anything."""
        problems = {}
        for name, robot in self._robots.items():
            token = robot.access_token
            if "access_token=" in token or token.lower().startswith("http"):
                problems[name] = "填的是整个 Webhook 地址，只需填 access_token= 后面的部分"
            elif token != token.strip() or not token.isalnum():
                problems[name] = "access_token 应为一串字母和数字（检查是否多了空格或换行）"
            elif robot.secret is not None and not robot.secret.startswith("SEC"):
                problems[name] = "加签密钥应以 SEC 开头（机器人安全设置 → 加签 中复制）"
            elif robot.secret is None and not robot.keyword:
                problems[name] = ("既未配置加签密钥也未配置关键词：若机器人的安全设置是“IP地址（段）”，"
                                  "请确认已加入本服务器的出口 IP")
        return problems

    def send(self, message: Message) -> SendResult:
        name = message.to[0] if message.to else ""
        robot = self._robots.get(name)
        if robot is None:
            return SendResult(status="permanent", provider_code="no-robot",
                              detail=f"未配置钉钉机器人“{name}”")
        secrets = [robot.access_token, robot.secret]
        if self._session is None:
            self._session = requests.Session()
        body = json.dumps(self.payload(message, robot), ensure_ascii=False).encode("utf-8")
        try:
            resp = self._session.post(self.base_url, params=self.params(robot), data=body,
                                      # a fresh connection each post: a reset is then this
                                      # post's, never an idle pooled connection's (uncertain)
                                      headers={"Content-Type": "application/json; charset=utf-8",
                                               "Connection": "close"},
                                      timeout=self.timeout)
        except requests.RequestException as exc:
            return network_failure(exc, "钉钉接口", "base_url", self.timeout,
                                   masked=lambda text: mask(text, secrets))
        return self._read(resp, name, secrets)

    def _read(self, resp: requests.Response, name: str,
              secrets: list[str | None]) -> SendResult:
        status = resp.status_code
        if status >= 500 or status == 429:
            return SendResult(status="retryable", provider_code=f"http {status}",
                              detail=f"钉钉接口返回 HTTP {status}")
        if status >= 400:
            return SendResult(status="config", provider_code=f"http {status}",
                              detail=f"钉钉接口返回 HTTP {status}，请检查 base_url")
        try:
            reply = resp.json()
            code = int(reply["errcode"])
        except (ValueError, KeyError, TypeError):
            return SendResult(status="retryable", provider_code=f"http {status}",
                              detail=mask(f"钉钉接口返回了无法识别的内容：{resp.text[:200]}", secrets))
        errmsg = mask(str(reply.get("errmsg", "")), secrets)
        if code == 0:
            return SendResult(status="ok", provider_code="0")
        if code in (130101, 410100):  # over 20 a minute: the robot is blocked for 10
            log.error("钉钉机器人“%s”发送过快被限流 10 分钟：%s", name, errmsg)
            return SendResult(status="retryable", provider_code=str(code),
                              detail=f"钉钉机器人“{name}”发送过快，被钉钉限流 10 分钟：{errmsg}",
                              retry_after=BLOCK_SECONDS)
        if code == -1:
            return SendResult(status="retryable", provider_code="-1",
                              detail=f"钉钉接口繁忙：{errmsg}")
        if code == 310000:
            hint = _security_hint(errmsg)
            log.error("钉钉机器人“%s”安全设置校验失败：%s", name, errmsg)
            return SendResult(status="config", provider_code="310000",
                              detail=f"钉钉机器人“{name}”安全设置校验失败（{hint}）：{errmsg}")
        if code in (300001, 400013, 400101, 430101):
            return SendResult(status="config", provider_code=str(code),
                              detail=f"钉钉机器人“{name}”不可用（access_token 无效、机器人已停用或群已解散，"
                                     f"请检查配置）：{errmsg}")
        log.error("钉钉机器人“%s”拒绝发送：errcode %s %s", name, code, errmsg)
        return SendResult(status="permanent", provider_code=str(code),
                          detail=f"钉钉机器人“{name}”拒绝发送：{errmsg}")


def _security_hint(errmsg: str) -> str:
    text = errmsg.lower()
    if "sign" in text:
        return "加签密钥不对，或本服务器时钟与北京时间相差超过 1 小时"
    if "keyword" in text:
        return "消息不含机器人设置的关键词，请把 keyword 配成机器人安全设置中的关键词之一"
    if "ip" in text:
        return "本服务器的出口 IP 不在机器人的 IP 地址（段）中"
    return "请核对机器人的安全设置：加签、关键词或 IP 地址（段）"
