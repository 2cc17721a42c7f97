"""Digests for the personal channels: a WeCom app markdown within 2,048 bytes or a textcard
with the reader's link, a DingTalk post with its @mobiles, and the SMS short form."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from channelservers import dingtalk_server, wecom_app_server

from reminder.delivery.channels.base import utf8_len
from reminder.delivery.channels.dingtalk import DingTalkChannel, DingTalkRobot
from reminder.delivery.channels.wecom_app import WeComAppChannel
from reminder.delivery.render.messages import APP_MARKDOWN_MAX_BYTES, render_digest
from reminder.models import Notice

TODAY = date(2026, 9, 29)
PLAN = "某市某局2026年政务公开工作要点分工方案"


def notice(task: str, channel: str, addresses: tuple[str, ...], *, due: date = date(2026, 10, 9),
           title: str = "完善政策解读机制", **kw: object) -> Notice:
    return Notice(send_at=datetime(2026, 9, 29, 9), stage="remind", step="5wd", plan="p2026",
                  plan_title=PLAN, task=task, title=title, due=due, recipient="法规科",
                  channel=channel, addresses=addresses, **kw)  # type: ignore[arg-type]


def link(plan: str, unit: str, task: str) -> str:
    return f"https://duban.example.gov.cn/u/{unit}" + (f"#t-{task}" if task else "")


def many(n: int, channel: str, addresses: tuple[str, ...]) -> list[Notice]:
    return [notice(str(i), channel, addresses, due=date(2026, 10, 1 + i % 28),
                   title=f"任务{i}：" + "做好政府信息主动公开和政策解读工作" * 3)
            for i in range(1, n + 1)]


def test_app_markdown_parts_fit_2048_bytes_go_to_the_userids_and_wecom_takes_them() -> None:
    notices = many(12, "wecom_app", ("zhangsan", "lisi"))
    messages = render_digest(notices, channel="wecom_app", today=TODAY, link=link)
    assert len(messages) > 1
    assert all(utf8_len(m.markdown) <= APP_MARKDOWN_MAX_BYTES for m in messages)
    assert all(m.to == ("zhangsan", "lisi") and not m.mentions for m in messages)
    assert {k for m in messages for k in m.keys} == {n.key for n in notices}
    assert "https://duban.example.gov.cn/u/法规科" in messages[-1].markdown
    with wecom_app_server(corpid="ww1", secret="s" * 20) as wx:  # it checks the 2,048 bytes
        channel = WeComAppChannel(corpid="ww1", secret="s" * 20, agentid=1000002,
                                  base_url=wx.url)
        assert [channel.send(m).status for m in messages] == ["ok"] * len(messages)


def test_textcard_is_the_short_form_with_the_readers_link() -> None:
    notices = [notice("12", "wecom_app", ("zhangsan",)),
               notice("13", "wecom_app", ("zhangsan",), due=date(2026, 10, 12))]
    [card] = render_digest(notices, channel="wecom_app", today=TODAY, link=link, fmt="textcard")
    assert card.url == "https://duban.example.gov.cn/u/法规科"
    assert card.subject.endswith("法规科：2项任务")
    assert "最近截止2026-10-09" in card.text  # the nearer of the two
    with wecom_app_server(corpid="ww1", secret="s" * 20) as wx:
        channel = WeComAppChannel(corpid="ww1", secret="s" * 20, agentid=1000002,
                                  base_url=wx.url, fmt="textcard")
        assert channel.send(card).status == "ok"
    assert wx.sends[0].json["msgtype"] == "textcard"


def test_textcard_without_links_falls_back_to_markdown() -> None:
    [message] = render_digest([notice("12", "wecom_app", ("zhangsan",))], channel="wecom_app",
                              today=TODAY, fmt="textcard")
    assert message.markdown and not message.url


def test_dingtalk_post_names_the_mobiles_it_mentions_and_the_robot_takes_it() -> None:
    notices = [notice("12", "dingtalk", ("法规科钉钉群",), mobiles=("13800000000",))]
    [post] = render_digest(notices, channel="dingtalk", today=TODAY, link=link)
    assert post.mobiles == ("13800000000",)
    assert post.markdown.rstrip().endswith("@13800000000")
    assert "<font" not in post.markdown  # WeCom's colours mean nothing to DingTalk
    with dingtalk_server({"tok": "SECx"}) as dt:
        channel = DingTalkChannel({"法规科钉钉群": DingTalkRobot(access_token="tok", secret="SECx")},
                                  base_url=dt.url)
        assert channel.send(post).status == "ok"
    assert dt.requests[0].json["at"]["atMobiles"] == ["13800000000"]


@pytest.mark.parametrize("count", [1, 40])
def test_sms_is_short_one_per_mobile_and_only_the_last_settles_the_notices(count: int) -> None:
    notices = many(count, "sms", ("13800000000", "13900000000"))
    messages = render_digest(notices, channel="sms", today=TODAY, link=link)
    assert [m.to for m in messages] == [("13800000000",), ("13900000000",)]
    assert messages[0].keys == () and set(messages[1].keys) == {n.key for n in notices}
    text = messages[0].text
    assert f"{count}项任务" in text and "最近截止" in text
    assert "https://duban.example.gov.cn/u/法规科" in text
    assert len(text) < 120  # whatever the number of tasks: no titles in an SMS
