"""From tasks and parsed deadlines to dated occurrences (reminder/occurrences.py).

Aimed at behaviours the planner tests reach only in passing (the mutation run of
2026-11-23 found them unguarded): which occurrences exist, on which day, in what order,
and what each carries for the planner.
"""

from datetime import date
from pathlib import Path

import pytest

from reminder.models import Deadline, Offset
from reminder.parse.deadlines import Context
from reminder.plan.calendar import load_calendar
from reminder.plan.folder import Plan, load_plan
from reminder.plan.occurrences import (
    after_event,
    context,
    effective_task,
    nominal_dates,
    occurrences,
)

CAL = load_calendar()
HEADER = "序号,工作任务,牵头单位,配合单位,完成时限\n"


def make(tmp_path: Path, rows: str, extra: str = "", *, issued: str = "2026-01-05",
         rules: str = "") -> Plan:
    folder = tmp_path / "p"
    folder.mkdir(exist_ok=True)
    head = f'title = "测试方案"\nyear = 2026\nissued = {issued}\n' if issued else (
        'title = "测试方案"\nyear = 2026\n')
    (folder / "plan.toml").write_text(head + extra, encoding="utf-8")
    (folder / "tasks.csv").write_text(HEADER + rows, encoding="utf-8")
    if rules:
        (folder / "rules").mkdir(exist_ok=True)
        (folder / "rules" / "local.toml").write_text(rules, encoding="utf-8")
    return load_plan(folder)


def by_task(plan: Plan, **kw) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for occ in occurrences(plan, **kw):
        found.setdefault(occ.task, []).append(occ.due.isoformat())
    return found


def test_context_carries_year_issue_date_and_reporting_cycle(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,建立台账,办公室,,年底前\n", 'reporting_cycle = "monthly"\n')
    assert context(plan) == Context(year=2026, issued=date(2026, 1, 5),
                                    reporting_cycle="monthly")


def test_a_month_day_without_a_year_falls_after_the_issue_date(tmp_path: Path) -> None:
    """The issue date reaches the parser: 3月31日 in a plan issued in June is next year's."""
    plan = make(tmp_path, "1,报送材料,办公室,,3月31日前\n", issued="2026-06-10")
    assert by_task(plan) == {"1": ["2027-03-31"]}


def test_units_override_makes_the_given_units_lead_and_drops_support(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,建立台账,办公室,法规科,年底前\n",
                '[tasks."1"]\nunits = ["信息科", "财务科"]\n')
    task = effective_task(plan, plan.tasks[0])
    assert task.lead == ("信息科", "财务科")
    assert task.support == ()
    assert task.deadline_text == "年底前"  # untouched by a units-only override


def test_deadline_override_replaces_the_cell(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,建立台账,办公室,,年底前\n", '[tasks."1"]\ndeadline = "6月30日前"\n')
    assert by_task(plan) == {"1": ["2026-06-30"]}


def test_a_plan_rule_and_the_default_deadline_are_used(tmp_path: Path) -> None:
    rules = ('[[rule]]\nname = "汛前"\npattern = "汛前"\ndate = "day"\nmonth = 5\nday = 31\n'
             'examples = ["汛前完成"]\n')
    plan = make(tmp_path, "1,清理河道,水利科,,汛前完成\n2,建立台账,办公室,,\n",
                'default_deadline = "9月30日前"\n', rules=rules)
    assert by_task(plan) == {"1": ["2026-05-29"], "2": ["2026-09-30"]}  # 05-31 is a Sunday


@pytest.mark.parametrize(
    ("offset", "event", "expected"),
    [
        pytest.param(Offset(n=5, unit="day"), "2026-09-28", "2026-10-03", id="days-forward"),
        pytest.param(Offset(n=5, unit="workday"), "2026-09-28", "2026-10-10", id="workdays-over-holiday"),
        pytest.param(Offset(n=1, unit="month"), "2026-01-31", "2026-02-28", id="month-end-clamped"),
    ],
)
def test_after_event(offset: Offset, event: str, expected: str) -> None:
    assert after_event(date.fromisoformat(event), offset, CAL) == date.fromisoformat(expected)


def test_recurring_deadline_after_each_period_counts_real_workdays() -> None:
    """每季度结束后10个工作日内: the nominal date is 10 workdays after each quarter's end,
    on the working calendar (the National Day week is not counted, its make-up Saturday is)."""
    deadline = Deadline(kind="recurring", text="每季度结束后10个工作日内", rule="r", source="t",
                        cycle="quarterly",
                        dates=(date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30)),
                        after=Offset(n=10, unit="workday"))
    assert nominal_dates(deadline, CAL) == (date(2026, 4, 15), date(2026, 7, 14),
                                            date(2026, 10, 20))
    once = Deadline(kind="once", text="9月30日前", rule="r", source="t", dates=(date(2026, 9, 30),),
                    after=Offset(n=10, unit="workday"))
    assert nominal_dates(once, CAL) == (date(2026, 9, 30),)  # ``after`` is for rhythms only


def test_each_occurrence_carries_what_the_planner_needs(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,核查栏目,办公室,,每季度\n2,建立台账,办公室,,2026年10月10日\n")
    occs = occurrences(plan)
    quarterly = [o for o in occs if o.task == "1"]
    assert [o.due.isoformat() for o in quarterly] == [
        "2026-03-31", "2026-06-30", "2026-09-30", "2026-12-31"]
    assert {(o.plan, o.kind, o.cycle) for o in quarterly} == {(plan.id, "recurring", "quarterly")}
    assert all(o.rule for o in quarterly)
    assert [o.previous_due for o in quarterly] == [None] + [o.due for o in quarterly[:-1]]
    assert [o.next_due for o in quarterly] == [o.due for o in quarterly[1:]] + [None]
    (once,) = [o for o in occs if o.task == "2"]
    assert (once.kind, once.nominal, once.due) == ("once", date(2026, 10, 10), date(2026, 10, 10))
    assert once.previous_due is None and once.next_due is None and once.rule


def test_the_shift_policy_is_applied(tmp_path: Path) -> None:
    """05-31 is a Sunday: the default policy moves it back, ``shift = "after"`` forward."""
    rows = "1,建立台账,办公室,,2026年5月31日\n"
    assert by_task(make(tmp_path, rows)) == {"1": ["2026-05-29"]}
    later = make(tmp_path, rows, '[policy]\nshift = "after"\n')
    assert by_task(later) == {"1": ["2026-06-01"]}


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        pytest.param("2026-06-30", ["2026-06-30", "2026-09-30", "2026-12-31"], id="due-on-issue-day"),
        pytest.param("2026-07-01", ["2026-09-30", "2026-12-31"], id="issued-after"),
    ],
)
def test_occurrences_before_the_issue_date_are_history(
    tmp_path: Path, issued: str, expected: list[str]
) -> None:
    plan = make(tmp_path, "1,核查栏目,办公室,,每季度\n", issued=issued)
    assert by_task(plan) == {"1": expected}


def test_a_task_without_a_date_does_not_stop_the_next_deadline(tmp_path: Path) -> None:
    """An event deadline with no event yet, and a no-date phrase, are skipped one by one:
    the task's other deadlines, and the next tasks, still fall due."""
    plan = make(tmp_path, "1,办理申请,办公室,,收到后5个工作日内；2026年6月30日前\n"
                          "2,回应舆情,办公室,,及时；2026年9月30日前\n"
                          "3,建立台账,办公室,,2026年10月30日\n")
    assert by_task(plan) == {"1": ["2026-06-30"], "2": ["2026-09-30"], "3": ["2026-10-30"]}


def test_an_event_date_dates_the_event_deadline(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,办理申请,办公室,,收到后5日内\n")
    assert by_task(plan) == {}
    found = occurrences(plan, events={(plan.id, "1"): date(2026, 9, 28)})
    assert [(o.kind, o.nominal, o.due) for o in found] == [
        # 10-03 in the holiday: a limit ends on the first workday after it (limit_shift)
        ("event", date(2026, 10, 3), date(2026, 10, 8))]
    by_toml = make(tmp_path, "1,办理申请,办公室,,收到后5日内\n",
                   '[tasks."1"]\nevent = 2026-09-28\n')
    assert by_task(by_toml) == {"1": ["2026-10-08"]}


def test_plan_dates_become_occurrences_of_their_own(tmp_path: Path) -> None:
    extra = ('[[dates]]\nname = "季度报送"\ndeadline = "每季度"\n'
             '[[dates]]\nname = "日常"\ndeadline = "及时"\n'
             '[[dates]]\nname = "半年总结"\ndeadline = "7月10日前"\n')
    plan = make(tmp_path, "1,建立台账,办公室,,2026年12月31日\n", extra)
    dated = [o for o in occurrences(plan) if o.task.startswith("@")]
    assert sorted({o.task for o in dated}) == ["@半年总结", "@季度报送"]  # 及时 has no date
    assert {(o.plan, o.kind) for o in dated} == {(plan.id, "once")}
    assert all(o.rule for o in dated)
    assert [o.due.isoformat() for o in dated if o.task == "@季度报送"] == [
        "2026-03-31", "2026-06-30", "2026-09-30", "2026-12-31"]


def test_one_day_named_twice_is_one_occurrence_and_done_ones_are_dropped(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,2026年底前建立台账,办公室,,2026年底\n2,核查,办公室,,每季度\n")
    assert by_task(plan)["1"] == ["2026-12-31"]
    done = {(plan.id, "2", date(2026, 6, 30))}
    assert by_task(plan, done=done)["2"] == ["2026-03-31", "2026-09-30", "2026-12-31"]


def test_same_day_occurrences_are_in_task_number_order(tmp_path: Path) -> None:
    """Numbers by value (2 before 100), then ids that are not numbers (a workbook's 区县-3)."""
    plan = make(tmp_path, "区县-3,甲,办公室,,2026年6月30日\n100,乙,办公室,,2026年6月30日\n"
                          "2,丙,办公室,,2026年6月30日\n")
    assert [o.task for o in occurrences(plan)] == ["2", "100", "区县-3"]


# -- limits counted after a moment (issue 23 §3) --------------------------------------------


def test_a_limit_after_a_quarter_never_falls_back_onto_the_quarter_it_reports(
        tmp_path: Path) -> None:
    """每个季度结束后5日内: 10-05 lies in the National Day holiday. The old single
    ``shift = "before"`` moved it back to 09-30, the last day of the quarter reported on;
    a limit ends on the first workday after the holiday (民法典 第二百零三条)."""
    plan = make(tmp_path, "1,报送季度进展,办公室,,每个季度结束后5日内报送\n")
    dues = by_task(plan)["1"]
    assert "2026-09-30" not in dues
    assert dues == ["2026-04-07", "2026-07-06", "2026-10-08", "2027-01-05"]


def test_calendar_deadlines_keep_moving_before_a_holiday(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,报送材料,办公室,,10月3日前\n")
    assert by_task(plan) == {"1": ["2026-09-30"]}


def test_even_a_before_limit_policy_never_reaches_the_moment(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,报送季度进展,办公室,,每个季度结束后5日内报送\n",
                '[policy]\nlimit_shift = "before"\n')
    dues = by_task(plan)["1"]
    assert all(due > end for due, end in zip(dues, ["2026-03-31", "2026-06-30", "2026-09-30",
                                                     "2026-12-31"], strict=True))
    assert dues[2] == "2026-10-08"


def test_an_event_limit_on_a_holiday_ends_after_it(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,答复来信,办公室,,收到后3日内\n",
                '[tasks."1"]\nevent = 2026-09-29\n')
    assert by_task(plan) == {"1": ["2026-10-08"]}


def test_each_quarter_its_own_limit_and_none_for_a_quarter_not_reported(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,报送统计数据,办公室,,第一季度结束后10日内、第二季度结束后8日内、"
                          "第三季度结束后5日内报送，第四季度免报\n")
    # 04-10 Friday; 07-08 Wednesday; 10-05 is in the holiday: the first workday after it.
    assert by_task(plan) == {"1": ["2026-04-10", "2026-07-08", "2026-10-08"]}


def test_a_plans_school_calendar_places_each_term_report(tmp_path: Path) -> None:
    """每学期: the default terms end on 01-15 and 07-15; a plan's own term_ends move them."""
    row = "1,开展应急疏散演练,教育局,,每学期至少开展一次\n"
    assert by_task(make(tmp_path, row)) == {"1": ["2026-01-15", "2026-07-15"]}
    plan = make(tmp_path, row, '[policy]\nterm_ends = ["01-23", "07-03"]\n')
    assert context(plan).term_ends == ((1, 23), (7, 3))
    assert by_task(plan) == {"1": ["2026-01-23", "2026-07-03"]}


def test_every_other_week_is_every_other_sunday(tmp_path: Path) -> None:
    due = by_task(make(tmp_path, "1,项目推进会,发改局,,双周调度\n", issued=""))["1"]
    # 2026-01-04 is a Sunday worked in lieu of New Year's Day, so it stays.
    assert len(due) == 26 and due[0] == "2026-01-04"


def test_a_cell_with_a_stage_and_a_final_date_is_reminded_for_both(tmp_path: Path) -> None:
    plan = make(tmp_path, "1,推进试点,发改局,,6月底前完成方案，年底前全面完成\n")
    assert by_task(plan) == {"1": ["2026-06-30", "2026-12-31"]}


def test_a_weekly_deadline_stays_in_its_own_week(tmp_path: Path) -> None:
    # 2026 春节: 02-15 to 02-23 off, 02-14 (Saturday) a make-up workday. Moving "before"
    # alone put the holiday Friday 02-20 on 02-14, the day after 02-13's report, and both
    # holiday Mondays 02-16 and 02-23 on that same 02-14.
    plan = make(tmp_path, "1,周报,办公室,,每周五前\n2,周一报,办公室,,每周一\n")
    due = by_task(plan)
    assert [d for d in due["1"] if "2026-02-10" <= d <= "2026-02-28"] == ["2026-02-13", "2026-02-27"]
    assert [d for d in due["2"] if "2026-02-10" <= d <= "2026-03-03"] == [
        "2026-02-24", "2026-03-02"]  # 02-09 is earlier; the week of 02-16 has no workday
    # 国庆: Friday 10-02 still moves back to 09-30 within its week; Monday 10-05 cannot,
    # so it moves forward to 10-08, the week's first workday.
    assert "2026-09-30" in due["1"] and "2026-10-08" in due["2"] and "2026-09-30" not in due["2"]
    for days in due.values():
        weeks = [date.fromisoformat(d).isocalendar()[:2] for d in days]
        assert len(weeks) == len(set(weeks))  # never two in one week
