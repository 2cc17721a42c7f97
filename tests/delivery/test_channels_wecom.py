"""WeComChannel against a loopback HTTP server answering with WeCom's real JSON replies."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import pytest
from servers import (
    BAD_GATEWAY,
    BUSY,
    FREQ_LIMIT,
    HANG,
    HANGUP,
    INVALID_KEY,
    OK,
    RESET,
    SERVER_ERROR,
    free_port,
    too_long,
    wecom_server,
)

from reminder.delivery.channels.base import Message
from reminder.delivery.channels.wecom import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, WeComChannel

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
ROBOT = "法规科群"


def md(text: str = "**【政务公开提醒】法规科：1项任务**", **kw: object) -> Message:
    return Message(subject="提醒", text="纯文本正文", markdown=text, to=(ROBOT,), **kw)


def channel(url: str, **kw: object) -> WeComChannel:
    return WeComChannel({ROBOT: KEY}, base_url=url, timeout=0.5, **kw)


def test_success_posts_markdown_with_key_in_query() -> None:
    with wecom_server([OK]) as server:
        result = channel(server.url).send(md())
        [req] = server.requests
    assert (result.status, result.provider_code) == ("ok", "0")
    assert req.path == "/cgi-bin/webhook/send"
    assert req.key == KEY
    assert req.content_type.startswith("application/json")
    assert req.body == {"msgtype": "markdown",
                        "markdown": {"content": "**【政务公开提醒】法规科：1项任务**"}}
    assert "【".encode() in req.raw  # sent as UTF-8, not \\u escapes


@pytest.mark.parametrize(
    ("reply", "status", "code", "retry_after"),
    [
        (FREQ_LIMIT, "retryable", "45009", 60.0),
        (BUSY, "retryable", "-1", None),
        (INVALID_KEY, "config", "93000", None),
        (too_long("markdown", 4096), "config", "40058", None),
        ((200, {"errcode": 40008, "errmsg": "invalid message type"}), "permanent", "40008", None),
        (SERVER_ERROR, "retryable", "http 500", None),
        (BAD_GATEWAY, "retryable", "http 502", None),
        ((404, "not found"), "config", "http 404", None),
        ((200, "<html>captive portal</html>"), "retryable", "http 200", None),
    ],
    ids=["45009-freq", "-1-busy", "93000-invalid-key", "40058-invalid", "40008-param", "500",
         "502", "404",
         "not-json"],
)
def test_reply_mapping(reply: object, status: str, code: str, retry_after: float | None) -> None:
    with wecom_server([reply]) as server:
        result = channel(server.url).send(md())
    assert (result.status, result.provider_code, result.retry_after) == (status, code, retry_after)
    assert KEY not in result.detail


def test_invalid_key_reported_with_hint() -> None:
    with wecom_server(keys={"another-key"}) as server:
        result = channel(server.url).send(md())
    assert result.status == "config"
    assert "webhook key 无效" in result.detail and ROBOT in result.detail


def test_hang_times_out_quickly() -> None:
    with wecom_server([HANG]) as server:
        started = time.monotonic()
        result = channel(server.url).send(md())
        elapsed = time.monotonic() - started
    assert result.provider_code == "timeout"
    assert elapsed < 2
    assert KEY not in result.detail


def test_connection_refused_is_configuration_and_masks_key(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send"
    with caplog.at_level(logging.DEBUG):
        result = channel(url).send(md())
    assert (result.status, result.provider_code) == ("config", "refused")
    assert "***" in result.detail  # requests named the URL; the key was masked out of it
    assert KEY not in result.detail
    assert KEY not in caplog.text


PLUS_KEY = "a1b2+c3d4/e5f6=="  # "+ / =" are percent-encoded in a URL: %2B %2F %3D


def test_key_with_reserved_characters_reaches_wecom_and_is_masked_in_both_forms(
        caplog: pytest.LogCaptureFixture) -> None:
    encoded = quote(PLUS_KEY, safe="")
    assert encoded == "a1b2%2Bc3d4%2Fe5f6%3D%3D"
    with wecom_server(keys={PLUS_KEY}) as server:  # the key arrives whole, not as "a1b2 c3d4…"
        ch = WeComChannel({ROBOT: PLUS_KEY}, base_url=server.url, timeout=0.5)
        assert ch.send(md()).status == "ok"
    # requests names the URL, with the key percent-encoded, when it cannot connect.
    url = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send"
    with caplog.at_level(logging.DEBUG):
        result = WeComChannel({ROBOT: PLUS_KEY}, base_url=url, timeout=0.5).send(md())
    assert (result.status, result.provider_code) == ("config", "refused")
    assert "key=***" in result.detail and "key=***" in caplog.text
    for form in (PLUS_KEY, encoded, "a1b2", "c3d4", "e5f6"):
        assert form not in result.detail and form not in caplog.text


@pytest.mark.parametrize("echo", [PLUS_KEY, quote(PLUS_KEY, safe="")],
                         ids=["as-sent", "percent-encoded"])
def test_key_echoed_by_the_endpoint_is_masked_in_detail_and_log(
        echo: str, caplog: pytest.LogCaptureFixture) -> None:
    # Not after "key=", so only masking the key itself (in this form) can hide it.
    rejected = (200, {"errcode": 93000, "errmsg": f"invalid webhook url, no robot for {echo}, "
                                                  "hint: [1760000000_2_4be1]"})
    with caplog.at_level(logging.DEBUG), wecom_server([rejected]) as server:
        result = WeComChannel({ROBOT: PLUS_KEY}, base_url=server.url, timeout=0.5).send(md())
    assert (result.status, result.provider_code) == ("config", "93000")
    # Our own records: urllib3's DEBUG line carries the URL, masked by redact's root filter.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("reminder."))
    assert "no robot for ***" in result.detail and "no robot for ***" in ours
    assert echo not in result.detail and echo not in ours


def test_key_never_in_repr() -> None:
    ch = channel("http://127.0.0.1:9/x")
    assert KEY not in repr(ch) and ROBOT in repr(ch)
    assert ch.robots == (ROBOT,)


def test_unknown_robot_is_permanent_without_request() -> None:
    with wecom_server() as server:
        result = channel(server.url).send(Message(subject="s", text="t", to=("办公室群",)))
        assert server.requests == []
    assert result.status == "permanent"
    assert "办公室群" in result.detail


def test_markdown_mentions_appended_as_lines() -> None:
    with wecom_server() as server:
        result = channel(server.url).send(md("正文", mentions=("zhangsan", "lisi")))
        body = server.requests[0].body
    assert result.status == "ok"
    assert body["markdown"]["content"] == "正文\n<@zhangsan>\n<@lisi>"


def test_message_without_markdown_goes_as_text_with_mobiles() -> None:
    # How the short @-message for a unit known only by mobile number travels.
    msg = Message(subject="s", text="请查看上方提醒", to=(ROBOT,), mobiles=("13800000000",))
    with wecom_server() as server:
        assert channel(server.url).send(msg).status == "ok"
        body = server.requests[0].body
    assert body == {"msgtype": "text", "text": {"content": "请查看上方提醒",
                                                "mentioned_mobile_list": ["13800000000"]}}


def test_text_format_uses_mention_lists() -> None:
    ch = channel("http://unused", fmt="text")
    assert ch.max_bytes == TEXT_MAX_BYTES
    payload = ch.payload(md(mentions=("zhangsan",), mobiles=("13800000000",)))
    assert payload == {"msgtype": "text", "text": {
        "content": "纯文本正文", "mentioned_list": ["zhangsan"],
        "mentioned_mobile_list": ["13800000000"]}}


@pytest.mark.parametrize(("fmt", "limit"), [("markdown", MARKDOWN_MAX_BYTES),
                                            ("text", TEXT_MAX_BYTES)])
def test_oversized_hand_built_message_is_truncated_never_40058(
        fmt: str, limit: int, caplog: pytest.LogCaptureFixture) -> None:
    huge = "政务公开" * 2000  # 24,000 bytes
    msg = Message(subject="s", text=huge, markdown=huge, to=(ROBOT,), mentions=("zhangsan",))
    with caplog.at_level(logging.WARNING), wecom_server() as server:  # unscripted: enforces limits
        result = channel(server.url, fmt=fmt).send(msg)
        body = server.requests[0].body
    # The cut loses text that will count as sent: it must reach the log as an error.
    [cut] = [r for r in caplog.records if r.name == "reminder.channels.wecom"]
    assert cut.levelno == logging.ERROR and "24000" in cut.getMessage()
    assert result.status == "ok", result.detail
    content = body[body["msgtype"]]["content"]
    assert len(content.encode()) <= limit
    if fmt == "markdown":
        assert content.endswith("…\n<@zhangsan>")  # the mention survives the cut
    else:
        assert content.endswith("…")
        assert body["text"]["mentioned_list"] == ["zhangsan"]


def test_rate_key_is_robot_and_limits_are_class_data() -> None:
    assert WeComChannel.rate_limit == (20, 60.0)
    assert channel("http://unused").rate_key(md()) == ROBOT


def test_a_message_without_a_robot_has_an_empty_rate_key_and_fails_cleanly() -> None:
    wecom = channel("http://127.0.0.1:9/send")
    lost = Message(subject="提醒", text="纯文本正文", markdown="**提醒**")
    assert wecom.rate_key(lost) == "" and wecom.route(()) == ""
    result = wecom.send(lost)
    assert (result.status, result.provider_code) == ("permanent", "no-robot")


def test_a_robots_fingerprint_changes_with_its_key_and_address_only() -> None:
    """Notices held by a configuration failure are resent when the fingerprint of their
    robot's route changes: a new key or base_url must change it, nothing else may."""
    def fp(robots: dict[str, str], url: str = "http://127.0.0.1:9/send", robot: str = ROBOT) -> str:
        return WeComChannel(robots, base_url=url).fingerprint((robot,))

    same = fp({ROBOT: KEY})
    assert fp({ROBOT: KEY, "别的群": "k2"}) == same  # another robot's key is not this route
    assert fp({ROBOT: KEY + "0"}) != same  # the key rotated
    assert fp({ROBOT: KEY}, url="http://127.0.0.1:10/send") != same
    assert fp({ROBOT: KEY, "别的群": KEY}, robot="别的群") != same
    assert fp({}) != same and fp({"别的群": KEY}) != same  # the robot no longer configured
    assert KEY not in same and len(same) == 16


def test_a_robots_fingerprint_is_worked_out_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt over every key at start-up cost each `run --once` tens of milliseconds a robot
    before it had anything to send (issue 21): a route's fingerprint is computed the first
    time it is asked for, once, and comes out as before."""
    import hashlib

    calls: list[bytes] = []
    real = hashlib.scrypt

    def counting(password: bytes, **kwargs: object) -> bytes:
        calls.append(password)
        return real(password, **kwargs)  # type: ignore[arg-type]

    expected = WeComChannel({ROBOT: KEY}, base_url="http://127.0.0.1:9/send").fingerprint((ROBOT,))
    monkeypatch.setattr(hashlib, "scrypt", counting)
    wecom = WeComChannel({ROBOT: KEY, "二群": "k2", "三群": "k3"}, base_url="http://127.0.0.1:9/send")
    assert calls == []
    assert wecom.fingerprint((ROBOT,)) == expected
    assert wecom.fingerprint((ROBOT,)) == expected
    assert calls == [KEY.encode()]


def test_routes_only_to_configured_robots() -> None:
    channel = WeComChannel(robots={"公开办群": "k1"}, base_url="http://127.0.0.1:9/send")
    assert channel.routes(("公开办群",))
    assert not channel.routes(("别的群",))
    assert not channel.routes(())


def test_a_dropped_connection_is_uncertain_not_a_wrong_address() -> None:
    """Only a refused connection means base_url is wrong (held until the config changes).
    A server that accepts and hangs up was a plain retry; since the request may have been
    read before the close (issue 20 §16), it is now uncertain: retried once, late."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up() -> None:
        for _ in range(4):  # requests may retry on a fresh connection
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/cgi-bin/webhook/send"
    try:
        result = channel(url).send(md())
    finally:
        listener.close()
    assert (result.status, result.provider_code) == ("uncertain", "hangup")
    assert result.detail.startswith("请求已发出，但企业微信接口未应答就断开了连接")
    assert KEY not in result.detail


def test_a_failure_naming_the_bare_key_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    """Not only ``key=…`` in a URL: an error that quotes the key alone is masked too."""
    with caplog.at_level(logging.WARNING):
        result = WeComChannel._fail("retryable", "connection", "无法连接企业微信接口",
                                    OSError(f"proxy refused token {KEY}"), KEY)
    assert result.detail == "无法连接企业微信接口：OSError: proxy refused token ***"
    assert (result.status, result.provider_code) == ("retryable", "connection")
    assert KEY not in caplog.text and "proxy refused token ***" in caplog.text


HEX_KEY = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"  # a key of the right form


@pytest.mark.parametrize(("key", "problem"), [
    (HEX_KEY, None),
    (f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={HEX_KEY}", "填的是整个 webhook 地址"),
    (f"key={HEX_KEY}", "填的是整个 webhook 地址"),
    (f"HTTP://example.invalid/{HEX_KEY}", "填的是整个 webhook 地址"),
    (f" {HEX_KEY}\n", "key 前后有空格或换行"),
    ("abc", "key 格式不对：应为 8-4-4-4-12 位十六进制字符"),
    (HEX_KEY.replace("-", ""), "key 格式不对"),
], ids=["good", "whole-url", "key=", "upper-http", "whitespace", "short", "no-dashes"])
def test_key_problems_name_the_robot_and_never_the_key(key: str, problem: str | None) -> None:
    """What `reminder doctor` says of each robot's key (checked in-process here; the doctor's
    own tests run it as a subprocess)."""
    problems = WeComChannel({ROBOT: key, "好机器人": HEX_KEY}).key_problems()
    if problem is None:
        assert problems == {}
    else:
        assert list(problems) == [ROBOT]
        assert problems[ROBOT].startswith(problem)
        assert HEX_KEY not in problems[ROBOT]


def test_a_request_sent_but_never_answered_is_uncertain_not_retryable() -> None:
    """A hang after the request went out may still have posted it (issue 20 §16: a 60 s hang
    was posted 4 times); only a connection never made is a plain retry."""
    with wecom_server([HANG]) as server:
        result = channel(server.url).send(md())
    assert (result.status, result.provider_code) == ("uncertain", "timeout")
    assert KEY not in result.detail


def test_a_hang_up_after_the_request_was_read_is_uncertain_not_retryable(
        caplog: pytest.LogCaptureFixture) -> None:
    """Issue 20 §16 for WeCom: a server that reads the whole post and closes without an
    answer may have posted it. It was "retryable", so every later attempt could post it
    again; now it is uncertain, which the dispatcher retries once, late."""
    with wecom_server([HANGUP, OK]) as server:
        chan = channel(server.url)
        result = chan.send(md())
        assert len(server.requests) == 1  # the stand-in read the whole post
        assert server.requests[0].body is not None
        assert chan.send(md()).status == "ok"  # the next post opens a connection of its own
    assert (result.status, result.provider_code) == ("uncertain", "hangup")
    assert "可能已经发出" in result.detail
    assert KEY not in result.detail and KEY not in caplog.text


def test_a_reset_is_uncertain_too_since_the_client_cannot_tell_when_it_came() -> None:
    """A server that resets before reading the body posted nothing, but the client cannot
    tell that apart from a reset after reading (the RST can even arrive as a plain close):
    one late retry costs less than the duplicates a plain retry risks."""
    with wecom_server([RESET]) as server:
        result = channel(server.url).send(md())
        assert (server.requests, server.resets) == ([], 1)
    assert (result.status, result.provider_code) == ("uncertain", "hangup")


def test_each_post_asks_for_a_connection_of_its_own() -> None:
    """A reused connection closed by the server's idle timeout just as we write would look
    like a hang-up after the request: every post says Connection: close."""
    with wecom_server([OK, OK]) as server:
        chan = channel(server.url)
        chan.send(md())
        chan.send(md())
        assert [r.connection for r in server.requests] == ["close", "close"]
