"""A ceiling on request bodies, checked before the body is read (issue 20).

Starlette's form parser reads a url-encoded body whole into memory, so one POST with a
huge Content-Length (or an endless chunked body) could take the server's memory. The
middleware answers 413 from the headers alone when Content-Length is over the route's
limit, and stops a body without Content-Length as soon as it passes it.

The limit is per route: plain forms get ``FORM_BYTES``; a route that takes uploads (佐证材料)
names its own, larger one in ``limits`` (a path pattern and a byte count), so nothing else
here has to change for it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

FORM_BYTES = 64 * 1024  # the longest form (a 2,000-character note, percent-encoded) is ~20 KB


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: ``default`` bytes for any request body, ``limits`` for the paths
    matching each pattern (the first match wins), and ``uploads`` for multipart bodies on the
    paths matching each pattern: a page that takes files keeps the form limit for its
    url-encoded forms, which Starlette reads whole into memory."""

    def __init__(self, app: App, *, default: int = FORM_BYTES,
                 limits: Mapping[str, int] | None = None,
                 uploads: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.limits = [(re.compile(pattern), size) for pattern, size in (limits or {}).items()]
        self.uploads = [(re.compile(pattern), size) for pattern, size in (uploads or {}).items()]

    def limit_for(self, path: str, content_type: bytes = b"") -> int:
        if content_type.lower().startswith(b"multipart/form-data"):
            size = next((size for pattern, size in self.uploads if pattern.fullmatch(path)), None)
            if size is not None:
                return size
        return next((size for pattern, size in self.limits if pattern.fullmatch(path)),
                    self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""), _header(scope, b"content-type"))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)  # from the headers alone: nothing of the body is read
            return
        seen = 0
        started = over = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a body without (or lying about) its length
                    over = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # Starlette answers the exception with a 500: ours is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:  # too late for a status: the connection ends with the exception
                raise
        if over and not started:
            await _refuse(send, limit)


def _header(scope: Scope, wanted: bytes) -> bytes:
    return next((value for name, value in scope.get("headers", ()) if name == wanted), b"")


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


async def _refuse(send: Send, limit: int) -> None:
    size = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KB"
    body = (f"提交的内容过大（上限 {size}），未予处理；请缩短内容，或压缩图片、拆分附件后"
            "分次提交。").encode()
    # Connection: close, so the server does not wait for the rest of a body it will not read.
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})
