"""DingTalkChannel against a loopback robot that recomputes the 加签 HMAC, checks keywords and
blocks a robot sent more than 20 messages a minute."""

from __future__ import annotations

import logging

import pytest
from channelservers import dingtalk_server
from servers import HANGUP, RESET, free_port, wecom_server

from reminder.delivery.channels.base import Message
from reminder.delivery.channels.dingtalk import DingTalkChannel, DingTalkRobot, sign
from reminder.redact import SecretFilter

TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
ROBOT = "法规科钉钉群"


def post(**kw: object) -> Message:
    values: dict[str, object] = {
        "subject": "【办公室提醒】法规科：1项任务", "text": "正文",
        "markdown": "#### 【办公室提醒】法规科：1项任务\n> 完成时限：12月10日\n\n@13800000000",
        "to": (ROBOT,), "mobiles": ("13800000000",)}
    return Message(**{**values, **kw})  # type: ignore[arg-type]


def test_signed_markdown_with_at_mobiles_is_accepted() -> None:
    with dingtalk_server({TOKEN: SECRET}) as dt:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN, secret=SECRET)},
                                  base_url=dt.url, timeout=2)
        result = channel.send(post())
    assert (result.status, result.provider_code) == ("ok", "0")
    [req] = dt.requests
    assert set(req.query) == {"access_token", "timestamp", "sign"}
    body = req.json
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "【办公室提醒】法规科：1项任务"
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}


def test_signature_is_the_documented_form() -> None:
    # base64(HMAC-SHA256(secret, "timestamp\nsecret")): fixed inputs, fixed output.
    assert sign("SECabc", 1764806400000) == "JKKGNBGYojKicabygl/3ulRV7erPre8MZmdQqIM4SNs="


def test_wrong_secret_is_refused_by_the_robot_and_holds_the_route() -> None:
    with dingtalk_server({TOKEN: SECRET}) as dt:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN, secret="SECwrong")},
                                  base_url=dt.url, timeout=2)
        result = channel.send(post())
    assert (result.status, result.provider_code) == ("config", "310000")
    assert "加签密钥不对" in result.detail


def test_clock_far_off_is_refused() -> None:
    with dingtalk_server({TOKEN: SECRET}) as dt:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN, secret=SECRET)},
                                  base_url=dt.url, timeout=2, clock=lambda: 1.0e9)
        result = channel.send(post())
    assert (result.status, result.provider_code) == ("config", "310000")


def test_keyword_mode_puts_the_keyword_in_a_message_that_lacks_it() -> None:
    with dingtalk_server({TOKEN: None}, keywords={TOKEN: "督办"}) as dt:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN, keyword="督办")},
                                  base_url=dt.url, timeout=2)
        result = channel.send(post())
        bare = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN)},
                               base_url=dt.url, timeout=2).send(post())
    assert result.status == "ok"
    assert dt.requests[0].json["markdown"]["text"].startswith("【督办】")
    assert (bare.status, bare.provider_code) == ("config", "310000")
    assert "关键词" in bare.detail


def test_the_21st_message_in_a_minute_blocks_the_robot() -> None:
    with dingtalk_server({TOKEN: SECRET}) as dt:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN, secret=SECRET)},
                                  base_url=dt.url, timeout=2)
        results = [channel.send(post()) for _ in range(22)]
    assert [r.status for r in results[:20]] == ["ok"] * 20
    blocked = results[20]
    assert (blocked.status, blocked.provider_code, blocked.retry_after) == (
        "retryable", "130101", 600.0)
    assert results[21].provider_code == "130101"  # still blocked
    assert "130101" in channel.block_codes


@pytest.mark.parametrize(("reply_token", "status", "code"), [
    ("not-a-robot", "config", "300001"),
], ids=["unknown-token"])
def test_unknown_token_is_configuration(reply_token: str, status: str, code: str) -> None:
    with dingtalk_server({TOKEN: SECRET}) as dt:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=reply_token)},
                                  base_url=dt.url, timeout=2)
        result = channel.send(post())
    assert (result.status, result.provider_code) == (status, code)


def test_secrets_never_in_results_logs_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(SecretFilter())
    caplog.set_level(logging.DEBUG)
    robot = DingTalkRobot(access_token=TOKEN, secret=SECRET)
    with dingtalk_server({TOKEN: "SECother"}) as dt:
        channel = DingTalkChannel({ROBOT: robot}, base_url=dt.url, timeout=2)
        result = channel.send(post())
    refused = DingTalkChannel({ROBOT: robot}, base_url=f"http://127.0.0.1:{free_port()}/robot/send",
                              timeout=2).send(post())
    assert refused.status == "config"
    for text in (result.detail, refused.detail, caplog.text, repr(channel), repr(robot)):
        assert TOKEN not in text and SECRET not in text


def test_form_problems_for_doctor() -> None:
    channel = DingTalkChannel({
        "整个地址": DingTalkRobot(access_token=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"),
        "密钥不对": DingTalkRobot(access_token=TOKEN, secret="abc"),
        "无安全设置": DingTalkRobot(access_token=TOKEN),
        "正确": DingTalkRobot(access_token=TOKEN, secret=SECRET),
        "关键词": DingTalkRobot(access_token=TOKEN, keyword="督办")})
    problems = channel.form_problems()
    assert set(problems) == {"整个地址", "密钥不对", "无安全设置"}
    assert "SEC" in problems["密钥不对"] and "IP" in problems["无安全设置"]


@pytest.mark.parametrize("cut", [HANGUP, RESET])
def test_a_robot_that_hangs_up_after_the_post_is_uncertain_not_retried(cut: str) -> None:
    """The post may have reached the group before the connection dropped: a plain retry
    could post it twice, so it is uncertain (one late retry, then the admin), as for WeCom."""
    with wecom_server([cut]) as server:
        channel = DingTalkChannel({ROBOT: DingTalkRobot(access_token=TOKEN, secret=SECRET)},
                                  base_url=server.url, timeout=2)
        result = channel.send(post())
    assert (result.status, result.provider_code) == ("uncertain", "hangup"), result
    assert TOKEN not in result.detail and SECRET not in result.detail
