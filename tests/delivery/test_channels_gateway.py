"""GatewayChannel (the office's own SMS platform) against a loopback gateway that answers
with a business error in JSON."""

from __future__ import annotations

import logging

import pytest
from channelservers import gateway_server
from servers import HANGUP, RESET, free_port, wecom_server

from reminder.delivery.channels.base import Message
from reminder.delivery.channels.gateway import GatewayChannel
from reminder.redact import SecretFilter

TOKEN = "sms-token-0123456789abcdef"
BODY = ('{"phone": {{ mobile | tojson }}, "msg": {{ text | tojson }}, '
        '"sign": "局办公室", "link": {{ link | tojson }}}')


def sms(mobile: str = "13800000000") -> Message:
    return Message(subject="【局办公室提醒】法规科：2项任务",
                   text="【局办公室提醒】法规科：2项任务，最近截止12月10日（还有3个工作日），"
                        "详情及反馈：https://duban.example.gov.cn/u/abc",
                   url="https://duban.example.gov.cn/u/abc", to=(mobile,))


def gateway(url: str, **kw: object) -> GatewayChannel:
    options: dict[str, object] = {
        "url": url, "headers": {"Authorization": f"Bearer {TOKEN}"}, "body": BODY,
        "success_path": "code", "success_value": "0", "timeout": 2, "secrets": [TOKEN]}
    return GatewayChannel(**{**options, **kw})  # type: ignore[arg-type]


def test_json_body_rendered_per_recipient_and_success_read_from_the_answer() -> None:
    with gateway_server() as gw:
        result = gateway(gw.url).send(sms())
    assert (result.status, result.provider_code) == ("ok", "0")
    [req] = gw.requests
    assert req.method == "POST" and req.headers["authorization"] == f"Bearer {TOKEN}"
    assert req.json == {"phone": "13800000000", "msg": sms().text, "sign": "局办公室",
                        "link": "https://duban.example.gov.cn/u/abc"}
    assert "最近截止".encode() in req.raw  # UTF-8, not \\u escapes


def test_form_body() -> None:
    with gateway_server() as gw:
        result = gateway(gw.url, body_format="form").send(sms())
    assert result.status == "ok"
    assert gw.requests[0].form["phone"] == "13800000000"
    assert gw.requests[0].headers["content-type"].startswith("application/x-www-form-urlencoded")


def test_business_error_in_json_is_a_permanent_failure_with_its_words() -> None:
    refusal = (200, {"code": "1004", "msg": "号码在黑名单中"})
    with gateway_server([refusal]) as gw:
        result = gateway(gw.url).send(sms())
    assert (result.status, result.provider_code) == ("permanent", "1004")
    assert "号码在黑名单中" in result.detail and "code = 1004" in result.detail


@pytest.mark.parametrize(("reply", "status", "code"), [
    ((503, "维护中"), "retryable", "http 503"),
    ((429, "too many"), "retryable", "http 429"),
    ((401, {"code": "401", "msg": "token invalid"}), "config", "http 401"),
    ((400, {"code": "400", "msg": "bad phone"}), "permanent", "http 400"),
    # Taken (HTTP 200) but no verdict to read: maybe sent, so never retried like a failure
    # (a wrong success_path would send each SMS max_attempts times).
    ((200, "<html>ok</html>"), "uncertain", "http 200"),
    ((200, {"msg": "no code here"}), "uncertain", "http 200"),
], ids=["503", "429", "401", "400", "not-json", "no-path"])
def test_gateway_answers(reply: tuple[int, object], status: str, code: str) -> None:
    with gateway_server([reply]) as gw:  # type: ignore[list-item]
        result = gateway(gw.url).send(sms())
    assert (result.status, result.provider_code) == (status, code)


def test_status_alone_decides_without_a_path() -> None:
    with gateway_server([(200, {"code": "1004"})]) as gw:
        result = gateway(gw.url, success_path=None, success_value=None).send(sms())
    assert result.status == "ok"


def test_a_template_that_does_not_make_json_is_configuration() -> None:
    broken = GatewayChannel(url="http://127.0.0.1:9/x", body='{"msg": {{ text }}}')  # unquoted
    result = broken.send(sms())
    assert (result.status, result.provider_code) == ("config", "template")
    assert broken.check().status == "config"
    assert gateway("http://127.0.0.1:9/x").check().status == "ok"  # renders, sends nothing


def test_token_in_headers_never_in_results_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(SecretFilter())
    caplog.set_level(logging.DEBUG)
    echo = (200, {"code": "9", "msg": f"bad header Bearer {TOKEN}"})
    with gateway_server([echo]) as gw:
        result = gateway(gw.url).send(sms())
    refused = gateway(f"http://127.0.0.1:{free_port()}/sms").send(sms())
    assert refused.status == "config"
    for text in (result.detail, refused.detail, caplog.text, repr(gateway(gw.url))):
        assert TOKEN not in text


@pytest.mark.parametrize("cut", [HANGUP, RESET])
def test_a_gateway_that_hangs_up_after_the_request_is_uncertain_not_retried(cut: str) -> None:
    """An SMS the gateway took before dropping the connection must not be sent twice."""
    with wecom_server([cut]) as server:
        result = gateway(server.url).send(sms())
    assert (result.status, result.provider_code) == ("uncertain", "hangup"), result
    assert TOKEN not in result.detail


ACCOUNT, KEY = "jubangongshi", "mas-key-5f3a9c2e71"
SIGNED = ('{"ecName": {{ secret.account | tojson }}, "mobiles": {{ mobile | tojson }}, '
          '"content": {{ text | tojson }}, "timestamp": {{ timestamp | tojson }}, '
          '"mac": {{ (secret.account ~ secret.key ~ mobile ~ text ~ timestamp) | md5 | tojson }}}')


def test_a_platform_that_signs_each_request_gets_its_account_key_and_mac(
        caplog: pytest.LogCaptureFixture) -> None:
    """A MAS-style 短信平台: the account and key come from secrets (never config.toml) into
    the body, with a timestamp and an MD5 over them that the stand-in checks; a wrong key is
    the platform's business error, and the key shows nowhere."""
    caplog.handler.addFilter(SecretFilter())
    caplog.set_level(logging.DEBUG)
    with gateway_server(signed=(ACCOUNT, KEY)) as gw:
        ok = gateway(gw.url, body=SIGNED, headers={},
                     body_secrets={"account": ACCOUNT, "key": KEY}, secrets=[KEY]).send(sms())
        wrong = gateway(gw.url, body=SIGNED, headers={}, body_secrets={
            "account": ACCOUNT, "key": "not-the-key-0000"}, secrets=["not-the-key-0000"]
                        ).send(sms())
    assert (ok.status, ok.provider_code) == ("ok", "0")
    assert (wrong.status, wrong.provider_code) == ("permanent", "401") and "签名错误" in wrong.detail
    assert gw.requests[0].json["ecName"] == ACCOUNT and KEY.encode() not in gw.requests[0].raw
    for text in (ok.detail, wrong.detail, caplog.text,
                 repr(gateway(gw.url, body_secrets={"key": KEY}, secrets=[KEY]))):
        assert KEY not in text


def test_hash_and_encoding_filters() -> None:
    channel = gateway("http://127.0.0.1:9/x", clock=lambda: 1_800_000_000.25, body=(
        '{"a": {{ "abc" | md5 | tojson }}, "b": {{ "abc" | sha256 | tojson }}, '
        '"c": {{ "短信" | b64 | tojson }}, "t": {{ timestamp | tojson }}, '
        '"ms": {{ timestamp_ms | tojson }}}'))
    assert channel.render({}) == {
        "a": "900150983cd24fb0d6963f7d28e17f72",
        "b": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "c": "55+t5L+h", "t": "1800000000", "ms": "1800000000250"}
