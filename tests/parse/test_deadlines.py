from __future__ import annotations

import subprocess
import sys
import time
import unicodedata
from calendar import isleap
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminder.models import Deadline, Task
from reminder.parse.deadlines import Context, cycle_dates, parse, read, task_deadlines, understood
from reminder.parse.rules import load_rules, normalize

C21 = Context(year=2021)
C21_JULY = Context(year=2021, issued=date(2021, 7, 19))  # 004, 广州市司法局
C22 = Context(year=2022)
C22_APRIL = Context(year=2022, issued=date(2022, 4, 15))  # 001
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def show(deadlines: list[Deadline]) -> list[str]:
    """One readable string per deadline, so the tables below read like the plans."""
    out = []
    for d in deadlines:
        if d.kind == "once":
            out.append(d.dates[0].isoformat())
        elif d.kind == "recurring":
            after = f"+{d.after}" if d.after else ""
            out.append(f"{d.cycle}:{','.join(x.strftime('%m-%d') for x in d.dates)}@"
                       f"{d.dates[0].year}{after}")
        elif d.kind == "event":
            out.append(f"after:{d.after}")
        else:
            out.append("none")
    return out


MONTHLY = "monthly:" + ",".join(
    (date(2021, m % 12 + 1, 1) - timedelta(days=1)).strftime("%m-%d") for m in range(1, 13))
QUARTERLY = "quarterly:03-31,06-30,09-30,12-31"
SEMI = "semiannual:06-30,12-31"
YEARLY = "yearly:12-31"
ONGOING = "ongoing:03-31,06-30,09-30,12-31"


def table(rows: list[tuple[str, Context, list[str]]]):  # type: ignore[no-untyped-def]
    return pytest.mark.parametrize(("text", "ctx", "expected"), rows,
                                   ids=[f"{r[0]}@{r[1].year}" for r in rows])


RELATIVE_YEARS = [
    ("今年10月10日前", C21, ["2021-10-10"]),
    ("当年12月31日", C21, ["2021-12-31"]),
    ("本年6月底", C21, ["2021-06-30"]),
    ("本年度内", C21, ["2021-12-31"]),
    ("今年年底", C21, ["2021-12-31"]),
    ("今年上半年", C21, ["2021-06-30"]),
    ("次年1月底前", C21, ["2022-01-31"]),
    ("次年年底", C21, ["2022-12-31"]),
    ("明年3月1日", C21, ["2022-03-01"]),
    ("下一年年底", C21, ["2022-12-31"]),
    ("第二年6月30日前", C21, ["2022-06-30"]),
    ("明年第一季度末", C21, ["2022-03-31"]),
    ("上年12月31日", C21, ["2020-12-31"]),
    ("去年年底", C21, ["2020-12-31"]),
    ("次年1月31日前", C22_APRIL, ["2023-01-31"]),  # relative years ignore the issue date
]

NO_YEAR = [
    ("1月31日前", C22_APRIL, ["2023-01-31"]),  # already past in April 2022: the next one
    ("1月31日前", C22, ["2022-01-31"]),  # no issue date: the plan year
    ("12月30日", C22_APRIL, ["2022-12-30"]),
    ("4月15日", C22_APRIL, ["2022-04-15"]),  # the issue day itself still counts
    ("4月14日", C22_APRIL, ["2023-04-14"]),
    ("7月底前", C21_JULY, ["2021-07-31"]),
    ("6月底", C21_JULY, ["2022-06-30"]),
    ("6月底", C21, ["2021-06-30"]),
    ("2月29日", Context(year=2023, issued=date(2023, 3, 1)), ["2024-02-29"]),
    ("2月29日", Context(year=2023), []),  # no such day: skipped, not raised
    ("年底", C22_APRIL, ["2022-12-31"]),  # year-level dates stay in the plan year
    ("第一季度", C22_APRIL, ["2022-03-31"]),
    ("上半年", C22_APRIL, ["2022-06-30"]),
]

DATES = [
    ("2021年12月31日", C21, ["2021-12-31"]),
    ("２０２１年１２月", C21, ["2021-12-31"]),  # a year and month alone: that month's end
    ("2021年12月份前完成", C21, ["2021-12-31"]),  # 月份前: the whole month
    ("2021年12月为限", C21, ["2021-12-31"]),
    ("根据2021年3月出台的办法开展工作", C21, []),  # a month quoted mid-sentence is no deadline
    ("2021年底", C21, ["2021-12-31"]),
    ("2021年年底前", C21, ["2021-12-31"]),
    ("年底前", C21, ["2021-12-31"]),
    ("年末", C21, ["2021-12-31"]),
    ("年内", C21, ["2021-12-31"]),
    ("十二月底", C21, ["2021-12-31"]),
    ("二〇二一年十二月三十一日", C21, ["2021-12-31"]),
    ("二零二二年三月一日", C21, ["2022-03-01"]),
    ("２０２１年１２月３１日", C21, ["2021-12-31"]),
    ("2023年 1月31日", C22, ["2023-01-31"]),
    ("2021 年 9 月 30 日前", C21, ["2021-09-30"]),
    ("12月31号", C21, ["2021-12-31"]),
    ("2021-12-31", C21, ["2021-12-31"]),
    ("2021.9.30前", C21, ["2021-09-30"]),
    ("6月末", C21, ["2021-06-30"]),
    ("2月底", C21, ["2021-02-28"]),
    ("2024年2月底", C21, ["2024-02-29"]),
    ("12月内", C21, ["2021-12-31"]),
    ("12月1日以前", C21, ["2021-12-01"]),
    ("12月1日之前", C21, ["2021-12-01"]),
    ("12月1日为限", C21, ["2021-12-01"]),
    ("12月10日内", C21, ["2021-12-10"]),  # a date, not a ten-day offset
    ("上半年", C21, ["2021-06-30"]),
    ("下半年", C21, ["2021-12-31"]),
    ("2022年上半年", C21, ["2022-06-30"]),
    ("第一季度", C21, ["2021-03-31"]),
    ("第二季度末", C21, ["2021-06-30"]),
    ("三季度末", C21, ["2021-09-30"]),
    ("4季度末前", C21, ["2021-12-31"]),
    ("第三季度内完成", C21, ["2021-09-30"]),
    ("2021年内部控制", C21, []),
    ("三年内", C21, []),
    ("2022年内", C21, ["2022-12-31"]),
    ("13月1日", C21, []),
    ("第五季度末", C21, []),
    ("报送第三、第四季度推进落实情况", C21, []),  # naming a quarter is not a deadline
]

RECURRING = [
    ("每月", C21, [MONTHLY + "@2021"]),
    ("按月报送", C21, [MONTHLY + "@2021"]),
    ("每季度", C21, [QUARTERLY + "@2021"]),
    ("按季度", C21, [QUARTERLY + "@2021"]),
    ("每季更新台账", C21, [QUARTERLY + "@2021"]),
    ("每个季度", C22, [QUARTERLY + "@2022"]),
    ("每季度末", C21, [QUARTERLY + "@2021"]),
    ("每半年", C21, [SEMI + "@2021"]),
    ("每年", C21, [YEARLY + "@2021"]),
    ("每年至少一次", C21, [YEARLY + "@2021"]),
    ("每年开展1次", C21, [YEARLY + "@2021"]),
    ("长期", C22, [ONGOING + "@2022"]),
    ("长期坚持", C21, [ONGOING + "@2021"]),
    ("持续", C21, [ONGOING + "@2021"]),
    ("常态化", C21, [ONGOING + "@2021"]),
    ("长期", Context(year=2021, reporting_cycle="semiannual"), ["ongoing:06-30,12-31@2021"]),
    ("长期", Context(year=2021, reporting_cycle="monthly"),
     ["ongoing" + MONTHLY.removeprefix("monthly") + "@2021"]),
    ("及时", C21, ["none"]),
    ("立即", C21, ["none"]),
    ("随时", C21, ["none"]),
]

EVENTS = [
    ("5个工作日内", C21, ["after:5wd"]),
    ("十五个工作日以内", C21, ["after:15wd"]),
    ("10日内", C21, ["after:10d"]),
    ("10天内", C21, ["after:10d"]),
    ("30个自然日内", C21, ["after:30d"]),
    ("印发后3个月内", C21, ["after:3m"]),
    ("两个月之内", C21, ["after:2m"]),
    ("两周内", C21, ["after:14d"]),
    ("2个星期内", C21, ["after:14d"]),
    ("0日内", C21, []),
]

SEVERAL = [
    ("今年10月10日前及2022年1月5日前", C21, ["2021-10-10", "2022-01-05"]),
    ("7月底前完善制度；11月底前按要求落实", C21_JULY, ["2021-07-31", "2021-11-30"]),
    ("6月30日前自查，12月31日前总结", C21, ["2021-06-30", "2021-12-31"]),
    ("每季度报送，年底前总结", C21, [QUARTERLY + "@2021", "2021-12-31"]),
    ("收到后5个工作日内答复，最迟12月31日", C21, ["after:5wd", "2021-12-31"]),
    ("年底前完成，2021年12月31日前报送", C21, ["2021-12-31"]),  # identical: once
    ("2021年底前及时公开", C21, ["2021-12-31", "none"]),
]

SENTENCES = [
    ("…于2021年9月底前在本部门网站集中对外公布…", C21, ["2021-09-30"]),
    ("推进部门规范性文件统一公开，2021年底前通过政府网站政府信息公开专栏集中公开本部门"
     "现行有效规范性文件，并实现动态更新调整。", C21, ["2021-12-31"]),
    ("建立舆情回应台账管理，按季度核查已作出的承诺落实及公开情况", C21, [QUARTERLY + "@2021"]),
    ("对本单位门户网站政务公开栏目内容每半年更新。", C21, [SEMI + "@2021"]),
    ("加强队伍建设，下半年举办业务培训，不断提升业务能力水平", C21, ["2021-12-31"]),
    ("将广州市现行有效规章集中公开。（2021年我局牵头项目）", C21, []),
    ("建立2021年本单位政务公开工作台账，明确分工", C21, []),
    ("有效依托12345政务服务便民热线，分值权重不低于4%，支持互联网协议第6版", C21, []),
]


C24 = Context(year=2024)
C26 = Context(year=2026)
C24_MARCH = Context(year=2024, issued=date(2024, 3, 1))


def dates_of(*days: str) -> str:
    return ",".join(days)


# The forms of issue 7, as other offices write them.
RANGES = [  # (text, ctx, end, start)
    ("2024年4月—6月", C24, "2024-06-30", "2024-04-01"),
    ("5月至8月", C24, "2024-08-31", "2024-05-01"),
    ("1-9月", C24, "2024-09-30", "2024-01-01"),
    ("10月8日至20日", C24, "2024-10-20", "2024-10-08"),
    ("8月3日至12日", C24, "2024-08-12", "2024-08-03"),
    ("3月1日—6月30日", C24, "2024-06-30", "2024-03-01"),
    ("2024年10月至2025年3月", C24, "2025-03-31", "2024-10-01"),
    ("11月至次年2月", C24, "2025-02-28", "2024-11-01"),
    ("2025—2027年", C24, "2027-12-31", "2025-01-01"),
    ("2025年至2027年", C24, "2027-12-31", "2025-01-01"),
    ("今后两年", C24, "2025-12-31", "2024-01-01"),
    ("未来三年", C24, "2026-12-31", "2024-01-01"),
    ("5月至8月", C24_MARCH, "2024-08-31", "2024-05-01"),
]


@pytest.mark.parametrize(("text", "ctx", "end", "start"), RANGES,
                         ids=[f"{r[0]}@{r[1].year}" for r in RANGES])
def test_ranges_end_on_their_last_day_and_keep_their_start(text: str, ctx: Context, end: str,
                                                             start: str) -> None:
    (d,) = parse(text, ctx)
    assert (d.kind, d.dates[0].isoformat(), d.start and d.start.isoformat()) == (
        "once", end, start)
    assert read(text, ctx).understood


MONTH_ENDS_24 = dates_of(*(f"{m:02d}-{(date(2024 + m // 12, m % 12 + 1, 1) - timedelta(days=1)).day}"
                           for m in range(1, 13)))
GRAMMAR = [
    ("到2027年", C24, ["2027-12-31"]),
    ("2027年前", C24, ["2027-12-31"]),
    ("至2028年", C24, ["2028-12-31"]),
    ("2021年前三季度", C24, ["2021-09-30"]),
    ("二季度", C24, ["2024-06-30"]),
    ("2022年三季度", C24, ["2022-09-30"]),
    ("四季度末", C24, ["2024-12-31"]),
    ("一季度前完成", C24, ["2024-03-31"]),
    ("5月上旬", C24, ["2024-05-10"]),
    ("6月中旬", C24, ["2024-06-20"]),
    ("2月下旬", C24, ["2024-02-29"]),
    ("6.30前", C24, ["2024-06-30"]),
    ("12.31", C24, ["2024-12-31"]),
    ("增长4.5%", C24, []),  # a decimal, not a date
    ("6月份", C24, ["2024-06-30"]),
    ("2024年6月份前", C24, ["2024-06-30"]),
    ("全年", C24, ["2024-12-31"]),
    ("报送全年工作总结", C24, []),
    ("每月10日前", C24, ["monthly:" + dates_of(*(f"{m:02d}-10" for m in range(1, 13))) + "@2024"]),
    ("每月25日前报送", C24, ["monthly:" + dates_of(*(f"{m:02d}-25" for m in range(1, 13)))
                             + "@2024"]),
    ("每月31日前", C24, ["monthly:" + MONTH_ENDS_24 + "@2024"]),  # clamped to each month
    ("次月5日前", C24, ["monthly:" + dates_of(*(f"{m:02d}-05" for m in range(2, 13)), "01-05")
                        + "@2024"]),
    ("每季度首月10日前", C24, ["quarterly:01-10,04-10,07-10,10-10@2024"]),
    ("每季度结束后次月10日前", C24, ["quarterly:04-10,07-10,10-10,01-10@2024"]),
    ("每年3月底前", C24, ["yearly:03-31@2024"]),
    ("每年1月31日前报送一次", C24, ["yearly:01-31@2024"]),
    ("月度调度", C24, ["monthly:" + MONTH_ENDS_24 + "@2024"]),
    ("季度会商", C24, ["quarterly:03-31,06-30,09-30,12-31@2024"]),
    ("年度通报", C24, ["yearly:12-31@2024"]),
    ("逐月", C24, ["monthly:" + MONTH_ENDS_24 + "@2024"]),
    ("逐季", C24, ["quarterly:03-31,06-30,09-30,12-31@2024"]),
    ("季度报表", C24, []),  # a noun alone is no rhythm
    ("2024年度考核", C24, []),
    ("每两月", C24, ["bimonthly:02-29,04-30,06-30,08-31,10-31,12-31@2024"]),
    ("双月", C24, ["bimonthly:02-29,04-30,06-30,08-31,10-31,12-31@2024"]),
    ("每年不少于4次", C24, ["quarterly:03-31,06-30,09-30,12-31@2024"]),
    ("全年开展2次", C24, ["semiannual:06-30,12-31@2024"]),
    ("每年至少12次", C24, ["monthly:" + MONTH_ENDS_24 + "@2024"]),
    ("每年至少一次", C24, ["yearly:12-31@2024"]),
    ("定期", C24, ["ongoing:03-31,06-30,09-30,12-31@2024"]),
    ("不定期", Context(year=2024, reporting_cycle="semiannual"), ["ongoing:06-30,12-31@2024"]),
    ("即时", C24, ["none"]),
    # Forms that used to give a confident wrong date (gaps.tsv, issue 7).
    ("应在一月内报告", C24, ["after:1m"]),  # one month, not January
    ("2024年一月内", C24, ["2024-01-31"]),  # with a year it is January
    ("年后十日前", C24, ["yearly:12-31@2024+10d"]),
    ("各市于月后10日前报送", C24, ["monthly:" + MONTH_ENDS_24 + "@2024+10d"]),
    ("季后15日内", C24, ["quarterly:03-31,06-30,09-30,12-31@2024+15d"]),
    ("次月十五日内", C24, ["monthly:" + dates_of(*(f"{m:02d}-15" for m in range(2, 13)), "01-15")
                          + "@2024"]),
    ("随季报于次季度十五日内报送", C24, ["quarterly:04-15,07-15,10-15,01-15@2024"]),
    ("月报、季报于次月(季度)十五日内报送", C24, [
        "monthly:" + dates_of(*(f"{m:02d}-15" for m in range(2, 13)), "01-15") + "@2024",
        "quarterly:04-15,07-15,10-15,01-15@2024"]),
    ("在每季度最后一个月的30日前", C24, ["quarterly:03-30,06-30,09-30,12-30@2024"]),
    ("逐旬", C24, ["dekadal:" + dates_of(*(f"{m:02d}-{d}" for m in range(1, 13) for d in (
        "10", "20", str((date(2024 + m // 12, m % 12 + 1, 1) - timedelta(days=1)).day))))
        + "@2024"]),
    ("一季度一通报", C24, ["quarterly:03-31,06-30,09-30,12-31@2024"]),
    ("涉及及时性诉求应在24小时内反馈", C24, ["after:1d"]),  # 及时性 is no 及时
    ("在72小时内给予答复", C24, ["after:3d"]),
    ("应在2小时内反馈", C24, ["after:0d"]),
    ("复杂问题不超过5个工作日", C24, ["after:5wd"]),
    ("时间不得超过15个工作日", C24, ["after:15wd"]),
    ("办理期限为3个月", C24, ["after:3m"]),
    ("延长的期限最长不得超过20个工作日", C24, []),  # an extension cap, not a limit
    # Traditional characters the grammar keys on read like simplified ones.
    ("請示性公文必須在3個工作日內辦結", C24, ["after:3wd"]),
    ("當日辦結", C24, ["after:0d"]),
    ("每季度結束後10個工作日內", C24, ["quarterly:03-31,06-30,09-30,12-31@2024+10wd"]),
]


@table(GRAMMAR)
def test_forms_other_offices_write(text: str, ctx: Context, expected: list[str]) -> None:
    reading = read(text, ctx)
    assert show(list(reading.deadlines)) == expected
    assert reading.understood == bool(expected)


@pytest.mark.parametrize("text", ["三月内完成", "十二月之内"])
def test_chinese_month_with_nei_stays_ambiguous(text: str) -> None:
    # 三月内: three months, or by the end of March? Reported, never guessed.
    reading = read(text, C24)
    assert reading.deadlines == () and not reading.understood and reading.ambiguous


def test_hour_limits_say_how_they_are_counted() -> None:
    (two,) = parse("应在2小时内反馈", C24)
    assert (str(two.after), "2小时" in two.note, "当天" in two.note) == ("0d", True, True)
    (day,) = parse("24小时内", C24)
    assert (str(day.after), day.note) == ("1d", "")


STARTS = [  # (text, ctx, deadlines as show() writes them, their starts)
    ("从3月25日开始", C24, ["none"], ["2024-03-25"]),
    ("从3月25日开始,6月30日前完成", C24, ["2024-06-30"], ["2024-03-25"]),
    ("自2024年3月起,每月25日前报送", C24,
     ["monthly:" + dates_of(*(f"{m:02d}-25" for m in range(3, 13))) + "@2024"], ["2024-03-01"]),
    ("自5月份开始,每季度结束后10日内", C24,
     ["quarterly:06-30,09-30,12-31@2024+10d"], ["2024-05-01"]),
]


@pytest.mark.parametrize(("text", "ctx", "expected", "starts"), STARTS, ids=[r[0] for r in STARTS])
def test_a_start_opens_the_deadlines_beside_it(text: str, ctx: Context, expected: list[str],
                                               starts: list[str]) -> None:
    reading = read(text, ctx)
    assert show(list(reading.deadlines)) == expected
    assert [d.start.isoformat() if d.start else "" for d in reading.deadlines] == starts
    assert reading.understood


LATE = Context(year=2018, issued=date(2018, 12, 24))


@pytest.mark.parametrize(("text", "ctx", "expected"), [
    ("8至12月", LATE, []),  # mostly over at issue: 2018 or 2019? reported
    ("6至7月", LATE, ["2019-07-31"]),  # wholly past: next year's, as a date would be
    ("2018年8至12月", LATE, ["2018-12-31"]),  # a written year settles it
    ("3月至6月", Context(year=2024, issued=date(2024, 3, 15)), ["2024-06-30"]),  # just opened
    ("1-12月", Context(year=2024, issued=date(2024, 7, 15)), ["2024-12-31"]),
    # Opened days before the issue date: the notice's own period, not 大半过去.
    ("7月1日—7月31日", Context(year=2014, issued=date(2014, 7, 3)), ["2014-07-31"]),
    ("10月11-31日", Context(year=2020, issued=date(2020, 10, 15)), ["2020-10-31"]),
    # The boundary: 12月1日至31日 has 30 days from start to end; at 12-16 as much is past
    # (15 days) as is to come (15) and this year's reading stands; a day later most is past.
    ("12月1日至31日", Context(year=2024, issued=date(2024, 12, 16)), ["2024-12-31"]),
    ("12月1日至31日", Context(year=2024, issued=date(2024, 12, 17)), []),
    # Most past, but the end more than 31 days off: plainly this year's; 31 days: in doubt.
    ("1-10月", Context(year=2024, issued=date(2024, 9, 29)), ["2024-10-31"]),
    ("1-10月", Context(year=2024, issued=date(2024, 9, 30)), []),
])
def test_yearless_range_mostly_over_at_issue_is_ambiguous(text: str, ctx: Context,
                                                         expected: list[str]) -> None:
    reading = read(text, ctx)
    assert show(list(reading.deadlines)) == expected
    assert reading.understood == bool(expected)
    assert bool(reading.ambiguous) != bool(expected)


def test_the_doubt_names_both_years_it_could_mean() -> None:
    reading = read("8至12月", LATE)
    assert "2018年，也可能指2019年" in reading.ambiguous[0][1]


def test_a_start_takes_the_year_it_names() -> None:
    (d,) = read("从2023年3月25日开始,6月30日前完成", C24).deadlines
    assert d.start == date(2023, 3, 25)


@pytest.mark.parametrize("text", [
    "从明年3月1日开始,6月30日前完成", "自2025年1月起,每季度末报送", "自2025年1月起,2024年底前完成"])
def test_a_start_after_its_deadline_is_reported_not_dropped(text: str) -> None:
    """The start names next year, the deadline this year's date: which one is meant? Silently
    keeping this year's date (and dropping the start) was a confident wrong date."""
    reading = read(text, C24)
    assert reading.deadlines == () and not reading.understood
    assert "开始日期晚于截止日期" in reading.ambiguous[0][1]


def test_a_lag_past_december_falls_in_the_next_year() -> None:
    """次月5日前 for December's report is 5 January of the next year, not of the year before."""
    dates = cycle_dates("monthly", 2024, day=5, lag=1)
    assert (dates[0], dates[-1], len(dates)) == (date(2024, 2, 5), date(2025, 1, 5), 12)
    quarterly = cycle_dates("quarterly", 2024, month=1, day=15, lag=3)
    assert quarterly[-1] == date(2025, 1, 15)


def test_a_start_without_a_year_is_not_rolled_past_the_issue_date() -> None:
    (d,) = parse("从12月19日起至2019年底", LATE)
    assert (d.dates, d.start) == ((date(2019, 12, 31),), date(2018, 12, 19))


def test_a_start_beside_an_event_limit_is_reported_not_dropped() -> None:
    reading = read("自3月25日起30个工作日内", C24)
    assert not reading.understood and "开始日期" in reading.ambiguous[0][1]


def test_count_that_does_not_divide_the_year_stays_yearly_and_says_so() -> None:
    (d,) = parse("每年开展3次", C24)
    assert (d.cycle, d.dates) == ("yearly", (date(2024, 12, 31),))
    assert "3次" in d.note and "每年一次" in d.note
    assert all(not x.note for x in parse("每年4次", C24))


def test_after_each_period() -> None:
    (d,) = parse("每季度结束后10个工作日内", C24)
    assert (d.kind, d.cycle, str(d.after)) == ("recurring", "quarterly", "10wd")
    assert d.dates == cycle_dates("quarterly", 2024)  # the periods' ends; the calendar counts on
    (m,) = parse("每月终了后5日内", C24)
    assert (m.cycle, str(m.after), len(m.dates)) == ("monthly", "5d", 12)


EVENT_FORMS = [
    ("当日", C24, ["after:0d"]),
    ("当天办结", C24, ["after:0d"]),
    ("当场办结,不能当场办结的5个工作日内", C24, ["after:0d", "after:5wd"]),
    ("次日", C24, ["after:1d"]),
    ("期满次日", C24, ["after:1d"]),
    ("收到后3个工作日", C24, ["after:3wd"]),
    ("超过答复时限2个工作日", C24, ["after:2wd"]),
    ("自受理之日起15个工作日", C24, ["after:15wd"]),
    ("1个工作日", C24, ["after:1wd"]),
]


@table(EVENT_FORMS)
def test_event_phrasings(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


@pytest.mark.parametrize("text", ["按上级要求", "根据上级部署", "按照上级通知"])
def test_set_by_a_superior(text: str) -> None:
    (d,) = parse(text, C24)
    assert (d.kind, d.note) == ("none", "由上级确定")


# 2024年8月前完成: http://www.huanbaole.com/jishu/150187.html (a year does not settle it).
@pytest.mark.parametrize("text", ["12月前", "6月以前完成", "2021年12月前完成", "2024年8月前完成",
                                  "次年3月前"])
def test_month_before_stays_ambiguous_and_says_why(text: str) -> None:
    reading = read(text, C24)
    assert reading.deadlines == () and not reading.understood
    ((part, why),) = reading.ambiguous
    assert part in normalize(text) and "1日前" in why and "月底前" in why


@table(RELATIVE_YEARS)
def test_relative_years(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


@table(NO_YEAR)
def test_month_day_without_year(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


@table(DATES)
def test_dates(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


@table(RECURRING)
def test_recurring_and_none(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


@table(EVENTS)
def test_event_relative(text: str, ctx: Context, expected: list[str]) -> None:
    found = parse(text, ctx)
    assert show(found) == expected
    assert all(d.dates == () for d in found)  # no date until the event is recorded


@table(SEVERAL)
def test_several_in_one_cell(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


@table(SENTENCES)
def test_inside_requirement_sentences(text: str, ctx: Context, expected: list[str]) -> None:
    assert show(parse(text, ctx)) == expected


# (text, the parts understood, the date-like parts left over)
LEFTOVERS = [
    ("2021年底前及时公开", ["2021年底前", "及时"], []),
    ("6月底前完成初稿，9月定稿", ["6月底前"], ["9月定稿"]),
    ("2021年12月31日前(2022年继续推进)", ["2021年12月31日前"], ["2022年继续推进"]),
    ("每年3次", ["每年3次"], []),
    ("13月1日", [], ["13月1日"]),  # matched but no date: its text is leftover
    ("视情况而定", [], []),
    ("对上一年度工作开展回头看,及时整改", ["及时"], []),  # 上一年度 is no date
    ("三年行动计划,年底前完成", ["年底前"], []),
    ("年底前,报送第三、第四季度情况", ["年底前"], ["第四季度情况"]),
    ("长期,每旬报送", ["长期", "每旬"], []),
    ("年底前,24小时内反馈", ["年底前", "24小时内"], []),
    ("年底前,按24小时反馈", ["年底前"], ["按24小时反馈"]),  # hours are date-like
    ("3个月后10日内", ["10日内"], ["3个月后"]),  # a count before 月: no monthly rhythm
    ("年底前,下旬报送", ["年底前"], ["下旬报送"]),
    ("年底前,1至3号", ["年底前"], ["1至3号"]),
]


@pytest.mark.parametrize(("text", "matched", "leftover"), LEFTOVERS,
                         ids=[r[0] for r in LEFTOVERS])
def test_leftover_that_still_looks_like_a_date(text: str, matched: list[str],
                                               leftover: list[str]) -> None:
    reading = read(text, C21)
    assert list(reading.matched) == matched
    assert list(reading.leftover) == leftover
    assert reading.understood == (bool(reading.deadlines) and not leftover)


# -- every deadline phrase of the four sample plans --------------------------------------
# (file, phrase as it stands in the file or None when the file has it garbled, ctx, expected)

C21_000 = Context(year=2021, issued=date(2021, 7, 23))
SEED_ROWS = [
    ("000", "2021年底", C21_000, ["2021-12-31"]),
    ("000", None, C21_000, ["2021-10-10", "2022-01-05"]),  # "请于今??0日前?022??日前" in the file
    ("000", "做好每月零债务申报", C21_000, [MONTHLY + "@2021"]),
    ("000", "主要负责同志每年至少听取 1 次政务公开工作汇报", C21_000, [YEARLY + "@2021"]),
    ("000", "21.2021年底前,市、区政府网站全部支持互联网协议第6版", C21_000, ["2021-12-31"]),
    ("000", "?021 年底前通过政府网站政府信息公开专栏集中公开", C21_000, ["2021-12-31"]),
    ("001", "长期", C22_APRIL, [ONGOING + "@2022"]),
    ("001", "12月30日", C22_APRIL, ["2022-12-30"]),
    ("001", "2023年 1月31日", C22_APRIL, ["2023-01-31"]),
    ("001", "2023年 3月1日", C22_APRIL, ["2023-03-01"]),
    ("001", "按照规定于1月31日前发布本单位上年度的《政府信息公开工作年度报告》", C22_APRIL,
     ["2023-01-31"]),
    ("001", "根据上级要求，于3月1日前发布本单位上年度的《法治政府建设情况年度报告》", C22_APRIL,
     ["none", "2023-03-01"]),  # the date wins over 由上级确定 in task_deadlines
    ("001", "每年至少更新一次“开放广东”数据集资料", C22_APRIL, [YEARLY + "@2022"]),
    ("001", "每年至少召开一次会议", C22_APRIL, [YEARLY + "@2022"]),
    ("002", "2021年底前通过政府网站政府信息公开专栏集中公开本部门现行有效规范性文件", C21,
     ["2021-12-31"]),
    ("002", "32.2021年底前，政府网站全部支持互联网协议第6版。", C21, ["2021-12-31"]),
    ("004", "局政务公开办7月底前完善我局政务公开各项制度并分发2021年度工作任务。", C21_JULY,
     ["2021-07-31"]),
    ("004", "各处室(部门)于11月底前按要求落实,若无法按时完成请向局政务公开办书面说明。", C21_JULY,
     ["2021-11-30"]),
    ("004", "按季度核查已作出的承诺落实及公开情况", C21_JULY, [QUARTERLY + "@2021"]),
    ("004", "按季度动态更新调整", C21_JULY, [QUARTERLY + "@2021"]),
    ("004", "每季度统计相关数据", C21_JULY, [QUARTERLY + "@2021"]),
    ("004", "每季更新台账", C21_JULY, [QUARTERLY + "@2021"]),
    ("004", "对本单位门户网站政务公开栏目内容每半年更新", C21_JULY, [SEMI + "@2021"]),
    ("004", "下半年举办业务培训", C21_JULY, ["2021-12-31"]),
    ("004", "年底本单位门户网站实现支持互联网协议第6版", C21_JULY, ["2021-12-31"]),
]


@pytest.mark.parametrize(("seed", "phrase", "ctx", "expected"), SEED_ROWS,
                         ids=[f"{r[0]}:{r[1] or 'garbled'}"[:40] for r in SEED_ROWS])
def test_seed_phrases(seed: str, phrase: str | None, ctx: Context, expected: list[str]) -> None:
    text = phrase or "请于今年10月10日前及2022年1月5日前，向局政府公开办报送第三、第四季度各项目的推进落实情况"
    assert show(parse(text, ctx)) == expected
    files = list(SEEDS.glob(f"{seed}_*.txt"))
    if phrase and files:  # the phrase really is in the sample plan
        whole = files[0].read_text(encoding="utf-8")  # longer than normalize()'s cap
        assert normalize(phrase) in "".join(unicodedata.normalize("NFKC", whole).split())


@pytest.mark.skipif(not SEEDS.is_dir(), reason="sample plans not present")
def test_whole_seed_files_parse_fast() -> None:
    rules = load_rules()
    lines = [line for f in sorted(SEEDS.glob("*.txt"))
             for line in f.read_text(encoding="utf-8").splitlines()]
    parse("预热", C21, rules)
    start = time.perf_counter()
    found = [d for line in lines for d in parse(line, C21, rules)]
    elapsed = time.perf_counter() - start
    assert len(lines) > 300 and found
    assert elapsed < 0.5, f"{len(lines)} lines took {elapsed:.3f}s"


# -- task_deadlines ----------------------------------------------------------------------


def task(title: str = "任务", detail: str = "", deadline: str = "") -> Task:
    return Task(id="1", title=title, detail=detail, deadline_text=deadline)


TASKS = [
    ("cell plus rhythm in detail",
     task("加强回应", "建立舆情回应台账管理，按季度核查已作出的承诺", "2021年底"),
     ["2021-12-31", QUARTERLY + "@2021"]),
    ("cell plus monthly rhythm in title",
     task("做好每月零债务申报", deadline="2021年底"), ["2021-12-31", MONTHLY + "@2021"]),
    ("yearly in body adds nothing to a dated cell",
     task("每年至少更新一次数据集", deadline="12月30日"), ["2021-12-30"]),
    ("ongoing in body adds nothing to a dated cell",
     task("持续推动目录动态更新", deadline="12月30日"), ["2021-12-30"]),
    ("same cycle in cell and body once",
     task("按季度统计", deadline="每季度"), [QUARTERLY + "@2021"]),
    ("empty cell: date in requirement",
     task("推进规范性文件统一公开，2021年底前通过政府网站集中公开"), ["2021-12-31"]),
    ("empty cell: none in body is ignored, default used",
     task("及时公开建设高标准市场体系行动方案的落实举措"), ["2021-12-31"]),
    ("empty cell: ongoing in body beats default",
     task("持续深化地方政府债务信息公开"), [ONGOING + "@2021"]),
    ("cell not understood: no default", task("加强指导", deadline="视情况而定"), []),
    ("cell not understood: body rhythm kept",
     task("每季度统计相关数据", deadline="视情况而定"), [QUARTERLY + "@2021"]),
    ("cell none", task("回应关切", deadline="及时"), ["none"]),
    ("none dropped beside a date", task("公开", deadline="2021年底前及时完成"), ["2021-12-31"]),
    ("event cell", task("答复申请", deadline="收到后15个工作日内"), ["after:15wd"]),
]


@pytest.mark.parametrize(("t", "expected"), [r[1:] for r in TASKS], ids=[r[0] for r in TASKS])
def test_task_deadlines(t: Task, expected: list[str]) -> None:
    assert show(task_deadlines(t, C21, load_rules(), default_text="年底前")) == expected


def test_task_title_and_detail_are_not_glued() -> None:
    # "…12月" + "31日…" would read as 12月31日 if the two fields were joined.
    assert task_deadlines(task("计划于12月", "31日检查"), C21) == []


def test_deadline_records_carry_rule_source_and_text() -> None:
    (d,) = parse("请于 2021 年 9 月底前公布", C21)
    assert (d.kind, d.rule, d.text) == ("once", "月底", "2021年9月底前")
    assert d.source.endswith("deadlines.toml") and Path(d.source).is_file()
    assert understood("年底前", C21) and not understood("视情况而定", C21)


CYCLES = [
    ("dekadal", 36, date(2024, 2, 29)),
    ("monthly", 12, date(2024, 2, 29)),
    ("quarterly", 4, date(2024, 9, 30)),
    ("semiannual", 2, date(2024, 6, 30)),
    ("yearly", 1, date(2024, 12, 31)),
    ("ongoing", 4, date(2024, 3, 31)),  # the default reporting cycle: quarterly
]


@pytest.mark.parametrize(("cycle", "count", "member"), CYCLES, ids=[c[0] for c in CYCLES])
def test_cycle_dates(cycle: str, count: int, member: date) -> None:
    dates = cycle_dates(cycle, 2024)
    assert len(dates) == count and member in dates
    assert list(dates) == sorted(dates) and dates[-1] == date(2024, 12, 31)


@pytest.mark.parametrize("bad", ["fortnightly", "ongoing"])
def test_bad_cycles(bad: str) -> None:
    with pytest.raises(ValueError):
        cycle_dates("ongoing", 2021, bad) if bad == "ongoing" else cycle_dates(bad, 2021)
    with pytest.raises(ValueError):
        Context(year=2021, reporting_cycle=bad)


def test_import_stays_light() -> None:
    # A fresh interpreter: in this one other tests may already have imported anything.
    code = ("import sys, reminder.parse.deadlines; reminder.parse.deadlines.parse('年底', "
            "reminder.parse.deadlines.Context(year=2021)); print(sorted({m.split('.')[0] for m in "
            "sys.modules} & {'sqlalchemy', 'apscheduler', 'requests', 'jinja2'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


# -- properties ------------------------------------------------------------------------

PIECES = [*"0123456789０１２年月日号底末前内季度第上下半每按个工作天周星期及时长期今次去明",
          *"本当两十二三四〇一零百 ,，。；、()（）-./?%", "前及", "年底", "工作日", "2021年"]
TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.characters()), max_size=80).map("".join)
CONTEXTS = st.builds(
    Context, year=st.integers(min_value=1, max_value=9999),
    issued=st.none() | st.dates(),
    reporting_cycle=st.sampled_from(["monthly", "quarterly", "semiannual", "yearly"]))


@given(TEXT, CONTEXTS)
def test_no_text_crashes_the_parser(text: str, ctx: Context) -> None:
    for d in parse(text, ctx):
        assert d.kind in ("once", "recurring", "event", "none")
        assert (len(d.dates) == 1) if d.kind == "once" else True
        # n may be 0: "当日" (the same day as the event) is after:0d in the corpus.
        assert (d.after is not None and d.after.n >= 0) if d.kind == "event" else d.after is None
        assert d.text and d.text in normalize(text)


@given(st.dates(min_value=date(1000, 1, 1)), st.booleans())
def test_any_written_date_reads_back(day: date, chinese: bool) -> None:
    cn = "〇一二三四五六七八九"
    if chinese:
        def small(n: int) -> str:
            tens, ones = divmod(n, 10)
            return ("" if not tens else ("十" if tens == 1 else cn[tens] + "十")) + (
                cn[ones] if ones else "")
        text = "".join(cn[int(c)] for c in str(day.year)) + f"年{small(day.month)}月" \
            f"{small(day.day)}日前"
    else:
        text = f"{day.year}年{day.month}月{day.day}日前"
    # Read against a plan of its own year: far from the plan's year a date is refused.
    assert [d.dates for d in parse(text, Context(year=day.year))] == [(day,)]


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9000, 12, 31)),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)))
def test_month_day_is_first_occurrence_after_issue(issued: date, md: date) -> None:
    ctx = Context(year=issued.year, issued=issued)
    found = parse(f"{md.month}月{md.day}日", ctx)
    if not found:  # 2月29日 with no leap year in reach
        assert (md.month, md.day) == (2, 29)
        return
    (got,) = found[0].dates
    assert (got.month, got.day) == (md.month, md.day)
    assert got >= issued
    if got.year > issued.year:  # the first occurrence: this year's was already past, or absent
        assert got.year == issued.year + 1
        if (md.month, md.day) != (2, 29) or isleap(issued.year):
            assert date(issued.year, md.month, md.day) < issued


@pytest.mark.parametrize(("text", "ctx", "dates", "start"), [
    ("从每年3月15日到6月15日为春季森林防火期", C24, ["2024-06-15"], "2024-03-15"),
    ("每年9月至次年4月30日", Context(year=2022), ["2022-04-30"], "2021-09-01"),  # across the year end
    ("每年5月至9月", C24, ["2024-09-30"], "2024-05-01"),
    ("齐河县主汛期集中在每年6至9月", C24, ["2024-09-30"], "2024-06-01"),  # 月 only at the end
])
def test_a_yearly_range_falls_due_each_year_at_its_end(text: str, ctx: Context, dates: list[str],
                                                        start: str) -> None:
    reading = read(text, ctx)
    (d,) = reading.deadlines
    assert (d.kind, d.cycle) == ("recurring", "yearly") and reading.understood
    assert ([x.isoformat() for x in d.dates], d.start and d.start.isoformat()) == (dates, start)


@pytest.mark.parametrize(("text", "expected"), [
    ("受理机关当场不能答复 15个工作日内答复", ["after:15wd"]),  # the negated branch only
    ("不能当场办结的,5个工作日内办结", ["after:5wd"]),
    ("能当场答复的当场答复,不能当场答复的15个工作日内答复", ["after:0d", "after:15wd"]),
    ("当场无法答复的,于3日内答复", ["after:3d"]),
    ("需要补正的应当当场或者在五日内一次性告知申请人", ["after:5d"]),  # the later of two
    ("除可以当场作出的行政许可决定外,应当自受理申请之日起二十日内作出决定", ["after:20d"]),
])
def test_a_negated_on_the_spot_is_no_deadline(text: str, expected: list[str]) -> None:
    reading = read(text, C24)
    assert [f"after:{d.after}" for d in reading.deadlines] == expected and reading.understood


@pytest.mark.parametrize(("text", "ctx", "expected"), [
    # Spring Festival 2010-02-14, 2024-02-10, 2025-01-29, 2027-02-06: 春节前 is the eve.
    ("春节前能整改的要立即整改", Context(year=2010, issued=date(2010, 1, 13)), "2010-02-13"),
    ("春节前", Context(year=2024, issued=date(2024, 1, 5)), "2024-02-09"),
    ("春节前", Context(year=2024, issued=date(2024, 3, 1)), "2025-01-28"),  # past: the next one
    ("2027年春节前", C24, "2027-02-05"),  # beyond chinese-calendar's years
    ("春节前", Context(year=2027), "2027-02-05"),
    ("端午节前", Context(year=2024, issued=date(2024, 3, 1)), "2024-06-09"),  # 2024-06-10
    ("中秋节前", Context(year=2024, issued=date(2024, 3, 1)), "2024-09-16"),  # 2024-09-17
    ("国庆节前完成", Context(year=2024, issued=date(2024, 3, 1)), "2024-09-30"),
    ("元旦前", Context(year=2024, issued=date(2024, 3, 1)), "2024-12-31"),
    ("五一前", Context(year=2024, issued=date(2024, 6, 1)), "2025-04-30"),
])
def test_a_festival_deadline_is_its_eve_on_the_real_calendar(text: str, ctx: Context,
                                                             expected: str) -> None:
    reading = read(text, ctx)
    once = [d.dates[0].isoformat() for d in reading.deadlines if d.kind == "once"]
    assert once == [expected] and reading.understood


def test_around_a_festival_is_no_deadline() -> None:
    assert not parse("春节前后开展走访慰问", C24)


@pytest.mark.parametrize(("day", "year", "count", "first", "last"), [
    (2, 2024, 53, date(2024, 1, 2), date(2024, 12, 31)),  # 2024 has 53 Tuesdays
    (5, 2024, 52, date(2024, 1, 5), date(2024, 12, 27)),
    (1, 2024, 53, date(2024, 1, 1), date(2024, 12, 30)),
    (None, 2023, 53, date(2023, 1, 1), date(2023, 12, 31)),  # no day: the week's end, Sunday
    (7, 2027, 52, date(2027, 1, 3), date(2027, 12, 26)),
])
def test_weekly_dates_are_every_such_weekday_of_the_year(day: int | None, year: int, count: int,
                                                        first: date, last: date) -> None:
    dates = cycle_dates("weekly", year, day=day)
    assert (len(dates), dates[0], dates[-1]) == (count, first, last)
    assert {d.isoweekday() for d in dates} == {day or 7}
    assert all(b - a == timedelta(days=7) for a, b in pairwise(dates))


@pytest.mark.parametrize(("text", "weekday"), [
    ("于每周二前", 2), ("每周五下班前报送", 5), ("每周星期一上午报送", 1), ("每星期五", 5),
    ("每周二中午12時前報送", 2), ("每周日", 7), ("每个礼拜三", 3),
    ("每周一至周五", None), ("每周一、三、五", None),  # no single day
    ("每周一次", 7), ("每周调度分管领域重点事项", 7),  # once a week (issue 23): Sunday
])
def test_weekly_deadline_by_weekday(text: str, weekday: int | None) -> None:
    reading = read(text, C24)
    if weekday is None:
        assert not any(d.cycle == "weekly" for d in reading.deadlines)
        return
    (d,) = reading.deadlines
    assert (d.kind, d.cycle, reading.understood) == ("recurring", "weekly", True)
    assert {x.isoweekday() for x in d.dates} == {weekday} and len(d.dates) >= 52


@pytest.mark.parametrize(("text", "cycles"), [
    ("原则上一月一汇总,一季一调度,半年一小结,一年一总结",
     ["monthly", "quarterly", "semiannual", "yearly"]),
    ("半月一調度,一月一督查", ["semimonthly", "monthly"]),
    ("以每半个月为周期对工程进展进行调度", ["semimonthly"]),
    ("上半月完成", []),  # a part of a month, not a rhythm
    ("前半月", []),
])
def test_one_report_a_period_names_its_rhythm(text: str, cycles: list[str]) -> None:
    reading = read(text, C24)
    assert [d.cycle for d in reading.deadlines] == cycles
    assert reading.understood == bool(cycles)


def test_semimonthly_dates_are_the_15th_and_the_month_end() -> None:
    dates = cycle_dates("semimonthly", 2024)
    assert len(dates) == 24 and dates[:4] == (date(2024, 1, 15), date(2024, 1, 31),
                                              date(2024, 2, 15), date(2024, 2, 29))


# A range by dekads is one deadline at its end, opening at its start: 自9月上旬至9月底 once
# read as 09-10 and 09-30, two deadlines, both "understood".
@pytest.mark.parametrize(("text", "end", "start"), [
    ("综合督查自9月上旬至9月底", "2024-09-30", "2024-09-01"),
    ("10月中旬至11月中旬", "2024-11-20", "2024-10-11"),
    ("12月下旬至次年1月上旬", "2025-01-10", "2024-12-21"),
    ("5月初至6月底", "2024-06-30", "2024-05-01"),
    ("9月中旬至10月20日", "2024-10-20", "2024-09-11"),
    ("决定从5月初起到6月25日", "2024-06-25", "2024-05-01"),
    ("9月上旬至下旬", "2024-09-30", "2024-09-01"),
])
def test_a_range_by_dekads_ends_at_its_last_dekad(text: str, end: str, start: str) -> None:
    reading = read(text, C24)
    (d,) = reading.deadlines
    assert (d.dates[0].isoformat(), d.start and d.start.isoformat()) == (end, start)
    assert reading.understood


def test_a_range_of_the_year_before_stays_in_that_year() -> None:
    # Once read as 2011-12-31 from 2011-01-01: the start rule and 12月31日止 apart, both yearless.
    ctx = Context(year=2011, issued=date(2011, 12, 2))
    (d,) = parse("年度报告应涵盖上年度1月1日起至12月31日止的工作情况", ctx)
    assert (d.dates, d.start) == ((date(2010, 12, 31),), date(2010, 1, 1))


def test_last_month_as_a_report_period_is_not_leftover() -> None:
    reading = read("每月10日前要将上一个月的工作情况书面报送", C24)
    assert reading.understood and not reading.leftover
    assert read("每月10日前报送,3个月内完成", C24).understood  # a count of months still reads


@pytest.mark.parametrize(("text", "expected"), [
    ("港口镇禁毒示范创建三年行动工作方案(2022-2024)", "2024-12-31 from 2022-01-01"),
    ("南区全民禁毒工程实施方案(2017—2019)", "2019-12-31 from 2017-01-01"),
    ("三年行动方案(2020-2022年)", "2022-12-31 from 2020-01-01"),
])
def test_a_year_range_in_brackets_is_the_plans_period(text: str, expected: str) -> None:
    (d,) = parse(text, C24)
    assert f"{d.dates[0].isoformat()} from {d.start.isoformat() if d.start else ''}" == expected


@pytest.mark.parametrize("text", ["建筑业企业须于每月月后20天内登录平台填报上月的统计数据",
                                  "每季度季后15日内报送"])
def test_every_period_then_days_after_it_is_one_rhythm(text: str) -> None:
    # 每月月后20天内 once gave a month-end rhythm besides the +20d one: a reminder on a day
    # that is no deadline.
    (d,) = parse(text, C24)
    assert d.kind == "recurring" and d.after is not None


def test_a_festival_beyond_the_lunisolar_tables_is_reported_not_dropped() -> None:
    reading = read("2150年春节前完成", C24)
    assert not reading.deadlines and not reading.understood
    assert "农历" in reading.ambiguous[0][1]


def test_an_assessment_is_no_rhythm_and_a_year_alone_can_open_one() -> None:
    """Found trying phrases as a new user: 纳入年度考核 gave a yearly 12-31 deadline beside the
    real one, and 自明年起 was dropped while this year's half-year dates stood."""
    reading = read("于2026年11月底前完成，逾期未完成的纳入年度考核", C26)
    assert show(list(reading.deadlines)) == ["2026-11-30"] and reading.understood
    (d,) = read("从2026年起，每季度末报送", C26).deadlines
    assert d.start == date(2026, 1, 1) and len(d.dates) == 4
    later = read("自明年起每半年报送一次", C26)
    assert later.deadlines == () and not later.understood
    assert "开始日期晚于截止日期" in later.ambiguous[0][1]


def test_the_same_rhythm_in_cell_and_title_is_one_series() -> None:
    """Issue 23 §2: 每月10日前 in the cell and 每月报送自查结果 in the title gave two monthly
    series (the 10th and the month's end): 17 open periods on a unit page, 19 .ics events."""
    found = task_deadlines(task("每月报送自查结果", deadline="每月10日前"), C26)
    assert [(d.cycle, d.dates[0]) for d in found] == [("monthly", date(2026, 1, 10))]
    # A different rhythm in the title still adds its series.
    found = task_deadlines(task("按季度报送进展", deadline="每月10日前"), C26)
    assert [d.cycle for d in found] == ["monthly", "quarterly"]


@pytest.mark.parametrize(("text", "cycle", "first", "last"), [
    # A rhythm inside a yearly window (每年的3月至12月) runs in the window only; the window
    # itself is no extra yearly deadline (issue 23 §2/§5: 每年 beside 每月 gave two series).
    ("乡(镇)级河湖长每年的3月至12月每月巡查不少于1次", "monthly", date(2022, 3, 31),
     date(2022, 12, 31)),
    ("村(社区)级河湖长每年的3月至12月每周巡查不少于1次", "weekly", date(2022, 3, 6),
     date(2022, 12, 25)),
])
def test_a_rhythm_in_a_yearly_window(text: str, cycle: str, first: date, last: date) -> None:
    (d,) = parse(text, Context(year=2022))
    assert (d.cycle, d.dates[0], d.dates[-1], d.start) == (cycle, first, last, date(2022, 3, 1))


# -- forms of issue 23 §5, with examples of our own ----------------------------------------

Q = ("quarterly", 4)
M = ("monthly", 12)


@pytest.mark.parametrize(("text", "cycles"), [
    ("一月一研判", [M]), ("一季度一讲评", [Q]), ("一月一研判一通报", [M]), ("一周一调度", [("weekly", 52)]),
    ("原则上每三个月开一次推进会", [Q]), ("一般每月组织一次", [M]), ("每两周调度一次", [("biweekly", 26)]),
    ("周调度", [("weekly", 52)]), ("旬调度", [("dekadal", 36)]), ("季度讲评", [Q]),
    ("年度复盘", [("yearly", 1)]), ("按季度推进", [Q]), ("报送频率：季报", [Q]),
    ("报送频率：月报/年报", [M, ("yearly", 1)]),
    ("每年开展不少于4次", [Q]), ("每年开展不少于2次", [("semiannual", 2)]),
    ("每年开展不少于12次", [M]), ("每月巡河至少2次", [("semimonthly", 24)]),
    ("每周一调度、每季一考核", [("weekly", 52), Q]),
])
def test_rhythms_offices_write(text: str, cycles: list[tuple[str, int]]) -> None:
    reading = read(text, C26)
    assert [(d.cycle, len(d.dates)) for d in reading.deadlines] == cycles
    assert reading.understood == bool(cycles)


@pytest.mark.parametrize(("text", "end", "start"), [
    ("2027年建成智慧平台", date(2027, 12, 31), None),
    ("力争2027年度完成改造", date(2027, 12, 31), None),
    ("在2026年推行电子证照", date(2026, 12, 31), None),
    ("当年内建成", date(2026, 12, 31), None),
    ("原则上2027年年内建成", date(2027, 12, 31), None),
    ("2025-2026", date(2026, 12, 31), date(2025, 1, 1)),
    ("2025—2027年", date(2027, 12, 31), date(2025, 1, 1)),
    ("2025年起实施两年攻坚行动", date(2026, 12, 31), date(2025, 1, 1)),
    # the count of years is the range's own length: never five years from the range's end
    ("2026—2030年五年规划", date(2030, 12, 31), date(2026, 1, 1)),
    ("2026年至2030年五年规划", date(2030, 12, 31), date(2026, 1, 1)),
    ("2025—2027年三年行动计划", date(2027, 12, 31), date(2025, 1, 1)),
    ("从6月到9月中旬", date(2026, 9, 20), date(2026, 6, 1)),
    ("自3月上旬至4月下旬", date(2026, 4, 30), date(2026, 3, 1)),
    ("5月30日一6月4日", date(2026, 6, 4), date(2026, 5, 30)),
    ("2025年10月底-2025年12月底", date(2025, 12, 31), date(2025, 10, 31)),
])
def test_periods_offices_write(text: str, end: date, start: date | None) -> None:
    reading = read(text, C26)
    assert [(d.dates, d.start) for d in reading.deadlines] == [((end,), start)]
    assert reading.understood


def test_a_month_and_a_verb_is_that_months_end_with_the_year_marked_guessed() -> None:
    (d,) = parse("9月开展专项检查", C26)
    assert d.dates == (date(2026, 9, 30),) and "按计划年度推定" in d.note
    (d,) = parse("2026年9月底前开展专项检查", C26)
    assert not d.note  # a written year is no guess


def test_a_cap_on_a_count_is_no_deadline() -> None:
    reading = read("各部门召开全县性会议原则上每年不超过1次", C26)
    assert [d.kind for d in reading.deadlines] == ["none"]


def test_next_year_counts_from_an_issue_date_in_the_year_before_the_plan() -> None:
    """A 2023 plan issued on 2022-12-27: its 明年 is 2023, written in 2022."""
    ctx = Context(year=2023, issued=date(2022, 12, 27))
    assert [d.dates for d in parse("明年7月份建成", ctx)] == [(date(2023, 7, 31),)]
    assert [d.dates for d in parse("次年1月底前", ctx)] == [(date(2024, 1, 31),)]  # the plan's


def test_a_rhythm_starting_at_a_named_quarter() -> None:
    (d,) = parse("从2024年第二季度起,每个季度第1个月20日前", Context(year=2024))
    assert d.dates == (date(2024, 4, 20), date(2024, 7, 20), date(2024, 10, 20))


def test_festival_eves_cover_1901_to_2099_through_a_public_api() -> None:
    """Issue 24: the tables come from lunardate's public API, not a private class of
    holidays. Every year from 1901 to 2099 has a Spring Festival eve in late January or
    February, the eve before the Dragon Boat and Mid-Autumn festivals in summer/autumn."""
    for year in range(1901, 2100):
        ctx = Context(year=year)
        (spring,) = parse(f"{year}年春节前", ctx)
        assert date(year, 1, 20) <= spring.dates[0] <= date(year, 2, 19), year
        (autumn,) = parse(f"{year}年中秋节前", ctx)
        assert date(year, 9, 6) <= autumn.dates[0] <= date(year, 10, 7), year
    source = Path(__file__).resolve().parents[2] / "reminder" / "parse" / "deadlines.py"
    assert "holidays.calendars" not in source.read_text(encoding="utf-8")


def test_quarters_listed_one_by_one_are_one_series_with_their_own_limits() -> None:
    """Issue 23 §5: 第一季度结束后10日内、第二季度结束后8日内…，第四季度不报."""
    reading = read("第一季度结束后10日内、第二季度结束后8日内、第三季度结束后10个工作日内报送，"
                   "第四季度不报", C26)
    (d,) = reading.deadlines
    assert (d.cycle, d.dates) == ("quarterly", (date(2026, 3, 31), date(2026, 6, 30),
                                               date(2026, 9, 30)))
    assert [str(o) for o in d.offsets] == ["10d", "8d", "10wd"] and reading.understood
    (alone,) = read("第二季度结束后8日内", C26).deadlines  # one quarter alone: that quarter
    assert (alone.dates, str(alone.after)) == ((date(2026, 6, 30),), "8d")


@pytest.mark.parametrize("text", ["9999年12月31日前", "0001年1月1日", "2015年底前"])
def test_a_date_far_from_the_plan_year_is_no_deadline_but_named(text: str) -> None:
    """Issue 20 item 1: 9999年12月31日 in a task row was a deadline, and counting workdays
    from it overflowed and stopped every plan. Outside the plan year −5 … +30 it is reported
    like an ambiguity, which check names as an error."""
    reading = read(text, C21)
    assert reading.deadlines == ()
    assert len(reading.ambiguous) == 1 and "超出计划年度 2021 的合理范围" in reading.ambiguous[0][1]


def test_the_date_window_keeps_its_edges() -> None:
    assert show(parse("2016年1月1日", C21)) == ["2016-01-01"]
    assert show(parse("2051年12月31日前", C21)) == ["2051-12-31"]
    assert read("2052年1月1日", C21).deadlines == ()


def test_biweekly_dates_are_every_other_sunday_from_the_first() -> None:
    dates = cycle_dates("biweekly", 2026)
    assert dates[0] == date(2026, 1, 4) and dates[-1] == date(2026, 12, 20)
    assert {b - a for a, b in pairwise(dates)} == {timedelta(days=14)}


@pytest.mark.parametrize(("ends", "expected"), [
    (((1, 15), (7, 15)), (date(2026, 1, 15), date(2026, 7, 15))),
    (((7, 10), (1, 20)), (date(2026, 1, 20), date(2026, 7, 10))),
    (((2, 29), (6, 30)), (date(2026, 2, 28), date(2026, 6, 30))),  # no 02-29 in 2026
], ids=["default", "own-calendar", "clamped"])
def test_termly_dates_are_the_terms_ends(ends, expected) -> None:
    assert cycle_dates("termly", 2026, term_ends=ends) == expected


@pytest.mark.parametrize("text", ["学校应当每学期至少开展一次演练", "一学期一总结", "按学期报送"])
def test_a_term_rhythm_reads_at_each_term_end(text: str) -> None:
    reading = read(text, Context(year=2026, term_ends=((1, 20), (7, 10))))
    assert reading.understood
    assert [(d.cycle, d.dates) for d in reading.deadlines] == [
        ("termly", (date(2026, 1, 20), date(2026, 7, 10)))]


@pytest.mark.parametrize("text", ["双周例会", "每两周调度一次", "隔周通报", "两周组织一次例会"])
def test_every_two_weeks_is_biweekly(text: str) -> None:
    reading = read(text, Context(year=2026))
    assert reading.understood
    assert [d.cycle for d in reading.deadlines] == ["biweekly"]


@pytest.mark.parametrize("text", ["两周内完成整改", "订阅双周刊", "庆祝建馆两周年"])
def test_two_weeks_that_are_no_rhythm(text: str) -> None:
    assert "biweekly" not in [d.cycle for d in read(text, Context(year=2026)).deadlines]


@pytest.mark.parametrize(("cell", "dates"), [
    ("6月底前完成方案，年底前全面完成", [date(2026, 6, 30), date(2026, 12, 31)]),
    ("9月底前完成试点，2027年6月底前全面推开", [date(2026, 9, 30), date(2027, 6, 30)]),
    ("2026年10月底前完成初验,12月20日前完成终验", [date(2026, 10, 31), date(2026, 12, 20)]),
])
def test_one_cell_with_two_deadline_words_gives_both_dates(cell: str, dates: list[date]) -> None:
    # A stage and the final date in one 完成时限 cell: both are deadlines of the task; keeping
    # only one would drop a reminder in silence.
    reading = read(cell, Context(year=2026, issued=date(2026, 3, 1)))
    assert reading.understood
    assert [(d.kind, d.dates) for d in reading.deadlines] == [("once", (x,)) for x in dates]
    found = task_deadlines(Task(id="1", title="推进试点", deadline_text=cell),
                           Context(year=2026, issued=date(2026, 3, 1)))
    assert [d.dates[0] for d in found] == dates


# ---- Corpus round 23b: forms found on sources the corpus had not used -------------------------

@pytest.mark.parametrize("text", ["每月初报送上月进展", "学校办公室在每年初制定年度督办计划", "每季度初召开",
                                  "每月月初", "每年年初", "每周初", "每半年初", "每月月中报送"])
def test_the_start_of_each_period_names_no_day(text: str) -> None:
    # 每月初 was read as each month's end (a rhythm word with 初 dropped): weeks off, unflagged.
    reading = read(text, Context(year=2026))
    assert not reading.understood and reading.ambiguous
    assert not [d for d in reading.deadlines if d.kind != "none"]


@pytest.mark.parametrize(("text", "cycle"), [("每年初中毕业生", "yearly"), ("每月初审一次", "monthly")])
def test_chu_inside_a_longer_word_is_no_start_of_period(text: str, cycle: str) -> None:
    reading = read(text, Context(year=2026))
    assert not reading.ambiguous and [d.cycle for d in reading.deadlines] == [cycle]


@table([
    ("每月上旬报送上月进展", Context(year=2026), ["monthly:" + ",".join(
        f"{m:02d}-10" for m in range(1, 13)) + "@2026"]),
    ("每月中旬报送", Context(year=2026), ["monthly:" + ",".join(
        f"{m:02d}-20" for m in range(1, 13)) + "@2026"]),
    ("每月下旬", C21, [MONTHLY + "@2021"]),
    ("限于双月之十日前送达", Context(year=2026), [
        "bimonthly:02-10,04-10,06-10,08-10,10-10,12-10@2026"]),
    ("单月十日前送达", Context(year=2026), ["bimonthly:01-10,03-10,05-10,07-10,09-10,11-10@2026"]),
    ("原则上,会议在每季度初月的20日前后召开", Context(year=2026), [
        "quarterly:01-20,04-20,07-20,10-20@2026"]),
])
def test_a_day_within_each_period(text: str, ctx: Context, expected: list[str]) -> None:
    reading = read(text, ctx)
    assert reading.understood and show(list(reading.deadlines)) == expected


C23 = Context(year=2023, issued=date(2023, 9, 20))


@pytest.mark.parametrize("text", ["截至2022年底,已完成1275项", "截至10月31日,65件民生实事已完成26件",
                                  "截至三季度末,其中24个事项已提前完成全年任务", "截止到9月底,已完成",
                                  "本报告所列数据统计期限为2016年1月1日至2016年12月31日止"])
def test_a_progress_date_is_no_deadline(text: str) -> None:
    # 截至2022年底,已完成… reports progress as of a date; it was read as that date's deadline.
    reading = read(text, C23)
    assert reading.understood and [d.kind for d in reading.deadlines] == ["none"]


@pytest.mark.parametrize(("text", "flagged"), [
    ("截至8月底,15项重点民生实事39个项目持续推进落实", "截至8月底,"),
    ("1至7月,累计完成投资12.09亿元", "1至7月,"),
])
def test_a_clause_opening_with_a_past_period_is_reported(text: str, flagged: str) -> None:
    reading = read(text, C23)
    assert not reading.understood and [a[0] for a in reading.ambiguous] == [flagged]


@table([
    ("申报时间截至6月30日", Context(year=2023), ["2023-06-30"]),
    ("截至6月30日前报送", Context(year=2023), ["2023-06-30"]),
    ("截至目前已完成60%,剩余部分12月底前完成", C23, ["2023-12-31"]),
    ("力争1-7月累计完成投资12亿元以上", Context(year=2023), ["2023-07-31"]),
])
def test_a_deadline_written_with_jiezhi_or_a_range_still_reads(text: str, ctx: Context,
                                                              expected: list[str]) -> None:
    reading = read(text, ctx)
    assert reading.understood and show(list(reading.deadlines)) == expected


@table([
    ("每年一季度", Context(year=2026), ["yearly:03-31@2026"]),
    ("每年第一季度末前", Context(year=2026), ["yearly:03-31@2026"]),
    ("每年二季度末前", Context(year=2026), ["yearly:06-30@2026"]),
    ("每年上半年", Context(year=2026), ["yearly:06-30@2026"]),
    ("每年下半年", Context(year=2026), ["yearly:12-31@2026"]),
    ("每年7月开展安全生产月活动", Context(year=2026), ["yearly:07-31@2026"]),
    ("每年第一季度结束后10日内", Context(year=2026), ["quarterly:03-31@2026+10d"]),
])
def test_a_part_of_each_year_is_one_yearly_date(text: str, ctx: Context, expected: list[str]) -> None:
    # 每年一季度 gave a yearly 12-31 series beside a one-off 03-31; 每年第一季度结束后10日内 an
    # extra yearly 12-31 beside its own date.
    reading = read(text, ctx)
    assert reading.understood and show(list(reading.deadlines)) == expected


@pytest.mark.parametrize(("text", "flagged"), [
    ("每年年中", "每年年中"), ("年中、年底分别报送", "年中"), ("今年年中", "今年年中"),
    ("每年汛前", "汛前"), ("确保汛期前全面完成工程施工任务", "汛期前"),
])
def test_mid_year_and_the_flood_season_are_reported(text: str, flagged: str) -> None:
    # 每年年中 was read as each year's 12-31, and 年中、年底 kept only the year's end.
    reading = read(text, Context(year=2026))
    assert not reading.understood and flagged in [a[0] for a in reading.ambiguous]


@pytest.mark.parametrize("text", ["今年中央一号文件", "一年中最热的时候", "开展汛前检查", "做好汛前准备工作"])
def test_nian_zhong_and_xun_qian_inside_other_words_are_not_reported(text: str) -> None:
    assert not read(text, Context(year=2026)).ambiguous


@table([
    ("每月最后一个工作日", C21, [MONTHLY + "@2021"]),
    ("每月最后一周", C21, [MONTHLY + "@2021"]),
    ("每季度最后一个月", C21, [QUARTERLY + "@2021"]),
    ("每年最后一个月", C21, [YEARLY + "@2021"]),
])
def test_the_last_part_of_each_period_is_its_end(text: str, ctx: Context, expected: list[str]) -> None:
    # 每月最后一个工作日 also gave an event limit of 1 workday (后一个工作日 inside 最后).
    reading = read(text, ctx)
    assert reading.understood and show(list(reading.deadlines)) == expected


@pytest.mark.parametrize("text", ["最后一个工作日", "进度落后一周", "工期滞后一个月", "国庆前后一周"])
def test_hou_inside_a_longer_word_counts_no_limit(text: str) -> None:
    assert not [d for d in read(text, C21).deadlines if d.kind == "event"]


def test_each_year_before_a_lunar_festival_is_reported() -> None:
    # It was read as each year's 12-31 and this year's festival eve.
    reading = read("每年春节前", C21)
    assert not reading.understood and [a[0] for a in reading.ambiguous] == ["每年春节前"]


def test_a_school_year_is_no_range_of_years() -> None:
    # 2023-2024学年 ran from September to summer; it was read as 2023-01-01 to 2024-12-31.
    reading = read("2023-2024学年", C21)
    assert not reading.understood and not reading.deadlines
