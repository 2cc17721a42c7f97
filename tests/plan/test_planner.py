from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminder.models import Notice
from reminder.plan.folder import Plan, load_plan
from reminder.plan.occurrences import occurrences
from reminder.plan.planner import plan_notices, plan_window

BEIJING = ZoneInfo("Asia/Shanghai")
HEADER = "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限\n"
TASKS = """\
1,,公开规范性文件,,法规科,办公室,,2021年10月10日
2,,更新公开目录,,办公室,,,长期
3,,办理转办申请,,法规科,,,5个工作日内
4,,回应舆情,,办公室,,,及时
5,,核查栏目,,法规科,,,每季度
6,,发布年度报告,,办公室,,,次年1月底前
7,,建立台账,,,,,2021年底
8,,清理账号,,信息科,,,2021年8月1日
"""
PLAN = """\
title = "测试局2021年政务公开工作要点分工方案"
year = 2021
issued = 2021-07-23
coordinator = "公开办"
escalate_to = ["分管领导"]

[[dates]]
name = "三季度报送"
deadline = "今年10月10日前"

[units."法规科"]
email = ["fagui@example.org"]

[units."办公室"]
wecom = "办公室群"
wecom_users = ["liwei"]
wecom_mobiles = ["13800000000"]

[units."公开办"]
email = ["gongkai@example.org"]

[units."分管领导"]
email = ["lingdao@example.org"]
"""


def make(tmp_path: Path, extra: str = "") -> Plan:
    folder = tmp_path / "p2021"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.toml").write_text(PLAN + extra, encoding="utf-8")
    (folder / "tasks.csv").write_text(HEADER + TASKS, encoding="utf-8")
    return load_plan(folder)


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return make(tmp_path)


def notices(plan: Plan, **kw) -> list[Notice]:
    start, end = plan_window([plan])
    return plan_notices([plan], start=kw.pop("start", start), end=kw.pop("end", end), **kw)


def days(items: list[Notice], task: str, stage: str, recipient: str | None = None) -> list[str]:
    return sorted({n.send_at.date().isoformat() for n in items
                   if n.task == task and n.stage == stage
                   and (recipient is None or n.recipient == recipient)})


def test_occurrences_use_the_working_calendar(plan: Plan) -> None:
    due = {(o.task, o.due.isoformat()) for o in occurrences(plan)}
    assert ("1", "2021-10-09") in due  # Sunday 10-10 → Saturday make-up workday
    assert ("6", "2022-01-30") in due  # Spring Festival eve → Sunday make-up workday
    assert ("7", "2021-12-31") in due
    assert ("2", "2021-09-30") in due and ("2", "2021-12-31") in due
    assert not any(t == "2" and d < "2021-07-23" for t, d in due)  # nothing before issue
    assert not any(t in ("3", "4") for t, _ in due)  # no event yet; 及时 has no date
    assert ("@三季度报送", "2021-10-09") in due


def test_full_policy_for_a_once_deadline(plan: Plan) -> None:
    items = notices(plan)
    assert days(items, "1", "remind", "法规科") == ["2021-09-09", "2021-09-29", "2021-09-30", "2021-10-08"]
    assert days(items, "1", "due") == ["2021-10-09"]
    assert days(items, "1", "overdue") == ["2021-10-11"]
    assert days(items, "1", "escalate")[:2] == ["2021-10-14", "2021-10-21"]


def test_stage_recipients(plan: Plan) -> None:
    items = [n for n in notices(plan) if n.task == "1"]
    by_stage = {s: {n.recipient for n in items if n.stage == s} for s in ("remind", "overdue", "escalate")}
    assert by_stage["remind"] == {"法规科", "办公室"}
    assert by_stage["overdue"] == {"法规科", "公开办"}
    assert by_stage["escalate"] == {"分管领导"}


def test_without_remind_support_only_the_lead_unit_is_reminded(tmp_path: Path) -> None:
    items = notices(make(tmp_path, "\n[policy]\nremind_support = false\n"))
    assert {n.recipient for n in items if n.task == "1" and n.stage == "remind"} == {"法规科"}


# Without escalate_to, escalations go to the coordinator; with neither, to nobody.
@pytest.mark.parametrize(("coordinator", "expected"), [
    ('coordinator = "公开办"\n', {"公开办"}), ("", set()),
], ids=["coordinator-instead", "nobody"])
def test_escalation_falls_back_to_the_coordinator(tmp_path: Path, coordinator: str,
                                                  expected: set[str]) -> None:
    make(tmp_path)
    text = PLAN.replace('escalate_to = ["分管领导"]\n', "").replace('coordinator = "公开办"\n',
                                                                   coordinator)
    (tmp_path / "p2021" / "plan.toml").write_text(text, encoding="utf-8")
    items = notices(load_plan(tmp_path / "p2021"))
    assert {n.recipient for n in items if n.task == "1" and n.stage == "escalate"} == expected


def test_channels_carry_addresses_and_mentions(plan: Plan) -> None:
    items = [n for n in notices(plan) if n.task == "1" and n.stage == "remind"]
    wecom = next(n for n in items if n.recipient == "办公室")
    assert (wecom.channel, wecom.addresses, wecom.mentions, wecom.mobiles) == (
        "wecom", ("办公室群",), ("liwei",), ("13800000000",))
    email = next(n for n in items if n.recipient == "法规科")
    assert (email.channel, email.addresses) == ("email", ("fagui@example.org",))


def test_unit_without_contact_is_planned_on_no_channel(plan: Plan) -> None:
    items = [n for n in notices(plan) if n.task == "8" and n.stage == "due"]
    assert [(n.recipient, n.channel, n.addresses) for n in items] == [("信息科", "none", ())]


def test_reminders_before_the_issue_date_are_dropped(plan: Plan) -> None:
    # 2021-08-01 is a Sunday, so due Friday 07-30; 30 days before that is before the plan
    # was issued on 2021-07-23, 7 days before is the issue date itself.
    assert days(notices(plan), "8", "due") == ["2021-07-30"]
    assert days(notices(plan), "8", "remind") == ["2021-07-23", "2021-07-27", "2021-07-29"]


@pytest.fixture
def monthly(tmp_path: Path) -> list[Notice]:
    """The remind notices of a monthly task (task 9) in the test plan."""
    make(tmp_path)
    with (tmp_path / "p2021" / "tasks.csv").open("a", encoding="utf-8") as f:
        f.write("9,,报送政务信息,,法规科,,,每月\n")
    return [n for n in notices(load_plan(tmp_path / "p2021"))
            if n.task == "9" and n.stage == "remind" and n.recipient == "法规科"]


# A monthly task's "30d" reminder would fall in the previous month's period: on or before
# that period's due date it is dropped (it would read as a reminder for the wrong month).
@pytest.mark.parametrize(("due", "thirty_days_before", "kept"), [
    ("2021-08-31", "2021-07-30", False),  # 08-01 is a Sunday → Fri 07-30, July's due date itself
    ("2021-09-30", "2021-08-31", False),  # August's due date itself
    ("2021-10-29", "2021-09-29", False),  # the day before September's due date 09-30
    ("2021-11-30", "2021-10-29", False),  # 10-31 is a Sunday → Fri 10-29, October's due date
    ("2021-12-31", "2021-12-01", True),   # the day after November's due date 11-30
], ids=["shifted-onto-previous-due", "on-previous-due", "before-previous-due",
        "shifted-onto-previous-due-2", "day-after-previous-due"])
def test_reminders_on_or_before_the_previous_recurring_due_date_are_dropped(
        monthly: list[Notice], due: str, thirty_days_before: str, kept: bool) -> None:
    steps = {n.send_at.date().isoformat(): n.step for n in monthly if n.due.isoformat() == due}
    assert (steps.get(thirty_days_before) == "30d") is kept
    assert len(steps) == (4 if kept else 3)  # 7d, 3wd and 1wd always fall inside the period


def test_no_recurring_reminder_reaches_back_into_the_previous_period(monthly: list[Notice]) -> None:
    dues = sorted({n.due for n in monthly})
    assert len(dues) == 6  # July to December
    for previous, due in pairwise(dues):
        assert all(n.send_at.date() > previous for n in monthly if n.due == due)


# Offsets in the policy: "1m" counts calendar months, "1d" calendar days (then off a holiday).
@pytest.mark.parametrize(("policy", "task", "stage", "expected"), [
    ('remind_before = ["1m"]', "7", "remind", ["2021-11-30"]),  # due 12-31
    ('remind_before = ["2m"]', "7", "remind", ["2021-10-29"]),  # 10-31 is a Sunday → Fri 10-29
    ('escalate_after = "1m"\nescalate_every = "1m"', "1", "escalate",
     ["2021-11-11", "2021-12-13"]),  # overdue Mon 10-11; 12-11 is a Saturday → Mon 12-13
    # Calendar days after: 10-10 is a Sunday → the next workday; 10 days on from Mon 10-11.
    ('overdue_after = "1d"\nescalate_after = "10d"', "1", "overdue", ["2021-10-11"]),
    ('overdue_after = "1d"\nescalate_after = "10d"', "1", "escalate", ["2021-10-21", "2021-10-28"]),
    # "0d" would fall on the due day itself, which the "due" notice covers: no reminder then.
    ('remind_before = ["0d", "1wd"]', "1", "remind", ["2021-10-08"]),
    # Deadlines not shifted: due Sunday 10-10, yet the due-day and report notices go out on the
    # workday before (Saturday 10-09 is a make-up workday), never after the deadline.
    ('shift = "none"', "1", "due", ["2021-10-09"]),
], ids=["remind-1m", "remind-2m-shifted", "escalate-monthly", "overdue-1d-shifted-after",
        "escalate-10d", "remind-0d-dropped", "due-notice-unshifted-deadline"])
def test_policy_offsets_place_each_notice(tmp_path: Path, policy: str, task: str, stage: str,
                                             expected: list[str]) -> None:
    plan = make(tmp_path, f"\n[policy]\n{policy}\n")
    assert days(notices(plan), task, stage)[:2] == expected


def test_dry_run_window_starts_at_issue_or_year_start_and_ends_a_month_after_the_last_due(
        tmp_path: Path, plan: Plan) -> None:
    assert plan_window([plan]) == (date(2021, 7, 23), date(2022, 1, 30) + timedelta(days=30))
    (tmp_path / "p2021" / "plan.toml").write_text(PLAN.replace("issued = 2021-07-23\n", ""),
                                                  encoding="utf-8")
    assert plan_window([load_plan(tmp_path / "p2021")])[0] == date(2021, 1, 1)
    # A plan with nothing dated yet still has a window: to the year's end, plus the tail.
    (tmp_path / "p2021" / "tasks.csv").write_text(HEADER + "4,,回应舆情,,办公室,,,及时\n",
                                                  encoding="utf-8")
    (tmp_path / "p2021" / "plan.toml").write_text(PLAN.split("[[dates]]")[0] + PLAN.split(
        'deadline = "今年10月10日前"\n')[1], encoding="utf-8")
    assert plan_window([load_plan(tmp_path / "p2021")]) == (date(2021, 7, 23), date(2022, 1, 30))


# A plan date (三季度报送, 10-10, a Sunday): reminders, then the report notice on the workday
# before the deadline (Saturday 10-09 is a make-up workday), even when deadlines are not shifted.
@pytest.mark.parametrize(("extra", "one_workday_before"), [
    ("", "2021-10-08"),  # due shifted to Sat 10-09 first
    ('\n[policy]\nshift = "none"\n', "2021-10-09"),  # due stays Sun 10-10
], ids=["shifted-deadline", "unshifted-deadline"])
def test_plan_date_reminders_then_the_report_notice(tmp_path: Path, extra: str,
                                                     one_workday_before: str) -> None:
    steps = sorted((n.send_at.date().isoformat(), n.stage, n.step)
                   for n in notices(make(tmp_path, extra))
                   if n.task == "@三季度报送" and n.recipient == "法规科")
    assert steps == sorted([("2021-09-30", "report", "7d"), (one_workday_before, "report", "1wd"),
                            ("2021-10-09", "report", "0")])


def test_each_notice_names_its_occurrence_by_the_nominal_date(plan: Plan) -> None:
    # 2021-10-10 is a Sunday: due (and every notice's date) is Saturday's make-up workday,
    # but a completion recorded against "2021-10-10" must still find these notices.
    items = [n for n in notices(plan) if n.task == "1"]
    assert {(n.due.isoformat(), n.occurrence) for n in items} == {("2021-10-09", "2021-10-10")}


def test_task_without_units_goes_to_coordinator(plan: Plan) -> None:
    assert {n.recipient for n in notices(plan) if n.task == "7" and n.stage == "remind"} == {"公开办"}


def test_ongoing_tasks_get_only_reporting_reminders(plan: Plan) -> None:
    items = [n for n in notices(plan) if n.task == "2"]
    assert {n.stage for n in items} == {"remind"}
    assert days(items, "2", "remind") == ["2021-09-23", "2021-09-29", "2021-12-24", "2021-12-30"]


def test_recurring_escalation_stops_at_next_period(plan: Plan) -> None:
    escalations = days(notices(plan), "5", "escalate")
    september = [d for d in escalations if d < "2021-12-31"]
    assert september and max(september) < "2021-12-31"
    # overdue 10-08 (after National Day); 3 workdays on, counting Saturday 10-09's make-up day
    assert september[0] == "2021-10-12"


def test_recurring_escalation_runs_until_the_day_before_the_next_due(tmp_path: Path) -> None:
    plan = make(tmp_path, '\n[policy]\nescalate_every = "1wd"\n')  # every workday
    september = sorted(n.send_at.date().isoformat() for n in notices(plan)
                       if n.task == "5" and n.stage == "escalate" and n.due == date(2021, 9, 30))
    assert september[-1] == "2021-12-30"  # the next period is due Friday 12-31


def test_step_names_of_a_once_deadline(plan: Plan) -> None:
    # The step is part of each notice's key: renaming one re-sends what was already sent.
    steps = {(n.stage, n.step) for n in notices(plan) if n.task == "1" and n.recipient == "法规科"}
    assert {s for s in steps if s[0] != "escalate"} == {
        ("remind", "30d"), ("remind", "7d"), ("remind", "3wd"), ("remind", "1wd"),
        ("due", "0"), ("overdue", "1wd")}
    assert ("escalate", "#1") not in steps  # 法规科 is not escalated to
    escalations = sorted((n.send_at, n.step) for n in notices(plan)
                         if n.task == "1" and n.stage == "escalate")
    assert [step for _, step in escalations[:2]] == ["#1", "#2"]


def test_event_relative_deadline_counts_workdays(tmp_path: Path) -> None:
    plan = make(tmp_path, '\n[tasks."3"]\nevent = 2021-09-30\n')
    assert days(notices(plan), "3", "due") == ["2021-10-13"]
    assert days(notices(plan, events={(plan.id, "3"): date(2021, 11, 1)}), "3", "due") == ["2021-11-08"]


# A range's deadline is its end; reminders for work whose period has not opened are noise.
@pytest.mark.parametrize(("cell", "expected"), [
    # Due Wed 10-20; 30 days before (09-20) is before the range opens on 10-08.
    ("10月8日至20日", ["2021-10-13", "2021-10-15", "2021-10-19"]),
    # The same end without a start keeps the 30-day reminder (09-18: 09-20 falls in a holiday).
    ("10月20日", ["2021-09-18", "2021-10-13", "2021-10-15", "2021-10-19"]),
    ("从10月8日开始,10月20日前完成", ["2021-10-13", "2021-10-15", "2021-10-19"]),
], ids=["range", "no-range", "start-then-deadline"])
def test_no_reminder_before_the_range_opens(tmp_path: Path, cell: str, expected: list[str]) -> None:
    plan = make(tmp_path, f'\n[tasks."1"]\ndeadline = "{cell}"\n')
    items = notices(plan)
    assert days(items, "1", "remind", "法规科") == expected
    assert days(items, "1", "due") == ["2021-10-20"]


def test_none_kind_sends_nothing(plan: Plan) -> None:
    assert not [n for n in notices(plan) if n.task == "4"]


def test_plan_dates_go_to_every_unit(plan: Plan) -> None:
    items = [n for n in notices(plan) if n.task == "@三季度报送"]
    assert {n.stage for n in items} == {"report"}
    assert {n.recipient for n in items} == {"法规科", "办公室", "信息科"}
    assert days(items, "@三季度报送", "report") == ["2021-09-30", "2021-10-08", "2021-10-09"]


def test_skip_override_removes_the_task(tmp_path: Path) -> None:
    plan = make(tmp_path, '\n[tasks."1"]\nskip = true\n')
    assert not [n for n in notices(plan) if n.task == "1"]


def test_deadline_override_replaces_the_cell(tmp_path: Path) -> None:
    plan = make(tmp_path, '\n[tasks."1"]\ndeadline = "2021年11月30日"\n')
    assert days(notices(plan), "1", "due") == ["2021-11-30"]


def test_done_occurrence_gets_no_more_notices(plan: Plan) -> None:
    items = notices(plan, done={(plan.id, "1", date(2021, 10, 9))})
    assert not [n for n in items if n.task == "1"]
    assert [n for n in items if n.task == "5"]


def test_now_keeps_only_what_is_still_to_send(plan: Plan) -> None:
    now = datetime(2021, 10, 9, 8, 0, tzinfo=BEIJING)
    later = notices(plan, now=now)
    assert later and min(n.send_at for n in later) >= now
    assert len(later) < len(notices(plan))


def test_now_keeps_a_notice_due_at_that_very_moment_and_every_later_step(plan: Plan) -> None:
    # Task 1: due notice Sat 10-09 09:00, overdue Mon 10-11, escalations from 10-14 on.
    now = datetime(2021, 10, 9, 9, 0, tzinfo=BEIJING)
    later = [n for n in notices(plan, now=now) if n.task == "1"]
    assert min(n.send_at for n in later) == now  # sent at 09:00 exactly: still to send
    everything = [n for n in notices(plan) if n.task == "1" and n.send_at >= now]
    assert sorted(n.key for n in later) == sorted(n.key for n in everything)


def test_window_includes_both_of_its_ends(plan: Plan) -> None:
    day = date(2021, 10, 9)  # task 1's due notice
    items = notices(plan, start=day, end=day)
    assert {(n.task, n.stage) for n in items} >= {("1", "due")}
    assert {n.send_at.date() for n in items} == {day}


def test_send_time_and_order(plan: Plan) -> None:
    items = notices(plan)
    assert all(n.send_at.hour == 9 and n.send_at.utcoffset().total_seconds() == 8 * 3600 for n in items)
    assert [n.send_at for n in items] == sorted(n.send_at for n in items)


def test_planning_twice_gives_the_same_keys(plan: Plan) -> None:
    first, second = notices(plan), notices(plan)
    keys = [n.key for n in first]
    assert keys == [n.key for n in second]
    assert len(set(keys)) == len(keys)


def test_changed_deadline_changes_the_key(tmp_path: Path) -> None:
    before = {n.key for n in notices(make(tmp_path)) if n.task == "1"}
    after = {n.key for n in notices(make(tmp_path, '\n[tasks."1"]\ndeadline = "2021年11月30日"\n')) if n.task == "1"}
    assert before and after and not before & after


# -- properties of the schedule for any deadline ----------------------------------------------

_BASE: list[Plan] = []


def _base_plan() -> Plan:
    if not _BASE:
        import tempfile

        _BASE.append(make(Path(tempfile.mkdtemp())))
    return _BASE[0]


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(2021, 8, 1), max_value=date(2026, 12, 31)))
def test_every_notice_is_on_a_workday_and_stages_keep_their_order(day: date) -> None:
    from dataclasses import replace

    from reminder.models import Task

    base = _base_plan()
    task = Task(id="1", title="任务", lead=("法规科",), deadline_text=f"{day.year}年{day.month}月{day.day}日")
    plan = replace(base, tasks=(task,), dates=(), overrides={}, issued=None, year=day.year)
    items = plan_notices([plan], start=date(2021, 1, 1), end=day + timedelta(days=40))
    assert items
    due = plan.calendar.shift(day, "before")
    assert {n.due for n in items} == {due}
    for n in items:
        assert plan.calendar.is_workday(n.send_at.date())
        sent = n.send_at.date()
        if n.stage == "remind":
            assert sent < due
        elif n.stage == "due":
            assert sent == due
        else:
            assert sent > due
    overdue = min(n.send_at for n in items if n.stage == "overdue")
    assert all(n.send_at > overdue for n in items if n.stage == "escalate")


def test_a_weekly_deadline_gives_one_occurrence_and_one_due_notice_a_week(tmp_path: Path) -> None:
    plan = make(tmp_path, '\n[tasks."1"]\ndeadline = "每周五下班前报送"\n')
    dues = sorted(o.due for o in occurrences(plan) if o.task == "1")
    # Fridays from the issue date (Fri 07-23) to 12-31: 24; Fri 10-01 is National Day, so
    # that week's falls due on the workday before, Thu 09-30.
    assert len(dues) == 24 and (dues[0], dues[-1]) == (date(2021, 7, 23), date(2021, 12, 31))
    assert date(2021, 9, 30) in dues and date(2021, 10, 1) not in dues
    assert len({d.isocalendar()[:2] for d in dues}) == len(dues)  # one a week
    items = notices(plan)
    assert days(items, "1", "due") == [d.isoformat() for d in dues]
    # Reminders stay inside their own week: none on or before the previous Friday.
    for previous, due in pairwise(dues):
        sent = [n.send_at.date() for n in items if n.task == "1" and n.due == due]
        assert sent and all(previous < day for day in sent)
