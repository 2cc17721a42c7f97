"""Secrets never reach a log line (reminder.redact), from our code or any library's."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from reminder import redact

KEY = "a1+b2/c3=d4"  # a key with every character URLs percent-encode


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("reminder").level)
    redact.configure(verbose=True, stream=stream)
    redact.remember(KEY)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("reminder").setLevel(saved[2])
    redact._secrets.discard(KEY)


@pytest.mark.parametrize("form", sorted(redact.forms(KEY)), ids=lambda f: f)
def test_every_form_of_a_remembered_secret_is_masked(form: str) -> None:
    redact.remember(KEY)
    try:
        assert redact.mask(f"POST /send?x={form}&y=1 failed") == "POST /send?x=***&y=1 failed"
    finally:
        redact._secrets.discard(KEY)


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /cgi-bin/webhook/send?key=unknown-key HTTP/1.1", "GET /cgi-bin/webhook/send?key=*** HTTP/1.1"),
    ("https://h/x?a=1&access_token=abc&b=2", "https://h/x?a=1&access_token=***&b=2"),
    ("monkey=business", "monkey=business"),  # not a query parameter
], ids=["webhook-key", "access-token", "word-ending-in-key"])
def test_credential_query_values_are_masked_even_when_unknown(text: str, expected: str) -> None:
    assert redact.mask(text) == expected


def test_short_values_are_not_remembered_as_secrets() -> None:
    redact.remember("ab")
    assert redact.mask("ab cd") == "ab cd"


def test_a_library_warning_with_the_url_is_masked(log: io.StringIO) -> None:
    # urllib3's own wording when it retries a request: the URL carries the key, percent-encoded.
    logging.getLogger("urllib3.connectionpool").warning(
        "Retrying (Retry(total=2)) after connection broken: /cgi-bin/webhook/send?key=%s",
        quote(KEY, safe=""))
    text = log.getvalue()
    assert "Retrying" in text
    assert not any(form in text for form in redact.forms(KEY))


def test_exception_text_is_masked(log: io.StringIO) -> None:
    try:
        raise ConnectionError(f"cannot reach https://example.invalid/send?x={KEY}")
    except ConnectionError:
        logging.getLogger("reminder.test").exception("send failed")
    text = log.getvalue()
    assert "ConnectionError" in text and "send failed" in text
    assert KEY not in text


def test_libraries_stay_at_warning_and_ours_at_debug_when_verbose(log: io.StringIO) -> None:
    logging.getLogger("urllib3.connectionpool").debug("http://127.0.0.1 \"POST /send?key=x\"")
    logging.getLogger("sqlalchemy.engine").info("SELECT 1")
    logging.getLogger("reminder.dispatcher").debug("claimed 3 notices")
    text = log.getvalue()
    assert "claimed 3 notices" in text
    assert "POST" not in text and "SELECT" not in text


def test_terminal_lines_are_time_and_chinese_and_name_the_logger_only_when_verbose() -> None:
    import io
    import logging

    from reminder.redact import configure

    for verbose in (False, True):
        out = io.StringIO()
        configure(verbose, out)
        logging.getLogger("reminder.daemon").info("已同步计划 demo-2026")
        logging.getLogger("reminder.daemon").warning("计划 demo-2026：缺少 2027 年节假日")
        first, second = out.getvalue().splitlines()
        assert first[:4].isdigit() and first.endswith(" 已同步计划 demo-2026")
        if verbose:
            assert "INFO reminder.daemon: " in first
        else:
            assert "reminder" not in first.replace("demo", "") and "INFO" not in first
            assert " 警告：计划 demo-2026" in second
