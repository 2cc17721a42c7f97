"""Render digests of notices into channel messages with Jinja2 templates.

WeCom digests are written as macros (header, section, task, footer) rather than one document,
because a long digest must be split between tasks to stay under WeCom's byte limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from reminder.delivery.channels.base import Message, split_parts, utf8_len
from reminder.delivery.channels.wecom import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, mention_suffix
from reminder.delivery.render.brief import Brief, brief
from reminder.delivery.render.digest import (
    BLOCK_SEP,
    CUT,
    PART_MARK,
    Digest,
    FactsOf,
    LinkMaker,
    NewsOf,
    OfficeOf,
    build_digest,
    fit_task,
    unique,
)
from reminder.delivery.render.environment import environment, guarded, md_safe, render_template
from reminder.delivery.render.posts import render_post
from reminder.models import Notice

# The app message's markdown limit (WeCom); DingTalk documents none for a robot's markdown,
# and 20,000 bytes is where its robots are known to refuse: stay well under it.
APP_MARKDOWN_MAX_BYTES = 2048
DINGTALK_MAX_BYTES = 4096


def at_line(mobiles: Sequence[str]) -> str:
    """DingTalk shows an @mention only when "@mobile" is in the text as well as atMobiles."""
    return ("\n\n" + " ".join(f"@{m}" for m in mobiles)) if mobiles else ""


def render_digest(
    notices: Sequence[Notice],
    *,
    channel: str,
    today: date,
    templates_dir: Path | None = None,
    fmt: str = "markdown",
    link: LinkMaker | None = None,
    office: OfficeOf | None = None,
    facts: FactsOf | None = None,
    news: NewsOf | None = None,
) -> list[Message]:
    """Messages for one digest: notices for one recipient on one channel at one send time,
    or, on WeCom, for the several units on one robot at that time (see ``posts``).

    ``email`` gives one Message (text + HTML). ``wecom`` gives the digest's parts, each within
    the WeCom limit for ``fmt`` (pass the channel's own ``fmt``), with @mentions on part 1;
    in markdown, a recipient with mobile numbers also gets a last, short text message whose
    markdown is empty (WeComChannel sends such a message as text with mentioned_mobile_list).
    ``part``/``parts`` number all messages in sending order.
    """
    if not notices:
        return []
    env = environment(templates_dir)
    if channel == "wecom" and len(unique([n.recipient for n in notices])) > 1:
        return render_post(env, notices, today=today, fmt=fmt, link=link, office=office,
                           facts=facts, news=news)
    digest = build_digest(env, notices, today, link, office, facts, news)
    context = {"digest": digest, "sections": digest.sections, "today": today}
    subject = render_template(env, "email/subject.txt.j2", context)
    subject = " ".join(subject.split())  # one header line, whatever the template did
    context["subject"] = subject
    addresses = unique([a for n in notices for a in n.addresses])
    if channel == "email":
        text = render_template(env, "email/digest.txt.j2", context)
        html = render_template(env, "email/digest.html.j2", context)
        return [Message(subject=subject, text=text, html=html, to=addresses,
                        keys=tuple(n.key for n in notices))]
    if channel == "wecom":
        return _wecom(env, digest, context, subject, notices, addresses, fmt)
    if channel == "wecom_app":
        if fmt == "textcard" and digest.links:
            short = brief(digest)
            return [Message(subject=short.title, text=short.body, url=short.link, to=addresses,
                            keys=tuple(n.key for n in notices))]
        return _wecom(env, digest, context, subject, notices, addresses, "markdown",
                      limit=APP_MARKDOWN_MAX_BYTES, personal=True)
    if channel == "dingtalk":
        return _wecom(env, digest, context, subject, notices, addresses, "markdown",
                      limit=DINGTALK_MAX_BYTES, template="dingtalk/digest.md.j2")
    if channel == "sms":
        return _per_address(brief(digest), subject, notices, addresses)
    raise ValueError(f"no digest rendering for channel {channel!r}")


def render_failure_report(failures: Sequence[tuple[str, str, Sequence[str], str]], *,
                          at: str, templates_dir: Path | None = None,
                          sender: str = "") -> tuple[str, str]:
    """(subject, text) telling the admin which digests failed for good; each failure is
    (recipient, channel, task ids, error). ``sender`` is the deployment's office name."""
    env = environment(templates_dir)
    context = {"at": at, "failures": [
        {"recipient": r, "channel": c, "tasks": list(t), "error": e} for r, c, t, e in failures]}
    return (f"【{sender or '政务公开'}提醒】{len(failures)} 组提醒发送失败",
            render_template(env, "admin/failures.txt.j2", context))


def _per_address(short: Brief, subject: str, notices: Sequence[Notice],
                 addresses: tuple[str, ...]) -> list[Message]:
    """One short message per address (a gateway request per mobile number). Only the last
    carries the notices: a retry after a failed later number repeats at most the earlier
    ones, never loses one."""
    keys = tuple(n.key for n in notices)
    total = len(addresses) or 1
    return [Message(subject=short.title, text=short.text, url=short.link, to=(address,),
                    part=i, parts=total, keys=keys if i == total else (), copy=total > 1)
            for i, address in enumerate(addresses or ("",), 1)]


def _wecom(
    env: SandboxedEnvironment, digest: Digest, context: dict[str, Any], subject: str,
    notices: Sequence[Notice], robots: tuple[str, ...], fmt: str, *,
    limit: int | None = None, personal: bool = False, template: str | None = None,
) -> list[Message]:
    """The digest split between tasks into parts of at most ``limit`` bytes (the robot's
    own limit by default). ``personal``: an app message to the people in ``robots`` itself,
    so no @mentions; ``template``: another markdown dialect with the same four macros."""
    mentions = () if personal else unique([m for n in notices for m in n.mentions])
    mobiles = () if personal else unique([m for n in notices for m in n.mobiles])
    name = template or ("wecom/digest.md.j2" if fmt == "markdown" else "wecom/digest.txt.j2")
    dingtalk = template is not None and template.startswith("dingtalk/")

    rows = [row for section in digest.sections for row in section.tasks]

    def build() -> list[tuple[str, tuple[int, ...]]]:
        macros = env.get_template(name).make_module(context)
        header = str(macros.header(digest)).strip()
        footer = str(macros.footer(digest)).strip()
        blocks = []
        if dingtalk:  # DingTalk @-mentions are "@mobile" in the text, all on part 1
            size = (limit or DINGTALK_MAX_BYTES) - utf8_len(at_line(mobiles))
        elif fmt == "markdown":
            size = (limit or MARKDOWN_MAX_BYTES) - len(mention_suffix(mentions).encode("utf-8"))
        else:
            size = limit or TEXT_MAX_BYTES
        room = size - utf8_len(header) - utf8_len(footer) - 4 * len(BLOCK_SEP) - PART_MARK
        for section in digest.sections:
            heading = str(macros.section(section)).strip()
            for i, row in enumerate(section.tasks):
                block = fit_task(macros.task, row, room - (utf8_len(heading) + 1 if i == 0 else 0))
                # The heading travels with its first task so it never ends a part alone.
                blocks.append(heading + "\n" + block if i == 0 else block)
        return split_parts(header, blocks, footer, size, sep=BLOCK_SEP, ellipsis=CUT)

    parts = guarded(env, name, build)
    bodies = [body for body, _ in parts]
    if dingtalk:
        return [Message(subject=subject, text=body + (at_line(mobiles) if i == 1 else ""),
                        markdown=body + (at_line(mobiles) if i == 1 else ""), to=robots[:1],
                        part=i, parts=len(parts), mobiles=mobiles if i == 1 else (),
                        keys=tuple(key for index in indexes for key in rows[index].keys))
                for i, (body, indexes) in enumerate(parts, 1)]
    if personal:
        return [Message(subject=subject, text=body, markdown=body, to=robots, part=i,
                        parts=len(parts),
                        keys=tuple(key for index in indexes for key in rows[index].keys))
                for i, (body, indexes) in enumerate(parts, 1)]
    extra = ""
    if fmt == "markdown" and mobiles:
        extra = render_template(env, "wecom/mention.txt.j2", context).strip()
    total = len(bodies) + (1 if extra else 0)
    messages = [
        Message(
            subject=subject, text=body, markdown=body if fmt == "markdown" else "",
            to=robots[:1], part=i, parts=total,
            mentions=mentions if i == 1 else (),
            mobiles=mobiles if i == 1 and fmt == "text" else (),
            keys=tuple(key for index in indexes for key in rows[index].keys),
        )
        for i, (body, indexes) in enumerate(parts, 1)
    ]
    if extra:
        messages.append(Message(subject=subject, text=extra, to=robots[:1], mobiles=mobiles,
                                part=total, parts=total))
    return messages


def render_test_message(
    channel: str, *, to: Sequence[str] = (), now: datetime | None = None, sender: str = ""
) -> Message:
    """What ``reminder test-channel`` sends: proves the channel works, and says so in Chinese,
    in the name of the deployment's office (``sender``: a 农业农村局 is not 政务公开)."""
    when = f"（发送时间：{now:%Y-%m-%d %H:%M}）" if now else ""
    names = {"email": "邮件", "wecom": "企业微信群机器人", "wecom_app": "企业微信应用消息",
             "dingtalk": "钉钉群机器人", "sms": "短信"}
    what = names.get(channel, channel)
    sender = sender or "政务公开"
    subject = f"【{sender}提醒】测试消息"
    text = (f"这是{sender}任务提醒系统发出的测试消息{when}。"
            f"收到本消息，说明{what}渠道配置正确，无需回复。")
    return Message(
        subject=subject, text=text, to=tuple(to),
        markdown=f"**{md_safe(subject)}**\n> {md_safe(text)}"
        if channel in ("wecom", "wecom_app", "dingtalk") else "",
        html=f"<p><strong>{subject}</strong></p><p>{text}</p>" if channel == "email" else "",
    )
