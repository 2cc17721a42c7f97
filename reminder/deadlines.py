"""Deadline phrases → :class:`~reminder.models.Deadline` records.

The grammar lives in rule files (:mod:`reminder.rules`); this module only gives the matches
their meaning against a plan's :class:`Context`: which year 今年 is, which 1月31日 a plan issued
in April means, which dates a quarterly task falls due on. Dates here are nominal: the
workday shift and event-relative arithmetic belong to the calendar and occurrence stages.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date

import regex

from reminder.models import Deadline, Offset, Task
from reminder.numerals import to_int
from reminder.rules import RELATIVE_YEARS, Match, Rule, RuleSet, load_rules, normalize

#: Cycles a plan may report on; "ongoing" tasks are reminded on one of them.
REPORTING_CYCLES = ("monthly", "quarterly", "semiannual", "yearly")
# Recurrences worth adding to a dated task: the real working rhythm of e.g. "按季度核查".
# "yearly" and "ongoing" add nothing a dated deadline does not already say.
_RHYTHMS = ("monthly", "quarterly", "semiannual")
_UNIT_WORDS = {"工作日": "workday", "自然日": "day", "天": "day", "日": "day",
               "月": "month", "周": "week", "星期": "week", "礼拜": "week"}


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a phrase is read against: the plan year, when the plan was issued (a month/day
    without a year is its first occurrence on or after that), and the plan's reporting cycle
    (the dates of ongoing tasks such as 长期)."""

    year: int
    issued: date | None = None
    reporting_cycle: str = "quarterly"

    def __post_init__(self) -> None:
        if not MINYEAR <= self.year <= MAXYEAR:
            raise ValueError(f"方案年度无效：{self.year}")
        if self.reporting_cycle not in REPORTING_CYCLES:
            raise ValueError(f"报送周期无效：{self.reporting_cycle!r}"
                             f"（可选：{'、'.join(REPORTING_CYCLES)}）")


def cycle_dates(cycle: str, year: int, reporting_cycle: str = "quarterly") -> tuple[date, ...]:
    """Nominal due dates of a recurrence in ``year``: the last day of each period.

    ``ongoing`` has no period of its own and takes the plan's ``reporting_cycle``.
    """
    if cycle == "ongoing":
        if reporting_cycle == "ongoing":
            raise ValueError("长期任务的报送周期不能也是长期")
        cycle = reporting_cycle
    months = {"monthly": range(1, 13), "quarterly": (3, 6, 9, 12), "semiannual": (6, 12),
              "yearly": (12,)}.get(cycle)
    if months is None:
        raise ValueError(f"未知的周期：{cycle!r}")
    return tuple(_month_end(year, m) for m in months)


@dataclass(frozen=True, kw_only=True)
class Reading:
    """What the rules made of a phrase, and what they did not: ``leftover`` holds the
    pieces no rule matched that still look like a date (8月3日至12日 read as 8月3日 leaves
    至12日), so a caller can refuse a half-understood deadline instead of trusting it."""

    text: str  # normalized
    deadlines: tuple[Deadline, ...]
    matched: tuple[str, ...]
    leftover: tuple[str, ...]

    @property
    def understood(self) -> bool:
        return bool(self.deadlines) and not self.leftover


# Digits or Chinese numerals next to a date word, or a range mark between date parts: text
# with these still names a date, so dropping it would silently change a deadline.
_NUMERAL = "\\d〇零○一二三四五六七八九十两"
_DATE_LIKE = regex.compile(
    r"(?:\d{4}|[〇零○一二三四五六七八九]{4})年"  # a year; 上一年度 and 三年行动 are no dates
    rf"|[{_NUMERAL}](?:月|日|号|旬|个?工作日|天|个月|周)|[一二三四1-4]季|[上中下]旬"
    rf"|[{_NUMERAL}][年月日号]?(?:至|到|—|–|-|~)[{_NUMERAL}]")
# Leftover is reported clause by clause: the clause is what a clerk can find in the document.
_CLAUSE = regex.compile(r"[^,;。:、()!?《》“”\[\]]+")


def read(text: str, ctx: Context, rules: RuleSet | None = None) -> Reading:
    """Every deadline in ``text`` with the parts no rule understood.

    A phrase naming an impossible date (2月30日) gives no deadline rather than an error,
    and its text counts as leftover, because plans contain typos.
    """
    ruleset = rules if rules is not None else load_rules()
    normal = normalize(text)
    found: list[Deadline] = []
    matched: list[str] = []
    gaps: list[str] = []
    position = 0
    for match in ruleset.find(normal):
        deadline = _meaning(match, ctx)
        gaps.append(normal[position:match.start])
        if deadline is None:
            gaps.append(match.text)
        else:
            found.append(deadline)
            matched.append(match.text)
        gaps.append("\x00")  # a match separates what lies before it from what follows
        position = match.end
    gaps.append(normal[position:])
    leftover = tuple(clause for clause in _CLAUSE.findall("".join(gaps).replace("\x00", ","))
                     if _DATE_LIKE.search(clause))
    return Reading(text=normal, deadlines=tuple(_dedupe(found)), matched=tuple(matched),
                   leftover=leftover)


def parse(text: str, ctx: Context, rules: RuleSet | None = None) -> list[Deadline]:
    """Every deadline in ``text``, in text order, identical ones once; see :func:`read`."""
    return list(read(text, ctx, rules).deadlines)


def task_deadlines(task: Task, ctx: Context, rules: RuleSet | None = None,
                   default_text: str = "") -> list[Deadline]:
    """The deadlines of one task.

    1. The deadline cell, when it yields anything, plus the monthly/quarterly/semiannual
       rhythms its title or detail mention (按季度核查 next to 2021年底).
    2. Otherwise the deadlines written inside title and detail (2021年底前通过政府网站…),
       except kind ``none``: every other requirement says 及时, which is no deadline.
    3. Otherwise, and only when the deadline cell is empty, the plan's ``default_text``
       (e.g. 年底前). A non-empty cell that nothing understood does *not* fall back to the
       default: the plan loader reports that cell as an unknown phrase instead of silently
       guessing a date.

    Kind ``none`` is dropped whenever a real deadline sits beside it (2021年底前及时公开).
    """
    ruleset = rules if rules is not None else load_rules()
    # Title and detail are parsed apart so that no phrase is glued across their boundary.
    in_body = parse(task.title, ctx, ruleset) + parse(task.detail, ctx, ruleset)
    cell = parse(task.deadline_text, ctx, ruleset) if task.deadline_text.strip() else []
    if cell:
        result = cell + [d for d in in_body if d.kind == "recurring" and d.cycle in _RHYTHMS]
    else:
        result = [d for d in in_body if d.kind != "none"]
        if not result and not task.deadline_text.strip() and default_text.strip():
            result = parse(default_text, ctx, ruleset)
    result = _dedupe(result)
    if any(d.kind != "none" for d in result):
        result = [d for d in result if d.kind != "none"]
    return result


def understood(text: str, ctx: Context, rules: RuleSet | None = None) -> bool:
    """Whether any rule finds a deadline in ``text``; the loader reports cells where not."""
    return bool(parse(text, ctx, rules))


# -- meaning of one match ---------------------------------------------------------------


def _meaning(match: Match, ctx: Context) -> Deadline | None:
    rule = match.rule
    common = {"rule": rule.name, "source": rule.source, "text": match.text}
    try:
        if rule.none:
            return Deadline(kind="none", **common)
        if rule.recur is not None:
            dates = cycle_dates(rule.recur, ctx.year, ctx.reporting_cycle)
            return Deadline(kind="recurring", dates=dates, cycle=rule.recur,  # type: ignore[arg-type]
                            **common)
        if rule.after is not None:
            offset = _offset(match)
            return None if offset is None else Deadline(kind="event", after=offset, **common)
        day = _date(match, ctx)
        return None if day is None else Deadline(kind="once", dates=(day,), **common)
    except ValueError:
        return None  # 13月, 2月30日, 第五季度: not a date, so not a deadline


def _value(match: Match, key: str) -> int | None:
    raw = match.groups.get(key)
    if raw is not None:
        return to_int(raw)
    return match.rule.fixed(key)


def _year(match: Match, ctx: Context) -> int | None:
    raw = match.groups.get("year")
    if raw is None:
        return None
    if raw in RELATIVE_YEARS:
        return ctx.year + RELATIVE_YEARS[raw]
    return to_int(raw)


def _date(match: Match, ctx: Context) -> date | None:
    rule = match.rule
    year = _year(match, ctx)
    if rule.date in ("day", "month_end"):
        month = _value(match, "month")
        day = _value(match, "day") if rule.date == "day" else None
        if month is None or (rule.date == "day" and day is None):
            return None

        def make(y: int) -> date:
            return date(y, month, day) if day is not None else _month_end(y, month)

        if year is not None:
            return make(year)
        if ctx.issued is None:
            return make(ctx.year)
        # A month/day without a year is the first one on or after the plan's issue date:
        # "1月31日前" in a plan issued in April 2022 is 2023-01-31.
        for y in (ctx.issued.year, ctx.issued.year + 1):
            try:
                candidate = make(y)
            except ValueError:
                continue
            if candidate >= ctx.issued:
                return candidate
        return None
    year = ctx.year if year is None else year
    if rule.date == "year_end":
        return date(year, 12, 31)
    if rule.date == "half_end":
        half = _value(match, "half")
        return None if half not in (1, 2) else _month_end(year, 6 * half)
    if rule.date == "quarter_end":
        quarter = _value(match, "quarter")
        return None if quarter is None or not 1 <= quarter <= 4 else _month_end(year, 3 * quarter)
    return None


def _offset(match: Match) -> Offset | None:
    rule: Rule = match.rule
    count = _value(match, "count")
    if count is None or count <= 0:
        return None
    unit = rule.after
    if unit == "unit":
        word = (match.groups.get("unit") or "").removeprefix("个")
        unit = _UNIT_WORDS.get(word)
        if unit is None:
            return None
    if unit == "week":
        # Plans count weeks in calendar days; 两周内 is 14 days, not 10 workdays.
        return Offset(n=count * 7, unit="day")
    return Offset(n=count, unit=unit)  # type: ignore[arg-type]


def _month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def _dedupe(deadlines: Iterable[Deadline]) -> list[Deadline]:
    seen: set[tuple[object, ...]] = set()
    kept: list[Deadline] = []
    for d in deadlines:
        key = (d.kind, d.dates, d.cycle, d.after)
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept
