"""Request bodies over their route's ceiling are refused with 413 before they are read
(issue 20: there was no body-size limit on form POSTs, and Starlette's form parser reads
a url-encoded body whole into memory)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from webutil import Deployment, example_served

from reminder.web.bodylimit import FORM_BYTES, BodyLimit


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with example_served(tmp_path, monkeypatch) as deployment:
        yield deployment


def raw_post(url: str, declared: int, sent: bytes) -> tuple[bytes, bool]:
    """POST over a plain socket declaring ``declared`` body bytes but sending only ``sent``;
    the server's whole answer, and whether it then closed the connection."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as conn:
        conn.sendall((f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      f"Content-Length: {declared}\r\n\r\n").encode() + sent)
        answer = b""
        while True:  # the server must answer and close without the rest of the body
            chunk = conn.recv(65536)
            if not chunk:
                return answer, True
            answer += chunk


def test_a_huge_content_length_gets_413_from_the_headers_alone(site: Deployment) -> None:
    url = site.unit_url("法规科")
    answer, closed = raw_post(url, declared=1_000_000_000, sent=b"csrf=" + b"x" * 1000)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert "提交的内容过大（上限 64 KB）" in body.decode("utf-8")
    assert closed  # 1 KB of the declared 1 GB was sent: the server did not wait for the rest
    # The server is unharmed, and an ordinary form still reaches its route.
    assert requests.get(f"{site.base}/healthz", timeout=10).text == "ok"
    assert requests.get(url, timeout=10).status_code == 200
    ordinary = requests.post(url, data={"csrf": "x", "action": "done", "task": "1"}, timeout=10)
    assert ordinary.status_code == 403  # refused by the CSRF check, not by the size


def test_just_over_the_limit_is_refused_and_at_it_is_not(site: Deployment) -> None:
    url = site.unit_url("法规科")
    body = b"csrf=x&text=" + b"a" * FORM_BYTES
    over = requests.post(url, data=body[:FORM_BYTES + 1], timeout=10,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    at = requests.post(url, data=body[:FORM_BYTES], timeout=10,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (over.status_code, at.status_code) == (413, 403)


def call(app: BodyLimit, path: str, body: list[bytes], *, declare: bool = False,
         content_type: bytes = b"") -> tuple[int, str, int]:
    """One request straight through the ASGI interface: status, text, and how many body
    bytes the server pulled from the client before answering."""
    pulled = 0
    parts = list(body)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = parts.pop(0) if parts else b""
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(sum(map(len, body))).encode())] if declare else []
    if content_type:
        headers.append((b"content-type", content_type))
    asyncio.run(app({"type": "http", "method": "POST", "path": path, "headers": headers},
                    receive, send))
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], text.decode("utf-8"), pulled


def echo(limits: dict[str, int] | None = None) -> BodyLimit:
    async def size(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(routes=[Route("/form", size, methods=["POST"]),
                            Route("/files/{n}", size, methods=["POST"])])
    return BodyLimit(app, default=1000, limits=limits)


def test_a_body_without_content_length_is_cut_off_at_the_limit() -> None:
    """Chunked: no length to judge by, so the body is counted as it is read and refused
    once it passes the limit, before the route has all of it."""
    assert call(echo(), "/form", [b"x" * 100] * 10)[:2] == (200, "1000")
    status, text, pulled = call(echo(), "/form", [b"x" * 100] * 50)
    assert status == 413 and "上限" in text
    assert pulled == 1100  # stopped at the first chunk past the limit, not at 5,000


def test_a_declared_length_over_the_limit_reads_nothing() -> None:
    status, _text, pulled = call(echo(), "/form", [b"x" * 5000], declare=True)
    assert (status, pulled) == (413, 0)


def test_an_upload_route_names_its_own_larger_limit() -> None:
    """How the 佐证材料 upload route will raise its ceiling: a pattern and a size, while
    every other route keeps the form limit."""
    app = echo({r"/files/\d+": 10_000})
    assert call(app, "/files/7", [b"x" * 9000], declare=True)[:2] == (200, "9000")
    assert call(app, "/files/7", [b"x" * 10_001], declare=True)[0] == 413
    assert call(app, "/form", [b"x" * 1001], declare=True)[0] == 413


def test_the_upload_limit_is_for_multipart_bodies_only() -> None:
    """The unit page takes files (multipart) and plain forms (url-encoded, which Starlette
    reads whole): only the files get the larger ceiling, declared or counted."""
    app = BodyLimit(echo().app, default=1000, uploads={r"/files/\d+": 10_000})
    multipart = b"multipart/form-data; boundary=x"
    assert call(app, "/files/7", [b"x" * 9000], declare=True, content_type=multipart)[:2] == (
        200, "9000")
    assert call(app, "/files/7", [b"x" * 100] * 90, content_type=multipart)[:2] == (200, "9000")
    assert call(app, "/files/7", [b"x" * 10_001], declare=True, content_type=multipart)[0] == 413
    form = b"application/x-www-form-urlencoded"
    assert call(app, "/files/7", [b"x" * 1001], declare=True, content_type=form)[0] == 413
    assert call(app, "/files/7", [b"x" * 100] * 11, content_type=form)[0] == 413
    assert call(app, "/form", [b"x" * 1001], declare=True, content_type=multipart)[0] == 413


def test_a_route_that_answered_before_the_body_passed_the_limit_ends_in_an_error() -> None:
    """Too late for a 413 once a response has started: the request ends with the error
    (the server drops the connection), never with a second status line after the first.
    Found by the mutation run of 2026-12-04: nothing checked this branch."""
    async def early(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.body", "body": b"done"})

    sent: list[dict[str, Any]] = []
    parts = [b"x" * 500] * 5

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": parts.pop(0), "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with pytest.raises(Exception) as raised:  # the private _TooLarge, named below
        asyncio.run(BodyLimit(early, default=1000)(
            {"type": "http", "method": "POST", "path": "/x", "headers": []}, receive, send))
    assert type(raised.value).__name__ == "_TooLarge"
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200]
