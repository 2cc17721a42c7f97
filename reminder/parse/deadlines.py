"""Deadline phrases → :class:`~reminder.models.Deadline` records.

The grammar lives in rule files (:mod:`reminder.parse.rules`); this module only gives the matches
their meaning against a plan's :class:`Context`: which year 今年 is, which 1月31日 a plan issued
in April means, which dates a quarterly task falls due on. Dates here are nominal: the
workday shift and event-relative arithmetic belong to the calendar and occurrence stages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import MAXYEAR, MINYEAR, date, timedelta
from functools import cache
from typing import TYPE_CHECKING

from reminder.models import Deadline, Offset, Task, outside_window
from reminder.parse import programs
from reminder.parse.numerals import to_int
from reminder.parse.rules import RELATIVE_YEARS, Match, Rule, RuleSet, load_rules, normalize

if TYPE_CHECKING:
    import regex  # the package is imported only to compile (parse/engine.py)

#: Cycles a plan may report on; "ongoing" tasks are reminded on one of them.
REPORTING_CYCLES = ("monthly", "quarterly", "semiannual", "yearly")
# Recurrences worth adding to a dated task: the real working rhythm of e.g. "按季度核查".
# "yearly" and "ongoing" add nothing a dated deadline does not already say.
_RHYTHMS = ("monthly", "quarterly", "semiannual")
_UNIT_WORDS = {"工作日": "workday", "自然日": "day", "天": "day", "日": "day",
               "月": "month", "周": "week", "星期": "week", "礼拜": "week",
               "小时": "hour", "钟头": "hour"}


#: The default end of each school term: autumn's in mid-January, spring's in mid-July
#: (rules/policy.toml ``term_ends`` says the same and a plan may override it).
TERM_ENDS: tuple[tuple[int, int], ...] = ((1, 15), (7, 15))

@dataclass(frozen=True, kw_only=True)
class Context:
    """What a phrase is read against: the plan year, when the plan was issued (a month/day
    without a year is its first occurrence on or after that), and the plan's reporting cycle
    (the dates of ongoing tasks such as 长期)."""

    year: int
    issued: date | None = None
    reporting_cycle: str = "quarterly"
    #: Where school terms end (每学期), (month, day) each; the plan policy's ``term_ends``.
    term_ends: tuple[tuple[int, int], ...] = TERM_ENDS

    def __post_init__(self) -> None:
        if not MINYEAR <= self.year <= MAXYEAR:
            raise ValueError(f"方案年度无效：{self.year}")
        if self.reporting_cycle not in REPORTING_CYCLES:
            raise ValueError(f"报送周期无效：{self.reporting_cycle!r}"
                             f"（可选：{'、'.join(REPORTING_CYCLES)}）")


_PERIOD_MONTHS = {"monthly": 1, "bimonthly": 2, "quarterly": 3, "semiannual": 6, "yearly": 12}
# 每年不少于4次 is quarterly; a count that does not divide the year stays yearly, flagged.
PER_YEAR = {1: "yearly", 2: "semiannual", 4: "quarterly", 6: "bimonthly", 12: "monthly"}
# 每月至少2次 is twice a month; 3 times, each dekad.
PER_MONTH = {1: "monthly", 2: "semimonthly", 3: "dekadal"}


def cycle_dates(cycle: str, year: int, reporting_cycle: str = "quarterly", *,
                month: int | None = None, day: int | None = None, lag: int = 0,
                term_ends: tuple[tuple[int, int], ...] = TERM_ENDS) -> tuple[date, ...]:
    """Nominal due dates of a recurrence in ``year``: by default the last day of each period.

    ``month`` picks a month within each period (每季度首月: 1; for ``yearly`` the calendar
    month), ``lag`` moves that many months past it (次月: 1), ``day`` picks the day of that
    month (clamped to its end: 每月31日 is 02-28 in February); without ``day``, the month's
    end. ``ongoing`` has no period of its own and takes the plan's ``reporting_cycle``.
    """
    if cycle in ("weekly", "biweekly"):  # 每周二前: every Tuesday (``day`` 1–7, Monday first);
        weekday = 7 if day is None else day  # else Sunday. 双周: every other one of them.
        if not 1 <= weekday <= 7:
            raise ValueError(f"星期几无效：{weekday}")
        first = date(year, 1, 1) + timedelta(days=(weekday - date(year, 1, 1).isoweekday()) % 7)
        step = 1 if cycle == "weekly" else 2
        return tuple(first + timedelta(weeks=n)
                     for n in range(0, 53, step) if (first + timedelta(weeks=n)).year == year)
    if cycle == "termly":  # 每学期: the end of each school term that falls in the year
        return tuple(sorted(date(year, m, min(d, _month_end(year, m).day)) for m, d in term_ends))
    if cycle in ("dekadal", "semimonthly"):  # 逐旬: the 10th, 20th and month's end; 半月: 15th
        days = (10, 20) if cycle == "dekadal" else (15,)
        return tuple(date(year, m, d) for m in range(1, 13)
                     for d in (*days, _month_end(year, m).day))
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
        end = _month_end(y, m).day
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


class Unsettled(Exception):
    """A match whose date the text does not settle (a yearless range mostly over when the
    plan was issued: this year's or next year's?); reported as ambiguous, never guessed."""


_DEKAD_START = {"上": 1, "中": 11, "下": 21}
_DEKAD_END = {"上": 10, "中": 20}

#: How close to the issue date the end of a yearless range that opened before it may fall
#: before the range reads as next year's just as well as this year's (when most of it is past).
_LATE_RANGE = 31


# Digits or Chinese numerals next to a date word, or a range mark between date parts: text
# with these still names a date, so dropping it would silently change a deadline.
_NUMERAL = "\\d〇零○一二三四五六七八九十两"
_DATE_LIKE_TEXT = (
    # a year; 上一年度 and 三年行动 are no dates, nor a year named as a benchmark or a cut-off
    # of what the task covers (2025年水平, 2023年及以前排查发现的), nor a document named by its
    # year (2019年工作总结 says what to send, not when)
    r"(?:\d{4}|[〇零○一二三四五六七八九]{4})年(?!水平|同期|及以前|以前的|以来|基础上|底数|度?工作(?:总结|要点|计划|报告|思路))"
    # 上一个月 / 下一个月 name a period (the report of last month), not a date.
    rf"|(?<![上下])[{_NUMERAL}](?:月|日|号|旬|个?工作日|天|个月|周|个?小时)|[一二三四1-4]季|[上中下]旬"
    # A range of years of service (运行20年至30年) is a duration, not a date.
    rf"|[{_NUMERAL}][月日号]?(?:至|到|—|–|-|~)[{_NUMERAL}]")
# A document's title (《2005年环保专项行动工作总结》) names what to send, never when.
_TITLE_TEXT = r"《[^《》]*》"
# Leftover is reported clause by clause: the clause is what a clerk can find in the document.
_CLAUSE_TEXT = r"[^,;。:、()!?《》“”\[\]]+"


@cache
def _leftover_patterns() -> tuple[regex.Pattern[str], regex.Pattern[str], regex.Pattern[str]]:
    # Compiled at first use, through the rules cache (reminder/parse/programs.py): compiling
    # them at import cost every start of explain and plan a few milliseconds.
    return (programs.compiled(_DATE_LIKE_TEXT), programs.compiled(_TITLE_TEXT),
            programs.compiled(_CLAUSE_TEXT))


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
        try:
            deadline = _meaning(match, ctx)
        except Unsettled as why:
            deadline, unsettled = None, str(why)
        else:
            unsettled = match.rule.ambiguous
        gaps.append(normal[position:match.start])
        if unsettled is not None:
            ambiguous.append((match.text, unsettled))
        elif deadline is None:
            gaps.append(match.text)
        else:
            found.append(deadline)
            matched.append(match.text)
        gaps.append("\x00")  # a match separates what lies before it from what follows
        position = match.end
    gaps.append(normal[position:])
    found = _per_period(_windowed(_opened(found, ambiguous)))
    date_like, title, clause_of = _leftover_patterns()
    rest = title.sub(",", "".join(gaps)).replace("\x00", ",")
    leftover = tuple(clause for clause in clause_of.findall(rest) if date_like.search(clause))
    return Reading(text=normal, deadlines=tuple(_dedupe(found)), matched=tuple(matched),
                   leftover=leftover, ambiguous=tuple(ambiguous))


def parse(text: str, ctx: Context, rules: RuleSet | None = None) -> list[Deadline]:
    """Every deadline in ``text``, in text order, identical ones once; see :func:`read`."""
    return list(read(text, ctx, rules).deadlines)


#: Where a task's deadline was read, as the task table names the column.
CELL, TITLE, DETAIL, DEFAULT = "完成时限", "工作任务", "具体工作", "默认时限"


def task_deadlines(task: Task, ctx: Context, rules: RuleSet | None = None,
                   default_text: str = "") -> list[Deadline]:
    """The deadlines of one task (see :func:`sourced_deadlines`)."""
    return [d for d, _ in sourced_deadlines(task, ctx, rules, default_text)]


def sourced_deadlines(task: Task, ctx: Context, rules: RuleSet | None = None,
                      default_text: str = "") -> list[tuple[Deadline, str]]:
    """The deadlines of one task, each with the column it was read from.

    1. The deadline cell, when it yields anything, plus the monthly/quarterly/semiannual
       rhythms its title or detail mention (按季度核查 next to 2021年底) when the cell has no
       series of that rhythm: 每月10日前 in the cell and 每月报送 in the title are one task
       with one monthly series, not two (the 10th and the month's end).
    2. Otherwise the deadlines written inside title and detail (2021年底前通过政府网站…),
       except kind ``none``: every other requirement says 及时, which is no deadline.
    3. Otherwise, and only when the deadline cell is empty, the plan's ``default_text``
       (e.g. 年底前). A non-empty cell that nothing understood does *not* fall back to the
       default: the plan loader reports that cell as an unknown phrase instead of silently
       guessing a date.

    Kind ``none`` is dropped whenever a real deadline sits beside it (2021年底前及时公开);
    within one column, two series of the same rhythm are one (the first, which is where
    the text is most specific in practice: 每月10日前报送，每月…).
    """
    ruleset = rules if rules is not None else load_rules()
    # Title and detail are parsed apart so that no phrase is glued across their boundary.
    in_body = ([(d, TITLE) for d in parse(task.title, ctx, ruleset)]
               + [(d, DETAIL) for d in parse(task.detail, ctx, ruleset)])
    cell = ([(d, CELL) for d in parse(task.deadline_text, ctx, ruleset)]
            if task.deadline_text.strip() else [])
    if cell:
        rhythms = {d.cycle for d, _ in cell if d.kind == "recurring"}
        result = cell + [(d, where) for d, where in in_body
                         if d.kind == "recurring" and d.cycle in _RHYTHMS
                         and d.cycle not in rhythms]
    else:
        result = [(d, where) for d, where in in_body if d.kind != "none"]
        if not result and not task.deadline_text.strip() and default_text.strip():
            result = [(d, DEFAULT) for d in parse(default_text, ctx, ruleset)]
    kept: list[tuple[Deadline, str]] = []
    seen: set[tuple[object, ...]] = set()
    series: set[tuple[str | None, str]] = set()
    for d, where in result:
        key = (d.kind, d.dates, d.cycle, d.after, d.offsets, d.start)
        if key in seen:
            continue
        if d.kind == "recurring" and (d.cycle, where) in series:
            continue  # the same rhythm twice in one column is one series
        seen.add(key)
        if d.kind == "recurring":
            series.add((d.cycle, where))
        kept.append((d, where))
    if any(d.kind != "none" for d, _ in kept):
        kept = [(d, where) for d, where in kept if d.kind != "none"]
    return kept


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
        if rule.start is not None:
            # A start without a year is not rolled past the issue date like a deadline: too
            # early a start only fails to hold back reminders, too late a one would drop some.
            year = _year(match.groups.get("year"), ctx)
            if year is None:
                year = ctx.issued.year if ctx.issued else ctx.year
            month = _value(match, "month") or 0
            if rule.start == "quarter":  # 从2024年第二季度起: the quarter's first day
                month = 3 * (_value(match, "quarter") or 1) - 2
            opens = _month_day(year, month, _value(match, "day") or 1, ctx)
            if opens is not None:
                _in_window(opens, ctx)
            return None if opens is None else Deadline(
                kind="none", start=opens, note=f"只写了开始日期 {opens.isoformat()}，没有截止日期",
                **common)
        if rule.recur is not None:
            return _recurring(match, ctx, common)
        if rule.after is not None:
            offset = _offset(match)
            if offset is None:
                return None
            return Deadline(kind="event", after=offset, note=_hours_note(match), **common)
        day, start = _date(match, ctx)
        if day is None or (start is not None and start > day):
            return None
        _in_window(day, ctx)
        # A date rule's reason says what the reader should check (a year the text left out).
        guessed = rule.reason if rule.reason and match.groups.get("year") is None else ""
        return Deadline(kind="once", dates=(day,), start=start, note=guessed, **common)
    except ValueError:
        return None  # 13月, 2月30日, 第五季度: not a date, so not a deadline


def _in_window(day: date, ctx: Context) -> None:
    """A date far from the plan's year (9999年12月31日) is a typo, not a deadline: reported
    like an ambiguity, so `check` names it and no reminder is counted from it."""
    why = outside_window(day, ctx.year)
    if why:
        raise Unsettled(why)


def _recurring(match: Match, ctx: Context, common: dict[str, str]) -> Deadline | None:
    rule = match.rule
    cycle, note = rule.recur or "", ""
    after = None
    if cycle in ("per_year", "per_month"):
        count = _value(match, "count")
        if count is None or count <= 0:
            return None
        spread, period = (PER_YEAR, "年") if cycle == "per_year" else (PER_MONTH, "月")
        fallback = "yearly" if cycle == "per_year" else "monthly"
        cycle = spread.get(count, fallback)
        if count not in spread:
            note = f"每{period}{count}次不能均分，暂按每{period}一次提醒，请核对"
    elif match.groups.get("count") is not None:  # 每季度结束后10日内: after each period
        after = _offset(match)
        if after is None:
            return None
    day = _value(match, "day")
    if cycle in ("weekly", "biweekly"):
        raw = match.groups.get("weekday")
        day = None if raw is None else (7 if raw in "日天" else to_int(raw))
    dates = cycle_dates(cycle, ctx.year, ctx.reporting_cycle, month=_value(match, "month"),
                        day=day, lag=rule.lag or 0, term_ends=ctx.term_ends)
    if cycle == "quarterly" and match.groups.get("quarter") is not None:
        # 第二季度结束后8日内: that quarter's period only; read() joins the quarters.
        quarter = _value(match, "quarter") or 0
        if not 1 <= quarter <= 4:
            return None
        dates = (dates[quarter - 1],)
    start = None
    if match.groups.get("from_month") is not None and len(dates) == 1:
        # 每年3月15日到6月15日: the period opens each year on its first day; 每年9月至次年
        # 4月30日 opens in the year before the one it ends in.
        start = date(dates[0].year, _value(match, "from_month") or 1,
                     _value(match, "from_day") or 1)
        if start > dates[0]:
            start = start.replace(year=start.year - 1)
    return Deadline(kind="recurring", dates=dates, cycle=cycle, after=after,  # type: ignore[arg-type]
                    start=start, note=note, **common)


def _value(match: Match, key: str) -> int | None:
    raw = match.groups.get(key)
    if raw is not None:
        return to_int(raw)
    return match.rule.fixed(key)


def _year(raw: str | None, ctx: Context) -> int | None:
    if raw is None:
        return None
    if raw in RELATIVE_YEARS:
        # 今年/明年/去年 count from when the text was written: a 2023 plan issued on
        # 2022-12-27 means 2023 by 明年. 次年/当年/本年 count from the plan's own year.
        base = ctx.year
        if raw in _DEICTIC and ctx.issued is not None and ctx.issued.year == ctx.year - 1:
            base = ctx.issued.year
        return base + RELATIVE_YEARS[raw]
    return to_int(raw)


_DEICTIC = frozenset({"今", "明", "去"})


def _date(match: Match, ctx: Context) -> tuple[date | None, date | None]:
    """The deadline and, for a range, where it opens. The end of a range takes what it
    does not say from its start: 10月8日至20日 ends on 10月20日."""
    rule, groups = match.rule, match.groups
    from_year = _year(groups.get("from_year"), ctx)
    from_month = groups.get("from_month")
    from_day = groups.get("from_day")
    year = _year(groups.get("year"), ctx)
    year = from_year if year is None else year
    if rule.date == "years_end":  # 今后两年: this year and the next; 2025年起两年行动: 2025–26
        count = _value(match, "count")
        if count is None or count <= 0:
            return None, None
        first = from_year if from_year is not None else ctx.year
        return date(first + count - 1, 12, 31), date(first, 1, 1)
    if rule.date == "lunar_eve":
        eve = _lunar_eve(_value(match, "month") or 1, _value(match, "day") or 1, year, ctx)
        if eve is None:  # no table for that year (or festival): say so, never drop it
            raise Unsettled("无法从农历算出这个节日的日期，请写明具体日期")
        return eve, None
    if rule.date in ("day", "month_end"):
        month = _value(match, "month")
        if month is None and from_month is not None:
            month = to_int(from_month)
        day = _value(match, "day") if rule.date == "day" else None
        if rule.date == "month_end" and groups.get("dekad") is not None:
            day = _DEKAD_END.get(groups["dekad"])  # 下旬: the month's end
        if month is None or (rule.date == "day" and day is None):
            return None, None
        end = _month_day(year, month, day, ctx)
    else:
        end = _period_end(rule.date, year if year is not None else ctx.year, match)
    if end is None or not (from_year or from_month or from_day or groups.get("from_end")):
        return end, None
    start_month = to_int(from_month) if from_month is not None else (
        end.month if from_day is not None else 1)
    start_day = to_int(from_day) if from_day is not None else _DEKAD_START.get(
        groups.get("from_dekad") or "", 1)
    if groups.get("from_end") is not None:  # 10月底-12月底 opens on 10-31
        start_day = _month_end(from_year or end.year, start_month).day
    start_year = from_year if from_year is not None else (
        end.year if (start_month, start_day) <= (end.month, end.day) else end.year - 1)
    start = date(start_year, start_month, start_day)
    issued = ctx.issued
    # Only a range mostly over at the issue date is in doubt (8至12月 issued 12-24: 145 days
    # past, 7 to go). One that opened days before it (7月1日—7月31日 issued 07-03) is the
    # notice's own period; one ending months later (1-12月 issued in July) is plainly this year's.
    if (year is None and issued is not None and start < issued
            and (end - issued).days <= _LATE_RANGE
            and (issued - start).days > (end - issued).days):
        raise Unsettled(f"这个范围在方案印发（{issued.isoformat()}）时已大半过去，可能指"
                        f"{end.year}年，也可能指{end.year + 1}年，请写明年份")
    return end, start


def _lunar_eve(month: int, day: int, year: int | None, ctx: Context) -> date | None:
    """The day before a festival of the Chinese calendar (春节前: lunar month 1, day 1), in
    the given year or else the first on or after the issue date, like a month/day without a
    year. The lunisolar tables are lunardate's public API (1900–2099); outside them, None."""
    from lunardate import LunarDate  # only a festival needs the tables

    def eve(y: int) -> date | None:
        try:
            return LunarDate(y, month, day).to_solar_date() - timedelta(days=1)
        except ValueError:  # a year outside the tables, or no such lunar day
            return None

    if year is not None:
        return eve(year)
    if ctx.issued is None:
        return eve(ctx.year)
    for y in (ctx.issued.year, ctx.issued.year + 1):
        candidate = eve(y)
        if candidate is not None and candidate >= ctx.issued:
            return candidate
    return None


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
    if unit == "hour":
        # Reminders are by the day: 24小时 is 1 day, 72小时 3, and 2小时 the event's own day.
        return Offset(n=count // 24, unit="day")
    return Offset(n=count, unit=unit)  # type: ignore[arg-type]


def _hours_note(match: Match) -> str:
    word = (match.groups.get("unit") or "").removeprefix("个")
    count = _value(match, "count")
    if _UNIT_WORDS.get(word) != "hour" or count is None or count % 24 == 0:
        return ""
    days = "事件当天" if count < 24 else f"事件后{count // 24}天"
    return f"时限{count}小时，按{days}提醒，请留意具体时刻"


# A phrase with both a start and an event-relative limit (自3月25日起30个工作日内) names its
# due date only through the workday calendar; saying so beats dropping the start.
_START_AND_LIMIT = "写了开始日期，期限又从事件起算，请写明截止日期或记录事件日期"
# A start after the deadline beside it: the two were read in different years, or one is
# miswritten; a date would be a guess.
_START_AFTER_END = "开始日期晚于截止日期，请写明各自的年份"


def _opened(found: list[Deadline], ambiguous: list[tuple[str, str]]) -> list[Deadline]:
    """Apply a start (从3月起) to the other deadlines of its phrase: a date keeps it as where
    its work opens, a rhythm loses the periods before it. A start alone is no deadline."""
    starts = [d for d in found if d.kind == "none" and d.start is not None]
    rest = [d for d in found if not (d.kind == "none" and d.start is not None)]
    if not starts or not any(d.kind in ("once", "recurring", "event") for d in rest):
        return found
    opens = starts[0].start
    assert opens is not None
    if any(d.kind == "event" for d in rest):
        ambiguous.extend((s.text, _START_AND_LIMIT) for s in starts)
        return rest
    result = []
    for d in rest:
        if d.kind == "once" and d.start is None:
            if d.dates[0] < opens:  # 从明年3月起…6月30日前: which year's June is meant?
                ambiguous.append((d.text, _START_AFTER_END))
                continue
            d = replace(d, start=opens)
        elif d.kind == "recurring":
            kept = tuple(x for x in d.dates if x >= opens)
            if not kept:
                ambiguous.append((d.text, _START_AFTER_END))
                continue
            d = replace(d, dates=kept, start=opens)
        result.append(d)
    return result


#: The note of a period said to need no report (第四季度不报), which :func:`_per_period` drops.
SKIPPED_PERIOD = "该期不报"


def _per_period(found: list[Deadline]) -> list[Deadline]:
    """第一季度结束后10日内、第二季度结束后8日内…，第四季度不报: the quarters listed one by one are
    one quarterly series, each quarter with its own limit; a quarter marked 不报 has none."""
    single = [d for d in found if d.kind == "recurring" and d.cycle == "quarterly"
              and len(d.dates) == 1 and d.after is not None]
    if len(single) < 2:
        return found
    ordered = sorted(single, key=lambda d: d.dates[0])
    merged = replace(ordered[0], dates=tuple(d.dates[0] for d in ordered), after=None,
                     offsets=tuple(d.after for d in ordered if d.after is not None),
                     text="、".join(d.text for d in single))
    result: list[Deadline] = []
    for d in found:
        if d is single[0]:
            result.append(merged)
        elif d not in single and d.note != SKIPPED_PERIOD:
            result.append(d)
    return result


def _windowed(found: list[Deadline]) -> list[Deadline]:
    """每年的3月至12月每月巡查: a yearly window (a 每年 range) around a finer rhythm limits
    that rhythm to the window; the window is then no deadline of its own."""
    windows = [d for d in found if d.kind == "recurring" and d.cycle == "yearly"
               and d.start is not None]
    finer = [d for d in found if d.kind == "recurring" and d.cycle not in ("yearly", "ongoing")]
    if len(windows) != 1 or not finer:
        return found
    window = windows[0]
    opens, closes = window.start, window.dates[0]
    assert opens is not None
    result = []
    for d in found:
        if d is window:
            continue
        if d in finer:
            kept = tuple(x for x in d.dates if opens <= x <= closes)
            if kept:
                d = replace(d, dates=kept, start=opens)
        result.append(d)
    return result


def _month_end(year: int, month: int) -> date:
    # Not calendar.monthrange: the calendar module (and locale) is a cost at every start.
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _dedupe(deadlines: Iterable[Deadline]) -> list[Deadline]:
    seen: set[tuple[object, ...]] = set()
    kept: list[Deadline] = []
    for d in deadlines:
        key = (d.kind, d.dates, d.cycle, d.after, d.offsets, d.start)
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept
