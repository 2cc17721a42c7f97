"""The one Chinese wording of dates, stages and rhythms that users read: in messages, in the
dry run's table, on the pages and in the 台账. Pure; the make-up workday test reads the
shipped calendar."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reminder.plan.calendar import WorkCalendar

WEEKDAYS = "一二三四五六日"
STAGE_NAMES = {"remind": "提醒", "warn": "预警", "due": "到期", "overdue": "逾期", "escalate": "督办",
               "report": "报送", "sign": "催签收"}
CYCLE_NAMES = {"weekly": "每周", "biweekly": "每两周", "termly": "每学期", "semimonthly": "每半月",
               "dekadal": "每旬", "monthly": "每月",
               "bimonthly": "每两月", "quarterly": "每季度", "semiannual": "每半年", "yearly": "每年",
               "ongoing": "长期"}
UNIT_NAMES = {"day": "天", "workday": "个工作日", "month": "个月"}
SIGN_TOLD = "告知:"  # the step of the coordinator's 签收 copy names the unit: "告知:法规科"


def stage_name(stage: str, step: str) -> str:
    """A notice's 类型 in the dry run's rows: the stage, and for the coordinator's 签收 copy
    the unit it is about, since a task with two unsigned units gives the coordinator two
    notices that would otherwise read as the same row twice."""
    if stage == "sign" and step.startswith(SIGN_TOLD):
        return f"催签收（{step[len(SIGN_TOLD):]}未签收）"
    return STAGE_NAMES.get(stage, stage)


def weekday_name(day: date) -> str:
    """``周五``."""
    return f"周{WEEKDAYS[day.weekday()]}"


def _makeup(day: date, calendar: WorkCalendar | None) -> bool:
    if calendar is None:
        from reminder.plan.calendar import default_calendar

        calendar = default_calendar()
    return calendar.makeup_workday(day)


def cn_date(day: date, calendar: WorkCalendar | None = None) -> str:
    """``2026-10-09（周五）``; ``2026-10-10（周六，调休上班）`` on a make-up workday (of
    ``calendar``, else the shipped one): the form messages and pages use."""
    makeup = "，调休上班" if _makeup(day, calendar) else ""
    return f"{day.isoformat()}（{weekday_name(day)}{makeup}）"


def day_with_weekday(day: date, calendar: WorkCalendar | None = None) -> str:
    """``2026-10-10 周六（调休上班）``: the dry run's column form. A weekend day worked in
    exchange says so, or a reader would take a deadline on a Saturday for a mistake; without
    a calendar no make-up day is named."""
    makeup = "（调休上班）" if calendar is not None and calendar.makeup_workday(day) else ""
    return f"{day.isoformat()} {weekday_name(day)}{makeup}"


def makeup_mark(day: date) -> str:
    """`` 周六（调休上班）`` when ``day`` is a make-up workday on the shipped calendar, else
    nothing: the dry run names only the days a reader would otherwise doubt."""
    return f" {weekday_name(day)}（调休上班）" if _makeup(day, None) else ""


def days_text(due: date, today: date) -> str:
    """``还剩3天`` / ``今天到期`` / ``已逾期5天``."""
    days = (due - today).days
    if days > 0:
        return f"还剩{days}天"
    return "今天到期" if days == 0 else f"已逾期{-days}天"


QUARTER_NUMERALS = "一二三四"


def quarter_name(year: int, quarter: int) -> str:
    """``2026年第三季度``: the form 通报 and 统计 titles use."""
    return f"{year}年第{QUARTER_NUMERALS[quarter - 1]}季度"


def half_name(year: int, half: int) -> str:
    """``2026年上半年`` / ``2026年下半年``."""
    return f"{year}年{'上' if half == 1 else '下'}半年"


def month_name(year: int, month: int) -> str:
    """``2026年9月``."""
    return f"{year}年{month}月"


def year_name(year: int) -> str:
    """``2026年``."""
    return f"{year}年"


def span_text(start: date, end: date) -> str:
    """``2026年7月1日至9月30日``: the dates a period covers, the year written once when it
    does not change."""
    last = f"{end.month}月{end.day}日" if end.year == start.year else \
        f"{end.year}年{end.month}月{end.day}日"
    return f"{start.year}年{start.month}月{start.day}日至{last}"


def cn_day(day: date) -> str:
    """``12月4日``: a short date in running text (a 批示's date, a note's date)."""
    return f"{day.month}月{day.day}日"


def period_name(period: str) -> str:
    """A reporting period as users say it: ``2026Q4`` → ``2026年第四季度``, ``2026H1`` →
    ``2026年上半年``, ``2026-07`` → ``2026年7月``, ``2026`` → ``2026年``. The stored key
    keeps its compact form; anything else is shown as written."""
    year, rest = period[:4], period[4:]
    if not year.isdigit():
        return period
    if rest[:1] == "Q" and rest[1:] in ("1", "2", "3", "4"):
        return quarter_name(int(year), int(rest[1:]))
    if rest in ("H1", "H2"):
        return half_name(int(year), 1 if rest == "H1" else 2)
    if rest[:1] == "-" and rest[1:].isdigit() and 1 <= int(rest[1:]) <= 12:
        return f"{year}年{int(rest[1:])}月"
    return f"{year}年" if not rest else period
