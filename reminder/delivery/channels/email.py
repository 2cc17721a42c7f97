"""Email over SMTP: implicit TLS (``ssl``), ``starttls`` or plain (``none``, loopback only).

Headers go through the email package's SMTP policy, which encodes non-ASCII subjects and
display names per RFC 2047, so Chinese reads correctly in every mail client. The password is
kept in a private attribute and masked out of every detail string: server replies to a failed
AUTH sometimes echo what they were sent.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from reminder.delivery.channels.base import Channel, Message, SendResult, config_digest
from reminder.redact import mask

log = logging.getLogger("reminder.channels.email")

Security = Literal["ssl", "starttls", "none"]
# Replies that say the login is wrong or missing: the configuration's fault, not the message's.
AUTH_CODES = {530, 534, 535}


class EmailChannel(Channel):
    name = "email"
    max_bytes = None
    rate_limit = None

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        *,
        username: str | None = None,
        password: str | None = None,
        sender: str,
        sender_name: str = "",
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in ("ssl", "starttls", "none"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host = host
        self.port = port
        self.security: Security = security
        self.username = username
        self._password = password
        self.sender = sender
        self.sender_name = sender_name
        self.timeout = timeout
        self._ssl_context = ssl_context
        # smtplib's default EHLO name comes from socket.getfqdn(), a DNS lookup that can stall
        # for seconds on hosts without reverse DNS; callers may pass a fixed name.
        self.local_hostname = local_hostname
        self._fingerprint = config_digest(self.name, host, port, security, username, sender,
                                          secret=password)

    def fingerprint(self, addresses: object = ()) -> str:
        return self._fingerprint

    def __repr__(self) -> str:
        return (
            f"EmailChannel(host={self.host!r}, port={self.port!r}, security={self.security!r}, "
            f"username={self.username!r}, password={'***' if self._password else None}, "
            f"sender={self.sender!r})"
        )

    def build(self, message: Message) -> EmailMessage:
        """The MIME message for ``message``: text, plus an HTML alternative when present."""
        mail = EmailMessage(policy=policy.SMTP)
        mail["Subject"] = message.subject
        mail["From"] = Address(display_name=self.sender_name, addr_spec=self.sender)
        mail["To"] = ", ".join(message.to)
        mail["Date"] = formatdate(localtime=True)
        # Passing the domain keeps make_msgid from calling socket.getfqdn().
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "localhost")
        mail.set_content(message.text, charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    def send(self, message: Message) -> SendResult:
        if not message.to:
            return SendResult(status="permanent", provider_code="no-recipient",
                              detail="没有收件人邮箱地址")
        try:
            mail = self.build(message)
        except (ValueError, TypeError) as exc:  # malformed address or header
            return SendResult(status="permanent", provider_code="address",
                              detail=mask(f"邮件无法生成：{exc}", [self._password]))
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            try:
                if self.username:
                    smtp.login(self.username, self._password or "")
                refused = smtp.send_message(mail, from_addr=self.sender, to_addrs=list(message.to))
            finally:
                _quit(smtp)
        except smtplib.SMTPRecipientsRefused as exc:
            # Every recipient refused: judge by the first reply code.
            code, reply = next(iter(exc.recipients.values()))
            return self._by_code(code, f"收件人被拒收：{_recipients(exc.recipients)}", reply)
        except smtplib.SMTPResponseException as exc:  # auth, sender, data, connect replies
            if exc.smtp_code in AUTH_CODES:
                return self._result("config", str(exc.smtp_code),
                                    f"{_what(exc)}：{exc.smtp_code} {_text(exc.smtp_error)}")
            return self._by_code(exc.smtp_code, _what(exc), exc.smtp_error)
        except smtplib.SMTPServerDisconnected as exc:
            # smtplib reports a reply that never came as a disconnect; say what happened.
            if getattr(smtp, "body_sent", False):
                # The server had the whole mail and never said whether it took it.
                return self._result("uncertain", "no-reply",
                                    f"邮件已发出，但服务器在确认前断开或超时，可能已经送达：{exc}")
            if isinstance(exc.__context__, TimeoutError):
                return self._result("retryable", "timeout",
                                    f"邮件服务器 {self.timeout:g} 秒内没有应答：{exc}")
            return self._result("retryable", "connection", f"邮件服务器断开了连接：{exc}")
        except smtplib.SMTPException as exc:  # no STARTTLS / AUTH support, no usable mechanism
            # (before OSError: smtplib's exceptions subclass it but are not network trouble)
            return self._result("permanent", "smtp", f"邮件发送失败：{exc}")
        except ssl.SSLCertVerificationError as exc:
            return self._result("permanent", "tls", f"邮件服务器证书校验失败：{exc}")
        except ConnectionRefusedError as exc:  # nothing listens there: host or port is wrong
            return self._result("config", "refused",
                                f"邮件服务器 {self.host}:{self.port} 拒绝连接，请检查地址和端口：{exc}")
        except (ssl.SSLError, OSError) as exc:  # unreachable, timeout, TLS handshake
            code = "timeout" if isinstance(exc, TimeoutError) else "connection"
            return self._result("retryable", code,
                                f"无法连接邮件服务器 {self.host}:{self.port}：{exc}")
        except UnicodeEncodeError as exc:  # non-ASCII address without SMTPUTF8
            return self._result("permanent", "address", f"邮箱地址含有无法发送的字符：{exc}")
        if refused:
            # Some recipients got it; retrying would duplicate, so report and accept.
            codes = {str(code) for code, _ in refused.values()}
            return SendResult(status="ok", provider_code=",".join(sorted(codes)),
                              detail=mask(f"部分收件人被拒收：{_recipients(refused)}", [self._password]))
        return SendResult(status="ok", provider_code="250")

    def check(self) -> SendResult:
        """Connect, EHLO and log in as a send would, then quit without sending
        (`reminder doctor`)."""
        try:
            smtp = self._connect()
            try:
                smtp.ehlo_or_helo_if_needed()
                if self.username:
                    smtp.login(self.username, self._password or "")
            finally:
                _quit(smtp)
        except smtplib.SMTPResponseException as exc:
            status = "config" if exc.smtp_code in AUTH_CODES else "permanent"
            return self._result(status, str(exc.smtp_code),
                                f"{_what(exc)}：{exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPException as exc:  # no AUTH offered, no usable mechanism
            return self._result("permanent", "smtp", f"邮件服务器不接受登录：{exc}")
        except ssl.SSLError as exc:
            return self._result("permanent", "tls", f"与邮件服务器的 TLS 握手失败：{exc}")
        except OSError as exc:
            return self._result("retryable", "connection",
                                f"无法连接邮件服务器 {self.host}:{self.port}：{exc}")
        return SendResult(status="ok", provider_code="250")

    def _connect(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            return _TrackedSMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=context, local_hostname=self.local_hostname)
        smtp = _TrackedSMTP(self.host, self.port, timeout=self.timeout,
                            local_hostname=self.local_hostname)
        try:
            if self.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _by_code(self, code: int, what: str, reply: bytes | str) -> SendResult:
        text = _text(reply)
        # 4xx are the server's "try again later"; 5xx are final. Odd codes (e.g. -1 from
        # smtplib for a dropped connection) are treated as transient.
        status = "permanent" if 500 <= code < 600 else "retryable"
        return self._result(status, str(code), f"{what}：{code} {text}")

    def _result(self, status: Literal["retryable", "permanent", "config", "uncertain"], code: str,
                detail: str) -> SendResult:
        detail = mask(detail, [self._password])
        log.warning("email to %s:%s failed (%s): %s", self.host, self.port, code, detail)
        return SendResult(status=status, provider_code=code, detail=detail)

class _Tracked(smtplib.SMTP):
    """Knows whether the mail's content has gone out: after the server's 354 (go ahead) to
    DATA, a lost reply leaves the outcome unknown rather than failed."""

    body_sent = False

    def getreply(self) -> tuple[int, bytes]:
        reply = super().getreply()
        if reply[0] == 354:  # only DATA is answered 354; the content is sent next
            self.body_sent = True
        return reply


class _TrackedSMTP(_Tracked):
    pass


class _TrackedSMTP_SSL(_Tracked, smtplib.SMTP_SSL):
    pass


def _quit(smtp: smtplib.SMTP) -> None:
    # Once the DATA reply is in, the mail is delivered: a failing QUIT must not turn that into
    # an error (and a retry would send it twice).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _what(exc: smtplib.SMTPResponseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "邮箱登录失败，请检查用户名和密码"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "发件人被拒绝"
    if isinstance(exc, smtplib.SMTPConnectError):
        return "邮件服务器拒绝连接"
    if isinstance(exc, smtplib.SMTPDataError):
        return "邮件内容被拒收"
    return "邮件服务器返回错误"


def _recipients(refused: dict[str, tuple[int, bytes]]) -> str:
    return "；".join(f"{addr}（{code}）" for addr, (code, _) in refused.items())
