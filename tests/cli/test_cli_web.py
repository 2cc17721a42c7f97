"""`reminder serve` and the pages beside `reminder run` (reminder.cli.web): uvicorn's own log
lines go through the same handler as ours, so its SecretFilter masks them too."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from clirun import KEYS
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, deploy

from reminder import redact, wiring
from reminder.cli import web

WEB_SECRET = "web-secret-7Hq2vX9pLm"
KEY = KEYS["REMINDER_WECOM_GONGKAI"]


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The process's logging as the commands set it up, into a string."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("reminder").level)
    redact.configure(verbose=False, stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("reminder").setLevel(saved[2])
    redact._secrets.difference_update({WEB_SECRET, *KEYS.values()})


def test_a_secret_in_an_uvicorn_error_line_is_masked(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, log: io.StringIO,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(SECRET_ENV, WEB_SECRET)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)

    async def failing(scope: dict, receive: Any, send: Any) -> None:
        # A bug that puts secrets in an exception: uvicorn logs it, with the traceback, on
        # "uvicorn.error" ("Exception in ASGI application").
        if scope["type"] == "http":
            raise RuntimeError(f"robot key {KEY} refused; signing with {WEB_SECRET}")

    monkeypatch.setattr("reminder.web.create_app", lambda config, store, **_: failing)
    with smtp_server() as smtp, wecom_server() as wecom:
        config_path, base = deploy(tmp_path, smtp, wecom, run_once=False)
    config = wiring.load(config_path)
    wiring.build_channels(config)  # the keys resolved, and remembered, as `run` does first
    with web.serving(config, store=None) as server:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        assert requests.get(base + "/u/x", timeout=10).status_code == 500
    text = log.getvalue()
    assert "错误：Exception in ASGI application" in text, text
    assert "RuntimeError: robot key *** refused; signing with ***" in text
    assert KEY not in text and WEB_SECRET not in text
    captured = capsys.readouterr()
    assert KEY not in captured.err + captured.out and WEB_SECRET not in captured.err
