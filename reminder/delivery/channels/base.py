"""What every delivery channel shares: the message and result records, the plugin interface
and the byte-safe splitter.

Channels are deliberately dumb: one attempt per ``send()``, no sleeping, no retrying, no rate
limiting. The dispatcher does all three once, from ``rate_limit`` and ``SendResult.retry_after``,
so the policy lives in one place and channels stay trivially testable.
"""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

# "config": the deployment's configuration is wrong (bad password or webhook key, a server
# refusing connections): no retry of this message can help, and no other message would fare
# better, so the dispatcher holds the notices until the configuration changes.
# "uncertain": the message left in full but no answer came (a timeout after the request was
# sent, a disconnect after the mail's DATA): it may have been delivered. Retrying like a
# "retryable" failure is what multiplied copies (4 of every mail), so the dispatcher retries
# it once after a long delay and then holds it for the admin.
SendStatus = Literal["ok", "retryable", "permanent", "config", "uncertain"]

ELLIPSIS = "…"


@dataclass(frozen=True, kw_only=True)
class Message:
    """One message as a channel sends it; each channel uses the bodies it understands.

    ``to`` holds email addresses, or the WeCom robot's name as its only item. ``part``/``parts``
    number the messages one digest produced, in sending order (a split WeCom digest, plus the
    short text @-message for mobile numbers), so the dispatcher can record them one by one.
    ``keys`` are the notices whose tasks this message carries: once it is sent they are done,
    so a retry of a later part never repeats an earlier one.
    """

    subject: str
    text: str
    markdown: str = ""
    html: str = ""
    to: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    mobiles: tuple[str, ...] = ()
    part: int = 1
    parts: int = 1
    keys: tuple[str, ...] = ()
    url: str = ""  # the reader's page, for channels that show one button (a WeCom textcard)
    # One of several copies of one text, one per address (an SMS per mobile number): an
    # address the provider refuses fails alone, and the others still get it.
    copy: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.part <= self.parts:
            raise ValueError(f"part {self.part} outside 1..{self.parts}")


@dataclass(frozen=True, kw_only=True)
class SendResult:
    """Outcome of one attempt. ``provider_code`` is the provider's own code as text (SMTP reply
    code, WeCom errcode, ``http 502``, ``timeout`` …) so the outbox can store it verbatim."""

    status: SendStatus
    provider_code: str | None = None
    detail: str = ""
    retry_after: float | None = None  # seconds the provider asked us to wait, if it did
    # An "ok" that left some addressees out (WeCom's invaliduser: left, mistyped): the
    # others have the message, and the admin is told who did not, to fix the 通讯录.
    unreached: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Channel(ABC):
    """A delivery plugin. Limits are class data so the dispatcher can read them without
    sending anything; a subclass may narrow ``max_bytes`` per instance (e.g. WeCom text)."""

    name: str = ""
    max_bytes: int | None = None  # per message body, in UTF-8 bytes; None: no practical limit
    rate_limit: tuple[int, float] | None = None  # (messages, seconds) per rate_key
    # Posts to a place several recipients share (a group chat): the dispatcher makes one
    # message per route and moment for all of them, a section each.
    shared: bool = False
    # Reaches a person's own phone (an app message, an SMS): sent in working hours only
    # unless the channel's own quiet hours say otherwise.
    personal: bool = False
    # This channel's own quiet hours (QuietHours), on top of the deployment's; set from config.
    quiet: Any = None

    @abstractmethod
    def send(self, message: Message) -> SendResult:
        """Make exactly one delivery attempt. Never raises for delivery problems."""

    def rate_key(self, message: Message) -> str:
        """The bucket ``rate_limit`` applies to; channels with per-target limits override."""
        return self.name

    def routes(self, addresses: Sequence[str]) -> bool:
        """Whether this deployment can deliver to ``addresses`` at all (a WeCom robot must be
        configured); checked when planning, so an unconfigured target never burns retries."""
        return True

    def close(self) -> None:  # noqa: B027 - optional hook, most channels hold nothing open
        """Release connections or sessions held between sends."""

    def route(self, addresses: Sequence[str]) -> str:
        """The configured route ``addresses`` go through (a WeCom robot; the one SMTP server)."""
        return self.name

    def fingerprint(self, addresses: Sequence[str]) -> str:
        """Changes whenever the configuration of the route to ``addresses`` does, secrets
        included; notices held by a configuration failure are resent when it changes."""
        return config_digest(self.name, self.route(addresses))


class RobotChannel(Channel):
    """A group robot channel (WeCom's, DingTalk's): an address is a configured robot's name,
    each robot its own route with its own rate limit."""

    _robots: Mapping[str, object]

    @property
    def robots(self) -> tuple[str, ...]:
        """Robot names only; their keys and secrets stay private."""
        return tuple(self._robots)

    def rate_key(self, message: Message) -> str:
        return message.to[0] if message.to else ""

    def routes(self, addresses: Sequence[str]) -> bool:
        return bool(addresses) and addresses[0] in self._robots

    def route(self, addresses: Sequence[str]) -> str:
        return addresses[0] if addresses else ""


def config_digest(*parts: str | int | None, secret: str | None = None) -> str:
    """16 hex digits over the parts, and over the secret through scrypt: the result is stored
    in the database, and a plain hash of a short password could be reversed by guessing."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    if secret:
        digest.update(hashlib.scrypt(secret.encode("utf-8"), salt=b"reminder-route-config",
                                     n=2**13, r=8, p=1, dklen=16))
    return digest.hexdigest()[:16]


def caused_by(exc: BaseException, *kinds: type[BaseException]) -> bool:
    """Whether one of ``kinds`` sits anywhere in requests' and urllib3's wrappers (http.client's
    RemoteDisconnected, a hang-up without a reply, is a ConnectionResetError)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kinds):
            return True
        todo.extend([item.__cause__, item.__context__, getattr(item, "reason", None),
                     *item.args])
    return False


def refused(exc: BaseException) -> bool:
    """Whether the connection was refused: nothing listens at the address."""
    return caused_by(exc, ConnectionRefusedError)


def network_failure(exc: Exception, service: str, setting: str, timeout: float, *,
                    sent: bool = True, masked: Callable[[str], str] = str) -> SendResult:
    """How a request to ``service`` that raised ``exc`` ended, alike for every HTTP channel.

    ``sent``: the request carried the message (a token fetch that fails sends nothing). Once
    it did, a read timeout or a hang-up without an answer may come after the provider took
    the message, and a client cannot tell a close after reading from one before (an RST can
    arrive either way): uncertain, one late retry rather than a duplicate burst (issue 20)."""
    import requests

    if isinstance(exc, requests.ReadTimeout) and sent:
        return SendResult(status="uncertain", provider_code="timeout",
                          detail=f"请求已发出但 {timeout:g} 秒内没有应答，消息可能已经发出")
    if isinstance(exc, requests.Timeout):
        return SendResult(status="retryable", provider_code="timeout",
                          detail=f"连接{service}超时（{timeout:g}秒）")
    if isinstance(exc, requests.ConnectionError):
        if refused(exc):  # nothing listens at the address: the setting is wrong
            return SendResult(status="config", provider_code="refused",
                              detail=f"{service}拒绝连接，请检查 {setting}")
        if sent and caused_by(exc, ConnectionResetError, BrokenPipeError):
            return SendResult(status="uncertain", provider_code="hangup",
                              detail=f"请求已发出，但{service}未应答就断开了连接，消息可能已经发出")
        return SendResult(status="retryable", provider_code="connection",
                          detail=masked(f"无法连接{service}：{type(exc).__name__}"))
    return SendResult(status="permanent", provider_code="request",
                      detail=masked(f"请求无法发出：{type(exc).__name__}: {exc}"))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_bytes(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes on a character boundary, marking the cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - utf8_len(ellipsis)
    if room < 0:
        return data[:limit].decode("utf-8", errors="ignore")
    # errors="ignore" only drops the partial character left at the end of the cut
    return data[:room].decode("utf-8", errors="ignore") + ellipsis


def _with_marker(header: str, marker: str) -> str:
    """Put the part marker at the end of the header's first line (the title line)."""
    if not marker:
        return header
    if not header:
        return marker
    first, nl, rest = header.partition("\n")
    return first + marker + nl + rest


def _assemble(header: str, blocks: Sequence[str], footer: str, sep: str) -> str:
    return sep.join(x for x in (header, *blocks, footer) if x)


def split_blocks(
    header: str, blocks: Sequence[str], footer: str, max_bytes: int, *, sep: str = "\n"
) -> list[str]:
    """The parts of :func:`split_parts`, without which blocks each holds."""
    return [body for body, _ in split_parts(header, blocks, footer, max_bytes, sep=sep)]


def split_parts(
    header: str, blocks: Sequence[str], footer: str, max_bytes: int, *, sep: str = "\n",
    carry: Callable[[int], str] | None = None, ellipsis: str = ELLIPSIS,
) -> list[tuple[str, tuple[int, ...]]]:
    """Pack whole blocks into parts of at most ``max_bytes`` UTF-8 bytes; each part comes
    with the indexes of the blocks it holds.

    Each part repeats the header and footer so it reads on its own; when there are several
    parts, the header's first line gets "（第1/3部分）". A block is never split across parts;
    a single block too long for any part is truncated with an ellipsis instead, so the
    provider's length error can never occur. ``carry(i)``, when given, is a line put before
    block ``i`` when that block opens a later part (whose section it continues), so a part
    never starts with tasks of nobody.
    """
    whole = _assemble(header, blocks, footer, sep)
    if utf8_len(whole) <= max_bytes:
        return [(whole, tuple(range(len(blocks))))]
    digits = 1
    while True:
        # Reserve room for the widest marker with this many digits, then check the count fits.
        widest = "9" * digits
        reserve = _with_marker(header, f"（第{widest}/{widest}部分）")
        chunks = _pack(reserve, blocks, footer, max_bytes, sep, carry, ellipsis)
        if len(chunks) < 10**digits:
            break
        digits += 1
    n = len(chunks)
    parts = [
        (_assemble(_with_marker(header, f"（第{i}/{n}部分）" if n > 1 else ""),
                   [text for _, text in chunk], footer, sep),
         tuple(index for index, _ in chunk))
        for i, chunk in enumerate(chunks, 1)
    ]
    assert all(utf8_len(body) <= max_bytes for body, _ in parts)
    return parts


def _pack(
    header: str, blocks: Sequence[str], footer: str, max_bytes: int, sep: str,
    carry: Callable[[int], str] | None = None, ellipsis: str = ELLIPSIS,
) -> list[list[tuple[int, str]]]:
    # Bytes a part spends on everything but its blocks when it holds exactly one block.
    overhead = utf8_len(_assemble(header, ["x"], footer, sep)) - 1
    room = max_bytes - overhead
    if room < 16:
        raise ValueError(f"header and footer leave no room for content in {max_bytes} bytes")
    chunks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    size = overhead - utf8_len(sep)  # bytes of header+footer with no block at all
    for index, block in enumerate(blocks):
        if utf8_len(block) > room:
            # One task longer than a whole message: its end is lost while its notice will
            # be marked sent, so say so loudly (titles of ~1,300 characters get here).
            logging.getLogger("reminder.channels.base").error(
                "a block of %d bytes is cut to fit a message of %d bytes: its end is lost",
                utf8_len(block), max_bytes)
            block = truncate_bytes(block, room, ellipsis)
        cost = utf8_len(block) + utf8_len(sep)
        if current and size + cost > max_bytes:
            chunks.append(current)
            current, size = [], overhead - utf8_len(sep)
            # The continuation line (▍办公室（续）) only when the task still fits whole with
            # it: a heading is worth less than the end of a task.
            if carry is not None and (lead := carry(index)) and utf8_len(
                    led := lead + "\n" + block) <= room:
                block = led
                cost = utf8_len(block) + utf8_len(sep)
        current.append((index, block))
        size += cost
    if current or not chunks:
        chunks.append(current)
    return chunks
