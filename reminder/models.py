"""Records passed between stages: frozen, keyword-only dataclasses with no behaviour of note.

document ─importers→ Task ─deadlines→ Deadline ─occurrences→ Occurrence ─planner→ Notice
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date, datetime, time
from typing import Literal

DeadlineKind = Literal["once", "recurring", "event", "none"]
Cycle = Literal["weekly", "biweekly", "semimonthly", "dekadal", "monthly", "bimonthly", "quarterly",
                "termly", "semiannual", "yearly", "ongoing"]
OffsetUnit = Literal["day", "workday", "month"]
Stage = Literal["remind", "warn", "due", "overdue", "escalate", "report", "sign"]
ShiftPolicy = Literal["before", "after", "none"]

# The stages an occurrence goes through, in the order it reaches them: of two notices of
# one occurrence sent at one moment, the later stage is the one to keep.
# A 签收 chase comes before any other stage: met at one moment with a reminder of the same
# occurrence, the reminder is kept (it carries the request to sign as well). A 三色预警 (warn)
# comes after the reminders and before the due day.
STAGE_LIFECYCLE: dict[str, int] = {"sign": -1, "report": 0, "remind": 1, "warn": 2, "due": 3,
                                   "overdue": 4, "escalate": 5}
# The order a reader meets them, most urgent first: sections of a message, the dry run.
STAGE_URGENCY: dict[str, int] = {"overdue": 0, "escalate": 1, "due": 2, "warn": 3, "remind": 4,
                                 "report": 5, "sign": 6}


def task_order(task_id: str) -> tuple[int, int, str]:
    """Tasks in their plan's numbering: 2 before 10, numbered before named (@dates)."""
    return (0, int(task_id), "") if task_id.isdigit() else (1, 0, task_id)


# The dates a plan may name: its year minus 5 to plus 30. Wider is a typo (9999-12-31), and
# counting workdays from it overflows `date` and used to stop every plan's reminders.
YEARS_BEFORE, YEARS_AFTER = 5, 30


def date_window(year: int) -> tuple[date, date]:
    """The first and last day a plan of ``year`` may name (see YEARS_BEFORE/YEARS_AFTER)."""
    return (date(max(MINYEAR, year - YEARS_BEFORE), 1, 1),
            date(min(MAXYEAR, year + YEARS_AFTER), 12, 31))


def outside_window(day: date, year: int) -> str:
    """Why ``day`` is no date for a plan of ``year`` (Chinese, for the user), or ""."""
    first, last = date_window(year)
    if first <= day <= last:
        return ""
    return (f"日期 {day.isoformat()} 超出计划年度 {year} 的合理范围"
            f"（{first.isoformat()} 至 {last.isoformat()}），请检查是否写错")


CYCLES: tuple[str, ...] = ("weekly", "biweekly", "semimonthly", "dekadal", "monthly", "bimonthly",
                           "quarterly", "termly", "semiannual", "yearly", "ongoing")


@dataclass(frozen=True, kw_only=True)
class Offset:
    """A distance in time: ``n`` days, workdays or months."""

    n: int
    unit: OffsetUnit

    def __str__(self) -> str:
        return f"{self.n}{ {'day': 'd', 'workday': 'wd', 'month': 'm'}[self.unit] }"

    @classmethod
    def parse(cls, text: str) -> Offset:
        """Parse the compact form used in policy files: ``30d``, ``3wd``, ``1m``."""
        raw = text.strip().lower()
        for suffix, unit in (("wd", "workday"), ("d", "day"), ("m", "month")):
            if raw.endswith(suffix) and raw[: -len(suffix)].isdigit():
                return cls(n=int(raw[: -len(suffix)]), unit=unit)  # type: ignore[arg-type]
        raise ValueError(f"不是有效的时间间隔：{text!r}（应写作 30d、3wd 或 1m）")


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """One deadline found in a phrase.

    ``dates`` are nominal (before the workday shift): one date for ``once``; the plan year's
    occurrences for ``recurring``; the computed date for ``event`` once its event is known,
    else empty; empty for ``none``. A ``recurring`` deadline with ``after`` falls due that
    long after each of its ``dates`` (每季度结束后10个工作日内: the quarter ends), or each by
    its own of ``offsets``. ``start``
    is where a range opens (2024年4月—6月: 04-01) or a phrase says work begins (从3月起); a
    ``none`` with a ``start`` is a start written alone (从3月25日开始); ``note`` says what a
    reader should know (由上级确定, a yearly count that does not divide the year).
    """

    kind: DeadlineKind
    dates: tuple[date, ...] = ()
    cycle: Cycle | None = None
    after: Offset | None = None
    #: Per-date limits of a recurring deadline whose periods differ (第一季度结束后10日内、
    #: 第二季度结束后8日内…): one offset for each of ``dates``, used instead of ``after``.
    offsets: tuple[Offset, ...] = ()
    start: date | None = None
    note: str = ""
    rule: str
    source: str
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class Task:
    """One row of a plan's task table, as the document says it."""

    id: str
    title: str
    section: tuple[str, ...] = ()
    detail: str = ""
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    units_text: str = ""
    deadline_text: str = ""

    @property
    def units(self) -> tuple[str, ...]:
        return self.lead + tuple(u for u in self.support if u not in self.lead)

    @property
    def short_title(self) -> str:
        return short_text(self.title)


def short_text(text: str, limit: int = 24) -> str:
    """First clause of a long requirement, for tables and message subjects."""
    text = " ".join(text.split())
    for stop in "。；;，,":
        head = text.split(stop, 1)[0]
        if 4 <= len(head) <= limit:
            return head
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, kw_only=True)
class Contact:
    """How to reach a unit or person. Webhook keys are never here: ``wecom`` names a robot
    whose key lives in the deployment's secrets."""

    name: str
    email: tuple[str, ...] = ()
    wecom: str | None = None
    wecom_users: tuple[str, ...] = ()
    wecom_mobiles: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    dingtalk: str | None = None  # a DingTalk robot's name; its token is a secret too
    dingtalk_mobiles: tuple[str, ...] = ()  # @-mentioned in the robot's post (atMobiles)
    mobiles: tuple[str, ...] = ()  # the office's SMS gateway sends here
    # The order to reach this unit in, e.g. ("wecom_app", "email"): the first the deployment
    # has and the unit has an address for is used. Empty: every way it has (email, robots).
    channels: tuple[str, ...] = ()

    @property
    def reachable(self) -> bool:
        """Whether the planner finds a route: with an order, a channel in it the contact has
        an address for; without, email or a group robot (personal channels only by order)."""
        if self.channels:
            have = {"email": self.email, "wecom": self.wecom, "dingtalk": self.dingtalk,
                    "wecom_app": self.wecom_users, "sms": self.mobiles}
            return any(have.get(name) for name in self.channels)
        return bool(self.email or self.wecom or self.dingtalk)


@dataclass(frozen=True, kw_only=True)
class PlanDate:
    """A plan-level date, e.g. quarterly progress reports to the 政务公开办."""

    name: str
    deadline_text: str
    units: tuple[str, ...] = ()  # empty: every unit named in the plan
    to: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskOverride:
    deadline: str | None = None
    skip: bool = False
    event: date | None = None
    units: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Policy:
    send_time: time = time(9, 0)
    timezone: str = "Asia/Shanghai"
    shift: ShiftPolicy = "before"
    #: Limits counted from a moment (N日内 after an event or a period's end): 民法典 第二百零三条
    #: ends them on the first workday after a holiday.
    limit_shift: ShiftPolicy = "after"
    remind_before: tuple[Offset, ...] = ()
    on_due_day: bool = True
    overdue_after: Offset = field(default_factory=lambda: Offset(n=1, unit="workday"))
    escalate_after: Offset = field(default_factory=lambda: Offset(n=3, unit="workday"))
    escalate_every: Offset = field(default_factory=lambda: Offset(n=5, unit="workday"))
    ongoing_remind_before: tuple[Offset, ...] = ()
    report_remind_before: tuple[Offset, ...] = ()
    remind_support: bool = True
    confirm_done: bool = False  # a unit's "done" from its link waits for the coordinator
    #: Where school terms end (每学期), as (month, day): the autumn term in January, the
    #: spring term in July. Offices' calendars differ, so a plan may set its own.
    term_ends: tuple[tuple[int, int], ...] = ((1, 15), (7, 15))
    #: 三色预警 (plan/colors.py): shown on the pages and the 台账 when on; the shares of the
    #: period left below which an occurrence without a progress report turns 黄 and 橙.
    colors: bool = True
    yellow_left: float = 0.30
    orange_left: float = 0.15
    #: Who each colour adds ("units", "coordinator", "leaders"): a 黄/橙 warning goes out on
    #: the day the colour changes, 红 widens the overdue notice. Empty: nothing is sent.
    yellow_to: tuple[str, ...] = ()
    orange_to: tuple[str, ...] = ()
    red_to: tuple[str, ...] = ()
    # 签收 and 延期申请 (issue 19): None = units are not asked to sign; otherwise an unsigned
    # unit is chased once this long after its first message, then the coordinator is told.
    sign_within: Offset | None = None
    allow_extension: bool = True  # units may ask for a new date from their page


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """A concrete due date of a task (or of a plan-level date, task id ``@<name>``)."""

    plan: str
    task: str
    kind: DeadlineKind
    nominal: date
    due: date
    cycle: Cycle | None = None
    rule: str = ""
    previous_due: date | None = None  # the occurrence before, for recurring tasks
    next_due: date | None = None  # the occurrence after: its chase replaces this one's
    start: date | None = None  # where the work opens (5月至8月: 05-01); no reminder before it


@dataclass(frozen=True, kw_only=True)
class Notice:
    """One message the engine intends to send: the unit of the dry run and of the outbox."""

    send_at: datetime
    stage: Stage
    step: str  # which reminder of the stage: "30d", "1wd", "0", "#2" …
    plan: str
    plan_title: str
    task: str
    title: str
    due: date
    recipient: str  # the unit or contact addressed
    channel: str  # "email", "wecom", "wecom_app", "dingtalk", "sms", or "none" (no contact)
    # email addresses, a robot's name (WeCom or DingTalk), userids (wecom_app), mobiles (sms)
    addresses: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()  # WeCom user ids to @mention
    mobiles: tuple[str, ...] = ()  # mobile numbers to @mention (WeCom text, DingTalk)
    occurrence: str = ""  # the occurrence's nominal date, ISO; for recurring tasks

    @property
    def key(self) -> str:
        """Deterministic idempotency key: planning twice never makes a second notice."""
        return notice_key(self.plan, self.task, self.due, self.stage, self.step, self.recipient,
                          self.channel)


def notice_key(plan: str, task: str, due: date, stage: str, step: str, recipient: str,
               channel: str) -> str:
    """A notice's key from its identifying fields (writers compute it without a Notice)."""
    raw = "|".join((plan, task, due.isoformat(), stage, step, recipient, channel))
    return _digest(raw)


def _digest(raw: str) -> str:
    """Imports hashlib (its OpenSSL binding is 2-3 ms) on the first key, then replaces itself:
    `reminder explain` never makes a key, a dry run makes millions at no extra cost."""
    global _digest
    import hashlib

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    _digest = digest
    return digest(raw)
