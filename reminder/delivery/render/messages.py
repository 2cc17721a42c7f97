"""Render digests of notices into channel messages with Jinja2 templates.

Templates are user-editable files, so they run in a ``SandboxedEnvironment`` with
``StrictUndefined`` (a misspelt variable is an error, not a silently empty string), and HTML
templates are autoescaped. A user's templates directory is searched before the shipped
``templates/``; any template problem becomes a one-line ``ConfigError`` naming file and line.

WeCom digests are written as macros (header, section, task, footer) rather than one document,
because a long digest must be split between tasks to stay under WeCom's byte limit.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from reminder.delivery.channels.base import Message, split_parts
from reminder.delivery.channels.wecom import MARKDOWN_MAX_BYTES, TEXT_MAX_BYTES, mention_suffix
from reminder.errors import ConfigError
from reminder.models import STAGE_URGENCY, Notice, task_order
from reminder.plan.wording import cn_date, days_text
from reminder.resources import data_dir

SECTION_NUMBERS = "一二三四五六七八九十"
BLOCK_SEP = "\n\n"

T = TypeVar("T")


# WeCom markdown has no escape character, so markup characters in task text become their
# full-width forms, which read the same in Chinese text.
_MD_SAFE = str.maketrans({"<": "＜", ">": "＞", "*": "＊", "[": "［", "]": "］", "`": "｀"})


def md_safe(text: object) -> str:
    """Keep task text from acting as WeCom markdown markup: ``<@all>`` would mention the
    whole group, a stray ``<font`` would swallow the rest of the message, ``**…**`` would
    bold and ``[text](url)`` would turn into a link the office never wrote."""
    return str(text).translate(_MD_SAFE)


# ------------------------------------------------------------------ environment and errors

@lru_cache(maxsize=8)
def _environment(templates_dir: Path | None) -> SandboxedEnvironment:
    paths = [str(templates_dir)] if templates_dir is not None else []
    paths.append(str(data_dir("templates")))
    env = SandboxedEnvironment(
        loader=FileSystemLoader(paths, encoding="utf-8"),
        # By file name, so digest.html.j2 is escaped and the text/markdown ones are not.
        autoescape=lambda name: bool(name) and name.lower().endswith((".html", ".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(cn_date=cn_date, md=md_safe)
    env.globals.update(days_text=days_text)
    return env


def environment(templates_dir: Path | None = None) -> SandboxedEnvironment:
    if templates_dir is not None:
        templates_dir = Path(templates_dir).expanduser().resolve()
        if not templates_dir.is_dir():
            raise ConfigError("模板目录不存在", file=templates_dir,
                              hint="检查 config.toml 中的 templates 设置")
    return _environment(templates_dir)


def _guard(env: SandboxedEnvironment, name: str, action: Callable[[], T]) -> T:
    """Run template work; turn every failure of it into a ConfigError with file and line."""
    try:
        return action()
    except TemplateNotFound as exc:
        # Named by an {% include %} / {% import %} of a user template: point at that line.
        file, line = _template_frame(env, exc) or (None, None)
        raise ConfigError(f"找不到模板 {exc.name or name}", file=file, line=line,
                          hint="检查模板目录和模板名") from None
    except TemplateSyntaxError as exc:
        raise ConfigError(f"模板语法错误：{exc.message}", file=exc.filename or name,
                          line=exc.lineno) from None
    except Exception as exc:  # anything a template can raise while rendering, sandbox included
        file, line = _template_frame(env, exc) or (_source_file(env, name), None)
        raise ConfigError(f"模板渲染失败：{type(exc).__name__}: {exc}", file=file, line=line,
                          hint="检查模板中的变量名和写法") from None


def _template_frame(env: SandboxedEnvironment, exc: BaseException) -> tuple[str, int] | None:
    # Jinja rewrites tracebacks so that template frames carry the template's path and line.
    roots = tuple(getattr(env.loader, "searchpath", ()))
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if roots and f.filename.startswith(roots)]
    return (frames[-1].filename, frames[-1].lineno or 0) if frames else None


def _source_file(env: SandboxedEnvironment, name: str) -> str:
    try:
        return env.loader.get_source(env, name)[1] or name  # type: ignore[union-attr]
    except Exception:
        return name


# ------------------------------------------------------------------ the digest model

@dataclass(frozen=True, kw_only=True)
class _Row:
    no: int
    id: str
    title: str
    plan: str
    plan_title: str
    due: date
    due_text: str
    days: int
    days_text: str
    stage: str
    step: str
    keys: tuple[str, ...] = ()  # every notice this row stands for
    url: str = ""  # the unit's page at this task ("" when [web] is not configured)


@dataclass(frozen=True, kw_only=True)
class _Link:
    plan_title: str
    url: str


@dataclass(frozen=True, kw_only=True)
class _Section:
    stage: str
    number: str  # 一、二、… in the order the sections appear
    heading: str
    intro: str
    tasks: tuple[_Row, ...]

    @property
    def count(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True, kw_only=True)
class _Digest:
    recipient: str
    today: date
    total: int
    overdue: int
    due_today: int
    plans: tuple[str, ...]
    sections: tuple[_Section, ...]
    links: tuple[_Link, ...] = ()  # the recipient's "查看与反馈" page, one per plan
    sender: str = "政务公开"  # whose reminder this is: 【{sender}提醒】
    coordinator: str = "政务公开办"  # who registers completions


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


# (plan, unit, task) -> the signed URL of the unit's page, at the task when task is given.
LinkMaker = Callable[[str, str, str], str]
# plan id -> (sender, coordinator) wording for that plan's messages.
OfficeOf = Callable[[str], tuple[str, str]]


def _digest(env: SandboxedEnvironment, notices: Sequence[Notice], today: date,
            link: LinkMaker | None = None, office: OfficeOf | None = None) -> _Digest:
    recipients = _unique([n.recipient for n in notices])
    if len(recipients) > 1:
        raise ValueError(f"a digest has one recipient, got {recipients}")
    recipient = recipients[0] if recipients else ""

    def url(plan: str, task: str) -> str:
        # A plan-level date (@…) has no row on the unit's page: link the page itself.
        return link(plan, recipient, "" if task.startswith("@") else task) if link else ""
    seen: dict[tuple[str, str, date, str], Notice] = {}
    keys: dict[tuple[str, str, date, str], list[str]] = {}
    for n in notices:  # the same task twice in one stage (two steps due at once) shows once
        seen.setdefault((n.plan, n.task, n.due, n.stage), n)
        keys.setdefault((n.plan, n.task, n.due, n.stage), []).append(n.key)
    by_stage: dict[str, list[Notice]] = {}
    for n in seen.values():
        by_stage.setdefault(n.stage, []).append(n)
    sections: list[_Section] = []
    no = 0
    for stage in sorted(by_stage, key=lambda s: (STAGE_URGENCY.get(s, len(STAGE_URGENCY)), s)):
        wording = _guard(env, f"stage/{stage}.j2",
                         lambda s=stage: env.get_template(f"stage/{s}.j2").module)
        rows = []
        for n in sorted(by_stage[stage], key=lambda n: (n.due, n.plan, task_order(n.task))):
            no += 1
            days = (n.due - today).days
            rows.append(_Row(
                no=no, id="" if n.task.startswith("@") else n.task, title=n.title,
                plan=n.plan, plan_title=n.plan_title or n.plan, due=n.due,
                due_text=cn_date(n.due), days=days, days_text=days_text(n.due, today),
                stage=stage, step=n.step, keys=tuple(keys[(n.plan, n.task, n.due, n.stage)]),
                url=url(n.plan, n.task),
            ))
        sections.append(_Section(
            stage=stage, number=SECTION_NUMBERS[len(sections) % len(SECTION_NUMBERS)],
            heading=_wording(wording, "heading", stage), intro=_wording(wording, "intro", stage),
            tasks=tuple(rows),
        ))
    tasks = {(r.plan, r.id or r.title, r.due): r for s in sections for r in s.tasks}
    plans = {r.plan: r.plan_title for r in tasks.values()}
    sender, coordinator = office(next(iter(plans))) if office and plans else ("", "")
    return _Digest(
        recipient=recipient,
        today=today,
        total=len(tasks),
        overdue=sum(1 for r in tasks.values() if r.days < 0),
        due_today=sum(1 for r in tasks.values() if r.days == 0),
        plans=_unique([r.plan_title for r in tasks.values()]),
        sections=tuple(sections),
        links=tuple(_Link(plan_title=title, url=link(plan, recipient, ""))
                    for plan, title in plans.items()) if link else (),
        sender=sender or "政务公开", coordinator=coordinator or "政务公开办",
    )


def _wording(module: Any, name: str, stage: str) -> str:
    value = getattr(module, name, None)
    if value is None:
        raise ConfigError(f"模板 stage/{stage}.j2 缺少 {{% set {name} = \"…\" %}}")
    return " ".join(str(value).split())


# ------------------------------------------------------------------ rendering

def render_digest(
    notices: Sequence[Notice],
    *,
    channel: str,
    today: date,
    templates_dir: Path | None = None,
    fmt: Literal["markdown", "text"] = "markdown",
    link: LinkMaker | None = None,
    office: OfficeOf | None = None,
) -> list[Message]:
    """Messages for one digest: notices for one recipient on one channel at one send time,
    or, on WeCom, for the several units on one robot at that time (see reminder.delivery.render.posts).

    ``email`` gives one Message (text + HTML). ``wecom`` gives the digest's parts, each within
    the WeCom limit for ``fmt`` (pass the channel's own ``fmt``), with @mentions on part 1;
    in markdown, a recipient with mobile numbers also gets a last, short text message whose
    markdown is empty (WeComChannel sends such a message as text with mentioned_mobile_list).
    ``part``/``parts`` number all messages in sending order.
    """
    if not notices:
        return []
    env = environment(templates_dir)
    if channel == "wecom" and len(_unique([n.recipient for n in notices])) > 1:
        from reminder.delivery.render.posts import render_post  # several units on one robot: one post

        return render_post(env, notices, today=today, fmt=fmt, link=link, office=office)
    digest = _digest(env, notices, today, link, office)
    context = {"digest": digest, "sections": digest.sections, "today": today}
    subject = _render(env, "email/subject.txt.j2", context)
    subject = " ".join(subject.split())  # one header line, whatever the template did
    context["subject"] = subject
    addresses = _unique([a for n in notices for a in n.addresses])
    if channel == "email":
        text = _render(env, "email/digest.txt.j2", context)
        html = _render(env, "email/digest.html.j2", context)
        return [Message(subject=subject, text=text, html=html, to=addresses,
                        keys=tuple(n.key for n in notices))]
    if channel == "wecom":
        return _wecom(env, digest, context, subject, notices, addresses, fmt)
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
            _render(env, "admin/failures.txt.j2", context))


def _render(env: SandboxedEnvironment, name: str, context: dict[str, Any]) -> str:
    return _guard(env, name, lambda: env.get_template(name).render(context)).strip() + "\n"


def _wecom(
    env: SandboxedEnvironment, digest: _Digest, context: dict[str, Any], subject: str,
    notices: Sequence[Notice], robots: tuple[str, ...], fmt: str,
) -> list[Message]:
    mentions = _unique([m for n in notices for m in n.mentions])
    mobiles = _unique([m for n in notices for m in n.mobiles])
    name = "wecom/digest.md.j2" if fmt == "markdown" else "wecom/digest.txt.j2"

    rows = [row for section in digest.sections for row in section.tasks]

    def build() -> list[tuple[str, tuple[int, ...]]]:
        macros = env.get_template(name).make_module(context)
        header = str(macros.header(digest)).strip()
        footer = str(macros.footer(digest)).strip()
        blocks = []
        for section in digest.sections:
            for i, row in enumerate(section.tasks):
                block = str(macros.task(row)).strip()
                # The heading travels with its first task so it never ends a part alone.
                blocks.append(str(macros.section(section)).strip() + "\n" + block
                              if i == 0 else block)
        if fmt == "markdown":
            limit = MARKDOWN_MAX_BYTES - len(mention_suffix(mentions).encode("utf-8"))
        else:
            limit = TEXT_MAX_BYTES
        return split_parts(header, blocks, footer, limit, sep=BLOCK_SEP)

    parts = _guard(env, name, build)
    bodies = [body for body, _ in parts]
    extra = ""
    if fmt == "markdown" and mobiles:
        extra = _render(env, "wecom/mention.txt.j2", context).strip()
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
    names = {"email": "邮件", "wecom": "企业微信群机器人"}
    what = names.get(channel, channel)
    sender = sender or "政务公开"
    subject = f"【{sender}提醒】测试消息"
    text = (f"这是{sender}任务提醒系统发出的测试消息{when}。"
            f"收到本消息，说明{what}渠道配置正确，无需回复。")
    return Message(
        subject=subject, text=text, to=tuple(to),
        markdown=f"**{subject}**\n> {text}" if channel == "wecom" else "",
        html=f"<p><strong>{subject}</strong></p><p>{text}</p>" if channel == "email" else "",
    )
