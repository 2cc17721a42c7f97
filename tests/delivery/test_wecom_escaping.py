"""Issue 20 §10: every text that reaches a WeCom robot as markdown goes through md_safe, the
one escaper: a title, unit name, plan title, office name, a unit's note or a provider's error
cannot mention the whole group, add a link, colour text or smuggle a tag. One test per
template and per direct post (the web's 有困难 and 退回 messages, the admin's failure report,
`reminder test-channel`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from reminder.delivery.channels.base import Message, SendResult
from reminder.delivery.render.messages import render_digest, render_test_message
from reminder.models import Contact, Notice

HOSTILE = ('<@all>[点此查看](http://evil.example/)<font color="warning">紧急</font>'
           "<script>alert(1)</script>**加粗**`代码`")
# What must not survive in any markdown body: each a piece of markup the office never wrote.
FORBIDDEN = ("<@all>", "](http://evil", '<font color="warning">紧急', "<script", "**加粗**", "`代码`")
TODAY = date(2026, 10, 6)


def clean(markdown: str) -> None:
    assert markdown
    for piece in FORBIDDEN:
        assert piece not in markdown, piece
    assert "＜@all＞" in markdown  # still readable, in full-width forms


def notice(unit: str, task: str = "1", **kw: Any) -> Notice:
    fields: dict[str, Any] = {"title": f"任务{HOSTILE}", "plan_title": f"要点{HOSTILE}", **kw}
    return Notice(send_at=datetime(2026, 10, 6, 9), stage="remind", step="0", plan="p2026",
                  task=task, due=date(2026, 10, 9), recipient=unit, channel="wecom",
                  addresses=("公开办群",), **fields)


def office(plan: str) -> tuple[str, str]:
    return (f"农业局{HOSTILE}", f"办公室{HOSTILE}")


def link(plan: str, unit: str, task: str) -> str:
    return "https://reminder.example.gov.cn/u/x"


@pytest.mark.parametrize("with_links", [True, False], ids=["linked", "unlinked"])
def test_digest_md_template(with_links: bool) -> None:  # templates/wecom/digest.md.j2
    [message] = render_digest([notice(f"法规科{HOSTILE}")], channel="wecom", today=TODAY,
                              office=office, link=link if with_links else None)
    clean(message.markdown)


@pytest.mark.parametrize("with_links", [True, False], ids=["linked", "unlinked"])
def test_units_md_template(with_links: bool) -> None:  # templates/wecom/units.md.j2
    messages = render_digest([notice(f"法规科{HOSTILE}"), notice(f"办公室{HOSTILE}", task="2")],
                             channel="wecom", today=TODAY, office=office,
                             link=link if with_links else None)
    assert "▍" in messages[0].markdown  # the shared post, a section per unit
    for message in messages:
        if message.markdown:
            clean(message.markdown)


def test_test_channel_message() -> None:  # `reminder test-channel`, in the office's name
    clean(render_test_message("wecom", to=("公开办群",), sender=f"农业局{HOSTILE}").markdown)


class Robot:
    """A WeCom channel that keeps what it is given."""

    name = "wecom"
    rate_limit = None

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def rate_key(self, message: Message) -> str:
        return message.to[0]

    def send(self, message: Message) -> SendResult:
        self.sent.append(message)
        return SendResult(status="ok")


def test_admin_failure_report() -> None:  # dispatcher's direct post to [admin]
    from reminder.delivery.dispatcher import _message

    clean(_message("发送失败", f"- 法规科{HOSTILE}（wecom）任务 1：{HOSTILE}", ("管理员群",),
                   ()).markdown)


def test_web_posts_to_the_coordinator(tmp_path: Any) -> None:  # 有困难 and 退回, via Site.tell
    from reminder.config import Config, WebConfig
    from reminder.store import open_store
    from reminder.web.site import Site

    robot = Robot()
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        site = Site(Config(path=None, database_url="", web=WebConfig()), store, links=None,
                    plans=None, channels=lambda: {"wecom": robot})  # type: ignore[arg-type]
        contact = Contact(name="公开办", wecom="公开办群")
        assert site.tell(contact, f"【有困难】法规科{HOSTILE}：任务 1",
                         f"法规科反映任务 1（{HOSTILE}）遇到困难：{HOSTILE}\n<@all>")
    finally:
        store.dispose()
    [message] = robot.sent
    clean(message.markdown)
    assert "\n<@all>" not in message.markdown and "\n" not in message.markdown.split("> ", 1)[1]
    for piece in FORBIDDEN:
        assert piece not in message.text
