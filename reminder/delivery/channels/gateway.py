"""An office's own HTTP notification API: a 政务短信平台, an internal 统一消息 service.

Every such gateway wants its own request, so the deployment describes it: the URL and
method, headers (a value "secret:NAME" is read from the environment or the secrets file, never
written in config.toml), and a Jinja2 template rendering the body per recipient as a JSON
object, sent as JSON or as a form. Platforms that sign each request (an account, a password
or key, a timestamp and an MD5 of them, as 移动云MAS-style interfaces do) get ``secret.NAME``,
``timestamp`` (seconds), ``timestamp_ms`` and the filters ``md5``, ``sha256`` and ``b64``.

Success is the HTTP status, and when configured a value at
a JSON path of the answer ("code" = "0"): gateways commonly answer HTTP 200 to a refused
message and say so in the body.

The message is the digest's short form (see render/brief.py): an SMS is read on a lock screen.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from reminder.delivery.channels.base import Channel, Message, SendResult, config_digest, network_failure
from reminder.redact import mask

log = logging.getLogger("reminder.channels.gateway")

DEFAULT_BODY = '{"mobile": {{ mobile | tojson }}, "content": {{ text | tojson }}}'
SAMPLE = {"mobile": "13800000000", "to": "13800000000",
          "title": "【办公室提醒】法规科：2项任务",
          "text": "【办公室提醒】法规科：2项任务，最近截止12月10日（还有3个工作日），"
                  "详情及反馈：https://duban.example.gov.cn/u/abc",
          "link": "https://duban.example.gov.cn/u/abc"}


class GatewayChannel(Channel):
    name = "sms"
    personal = True

    def __init__(
        self,
        *,
        url: str,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        body: str = "",
        body_format: str = "json",
        success_status: Sequence[int] = (200,),
        success_path: str | None = None,
        success_value: str | None = None,
        timeout: float = 10,
        secrets: Sequence[str] = (),
        body_secrets: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        clock: Any = time.time,
    ) -> None:
        self.url, self.method = url, method.upper()
        self._headers = dict(headers or {})
        self._secrets = [s for s in secrets if s]
        self.body_format = body_format
        self.success_status = tuple(success_status)
        self.success_path, self.success_value = success_path, success_value
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        self._env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self._env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
        self._env.filters.update(md5=_hex(hashlib.md5), sha256=_hex(hashlib.sha256), b64=_b64)
        self._body_secrets = dict(body_secrets or {})
        self._clock = clock
        self._template = self._env.from_string(body or DEFAULT_BODY)
        self._fingerprint = config_digest(self.name, url, method, body, body_format,
                                          secret="\x1f".join(self._secrets))

    def __repr__(self) -> str:
        return f"GatewayChannel(url={mask(self.url, self._secrets)!r}, method={self.method!r})"

    def route(self, addresses: Sequence[str]) -> str:
        return self.url

    def fingerprint(self, addresses: Sequence[str]) -> str:
        return self._fingerprint

    def routes(self, addresses: Sequence[str]) -> bool:
        return bool(addresses)

    def close(self) -> None:
        if self._own_session and self._session is not None:
            self._session.close()
            self._session = None

    def render(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The body for one recipient, as the JSON object the template makes."""
        now = self._clock()
        text = self._template.render(secret=self._body_secrets, timestamp=str(int(now)),
                                     timestamp_ms=str(int(now * 1000)), **context)
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("模板的结果应为一个 JSON 对象 {…}")
        return value

    def check(self) -> SendResult:
        """`reminder doctor`: render the body for a sample recipient, send nothing."""
        try:
            self.render(SAMPLE)
        except (TemplateError, ValueError) as exc:
            return SendResult(status="config", provider_code="template",
                              detail=f"请求体模板无法生成 JSON：{exc}")
        return SendResult(status="ok")

    def send(self, message: Message) -> SendResult:
        mobile = message.to[0] if message.to else ""
        if not mobile:
            return SendResult(status="permanent", provider_code="no-mobile",
                              detail="没有手机号，无法发送短信")
        context = {"mobile": mobile, "to": mobile, "title": message.subject,
                   "text": message.text, "link": message.url}
        try:
            body = self.render(context)
        except (TemplateError, ValueError) as exc:
            return SendResult(status="config", provider_code="template",
                              detail=f"请求体模板无法生成 JSON：{exc}")
        if self._session is None:
            self._session = requests.Session()
        # A fresh connection each request: a reset is then this request's, never an idle
        # pooled connection's, and a reset after the request is uncertain.
        options: dict[str, Any] = {"headers": {"Connection": "close", **self._headers},
                                   "timeout": self.timeout}
        if self.method == "GET":
            options["params"] = {k: _flat(v) for k, v in body.items()}
        elif self.body_format == "form":
            options["data"] = {k: _flat(v) for k, v in body.items()}
        else:
            options["data"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
            options["headers"].setdefault("Content-Type", "application/json; charset=utf-8")
        try:
            resp = self._session.request(self.method, self.url, **options)
        except requests.RequestException as exc:
            return network_failure(exc, "短信平台", "url", self.timeout, masked=self._mask)
        return self._read(resp)

    def _read(self, resp: requests.Response) -> SendResult:
        status = resp.status_code
        said = self._mask(resp.text[:200])
        if status not in self.success_status:
            if status >= 500 or status == 429:
                return SendResult(status="retryable", provider_code=f"http {status}",
                                  detail=f"短信平台返回 HTTP {status}：{said}")
            if status in (401, 403, 404, 405):
                return SendResult(status="config", provider_code=f"http {status}",
                                  detail=f"短信平台返回 HTTP {status}"
                                         f"（请检查 url、method 和认证请求头）：{said}")
            return SendResult(status="permanent", provider_code=f"http {status}",
                              detail=f"短信平台拒绝请求（HTTP {status}）：{said}")
        if self.success_path is None:
            return SendResult(status="ok", provider_code=f"http {status}")
        try:
            found = _at(resp.json(), self.success_path)
        except (ValueError, KeyError, IndexError, TypeError):
            # The gateway took the request (a success status) but its verdict cannot be read:
            # the SMS may be on its way. Retried like a failure, a wrong success_path would
            # send every SMS max_attempts times; uncertain is one late retry, then the admin.
            log.error("短信平台的回复中没有 %s（请检查 success_path）：%s", self.success_path, said)
            return SendResult(status="uncertain", provider_code=f"http {status}",
                              detail=f"短信平台的回复中没有 {self.success_path}，短信可能已经发出"
                                     f"（请检查 success_path）：{said}")
        value = str(found).lower() if isinstance(found, bool) else str(found)
        if value == self.success_value:
            return SendResult(status="ok", provider_code=value)
        log.error("短信平台拒绝发送：%s = %s：%s", self.success_path, value, said)
        return SendResult(status="permanent", provider_code=value,
                          detail=f"短信平台拒绝发送（{self.success_path} = {value}）：{said}")

    def _mask(self, text: str) -> str:
        return mask(text, self._secrets)


def _hex(algorithm: Any) -> Any:
    def digest(value: Any) -> str:
        return algorithm(str(value).encode("utf-8")).hexdigest()

    return digest


def _b64(value: Any) -> str:
    return base64.b64encode(str(value).encode("utf-8")).decode("ascii")


def _flat(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _at(data: Any, path: str) -> Any:
    """The value at a dotted path: "code", "data.status", "result.0.code"."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data
