"""The Chinese working calendar: statutory holidays and make-up workdays (调休).

Data comes from chinese-calendar for the years it covers, then from override files
(`rules/holidays/*.toml`, a plan folder's `holidays/*.toml`) for years it does not cover
yet. A year nobody covers falls back to the statutory holidays the `holidays` package
computes (New Year, Spring Festival, National Day …) without the State Council's make-up
workdays: a provisional calendar. Callers ask `missing_years()` so the user is told to add
the official arrangement, instead of the program crashing or guessing silently.

Override file format::

    year = 2027                 # optional: this file is the complete arrangement for 2027
    holidays = [2027-01-01, { from = 2027-02-05, to = 2027-02-11, name = "春节" }]
    workdays = [2027-02-20]     # make-up workdays (调休上班)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from reminder.errors import CalendarError
from reminder.models import ShiftPolicy
from reminder.parse import programs
from reminder.resources import data_dir

ONE_DAY = timedelta(days=1)


@cache
def _library() -> tuple[int, int, frozenset[int], frozenset[int]]:
    """chinese-calendar's table: (first year, last year, holidays, make-up workdays as day
    ordinals). Kept by an earlier run (``Prepared.tables``, under the installed package's
    stamp), else read from the package, whose import builds the table (about 4 ms of every
    start of explain)."""
    prepared = programs.current()
    key = f"chinese_calendar|{_library_stamp()}" if prepared is not None else ""
    table = prepared.tables.get(key) if prepared is not None else None
    if table is None:
        import chinese_calendar

        table = {"years": [min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year],
                 "holidays": sorted(d.toordinal() for d in chinese_calendar.holidays),
                 "workdays": sorted(d.toordinal() for d in chinese_calendar.workdays)}
        if prepared is not None:
            prepared.tables[key] = table
            prepared.changed = True
    first, last = table["years"]
    return first, last, frozenset(table["holidays"]), frozenset(table["workdays"])


def _library_stamp() -> str:
    """Names the installed chinese-calendar without importing it: its files' size and time."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("chinese_calendar")
    if spec is None or spec.origin is None:
        return "missing"
    folder = Path(spec.origin).parent
    return "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                    for p in sorted(folder.glob("*.py")))


@cache
def _library_workday(day: date) -> bool:
    """chinese_calendar.is_workday, read from its table (_library): a make-up workday, or a
    weekday that is no holiday. Asked only for the years the table covers."""
    _, _, holidays, workdays = _library()
    ordinal = day.toordinal()
    return ordinal in workdays or (day.weekday() <= 4 and ordinal not in holidays)


@cache
def _provisional_holidays(year: int) -> frozenset[date]:
    """What an earlier run kept (reminder/parse/programs.py ``Prepared.holidays``), else
    the ``holidays`` package's reckoning: importing it costs 0.1 s and a package-metadata
    read, more than the rest of a short run's start-up."""
    prepared = programs.current()
    if prepared is None or prepared.holidays_stamp is None:
        return _reckon_holidays(year)
    key = f"{prepared.holidays_stamp()}|{year}"
    known = prepared.holidays.get(key)
    if known is not None:
        return frozenset(map(date.fromordinal, known))
    days = _reckon_holidays(year)
    prepared.holidays[key] = sorted(d.toordinal() for d in days)
    prepared.changed = True
    return days


def _reckon_holidays(year: int) -> frozenset[date]:
    # Imported here: only a year chinese-calendar lacks needs it, and it is not light.
    import holidays

    return frozenset(_china_class(holidays)(years=year))


def _china_class(holidays: Any) -> Any:
    """holidays' China class, loaded from its own file: importing it the usual way runs
    ``holidays.countries``, which imports all ~250 countries (0.1–0.2 s, most of a small
    dry run). Falls back to the usual way if the package is laid out differently."""
    import importlib.util

    path = Path(holidays.__file__).with_name("countries") / "china.py"
    try:
        spec = importlib.util.spec_from_file_location("holidays.countries.china", path)
        if spec is None or spec.loader is None:
            raise ImportError(path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.China
    except (ImportError, OSError, AttributeError):
        return lambda years: holidays.country_holidays("CN", years=years)


def _library_covers(year: int) -> bool:
    first, last, _, _ = _library()
    return first <= year <= last


class WorkCalendar:
    """Answers "is this a workday" and the date arithmetic built on it."""

    def __init__(
        self,
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        covered_years: Iterable[int] = (),
    ) -> None:
        self._holidays = frozenset(holidays)
        self._workdays = frozenset(workdays)
        self._covered = frozenset(covered_years)
        # Planning asks about the same few hundred days tens of thousands of times.
        self._memo: dict[date, bool] = {}

    def known(self, year: int) -> bool:
        """True when the year's holiday arrangement is known (not weekends-only)."""
        return year in self._covered or _library_covers(year)

    def missing_years(self, years: Iterable[int]) -> list[int]:
        return sorted({y for y in years if not self.known(y)})

    def is_workday(self, day: date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: date) -> bool:
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        if _library_covers(day.year):
            return _library_workday(day)
        if day.year not in self._covered and day in _provisional_holidays(day.year):
            return False
        return day.weekday() < 5

    def makeup_workday(self, day: date) -> bool:
        """A Saturday or Sunday worked in exchange for a holiday (调休上班)."""
        return day.weekday() >= 5 and self.is_workday(day)

    def shift(self, day: date, policy: ShiftPolicy = "before") -> date:
        """Move a deadline off a non-workday: to the last workday before it (the usual
        reading of 前), the next workday after it, or not at all."""
        if policy == "none":
            return day
        step = -ONE_DAY if policy == "before" else ONE_DAY
        while not self.is_workday(day):
            day += step
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th workday after ``day`` (before it when n is negative); ``day`` itself
        does not count, so 5 workdays after 2021-09-30 is 2021-10-13."""
        step = ONE_DAY if n >= 0 else -ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier when negative), at the month's end when that
    month is shorter (01-31 plus one month is 02-28), as dateutil's relativedelta reckons:
    written out because importing dateutil cost a dry run more than its planning."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    following = date(year + (month == 11), (month + 1) % 12 + 1, 1)
    return day.replace(year=year, month=month + 1, day=min(day.day, (following - ONE_DAY).day))


def missing_year_note(year: int) -> str:
    """What every command and the daemon's log say about a year without holiday data."""
    return (f"{year} 年的节假日安排尚无数据，暂按法定节假日（元旦、春节、国庆等）和周末临时计算，"
            f"未含调休上班日（官方安排发布后在 rules/holidays/ 或计划文件夹的 holidays/ 中补充"
            f" {year}.toml 即按实际调休计算）")


def _as_date(value: object, file: Path, place: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarError(
        f"无法识别的日期 {value!r}", file=file, place=place, hint="日期写作 2027-01-01"
    )


def _read_override(path: Path) -> tuple[set[date], set[date], set[int]]:
    import tomllib  # here: without override files (the usual case) nothing is parsed

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"TOML 格式错误：{exc}", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarError(f"无法读取：{exc}", file=path) from None
    unknown = set(data) - {"year", "holidays", "workdays", "note", "source"}
    if unknown:
        raise CalendarError(
            f"未知的键 {', '.join(sorted(unknown))}", file=path,
            hint="只能使用 year、holidays、workdays、note、source",
        )
    holidays: set[date] = set()
    for i, item in enumerate(data.get("holidays", [])):
        place = f"holidays[{i}]"
        if isinstance(item, dict):
            start = _as_date(item.get("from"), path, place)
            end = _as_date(item.get("to", item.get("from")), path, place)
            if end < start:
                raise CalendarError("结束日期早于开始日期", file=path, place=place)
            while start <= end:
                holidays.add(start)
                start += ONE_DAY
        else:
            holidays.add(_as_date(item, path, place))
    workdays = {_as_date(v, path, f"workdays[{i}]") for i, v in enumerate(data.get("workdays", []))}
    both = holidays & workdays
    if both:
        raise CalendarError(
            f"{min(both)} 同时列为节假日和调休上班日", file=path, hint="删去其中一处"
        )
    covered: set[int] = set()
    if "year" in data:
        year = data["year"]
        if not isinstance(year, int) or not 1990 <= year <= 2100:
            raise CalendarError(f"year 应为年份，而不是 {year!r}", file=path, place="year")
        covered.add(year)
    return holidays, workdays, covered


def _override_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            files.append(path)
    return files


@cache
def default_calendar() -> WorkCalendar:
    """The shipped calendar, for places that render a date without a plan at hand."""
    return load_calendar()


def load_calendar(extra: Sequence[Path] = ()) -> WorkCalendar:
    """The shipped overrides, then ``extra`` files or folders (later ones win on a
    conflicting day, so a plan folder can correct the shipped data)."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    covered: set[int] = set()
    for file in _override_files([data_dir("rules") / "holidays", *extra]):
        h, w, c = _read_override(file)
        holidays = (holidays - w) | h
        workdays = (workdays - h) | w
        covered |= c
    return WorkCalendar(holidays=holidays, workdays=workdays, covered_years=covered)
