"""Delivery channels: one small plugin per service behind one interface (see ``base``).

The concrete channels are imported lazily so that importing the records and the splitter
does not pull in requests or smtplib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reminder.delivery.channels.base import (
    Channel,
    Message,
    SendResult,
    SendStatus,
    split_blocks,
    truncate_bytes,
    utf8_len,
)

if TYPE_CHECKING:
    from reminder.delivery.channels.email import EmailChannel
    from reminder.delivery.channels.wecom import WeComChannel

__all__ = [
    "Channel",
    "EmailChannel",
    "Message",
    "SendResult",
    "SendStatus",
    "WeComChannel",
    "split_blocks",
    "truncate_bytes",
    "utf8_len",
]


def __getattr__(name: str) -> Any:
    if name == "EmailChannel":
        from reminder.delivery.channels.email import EmailChannel

        return EmailChannel
    if name == "WeComChannel":
        from reminder.delivery.channels.wecom import WeComChannel

        return WeComChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
