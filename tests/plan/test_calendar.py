from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminder.errors import CalendarError
from reminder.plan.calendar import WorkCalendar, load_calendar, missing_year_note

CAL = load_calendar()


@pytest.mark.parametrize(
    ("day", "policy", "expected"),
    [
        pytest.param("2021-10-10", "before", "2021-10-09", id="national-day-sunday-to-saturday-makeup"),
        pytest.param("2022-01-31", "before", "2022-01-30", id="spring-festival-eve-to-sunday-makeup"),
        pytest.param("2021-10-31", "before", "2021-10-29", id="plain-sunday-to-friday"),
        pytest.param("2024-05-01", "before", "2024-04-30", id="labour-day"),
        pytest.param("2021-10-01", "after", "2021-10-08", id="after-national-day-week"),
        pytest.param("2021-10-10", "none", "2021-10-10", id="none-keeps-day"),
        pytest.param("2021-12-31", "before", "2021-12-31", id="workday-unchanged"),
        pytest.param("2023-01-25", "before", "2023-01-20", id="spring-festival-2023"),
        pytest.param("2024-02-12", "after", "2024-02-18", id="spring-festival-2024-sunday-makeup"),
        pytest.param("2025-10-05", "before", "2025-09-30", id="national-day-2025"),
        pytest.param("2026-10-11", "before", "2026-10-10", id="national-day-2026-saturday-makeup"),
    ],
)
def test_shift(day: str, policy: str, expected: str) -> None:
    assert CAL.shift(date.fromisoformat(day), policy) == date.fromisoformat(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        pytest.param("2021-09-30", 5, "2021-10-13", id="five-workdays-across-national-day"),
        pytest.param("2021-10-08", -1, "2021-09-30", id="one-workday-back-across-holiday"),
        pytest.param("2022-01-28", 1, "2022-01-29", id="saturday-makeup-counts"),
        pytest.param("2021-06-01", 0, "2021-06-01", id="zero"),
        pytest.param("2024-02-08", 2, "2024-02-18", id="spring-festival-2024-eve-is-a-workday"),
    ],
)
def test_add_workdays(day: str, n: int, expected: str) -> None:
    assert CAL.add_workdays(date.fromisoformat(day), n) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        pytest.param("2023-01-28", True, id="2023-spring-saturday-makeup"),
        pytest.param("2023-01-27", False, id="2023-spring-friday-holiday"),
        pytest.param("2023-10-07", True, id="2023-national-saturday-makeup"),
        pytest.param("2024-09-29", True, id="2024-national-sunday-makeup"),
        pytest.param("2024-10-07", False, id="2024-national-monday-holiday"),
        pytest.param("2025-01-26", True, id="2025-spring-sunday-makeup"),
        pytest.param("2025-02-04", False, id="2025-spring-tuesday-holiday"),
        pytest.param("2027-01-04", True, id="2027-provisional-monday"),
        pytest.param("2027-01-03", False, id="2027-provisional-sunday"),
        # A year chinese-calendar lacks: the statutory holidays of the holidays package.
        pytest.param("2027-01-01", False, id="2027-provisional-new-year-friday"),
        pytest.param("2027-02-08", False, id="2027-provisional-spring-festival-monday"),
        pytest.param("2027-10-01", False, id="2027-provisional-national-day-friday"),
        pytest.param("2027-10-05", False, id="2027-provisional-national-day-tuesday"),
    ],
)
def test_is_workday(day: str, workday: bool) -> None:
    assert CAL.is_workday(date.fromisoformat(day)) is workday


def test_year_without_data_is_reported_not_guessed() -> None:
    assert CAL.known(2026)
    assert not CAL.known(2027)
    assert CAL.missing_years([2025, 2027, 2028]) == [2027, 2028]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_override_file_covers_a_year(tmp_path: Path) -> None:
    _write(tmp_path / "2027.toml", """
year = 2027
holidays = [2027-01-01, { from = 2027-02-06, to = 2027-02-12, name = "春节" }]
workdays = [2027-02-14]
""")
    cal = load_calendar([tmp_path])
    assert cal.known(2027)
    assert not cal.is_workday(date(2027, 2, 8))  # a Monday inside the holiday
    assert cal.is_workday(date(2027, 2, 14))  # a Sunday make-up workday
    assert cal.shift(date(2027, 2, 10)) == date(2027, 2, 5)
    assert cal.is_workday(date(2027, 10, 1))  # the file is the whole year: it wins


def test_provisional_year_is_still_reported_as_missing() -> None:
    assert not CAL.known(2027)
    assert CAL.shift(date(2027, 1, 1)) == date(2026, 12, 31)
    note = missing_year_note(2027)
    assert "临时" in note and "调休" in note and "2027.toml" in note


@pytest.mark.parametrize(
    ("day", "makeup"),
    [
        pytest.param("2026-10-10", True, id="2026-10-10-saturday-makeup"),
        pytest.param("2026-10-17", False, id="plain-saturday"),
        pytest.param("2026-10-09", False, id="friday"),
    ],
)
def test_makeup_workday(day: str, makeup: bool) -> None:
    assert CAL.makeup_workday(date.fromisoformat(day)) is makeup


def test_later_override_wins(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.toml", "holidays = [2026-06-01]\n")
    second = _write(tmp_path / "b.toml", "workdays = [2026-06-01]\n")
    assert not load_calendar([first]).is_workday(date(2026, 6, 1))
    assert load_calendar([first, second]).is_workday(date(2026, 6, 1))


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        pytest.param("holidays = [\"2027-13-01\"]\n",
                     ["holidays[0]", "无法识别的日期 '2027-13-01'", "2027-01-01"], id="bad-date"),
        pytest.param("holidays = [2027-01-01, { from = \"x\" }]\n",
                     ["holidays[1]", "无法识别的日期 'x'", "2027-01-01"], id="bad-range-start"),
        pytest.param("holidays = [{ from = 2027-01-01, to = 5 }]\n",
                     ["holidays[0]", "无法识别的日期 5"], id="bad-range-end"),
        pytest.param("workdays = [2027-01-02, \"二月\"]\n",
                     ["workdays[1]", "无法识别的日期 '二月'"], id="bad-workday"),
        pytest.param("holidays = [2027-01-01]\nworkdays = [2027-01-01]\n",
                     ["2027-01-01 同时列为节假日和调休上班日", "删去其中一处"], id="both"),
        pytest.param("holiday = []\nnotes = 1\n",
                     ["未知的键 holiday, notes", "只能使用 year、holidays、workdays、note、source"],
                     id="unknown-keys"),
        pytest.param("holidays = [\n", ["TOML 格式错误"], id="syntax"),
        pytest.param("holidays = [{ from = 2027-01-05, to = 2027-01-01 }]\n",
                     ["holidays[0]", "结束日期早于开始日期"], id="range"),
        pytest.param("year = \"2027\"\n", ["year", "year 应为年份，而不是 '2027'"], id="year-type"),
        pytest.param("year = 1989\n", ["year 应为年份，而不是 1989"], id="year-too-early"),
        pytest.param("year = 2101\n", ["year 应为年份，而不是 2101"], id="year-too-late"),
        pytest.param(b"note = \"\xff\"\n", ["无法读取"], id="not-utf8"),
    ],
)
def test_override_mistakes_name_the_file(
    tmp_path: Path, text: str | bytes, fragments: list[str]
) -> None:
    """Each mistake is one line naming the file, the place and what is wrong, so the clerk
    who keeps the holiday files can fix it without reading code."""
    path = tmp_path / "bad.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        _write(path, text)
    with pytest.raises(CalendarError) as info:
        load_calendar([path])
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message


def test_override_file_with_every_allowed_key_and_edge_years(tmp_path: Path) -> None:
    """note and source are allowed; a holiday given as a table without ``to`` is one day;
    the years 1990 and 2100 are inside the accepted range."""
    _write(tmp_path / "a.toml", """
year = 2100
note = "国务院办公厅通知"
source = "https://example.invalid/notice"
holidays = [{ from = 2100-01-04, name = "元旦调整" }]
workdays = ["2100-01-09"]
""")
    _write(tmp_path / "b.toml", "year = 1990\n")
    cal = load_calendar([tmp_path])
    assert cal.known(2100) and cal.known(1990)
    assert not cal.is_workday(date(2100, 1, 4))  # a Monday made a holiday
    assert cal.is_workday(date(2100, 1, 5))  # only that one day
    assert cal.is_workday(date(2100, 1, 9))  # a Saturday make-up workday, written as text


days = st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31))


@given(days, st.integers(min_value=-30, max_value=30))
def test_add_workdays_counts_exactly_n_workdays(day: date, n: int) -> None:
    result = CAL.add_workdays(day, n)
    lo, hi = (day, result) if n >= 0 else (result, day)
    span = [lo + timedelta(days=i) for i in range(1, (hi - lo).days + 1)]
    if n >= 0:
        assert sum(CAL.is_workday(d) for d in span) == n
    else:
        assert sum(CAL.is_workday(d) for d in [lo, *span[:-1]]) == -n
    if n:
        assert CAL.is_workday(result)


@given(days)
def test_shift_before_is_the_last_workday_on_or_before(day: date) -> None:
    shifted = CAL.shift(day, "before")
    assert shifted <= day and CAL.is_workday(shifted)
    between = [shifted + timedelta(days=i) for i in range(1, (day - shifted).days + 1)]
    assert not any(CAL.is_workday(d) for d in between)


def test_empty_calendar_is_weekends_only_for_uncovered_years() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2030, 1, 7))
    assert not cal.is_workday(date(2030, 1, 6))


def test_shipped_holiday_folder_is_read_before_a_plans_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rules/holidays/ ships years chinese-calendar lacks; a plan folder's file still wins."""
    shipped = tmp_path / "data" / "rules" / "holidays"
    shipped.mkdir(parents=True)
    _write(shipped / "2031.toml", "year = 2031\nholidays = [2031-06-02]\n")
    monkeypatch.setattr("reminder.plan.calendar.data_dir", lambda name: tmp_path / "data" / name)
    assert load_calendar().known(2031)
    assert not load_calendar().is_workday(date(2031, 6, 2))
    plan_file = _write(tmp_path / "plan-2031.toml", "workdays = [2031-06-02]\n")
    assert load_calendar([plan_file]).is_workday(date(2031, 6, 2))


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9000, 12, 31)),
       st.integers(min_value=-600, max_value=600))
def test_add_months_reckons_as_relativedelta(day: date, months: int) -> None:
    from dateutil.relativedelta import relativedelta

    from reminder.plan.calendar import add_months

    assert add_months(day, months) == day + relativedelta(months=months)


@pytest.mark.parametrize(("day", "months", "expect"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 1, 15), -1, date(2025, 12, 15)),
    (date(2026, 5, 31), 0, date(2026, 5, 31)),
], ids=["jan31+1", "leap", "mar31-1", "over-new-year", "back-over-new-year", "zero"])
def test_add_months_table(day: date, months: int, expect: date) -> None:
    from reminder.plan.calendar import add_months

    assert add_months(day, months) == expect


def test_the_library_table_kept_by_the_rules_cache_answers_as_chinese_calendar() -> None:
    """A warm run reads chinese-calendar's table from the rules cache instead of importing
    the package (issue 21): every day of every year it covers answers as the library does,
    and a year outside them is not covered."""
    import chinese_calendar

    from reminder.parse import programs
    from reminder.plan import calendar

    def answers() -> tuple[list[bool], bool, bool]:
        calendar._library.cache_clear()
        calendar._library_workday.cache_clear()
        first = min(chinese_calendar.holidays).year
        last = max(chinese_calendar.holidays).year
        days = [date(first, 1, 1) + timedelta(n)
                for n in range((date(last, 12, 31) - date(first, 1, 1)).days + 1)]
        assert [calendar._library_workday(d) for d in days] == [
            chinese_calendar.is_workday(d) for d in days]
        return ([calendar._library_workday(d) for d in days], calendar._library_covers(first - 1),
                calendar._library_covers(last + 1))

    prepared = programs.Prepared()
    programs.use_prepared(prepared)
    try:
        from_library = answers()
        assert prepared.changed and len(prepared.tables) == 1  # kept for the next run
        [(key, table)] = prepared.tables.items()
        table["holidays"] = list(table["holidays"])  # the same table, as read back
        kept = programs.Prepared(tables={key: table})
        programs.use_prepared(kept)
        assert answers() == from_library and not kept.changed
        assert from_library[1:] == (False, False)
    finally:
        programs.use_prepared(None)
        calendar._library.cache_clear()
        calendar._library_workday.cache_clear()
