"""EmailChannel against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from servers import free_port, smtp_server, tls_cert

from reminder.delivery.channels.base import Message
from reminder.delivery.channels.email import EmailChannel
from reminder.delivery.dispatcher import Dispatcher
from reminder.models import Notice, Task
from reminder.store import open_store

SENDER = "gongkai@example.gov.cn"
SUBJECT = "【政务公开提醒】法规科：3项任务（1项已逾期）"
TZ = ZoneInfo("Asia/Shanghai")


def message(to: tuple[str, ...] = ("fagui@example.gov.cn",)) -> Message:
    return Message(
        subject=SUBJECT,
        text="法规科：\n  12. 完善政策解读机制，截止2026-10-09（周五），还剩3天",
        html="<p>法规科：</p><ul><li>完善政策解读机制</li></ul>",
        to=to,
    )


def channel(port: int, **kwargs: object) -> EmailChannel:
    options: dict = {"security": "none", "sender": SENDER, "sender_name": "局政务公开办",
                     "timeout": 5, "local_hostname": "localhost"} | kwargs
    return EmailChannel("127.0.0.1", port, **options)


def test_mail_arrives_with_decoded_chinese_headers_and_both_bodies() -> None:
    with smtp_server() as smtp:
        result = channel(smtp.port).send(message())
        assert result.status == "ok", result.detail
        assert result.provider_code == "250"
        [mail] = smtp.messages
    assert mail.mail_from == SENDER
    assert mail.rcpt_tos == ("fagui@example.gov.cn",)
    raw_headers = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()  # RFC 2047 encoded, no raw UTF-8 in headers
    assert b"=?utf-8?" in raw_headers.lower()
    msg = mail.message
    assert msg["Subject"] == SUBJECT
    assert msg["From"].addresses[0].display_name == "局政务公开办"
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert msg["To"] == "fagui@example.gov.cn"
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@example.gov.cn>")
    assert msg["Date"] is not None and msg["Date"].datetime is not None
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().startswith("法规科：")
    assert "<li>完善政策解读机制</li>" in msg.get_body(("html",)).get_content()


def test_text_only_message_is_not_multipart() -> None:
    with smtp_server() as smtp:
        result = channel(smtp.port).send(Message(subject="测试", text="正文", to=("a@b.cn",)))
        assert result.status == "ok"
        assert smtp.messages[0].message.get_content_type() == "text/plain"


@pytest.mark.parametrize(
    ("reply", "status", "code"),
    [
        ("550 5.1.1 No such user", "permanent", "550"),
        ("500 5.5.2 Syntax error", "permanent", "500"),
        ("599 unusual but final", "permanent", "599"),
        ("451 4.3.0 Try again later", "retryable", "451"),
    ],
    ids=["550-bad-recipient", "500-first-final-code", "599-last-final-code", "451-temporary"],
)
def test_refused_recipient(reply: str, status: str, code: str) -> None:
    with smtp_server(reject={"nobody@example.gov.cn": reply}) as smtp:
        result = channel(smtp.port).send(message(("nobody@example.gov.cn",)))
        assert smtp.messages == []
    assert (result.status, result.provider_code) == (status, code)
    # What the clerk reads: who was refused, the code, and the server's own words (decoded).
    assert result.detail == f"收件人被拒收：nobody@example.gov.cn（{code}）：{reply}"


@pytest.mark.parametrize(
    ("reply", "status"),
    [("554 5.6.0 Message content rejected", "permanent"),
     ("452 4.3.1 Insufficient system storage", "retryable")],
    ids=["554-final", "452-temporary"],
)
def test_refused_content_says_so_in_chinese(reply: str, status: str) -> None:
    with smtp_server(reject_data=reply) as smtp:
        result = channel(smtp.port).send(message())
        assert smtp.messages == []
    assert (result.status, result.provider_code) == (status, reply[:3])
    assert result.detail == f"邮件内容被拒收：{reply}"


def test_every_recipient_is_named_in_the_to_header() -> None:
    with smtp_server() as smtp:
        result = channel(smtp.port).send(message(("a@example.gov.cn", "b@example.gov.cn")))
        assert result.status == "ok"
        [mail] = smtp.messages
    assert mail.rcpt_tos == ("a@example.gov.cn", "b@example.gov.cn")
    assert [a.addr_spec for a in mail.message["To"].addresses] == [
        "a@example.gov.cn", "b@example.gov.cn"]


def test_partly_refused_is_ok_and_says_who() -> None:
    reject = {"nobody@example.gov.cn": "550 5.1.1 No such user",
              "full@example.gov.cn": "452 4.2.2 Mailbox full"}
    with smtp_server(reject=reject) as smtp:
        result = channel(smtp.port).send(message(
            ("fagui@example.gov.cn", "nobody@example.gov.cn", "full@example.gov.cn")))
        assert smtp.messages[0].rcpt_tos == ("fagui@example.gov.cn",)
    assert result.status == "ok"
    assert result.provider_code == "452,550"
    assert result.detail == "部分收件人被拒收：nobody@example.gov.cn（550）；full@example.gov.cn（452）"


def test_connection_refused_is_configuration() -> None:
    started = time.monotonic()
    result = channel(free_port()).send(message())
    assert result.status == "config"
    assert result.provider_code == "refused"
    assert time.monotonic() - started < 5


def test_no_recipient_is_permanent() -> None:
    result = channel(free_port()).send(message(()))
    assert result.status == "permanent"


def test_login_over_plain_loopback() -> None:
    with smtp_server(users={"gongkai": "s3cret-pw"}) as smtp:
        result = channel(smtp.port, username="gongkai", password="s3cret-pw").send(message())
        assert result.status == "ok", result.detail
        assert smtp.messages[0].login == "gongkai"


def test_wrong_password_is_configuration_535_and_not_in_repr() -> None:
    # This server's 535 does not repeat the password; the echoing one is tested below.
    with smtp_server(users={"gongkai": "right"}) as smtp:
        ch = channel(smtp.port, username="gongkai", password="wrong-pw-123")
        result = ch.send(message())
        assert smtp.messages == []
    assert (result.status, result.provider_code) == ("config", "535")
    assert "wrong-pw-123" not in repr(ch) and "***" in repr(ch)
    assert result.detail.startswith("邮箱登录失败，请检查用户名和密码：535 ")
    assert "password=None" in repr(channel(smtp.port))  # no password: nothing to hide


ECHOED = "Wr0ng+pw/123"  # what a server that repeats credentials puts in its 535 reply


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What reminder logged (aiosmtpd's own "mail.log" is the server's log, not ours)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("reminder."))


def test_password_echoed_in_the_535_reply_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), \
            smtp_server(users={"gongkai": "right"}, echo_credentials=True) as smtp:
        result = channel(smtp.port, username="gongkai", password=ECHOED).send(message())
    assert (result.status, result.provider_code) == ("config", "535")
    # The server did echo it (else this test could not fail): the mask stands in its place.
    assert "with password ***" in result.detail and ECHOED not in result.detail
    assert "with password ***" in ours(caplog) and ECHOED not in ours(caplog)


def test_echoed_password_is_never_stored_or_logged_by_the_dispatcher(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The detail a channel returns is what the outbox stores and the dispatcher logs."""
    db = tmp_path / "reminder.db"
    store = open_store(f"sqlite:///{db}")
    send_at = datetime(2026, 6, 1, 9, tzinfo=TZ)
    item = Notice(send_at=send_at, stage="remind", step="7d", plan="p2026", plan_title="示例方案",
                  task="1", title="任务1", due=date(2026, 6, 30), recipient="法规科",
                  channel="email", addresses=("fagui@example.gov.cn",), occurrence="2026-06-30")
    store.sync_plan(plan_id="p2026", title="示例方案", path="/p", fingerprint="x",
                    tasks=[Task(id="1", title="任务1")], occurrences=[], notices=[item],
                    window=(date(2026, 1, 1), date(2026, 12, 31)),
                    cutoff=datetime(2026, 1, 1, tzinfo=TZ), now=datetime(2026, 1, 1, tzinfo=TZ))
    try:
        with caplog.at_level(logging.DEBUG), \
                smtp_server(users={"gongkai": "right"}, echo_credentials=True) as smtp:
            email = channel(smtp.port, username="gongkai", password=ECHOED)
            report = Dispatcher(store, {"email": email}, claimant="t").dispatch(send_at)
    finally:
        store.dispose()
    assert report.held == 1  # a wrong password holds the notice until the config changes
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "with password ***" in dump and ECHOED not in dump
    assert "with password ***" in ours(caplog) and ECHOED not in ours(caplog)


tls = pytest.mark.skipif(tls_cert() is None, reason="openssl CLI not found: no test certificate")


@tls
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login(security: str) -> None:
    with smtp_server(security=security, users={"gongkai": "s3cret-pw"}) as smtp:
        ch = channel(smtp.port, security=security, username="gongkai", password="s3cret-pw",
                     ssl_context=smtp.client_context)
        result = ch.send(message())
        assert result.status == "ok", result.detail
        assert smtp.messages[0].message["Subject"] == SUBJECT
        assert smtp.messages[0].login == "gongkai"


@tls
def test_untrusted_certificate_is_permanent() -> None:
    # The default context does not trust the self-signed test certificate.
    with smtp_server(security="starttls") as smtp:
        result = channel(smtp.port, security="starttls").send(message())
    assert (result.status, result.provider_code) == ("permanent", "tls")


def test_starttls_required_but_server_lacks_it_is_permanent() -> None:
    with smtp_server() as smtp:
        result = channel(smtp.port, security="starttls").send(message())
    assert result.status == "permanent"


@tls
@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_untrusted_certificate_is_refused_in_both_tls_modes(security: str) -> None:
    """smtplib's own default for implicit TLS does not verify the certificate; the channel's
    must, or a password would go to whoever answers on that port."""
    with smtp_server(security=security) as smtp:
        result = channel(smtp.port, security=security).send(message())
        assert smtp.messages == []
    assert (result.status, result.provider_code) == ("permanent", "tls")


@contextlib.contextmanager
def silent_server(*, greet: bool = False) -> Iterator[int]:
    """Accepts TCP connections; says nothing (or only its 220 greeting, then hangs up on the
    next command)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            # Hang up after a while even if the client would wait forever, so a client
            # without a timeout fails the test instead of hanging it.
            threading.Timer(5, conn.close).start()
            if greet:
                conn.sendall(b"220 test ESMTP\r\n")
                conn.recv(1024)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_a_server_that_never_answers_times_out(security: str) -> None:
    """Without the timeout a silent server would hold the daemon's dispatch pass forever."""
    with silent_server() as port:
        started = time.monotonic()
        result = channel(port, security=security, timeout=0.5).send(message())
        elapsed = time.monotonic() - started
    assert (result.status, result.provider_code) == ("retryable", "timeout")
    assert elapsed < 3


def test_a_server_that_hangs_up_is_retried() -> None:
    with silent_server(greet=True) as port:
        result = channel(port).send(message())
    assert (result.status, result.provider_code) == ("retryable", "connection")
    assert result.detail.startswith("邮件服务器断开了连接：")


def test_no_recipient_and_a_malformed_address_are_final_and_say_why() -> None:
    result = channel(free_port()).send(message(()))
    assert (result.status, result.provider_code, result.detail) == (
        "permanent", "no-recipient", "没有收件人邮箱地址")
    result = channel(free_port()).send(message(("a@example.gov.cn\r\nBcc: x@evil.example",)))
    assert (result.status, result.provider_code) == ("permanent", "address")
    assert result.detail.startswith("邮件无法生成：")


@pytest.mark.parametrize("change", [
    {"host": "127.0.0.2"}, {"port": 2525}, {"security": "ssl"}, {"username": "other"},
    {"sender": "other@example.gov.cn"}, {"password": "new-password"},
], ids=lambda change: next(iter(change)))
def test_fingerprint_changes_with_every_setting_of_the_route(change: dict) -> None:
    """Held notices are resent when the fingerprint changes: fixing any one setting must
    change it, the password included."""
    base = {"host": "127.0.0.1", "port": 25, "security": "none", "username": "gongkai",
            "password": "old-password", "sender": SENDER}

    def make(**kw: object) -> EmailChannel:
        options = base | kw
        return EmailChannel(str(options.pop("host")), int(options.pop("port")),  # type: ignore[arg-type]
                            str(options.pop("security")), **options)  # type: ignore[arg-type]

    before = make().fingerprint(["a@example.gov.cn"])
    assert make().fingerprint(["a@example.gov.cn"]) == before
    assert make(**change).fingerprint(["a@example.gov.cn"]) != before


def test_check_logs_in_and_sends_nothing() -> None:
    """`reminder doctor`'s probe, in-process (the doctor's own tests run a subprocess)."""
    with smtp_server(users={"gongkai": "s3cret-pw"}) as smtp:
        good = channel(smtp.port, username="gongkai", password="s3cret-pw").check()
        bad = channel(smtp.port, username="gongkai", password="wrong-pw-123").check()
        anonymous = channel(smtp.port).check()
        assert smtp.messages == []
    assert (good.status, good.provider_code) == ("ok", "250")
    assert (bad.status, bad.provider_code) == ("config", "535")
    assert bad.detail.startswith("邮箱登录失败，请检查用户名和密码：535 ")
    assert "wrong-pw-123" not in bad.detail
    assert anonymous.status == "ok"  # no login configured: connecting is the whole check
    refused = channel(free_port()).check()
    assert (refused.status, refused.provider_code) == ("retryable", "connection")
    assert refused.detail.startswith("无法连接邮件服务器 127.0.0.1:")


def test_check_against_a_server_without_login_says_so() -> None:
    with smtp_server() as smtp:
        result = channel(smtp.port, username="gongkai", password="pw").check()
    assert (result.status, result.provider_code) == ("permanent", "smtp")
    assert result.detail.startswith("邮件服务器不接受登录：")


@tls
def test_check_refuses_an_untrusted_certificate() -> None:
    with smtp_server(security="ssl") as smtp:
        result = channel(smtp.port, security="ssl").check()
    assert (result.status, result.provider_code) == ("permanent", "tls")
    assert result.detail.startswith("与邮件服务器的 TLS 握手失败：")


def test_a_disconnect_after_data_is_uncertain_and_before_it_a_plain_retry() -> None:
    """Once the server has the whole mail, a lost 250 means it may be delivered (issue 20
    §16: 4 copies of every mail when this was retried like a failure)."""
    with smtp_server(drop_after_data=True) as smtp:
        result = channel(smtp.port).send(message())
        assert len(smtp.messages) == 1
    assert (result.status, result.provider_code) == ("uncertain", "no-reply")
    with silent_server(greet=True) as port:  # hangs up before any mail went out
        assert channel(port).send(message()).status == "retryable"
