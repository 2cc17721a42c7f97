"""WeComAppChannel against a loopback stand-in answering with WeCom's real JSON: tokens that
expire, 60020 (可信IP), 81013 and invaliduser, the frequency limits."""

from __future__ import annotations

import logging

import pytest
from channelservers import wecom_app_server
from servers import free_port

from reminder.delivery.channels.base import Message
from reminder.delivery.channels.tokens import MemoryTokens, seal, unseal
from reminder.delivery.channels.wecom_app import WeComAppChannel
from reminder.redact import SecretFilter

CORP = "ww0123456789abcdef"
SECRET = "app-secret-" + "x" * 32
AGENT = 1000002


def channel(url: str, **kw: object) -> WeComAppChannel:
    return WeComAppChannel(corpid=CORP, secret=SECRET, agentid=AGENT, app_name="督办提醒",
                           base_url=url, timeout=2, **kw)  # type: ignore[arg-type]


def md(*users: str, **kw: object) -> Message:
    return Message(subject="【办公室提醒】法规科：1项任务", text="纯文本",
                   markdown="**【办公室提醒】法规科：1项任务**\n> [查看与反馈](http://h/u/x)",
                   to=users, **kw)  # type: ignore[arg-type]


def test_fetches_a_token_once_and_sends_markdown_to_userids() -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        app = channel(wx.url)
        first = app.send(md("zhangsan", "lisi"))
        second = app.send(md("wangwu"))
    assert (first.status, second.status) == ("ok", "ok")
    assert wx.token_calls == 1  # the second send reused the token
    body = wx.sends[0].json
    assert body["touser"] == "zhangsan|lisi"
    assert body["agentid"] == AGENT and body["msgtype"] == "markdown"
    assert "[查看与反馈](http://h/u/x)" in body["markdown"]["content"]


def test_textcard_carries_the_readers_link() -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        result = channel(wx.url, fmt="textcard").send(
            Message(subject="【办公室提醒】法规科：3项任务", text="最近截止12月10日（还有3个工作日）",
                    url="https://duban.example.gov.cn/u/abc", to=("zhangsan",)))
    assert result.status == "ok"
    card = wx.sends[0].json["textcard"]
    assert card["url"] == "https://duban.example.gov.cn/u/abc"
    assert card["title"] == "【办公室提醒】法规科：3项任务"
    assert card["btntxt"] == "查看与反馈"


def test_expired_token_is_refreshed_and_the_message_sent_once() -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        app = channel(wx.url)
        assert app.send(md("zhangsan")).status == "ok"
        wx.expire_all()  # WeCom's clock ran past expires_in before ours did
        result = app.send(md("zhangsan"))
    assert result.status == "ok"
    assert wx.token_calls == 2
    codes = [s.query["access_token"] for s in wx.sends]
    assert len(wx.sends) == 3 and codes[1] == codes[0] != codes[2]


def test_a_stored_token_wecom_calls_invalid_is_replaced_and_the_message_sent_once() -> None:
    # 40014: the token in the database is one WeCom no longer knows (the Secret was reset,
    # say) though its expiry is hours away.
    tokens = MemoryTokens()
    tokens.put_token(f"wecom_app:{CORP}:{AGENT}", seal("revoked-token", SECRET), 4e9)
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        result = channel(wx.url, tokens=tokens).send(md("zhangsan"))
        issued = next(iter(wx.tokens))
    assert result.status == "ok"
    assert [s.query["access_token"] for s in wx.sends] == ["revoked-token", issued]
    assert len(wx.accepted) == 1 and wx.token_calls == 1
    sealed, _ = tokens.token(f"wecom_app:{CORP}:{AGENT}")  # type: ignore[misc]
    assert unseal(sealed, SECRET) == issued  # shared with the other processes from now on


def test_token_close_to_expiry_is_renewed_before_use() -> None:
    # A token with 200 s left is inside the 300 s margin: the next send fetches a new one.
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT, token_seconds=200) as wx:
        app = channel(wx.url)
        app.send(md("zhangsan"))
        app.send(md("zhangsan"))
    assert wx.token_calls == 2
    assert len({s.query["access_token"] for s in wx.sends}) == 2


def test_token_is_shared_through_the_store_and_sealed_there() -> None:
    tokens = MemoryTokens()
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        channel(wx.url, tokens=tokens).send(md("zhangsan"))
        other = channel(wx.url, tokens=tokens)  # another process, same database
        assert other.send(md("lisi")).status == "ok"
        issued = next(iter(wx.tokens))
    assert wx.token_calls == 1
    sealed, _ = tokens.token(f"wecom_app:{CORP}:{AGENT}")  # type: ignore[misc]
    assert issued not in sealed
    assert unseal(sealed, SECRET) == issued
    assert unseal(sealed, "another-secret") is None  # a rotated secret fetches anew


def test_seal_round_trips_and_detects_tampering() -> None:
    sealed = seal("tok-值", "s")
    assert unseal(sealed, "s") == "tok-值"
    damaged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    assert unseal(damaged, "s") is None
    assert seal("tok", "s") != seal("tok", "s")  # a fresh nonce each time


def test_untrusted_ip_holds_the_route_and_says_what_to_configure() -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        wx.trusted = False
        result = channel(wx.url).send(md("zhangsan"))
    assert (result.status, result.provider_code) == ("config", "60020")
    assert "203.0.113.7" in result.detail
    assert "企业可信IP" in result.detail and "应用管理" in result.detail
    assert "reminder retry" in result.detail


def test_unknown_members_fail_alone_the_others_get_it() -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT,
                          members={"zhangsan"}) as wx:
        app = channel(wx.url)
        some = app.send(md("zhangsan", "departed"))
        none = app.send(md("departed"))
    assert some.status == "ok" and "departed" in some.detail and "zhangsan" not in some.detail
    assert some.unreached == ("departed",)  # the dispatcher tells the admin of them
    assert (none.status, none.provider_code) == ("permanent", "81013")


@pytest.mark.parametrize(("reply", "status", "code", "retry_after"), [
    ((200, {"errcode": 45009, "errmsg": "api freq out of limit"}), "retryable", "45009", 60.0),
    ((200, {"errcode": 45033, "errmsg": "api concurrent out of limit"}), "retryable", "45033",
     60.0),
    ((200, {"errcode": -1, "errmsg": "system busy"}), "retryable", "-1", None),
    ((200, {"errcode": 60011, "errmsg": "no privilege to access/modify contact"}), "config",
     "60011", None),
    ((200, {"errcode": 40003, "errmsg": "invalid userid"}), "permanent", "40003", None),
    ((502, "<html>bad gateway</html>"), "retryable", "http 502", None),
    ((404, "not found"), "config", "http 404", None),
    ((200, "<html>维护中</html>"), "retryable", "http 200", None),
], ids=["freq", "concurrent", "busy", "out-of-range", "other", "502", "404", "html"])
def test_provider_answers(reply: tuple[int, object], status: str, code: str,
                          retry_after: float | None) -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT,
                          replies=[reply]) as wx:  # type: ignore[list-item]
        result = channel(wx.url).send(md("zhangsan"))
    assert (result.status, result.provider_code, result.retry_after) == (status, code, retry_after)


def test_wrong_secret_is_a_configuration_failure_and_never_shown(
        caplog: pytest.LogCaptureFixture) -> None:
    # As `reminder run` logs: through the root handler's SecretFilter (urllib3 logs the
    # gettoken URL, corpsecret and all, at DEBUG).
    caplog.handler.addFilter(SecretFilter())
    caplog.set_level(logging.DEBUG)
    with wecom_app_server(corpid=CORP, secret="the-real-one", agentid=AGENT) as wx:
        result = channel(wx.url).send(md("zhangsan"))
    assert (result.status, result.provider_code) == ("config", "40001")
    assert "Secret" in result.detail
    assert SECRET not in result.detail and SECRET not in caplog.text
    assert SECRET not in repr(channel(wx.url))


def test_refused_connection_is_configuration() -> None:
    result = channel(f"http://127.0.0.1:{free_port()}").send(md("zhangsan"))
    assert (result.status, result.provider_code) == ("config", "refused")


def test_rate_windows_count_each_member_and_the_app() -> None:
    app = channel("http://127.0.0.1:9", daily_cap=500)
    windows = app.rate_windows(md("zhangsan", "lisi"))
    assert (f"{AGENT}:member:zhangsan", (30, 60.0)) in windows
    assert (f"{AGENT}:member:lisi", (1000, 3600.0)) in windows
    assert (f"{AGENT}:day", (500, 86400.0)) in windows


def test_check_fetches_a_token_without_sending() -> None:
    with wecom_app_server(corpid=CORP, secret=SECRET, agentid=AGENT) as wx:
        assert channel(wx.url).check().status == "ok"
    assert wx.token_calls == 1 and wx.sends == []
