"""The digest a message is rendered from: one recipient's notices at one send time, as
sections by stage (most urgent first) with a row per task. Messages and robot posts both
render it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from reminder.delivery.channels.base import truncate_bytes, utf8_len
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
    url: str = ""  # the reader's page at this task ("" when [web] is not configured)
    detail: str = ""  # the requirement's details, when the plan has them
    lead: tuple[str, ...] = ()  # the responsible units: 牵头
    support: tuple[str, ...] = ()  # and 配合
    role: str = "unit"  # why the reader gets it: unit | coordinator | leader
    instruction: str = ""  # the latest 批示 on it, for the units: "text（leader，date）"
    workflow: tuple[str, ...] = ()  # 签收 asked or missing, a 延期申请 decided (issue 19)

    @property
    def units_text(self) -> str:
        """责任单位 as one line: 办公室（牵头）、数据资源科（配合）."""
        return "、".join([*(f"{u}（牵头）" for u in self.lead),
                         *(f"{u}（配合）" for u in self.support)])

    @property
    def own(self) -> bool:
        return self.role == "unit"


@dataclass(frozen=True, kw_only=True)
class Link:
    plan_title: str
    url: str


@dataclass(frozen=True, kw_only=True)
class TaskFacts:
    """What the plan and the store know of a task beyond its notice: the whole title and
    requirement, whose task it is, why this reader gets it, and the latest 批示."""

    title: str = ""
    detail: str = ""
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    role: str = "unit"
    instruction: str = ""
    workflow: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Section:
    stage: str
    role: str  # the reader's role for its tasks: a copy reads differently from one's own
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
    role: str = "unit"  # unit when any task is the reader's own, else coordinator or leader
    units: tuple[str, ...] = ()  # the lead units of the tasks of a copy (not one's own)
    instructions: tuple[str, ...] = ()  # 批示 news on tasks this message does not list

    @property
    def units_text(self) -> str:
        """Whose tasks a copy is about: 各科室, or 法规科、办公室等4个单位."""
        if len(self.units) <= 3:
            return "、".join(self.units)
        return "、".join(self.units[:3]) + f"等{len(self.units)}个单位"


def unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


# (plan, unit, task) -> the signed URL of the unit's page, at the task when task is given.
LinkMaker = Callable[[str, str, str], str]
# plan id -> (sender, coordinator) wording for that plan's messages.
OfficeOf = Callable[[str], tuple[str, str]]
# (plan, task, recipient) -> what the plan and store say of the task for that reader.
FactsOf = Callable[[str, str, str], TaskFacts]
# recipient -> the 批示 on its tasks given since its previous message, one line each
# ("〔5〕title：text（leader，date）"): a unit hears of them in its next message, whatever
# that message is about.
NewsOf = Callable[[str], Sequence[tuple[str, str, str]]]

# Wording a stage template may leave out (templates written before copies had their own):
# a copy asks its reader to chase the responsible units, never to finish the work.
COPY_WORDING = {
    "heading_coordinator": "抄送：{heading}",
    "intro_coordinator": "以下任务由责任单位办理，请跟踪督办、督促责任单位按期办结。",
    "heading_leader": "请督促：{heading}",
    "intro_leader": "以下任务由责任单位办理、逾期仍未办结，请督促责任单位尽快办结。",
}


def build_digest(env: SandboxedEnvironment, notices: Sequence[Notice], today: date,
                 link: LinkMaker | None = None, office: OfficeOf | None = None,
                 facts: FactsOf | None = None, news: NewsOf | None = None) -> Digest:
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
    known: dict[tuple[str, str], TaskFacts] = {}

    def about(n: Notice) -> TaskFacts:
        if (n.plan, n.task) not in known:
            known[n.plan, n.task] = facts(n.plan, n.task, recipient) if facts else TaskFacts()
        return known[n.plan, n.task]

    by_stage: dict[tuple[str, str], list[Notice]] = {}
    for n in seen.values():
        by_stage.setdefault((n.stage, about(n).role), []).append(n)
    roles = {"unit": 0, "coordinator": 1, "leader": 2}
    sections: list[Section] = []
    no = 0
    for stage, role in sorted(by_stage, key=lambda k: (
            STAGE_URGENCY.get(k[0], len(STAGE_URGENCY)), k[0], roles.get(k[1], 3))):
        wording = guarded(env, f"stage/{stage}.j2",
                          lambda s=stage: env.get_template(f"stage/{s}.j2").module)
        rows = []
        for n in sorted(by_stage[stage, role],
                        key=lambda n: (n.due, n.plan, task_order(n.task))):
            no += 1
            days = (n.due - today).days
            fact = about(n)
            rows.append(Row(
                no=no, id="" if n.task.startswith("@") else n.task, title=fact.title or n.title,
                plan=n.plan, plan_title=n.plan_title or n.plan, due=n.due,
                due_text=cn_date(n.due), days=days, days_text=days_text(n.due, today),
                stage=stage, step=n.step, keys=tuple(keys[(n.plan, n.task, n.due, n.stage)]),
                url=url(n.plan, n.task), detail=fact.detail, lead=fact.lead,
                support=fact.support, role=role, instruction=fact.instruction,
                workflow=fact.workflow,
            ))
        heading = _wording(wording, "heading", stage)
        intro = _wording(wording, "intro", stage)
        if role in ("coordinator", "leader"):
            heading = _wording(wording, f"heading_{role}", stage,
                               COPY_WORDING[f"heading_{role}"].format(heading=heading))
            intro = _wording(wording, f"intro_{role}", stage, COPY_WORDING[f"intro_{role}"])
        sections.append(Section(
            stage=stage, role=role, number=SECTION_NUMBERS[len(sections) % len(SECTION_NUMBERS)],
            heading=heading, intro=intro, tasks=tuple(rows),
        ))
    tasks = {(r.plan, r.id or r.title, r.due): r for s in sections for r in s.tasks}
    plans = {r.plan: r.plan_title for r in tasks.values()}
    sender, coordinator = office(next(iter(plans))) if office and plans else ("", "")
    rows = [r for s in sections for r in s.tasks]
    listed = {(r.plan, r.id) for r in rows if r.instruction}
    told = unique([line for plan, task, line in (news(recipient) if news and recipient else ())
                   if (plan, task) not in listed])
    role = "unit" if any(r.own for r in rows) or not rows else (
        "leader" if any(r.role == "leader" for r in rows) else "coordinator")
    return Digest(
        recipient=recipient,
        today=today,
        total=len(tasks),
        overdue=sum(1 for r in tasks.values() if r.days < 0),
        due_today=sum(1 for r in tasks.values() if r.days == 0),
        plans=unique([r.plan_title for r in tasks.values()]),
        sections=tuple(sections),
        links=_links(link, recipient, plans, rows) if link else (),
        sender=sender or "政务公开", coordinator=coordinator or "政务公开办", role=role,
        units=unique([u for r in rows if not r.own for u in (r.lead or r.support)]),
        instructions=told,
    )


def _links(link: LinkMaker, recipient: str, plans: dict[str, str],
           rows: Sequence[Row]) -> tuple[Link, ...]:
    """The reader's page per plan. A plan whose tasks here are all copies is linked at its
    first task, so the link maker opens the board or the leader's page, not a unit page
    that lists none of them; links that come out the same (a leader's one page across
    plans) are given once."""
    found: dict[str, Link] = {}
    for plan, title in plans.items():
        mine = [r for r in rows if r.plan == plan]
        first = "" if any(r.own for r in mine) or not mine else mine[0].id
        url = link(plan, recipient, first)
        found.setdefault(url.split("#")[0], Link(plan_title=title, url=url))
    return tuple(found.values())


# WeCom is the one channel with a length limit: a task too long for a whole message keeps
# its dates and plan, and loses the end of its title, marked so the reader opens the link.
CUT = "…（详见链接）"
PART_MARK = utf8_len("（第99/99部分）")


def fit_task(macro: Any, row: Any, room: int) -> str:
    """One task's block, its title (then its details) cut to fit ``room`` bytes."""
    block = str(macro(row)).strip()
    over = utf8_len(block) - room
    if over <= 0:
        return block
    if row.detail:
        detail = truncate_bytes(row.detail, max(0, utf8_len(row.detail) - over), CUT)
        row = replace(row, detail=detail if detail != CUT else "")
        block = str(macro(row)).strip()
        over = utf8_len(block) - room
        if over <= 0:
            return block
    title = truncate_bytes(row.title, max(utf8_len(CUT), utf8_len(row.title) - over), CUT)
    return str(macro(replace(row, title=title))).strip()


def _wording(module: Any, name: str, stage: str, default: str | None = None) -> str:
    value = getattr(module, name, None)
    if value is None:
        value = default
    if value is None:
        raise ConfigError(f"模板 stage/{stage}.j2 缺少 {{% set {name} = \"…\" %}}")
    return " ".join(str(value).split())
