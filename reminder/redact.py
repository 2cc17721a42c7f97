"""Secrets never reach a log line, whoever writes it.

Every secret the configuration resolves is remembered here, and `SecretFilter`, installed on the
root handler, masks it in each record before it is formatted: in our own messages and in any
library's (urllib3 logs request URLs with `?key=…` at DEBUG). A handler filter, not a logger
filter, because only handler filters see records propagated from other loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import quote, quote_plus

MASK = "***"

# Query values that are credentials whether or not we know the secret (a key given on the
# command line, a URL quoted in a library's exception).
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:key|access_token|token|secret|corpsecret|password|sign)=)[^&#\s'\"<>]+")

_secrets: set[str] = set()


def remember(secret: str | None) -> None:
    """Mask this secret in every log record from now on (this process)."""
    if secret and len(secret) >= 4:  # a two-letter "secret" would mask ordinary words
        _secrets.add(secret)


def forms(secret: str) -> set[str]:
    """The ways a secret shows up in text: as is, and percent-encoded as URLs carry it."""
    return {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}


def mask(text: str, extra: Iterable[str | None] = ()) -> str:
    """The text with every remembered (and every extra) secret and `key=` query value masked."""
    secrets = _secrets.union(s for s in extra if s)
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        for form in sorted(forms(secret), key=len, reverse=True):
            if form in text:
                text = text.replace(form, MASK)
    return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)


class SecretFilter(logging.Filter):
    """Rewrites each record's message, exception and stack text with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in a library: show it raw, still masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class TerminalFormatter(logging.Formatter):
    """What a clerk reads on the terminal: the time and the Chinese message, with 警告/错误
    in front of what needs attention; the logger name and level only under -v."""

    LEVELS: ClassVar[dict[int, str]] = {logging.WARNING: "警告：", logging.ERROR: "错误：",
                                        logging.CRITICAL: "严重错误："}

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return f"{record.asctime} {self.LEVELS.get(record.levelno, '')}{record.message}"


def configure(verbose: bool, stream: object) -> logging.Handler:
    """Log our own records (DEBUG with verbose, else INFO) and only warnings from libraries,
    through one handler that masks secrets."""
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
                         if verbose else TerminalFormatter())
    handler.addFilter(SecretFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries (urllib3, sqlalchemy, apscheduler, alembic …) inherit WARNING from the root:
    # their DEBUG lines are where request URLs and connection strings appear.
    root.setLevel(logging.WARNING)
    logging.getLogger("reminder").setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler
