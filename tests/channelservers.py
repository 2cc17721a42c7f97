"""Loopback stand-ins for the personal channels, answering with each provider's real JSON:

    with wecom_app_server(corpid=CORP, secret=SECRET) as wx:   # wx.url, wx.sends, wx.tokens
    with dingtalk_server({TOKEN: SECRET}) as dt:               # dt.url, dt.requests
    with gateway_server() as gw:                               # gw.url, gw.requests

The WeCom app stand-in hands out tokens that really expire (``token_seconds``), checks the
token on every send (42001 once expired, 40014 when unknown), knows its members (81013 when
none of the addressees exists, ``invaliduser`` for some) and can refuse this server's address
(60020). The DingTalk stand-in recomputes the 加签 HMAC and refuses a wrong one (310000), and
counts 20 a minute per robot: the 21st blocks the robot for ``block_seconds`` (130101). The
gateway answers scripted replies. Nothing here talks to a non-loopback address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"
JsonReply = tuple[int, "dict[str, Any] | str"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.raw.decode("utf-8"))
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.raw.decode("utf-8")).items()}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        request = Request(method=self.command, path=parts.path,
                          query={k: v[0] for k, v in parse_qs(parts.query).items()},
                          headers={k.lower(): v for k, v in self.headers.items()}, raw=raw)
        status, payload = self.server.answer(request)
        data = (json.dumps(payload, ensure_ascii=False) if isinstance(payload, dict)
                else payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8"
                             if isinstance(payload, dict) else "text/plain; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    answer: Callable[[Request], JsonReply]


@contextmanager
def _serving(answer: Callable[[Request], JsonReply]) -> Iterator[str]:
    httpd = _Server((LOOPBACK, 0), _Handler)
    httpd.answer = answer
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# ---------------------------------------------------------------- WeCom application messages

@dataclass
class WeComAppServer:
    url: str
    corpid: str
    secret: str
    agentid: int
    members: Collection[str] | None  # None: every userid exists
    token_seconds: float
    trusted: bool = True  # False: every send answers 60020
    delay: float = 0.0  # seconds each send takes, outside the lock (a kill lands mid-send)
    token_calls: int = 0
    sends: list[Request] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)  # sends answered errcode 0
    replies: list[JsonReply] = field(default_factory=list)  # scripted, used first
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (epoch)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> JsonReply:
        if self.delay and request.path == "/cgi-bin/message/send":
            time.sleep(self.delay)
        with self.lock:
            if request.path == "/cgi-bin/gettoken":
                return self._gettoken(request)
            if request.path == "/cgi-bin/message/send":
                self.sends.append(request)
                if self.replies:
                    return self.replies.pop(0)
                status, reply = self._send(request)
                if isinstance(reply, dict) and reply.get("errcode") == 0:
                    self.accepted.append(request)
                return status, reply
        return 404, "not found"

    def expire_all(self) -> None:
        """As if every token handed out had run out (WeCom's 2 hours passed)."""
        with self.lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def _gettoken(self, request: Request) -> JsonReply:
        self.token_calls += 1
        if request.query.get("corpid") != self.corpid:
            return 200, {"errcode": 40013, "errmsg": "invalid corpid"}
        if request.query.get("corpsecret") != self.secret:
            return 200, {"errcode": 40001, "errmsg": "invalid credential"}
        token = secrets.token_urlsafe(48)
        self.tokens[token] = time.time() + self.token_seconds
        return 200, {"errcode": 0, "errmsg": "ok", "access_token": token,
                     "expires_in": int(self.token_seconds)}

    def _send(self, request: Request) -> JsonReply:
        token = request.query.get("access_token", "")
        if token not in self.tokens:
            return 200, {"errcode": 40014, "errmsg": "invalid access_token"}
        if self.tokens[token] <= time.time():
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}
        if not self.trusted:
            return 200, {"errcode": 60020, "errmsg": "not allow to access from your ip, "
                         "hint: [1764800000_1_aa], from ip: 203.0.113.7"}
        body = request.json if isinstance(request.json, dict) else {}
        if body.get("agentid") != self.agentid:
            return 200, {"errcode": 40056, "errmsg": "invalid agentid"}
        kind = body.get("msgtype")
        if kind == "markdown":
            if len(str(body["markdown"].get("content", "")).encode()) > 2048:
                return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 2048"}
        elif kind == "textcard":
            card = body["textcard"]
            if (len(card.get("title", "").encode()) > 128
                    or len(card.get("description", "").encode()) > 512 or not card.get("url")):
                return 200, {"errcode": 40058, "errmsg": "textcard invalid"}
        else:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        invalid = [u for u in users if self.members is not None and u not in self.members]
        if users and len(invalid) == len(users):
            return 200, {"errcode": 81013, "errmsg": "user & party & tag all invalid",
                         "invaliduser": "|".join(invalid)}
        return 200, {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                     "invalidparty": "", "invalidtag": "", "unlicenseduser": "",
                     "msgid": secrets.token_hex(8), "response_code": ""}


@contextmanager
def wecom_app_server(*, corpid: str, secret: str, agentid: int = 1000002,
                     members: Collection[str] | None = None, token_seconds: float = 7200,
                     replies: Sequence[JsonReply] = (),
                     delay: float = 0.0) -> Iterator[WeComAppServer]:
    state = WeComAppServer(url="", corpid=corpid, secret=secret, agentid=agentid,
                           members=members, token_seconds=token_seconds, replies=list(replies),
                           delay=delay)
    with _serving(state.answer) as url:
        state.url = url
        yield state


# ---------------------------------------------------------------- DingTalk custom robot

@dataclass
class DingTalkServer:
    url: str
    robots: Mapping[str, str | None]  # access_token -> 加签 secret (None: keyword/IP mode)
    keywords: Mapping[str, str]  # access_token -> keyword the text must contain
    per_minute: int = 20
    block_seconds: float = 600.0
    requests: list[Request] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)
    blocked_until: dict[str, float] = field(default_factory=dict)
    over_limit: int = 0  # sends that went past 20 a minute (must stay 0)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Request) -> JsonReply:
        with self.lock:
            self.requests.append(request)
            return self._answer(request)

    def _answer(self, request: Request) -> JsonReply:
        token = request.query.get("access_token", "")
        if token not in self.robots:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        now = time.time()
        if self.blocked_until.get(token, 0) > now:
            return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        secret = self.robots[token]
        if secret is not None:
            stamp = request.query.get("timestamp", "")
            if not stamp.isdigit() or abs(int(stamp) / 1000 - now) > 3600:
                return 200, {"errcode": 310000, "errmsg": "invalid timestamp"}
            expected = base64.b64encode(hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if request.query.get("sign") != expected:
                return 200, {"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}
        body = request.json if isinstance(request.json, dict) else {}
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("title"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        keyword = self.keywords.get(token)
        if keyword and keyword not in json.dumps(body, ensure_ascii=False):
            return 200, {"errcode": 310000, "errmsg": "keywords not in content"}
        recent = [r for r in self.accepted
                  if r.query.get("access_token") == token and now - r.at < 60]
        if len(recent) >= self.per_minute:
            self.over_limit += 1
            self.blocked_until[token] = now + self.block_seconds
            return 200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        self.accepted.append(request)
        return 200, {"errcode": 0, "errmsg": "ok"}


@contextmanager
def dingtalk_server(robots: Mapping[str, str | None], *, keywords: Mapping[str, str] | None = None,
                    per_minute: int = 20) -> Iterator[DingTalkServer]:
    state = DingTalkServer(url="", robots=dict(robots), keywords=dict(keywords or {}),
                           per_minute=per_minute)
    with _serving(state.answer) as url:
        state.url = f"{url}/robot/send"
        yield state


# ---------------------------------------------------------------- an office's own gateway

@dataclass
class GatewayServer:
    url: str
    replies: list[JsonReply] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (account, key): each request must carry ecName = account, a timestamp within five
    # minutes and mac = MD5(account + key + mobiles + content + timestamp), as MAS-style
    # 短信平台 check it; a wrong one is answered HTTP 200 with a business error.
    signed: tuple[str, str] | None = None

    def answer(self, request: Request) -> JsonReply:
        with self.lock:
            self.requests.append(request)
            if self.signed is not None and (refusal := self._signature(request.json)):
                return 200, {"code": "401", "msg": refusal}
            if self.replies:
                return self.replies.pop(0)
        return 200, {"code": "0", "msg": "提交成功", "data": {"batchId": secrets.token_hex(6)}}

    def _signature(self, body: Any) -> str:
        assert self.signed is not None
        account, key = self.signed
        if not isinstance(body, dict) or body.get("ecName") != account:
            return "账号不存在"
        stamp = str(body.get("timestamp", ""))
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return "时间戳无效"
        mac = hashlib.md5(f"{account}{key}{body.get('mobiles')}{body.get('content')}{stamp}"
                          .encode()).hexdigest()
        return "" if body.get("mac") == mac else "签名错误"


@contextmanager
def gateway_server(replies: Sequence[JsonReply] = (), *,
                   signed: tuple[str, str] | None = None) -> Iterator[GatewayServer]:
    state = GatewayServer(url="", replies=list(replies), signed=signed)
    with _serving(state.answer) as url:
        state.url = f"{url}/api/sms/send"
        yield state
