"""Real servers on 127.0.0.1 for channel tests: an SMTP server (aiosmtpd) that keeps what it
receives, and an HTTP server standing in for the WeCom robot webhook that answers with the
API's real JSON replies. Both are context managers; nothing here ever talks to a non-loopback
address.

    with smtp_server() as smtp:            # smtp.host, smtp.port, smtp.messages
        ...
    with wecom_server([FREQ_LIMIT, OK]) as wecom:   # wecom.url, wecom.requests
        WeComChannel({"法规科群": KEY}, base_url=wecom.url, timeout=0.5)
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (also the way to get "connection refused")."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- TLS material

@dataclass(frozen=True)
class TlsCert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only (hostname 127.0.0.1 checked)."""
        return ssl.create_default_context(cafile=str(self.cert))


@cache
def tls_cert() -> TlsCert | None:
    """A self-signed certificate for 127.0.0.1, made once per test run with the openssl CLI
    (the project does not depend on ``cryptography``). None when openssl is missing."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    folder = Path(tempfile.mkdtemp(prefix="reminder-test-tls-"))
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return TlsCert(cert=cert, key=key)


# ---------------------------------------------------------------- SMTP

@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    login: str | None  # the AUTH user of the session, if any

    @property
    def message(self) -> EmailMessage:
        """Parsed with the default policy, so headers come back decoded (RFC 2047 undone)."""
        msg = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SmtpServer:
    host: str
    port: int
    client_context: ssl.SSLContext | None = None  # pass to EmailChannel(ssl_context=...)
    messages: list[ReceivedMail] = field(default_factory=list)


class _SmtpHandler:
    def __init__(self, server: SmtpServer, reject: Mapping[str, str], delay: float = 0,
                 reject_data: str | None = None, drop_after_data: bool = False) -> None:
        self.server = server
        self.reject = reject
        self.delay = delay
        self.reject_data = reject_data
        self.drop_after_data = drop_after_data

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject_data:
            return self.reject_data
        if self.delay:  # a slow server: a client killed now has not delivered the mail
            import asyncio

            await asyncio.sleep(self.delay)
        login = session.auth_data
        self.server.messages.append(ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=envelope.original_content or envelope.content,
            login=login.decode() if isinstance(login, bytes) else login,
        ))
        if self.drop_after_data:  # kept, but the client never hears so (a lost reply)
            server.transport.close()
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(
    *,
    security: Literal["none", "starttls", "ssl"] = "none",
    users: Mapping[str, str] | None = None,
    reject: Mapping[str, str] | None = None,
    echo_credentials: bool = False,
    delay: float = 0,
    reject_data: str | None = None,
    drop_after_data: bool = False,
) -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1.

    ``security``: plain, STARTTLS required, or implicit TLS, with a self-signed certificate
    (callers should ``pytest.skip`` when ``tls_cert()`` is None). ``users``: require AUTH
    with these logins/passwords (535 otherwise). ``reject``: recipient → full SMTP reply,
    e.g. ``{"nobody@example.gov.cn": "550 5.1.1 No such user"}`` or a ``451 …`` for a
    temporary refusal. ``echo_credentials``: a failed AUTH's 535 reply repeats the login and
    password it was sent, as some servers do, so masking has something to mask. ``delay``:
    seconds before each mail is accepted (and only then kept). ``reject_data``: the reply
    to every mail's content (e.g. ``554 5.6.0 Message content rejected``), nothing kept.
    ``drop_after_data``: keep each mail, then hang up instead of answering 250 (a reply lost
    after DATA: the client cannot know the mail arrived).
    """
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    state = SmtpServer(host=LOOPBACK, port=free_port())
    kwargs: dict[str, Any] = {}
    if security != "none":
        cert = tls_cert()
        if cert is None:
            raise RuntimeError("openssl is needed for a TLS test server")
        state.client_context = cert.client_context()
        if security == "ssl":
            kwargs["ssl_context"] = cert.server_context()
        else:
            kwargs["tls_context"] = cert.server_context()
            kwargs["require_starttls"] = True
    if users is not None:
        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
            if isinstance(auth_data, LoginPassword):
                login, password = auth_data.login.decode(), auth_data.password.decode()
                if users.get(login) == password:
                    return AuthResult(success=True, auth_data=login)
                if echo_credentials:
                    return AuthResult(success=False, handled=False, message=(
                        f"535 5.7.8 Authentication failed for {login} with password {password}"))
            return AuthResult(success=False, handled=False)

        kwargs["authenticator"] = authenticator
        # aiosmtpd only counts STARTTLS as "TLS" (an implicit-TLS session looks plain to it),
        # so in the other two modes AUTH is offered without TLS, and then merely optional
        # because aiosmtpd warns about requiring AUTH without TLS. A wrong login still gets 535.
        kwargs["auth_require_tls"] = kwargs["auth_required"] = security == "starttls"
    controller = Controller(
        _SmtpHandler(state, reject or {}, delay, reject_data, drop_after_data), hostname=LOOPBACK, port=state.port,
        server_hostname="localhost",  # else aiosmtpd asks DNS for the FQDN, which may stall
        **kwargs,
    )
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


# ---------------------------------------------------------------- WeCom webhook

# Replies as WeCom sends them (errmsg wording copied from real responses; hint ids made up).
_MORE = "from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e="
OK: tuple[int, dict[str, Any]] = (200, {"errcode": 0, "errmsg": "ok"})
BUSY = (200, {"errcode": -1, "errmsg": "system busy"})
FREQ_LIMIT = (200, {"errcode": 45009, "errmsg":
                    f"api freq out of limit, hint: [1760000000_1_9f2c], {_MORE}45009"})
INVALID_KEY = (200, {"errcode": 93000, "errmsg":
                     f"invalid webhook url, hint: [1760000000_2_4be1], {_MORE}93000"})
SERVER_ERROR = (500, "<html><body><h1>500 Internal Server Error</h1></body></html>")
BAD_GATEWAY = (502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
HANG = "hang"
# The server reads the whole request, then closes the connection without a word (FIN): it
# may have posted the message, so the client cannot know.
HANGUP = "hangup"
# The server closes at once with unread data (RST), before it reads the body: nothing posted.
RESET = "reset"


def too_long(field_name: str, limit: int) -> tuple[int, dict[str, Any]]:
    return (200, {"errcode": 40058, "errmsg":
                  f"{field_name}.content exceed max length {limit}. invalid Request Parameter, "
                  f"hint: [1760000000_3_77aa], {_MORE}40058"})


Reply = tuple[int, "dict[str, Any] | str"] | Literal["hang", "hangup", "reset"]


@dataclass(frozen=True)
class WebhookRequest:
    path: str
    query: dict[str, list[str]]
    body: Any  # parsed JSON, or None if the body was not JSON
    raw: bytes
    content_type: str
    connection: str = ""  # the Connection header the client sent
    at: float = field(default_factory=time.time)  # when it arrived (epoch seconds)

    @property
    def key(self) -> str | None:
        return self.query.get("key", [None])[0]


@dataclass
class WeComServer:
    url: str  # pass as WeComChannel(base_url=...)
    requests: list[WebhookRequest] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    keys: Collection[str] | None = None
    hang_seconds: float = 3.0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    resets: int = 0  # requests cut off by RESET before their body was read

    def reset_next(self) -> bool:
        with self.lock:
            if self.replies and self.replies[0] == RESET:
                self.replies.pop(0)
                self.resets += 1
                return True
        return False

    def next_reply(self, request: WebhookRequest) -> Reply:
        with self.lock:
            self.requests.append(request)
            if self.replies:
                return self.replies.pop(0)
        return _validate(request, self.keys)


def _validate(request: WebhookRequest, keys: Collection[str] | None) -> Reply:
    """What the real endpoint says to an unscripted request: checks the key and WeCom's byte
    limits, so a test fails if we ever send something WeCom would reject."""
    if keys is not None and request.key not in keys:
        return INVALID_KEY
    body = request.body if isinstance(request.body, dict) else {}
    kind = body.get("msgtype")
    if kind not in ("markdown", "text"):
        return (200, {"errcode": 40008, "errmsg": "invalid message type"})
    content = str(body.get(kind, {}).get("content", ""))
    limit = 4096 if kind == "markdown" else 2048
    if len(content.encode("utf-8")) > limit:
        return too_long(kind, limit)
    return OK


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        state = self.server.state
        if state.reset_next():  # linger 0: close() sends RST, as a crashing server's kernel does
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        parts = urlsplit(self.path)
        reply = state.next_reply(WebhookRequest(
            path=parts.path, query=parse_qs(parts.query), body=body, raw=raw,
            content_type=self.headers.get("Content-Type", ""),
            connection=self.headers.get("Connection", ""),
        ))
        if reply == HANGUP:  # read it all, answer nothing, close (socketserver sends FIN)
            self.close_connection = True
            return
        if reply == HANG:
            state.stop.wait(state.hang_seconds)  # outlive the client's timeout, end on close
            reply = OK
        status, payload = reply
        data = (json.dumps(payload) if isinstance(payload, dict) else payload).encode("utf-8")
        ctype = "application/json; charset=UTF-8" if isinstance(payload, dict) else "text/html"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up (the hang case)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging handler must not block the test's teardown
    state: WeComServer


@contextmanager
def wecom_server(
    replies: Sequence[Reply] = (),
    *,
    keys: Collection[str] | None = None,
    hang_seconds: float = 3.0,
) -> Iterator[WeComServer]:
    """A threaded HTTP server on 127.0.0.1 answering like WeCom's webhook endpoint.

    ``replies`` are used in order, one per request: ``(http_status, json_dict_or_text)`` or
    ``HANG`` (answer only after ``hang_seconds``). Once they run out, each request is checked
    like the real API would: unknown key (when ``keys`` is given) → 93000, content over the
    byte limit → 40058, else errcode 0.
    """
    httpd = _Server((LOOPBACK, 0), _WebhookHandler)
    port = httpd.server_address[1]
    state = WeComServer(
        url=f"http://{LOOPBACK}:{port}/cgi-bin/webhook/send",
        replies=list(replies), keys=keys, hang_seconds=hang_seconds,
    )
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# -- PostgreSQL ----------------------------------------------------------------------------

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres(prefix: str = "reminder_test") -> Iterator[str]:
    """The URL of a new, empty database on the local server, dropped afterwards; the test is
    skipped, saying why, when no server answers on 127.0.0.1:5432."""
    import uuid

    import pytest
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    # pool_pre_ping: a test that restarts the server leaves a dead pooled connection,
    # and the DROP at the end must open a new one instead of failing on it.
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means "no server to test against"
        admin.dispose()
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not usable: {type(exc).__name__}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class PrivateCluster:
    """A throwaway PostgreSQL cluster of this test's own, on a free loopback port: a trial
    may stop and start it without touching the shared server on 5432 that other suites use."""

    folder: Path
    port: int
    url: str
    log: Path

    def _run(self, *args: str) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), *args]), check=True, timeout=120,
                       capture_output=True)

    def start(self) -> None:
        self._run("-D", str(self.folder / "data"), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                  "start")

    def stop(self) -> None:
        self._run("-D", str(self.folder / "data"), "-m", "fast", "-w", "-t", "60", "stop")


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses root: run the cluster's tools as the postgres user when we are root."""
    import os

    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A new cluster (initdb, trust auth, loopback only) in a temporary folder, removed
    afterwards; the test is skipped, saying why, when initdb is not installed or fails."""
    import os
    import pwd

    import pytest

    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no {PG_BIN / 'initdb'}: install postgresql-15 to run this trial")
    folder = Path(tempfile.mkdtemp(prefix="reminder-pg-"))
    try:
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres user for initdb")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        made = subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(folder / "data"),
                                            "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                            "--no-sync"]),
                              capture_output=True, text=True, timeout=180)
        if made.returncode != 0:
            pytest.skip(f"initdb failed: {(made.stderr.strip().splitlines() or ['?'])[-1]}")
        port = free_port()
        cluster = PrivateCluster(folder=folder, port=port, log=folder / "server.log",
                                 url=f"postgresql+psycopg://postgres@{LOOPBACK}:{port}/postgres")
        cluster.start()
        try:
            yield cluster
        finally:
            from contextlib import suppress

            with suppress(subprocess.CalledProcessError):  # already stopped by the test
                cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
