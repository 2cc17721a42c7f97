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


_PERIOD_MONTHS = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "semiannual": 6, "yearly": 12}
# 每年不少于4次 is quarterly; a count that does not divide the year stays yearly, flagged.
PER_YEAR = {1: "yearly", 2: "semiannual", 4: "quarterly", 6: "bimonthly", 12: "monthly"}


def cycle_dates(cycle: str, year: int, reporting_cycle: str = "quarterly", *,
                month: int | None = None, day: int | None = None, lag: int = 0
                ) -> tuple[date, ...]:
    """Nominal due dates of a recurrence in ``year``: by default the last day of each period.

    ``month`` picks a month within each period (每季度首月: 1; for ``yearly`` the calendar
    month), ``lag`` moves that many months past it (次月: 1), ``day`` picks the day of that
    month (clamped to its end: 每月31日 is 02-28 in February); without ``day``, the month's
    end. ``ongoing`` has no period of its own and takes the plan's ``reporting_cycle``.
    """
    if cycle == "ongoing":
        if reporting_cycle == "ongoing":
            raise ValueError("长期任务的报送周期不能也是长期")
        cycle = reporting_cycle
    length = _PERIOD_MONTHS.get(cycle)
    if length is None:
        raise ValueError(f"未知的周期：{cycle!r}")
    if month is not None and not 1 <= month <= length:
        raise ValueError(f"周期内没有第 {month} 个月")
    dates = []
    for first in range(1, 13, length):
        target = first + (length if month is None else month) - 1 + lag
        y, m = year + (target - 1) // 12, (target - 1) % 12 + 1
        end = monthrange(y, m)[1]
        dates.append(date(y, m, end if day is None else min(day, end)))
    return tuple(dates)


@dataclass(frozen=True, kw_only=True)
class Reading:
    """What the rules made of a phrase, and what they did not: ``leftover`` holds the
    pieces no rule matched that still look like a date (8月3日至12日 read as 8月3日 leaves
    至12日), so a caller can refuse a half-understood deadline instead of trusting it."""

    text: str  # normalized
    deadlines: tuple[Deadline, ...]
    matched: tuple[str, ...]
    leftover: tuple[str, ...]
    ambiguous: tuple[tuple[str, str], ...] = ()  # (text, why it names no single date)

    @property
    def understood(self) -> bool:
        return bool(self.deadlines) and not self.leftover and not self.ambiguous


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
    ambiguous: list[tuple[str, str]] = []
    gaps: list[str] = []
    position = 0
    for match in ruleset.find(normal):
        deadline = _meaning(match, ctx)
        gaps.append(normal[position:match.start])
        if match.rule.ambiguous is not None:
            ambiguous.append((match.text, match.rule.ambiguous))
        elif deadline is None:
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
                   leftover=leftover, ambiguous=tuple(ambiguous))


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
        if rule.ambiguous is not None:
            return None
        if rule.none:
            return Deadline(kind="none", note=rule.reason, **common)
        if rule.recur is not None:
            return _recurring(match, ctx, common)
        if rule.after is not None:
            offset = _offset(match)
            return None if offset is None else Deadline(kind="event", after=offset, **common)
        day, start = _date(match, ctx)
        if day is None or (start is not None and start > day):
            return None
        return Deadline(kind="once", dates=(day,), start=start, **common)
    except ValueError:
        return None  # 13月, 2月30日, 第五季度: not a date, so not a deadline


def _recurring(match: Match, ctx: Context, common: dict[str, str]) -> Deadline | None:
    rule = match.rule
    cycle, note = rule.recur or "", ""
    after = None
    if cycle == "per_year":
        count = _value(match, "count")
        if count is None or count <= 0:
            return None
        cycle = PER_YEAR.get(count, "yearly")
        if count not in PER_YEAR:
            note = f"每年{count}次不能均分全年，暂按每年一次提醒，请核对"
    elif match.groups.get("count") is not None:  # 每季度结束后10日内: after each period
        after = _offset(match)
        if after is None:
            return None
    dates = cycle_dates(cycle, ctx.year, ctx.reporting_cycle, month=_value(match, "month"),
                        day=_value(match, "day"), lag=rule.lag or 0)
    return Deadline(kind="recurring", dates=dates, cycle=cycle, after=after,  # type: ignore[arg-type]
                    note=note, **common)


def _value(match: Match, key: str) -> int | None:
    raw = match.groups.get(key)
    if raw is not None:
        return to_int(raw)
    return match.rule.fixed(key)


def _year(raw: str | None, ctx: Context) -> int | None:
    if raw is None:
        return None
    if raw in RELATIVE_YEARS:
        return ctx.year + RELATIVE_YEARS[raw]
    return to_int(raw)


def _date(match: Match, ctx: Context) -> tuple[date | None, date | None]:
    """The deadline and, for a range, where it opens. The end of a range takes what it
    does not say from its start: 10月8日至20日 ends on 10月20日."""
    rule, groups = match.rule, match.groups
    from_year = _year(groups.get("from_year"), ctx)
    from_month = groups.get("from_month")
    from_day = groups.get("from_day")
    year = _year(groups.get("year"), ctx)
    year = from_year if year is None else year
    if rule.date == "years_end":  # 今后两年: this year and the next
        count = _value(match, "count")
        if count is None or count <= 0:
            return None, None
        return date(ctx.year + count - 1, 12, 31), date(ctx.year, 1, 1)
    if rule.date in ("day", "month_end"):
        month = _value(match, "month")
        if month is None and from_month is not None:
            month = to_int(from_month)
        day = _value(match, "day") if rule.date == "day" else None
        if month is None or (rule.date == "day" and day is None):
            return None, None
        end = _month_day(year, month, day, ctx)
    else:
        end = _period_end(rule.date, year if year is not None else ctx.year, match)
    if end is None or not (from_year or from_month or from_day):
        return end, None
    start_month = to_int(from_month) if from_month is not None else (
        end.month if from_day is not None else 1)
    start_day = to_int(from_day) if from_day is not None else 1
    start_year = from_year if from_year is not None else (
        end.year if (start_month, start_day) <= (end.month, end.day) else end.year - 1)
    return end, date(start_year, start_month, start_day)


def _month_day(year: int | None, month: int, day: int | None, ctx: Context) -> date | None:
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


def _period_end(kind: str | None, year: int, match: Match) -> date | None:
    if kind == "year_end":
        return date(year, 12, 31)
    if kind == "half_end":
        half = _value(match, "half")
        return None if half not in (1, 2) else _month_end(year, 6 * half)
    if kind == "quarter_end":
        quarter = _value(match, "quarter")
        return None if quarter is None or not 1 <= quarter <= 4 else _month_end(year, 3 * quarter)
    return None


def _offset(match: Match) -> Offset | None:
    rule: Rule = match.rule
    count = _value(match, "count")
    # 当日 is a fixed 0 days; a written 0日内 is a typo, not a deadline.
    if count is None or count < 0 or (count == 0 and match.groups.get("count") is not None):
        return None
    unit = rule.after if rule.after is not None else "unit"
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
        key = (d.kind, d.dates, d.cycle, d.after, d.start)
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept
