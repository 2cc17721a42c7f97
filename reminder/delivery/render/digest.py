"""The digest a message is rendered from: one recipient's notices at one send time, as
sections by stage (most urgent first) with a row per task. Messages and robot posts both
render it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from reminder.delivery.render.environment import guarded
from reminder.errors import ConfigError
from reminder.models import STAGE_URGENCY, Notice, task_order
from reminder.plan.wording import cn_date, days_text

SECTION_NUMBERS = "一二三四五六七八九十"
BLOCK_SEP = "\n\n"


@dataclass(frozen=True, kw_only=True)
class Row:
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
class Link:
    plan_title: str
    url: str


@dataclass(frozen=True, kw_only=True)
class Section:
    stage: str
    number: str  # 一、二、… in the order the sections appear
    heading: str
    intro: str
    tasks: tuple[Row, ...]

    @property
    def count(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True, kw_only=True)
class Digest:
    recipient: str
    today: date
    total: int
    overdue: int
    due_today: int
    plans: tuple[str, ...]
    sections: tuple[Section, ...]
    links: tuple[Link, ...] = ()  # the recipient's "查看与反馈" page, one per plan
    sender: str = "政务公开"  # whose reminder this is: 【{sender}提醒】
    coordinator: str = "政务公开办"  # who registers completions


def unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


# (plan, unit, task) -> the signed URL of the unit's page, at the task when task is given.
LinkMaker = Callable[[str, str, str], str]
# plan id -> (sender, coordinator) wording for that plan's messages.
OfficeOf = Callable[[str], tuple[str, str]]


def build_digest(env: SandboxedEnvironment, notices: Sequence[Notice], today: date,
            link: LinkMaker | None = None, office: OfficeOf | None = None) -> Digest:
    recipients = unique([n.recipient for n in notices])
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
    sections: list[Section] = []
    no = 0
    for stage in sorted(by_stage, key=lambda s: (STAGE_URGENCY.get(s, len(STAGE_URGENCY)), s)):
        wording = guarded(env, f"stage/{stage}.j2",
                         lambda s=stage: env.get_template(f"stage/{s}.j2").module)
        rows = []
        for n in sorted(by_stage[stage], key=lambda n: (n.due, n.plan, task_order(n.task))):
            no += 1
            days = (n.due - today).days
            rows.append(Row(
                no=no, id="" if n.task.startswith("@") else n.task, title=n.title,
                plan=n.plan, plan_title=n.plan_title or n.plan, due=n.due,
                due_text=cn_date(n.due), days=days, days_text=days_text(n.due, today),
                stage=stage, step=n.step, keys=tuple(keys[(n.plan, n.task, n.due, n.stage)]),
                url=url(n.plan, n.task),
            ))
        sections.append(Section(
            stage=stage, number=SECTION_NUMBERS[len(sections) % len(SECTION_NUMBERS)],
            heading=_wording(wording, "heading", stage), intro=_wording(wording, "intro", stage),
            tasks=tuple(rows),
        ))
    tasks = {(r.plan, r.id or r.title, r.due): r for s in sections for r in s.tasks}
    plans = {r.plan: r.plan_title for r in tasks.values()}
    sender, coordinator = office(next(iter(plans))) if office and plans else ("", "")
    return Digest(
        recipient=recipient,
        today=today,
        total=len(tasks),
        overdue=sum(1 for r in tasks.values() if r.days < 0),
        due_today=sum(1 for r in tasks.values() if r.days == 0),
        plans=unique([r.plan_title for r in tasks.values()]),
        sections=tuple(sections),
        links=tuple(Link(plan_title=title, url=link(plan, recipient, ""))
                    for plan, title in plans.items()) if link else (),
        sender=sender or "政务公开", coordinator=coordinator or "政务公开办",
    )


def _wording(module: Any, name: str, stage: str) -> str:
    value = getattr(module, name, None)
    if value is None:
        raise ConfigError(f"模板 stage/{stage}.j2 缺少 {{% set {name} = \"…\" %}}")
    return " ".join(str(value).split())
