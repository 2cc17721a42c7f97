"""三色预警: the colour of an occurrence by the share of its period left and whether a
progress report came in, and the warning sends the policy asks for in the dry run."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from test_planner import make, notices

from reminder.errors import PolicyError
from reminder.models import Policy
from reminder.plan.colors import change_days, color_of, share_left
from reminder.plan.policy import build_policy

START, DUE = date(2026, 1, 1), date(2026, 4, 11)  # a period of 100 days
POLICY = Policy(yellow_left=0.30, orange_left=0.15)


@pytest.mark.parametrize(("today", "reported", "color"), [
    pytest.param(date(2026, 1, 1), False, "green", id="start"),
    pytest.param(date(2026, 3, 11), False, "green", id="31-percent-left"),
    pytest.param(date(2026, 3, 12), False, "yellow", id="30-percent-left"),
    pytest.param(date(2026, 3, 26), False, "yellow", id="16-percent-left"),
    pytest.param(date(2026, 3, 27), False, "orange", id="15-percent-left"),
    pytest.param(date(2026, 4, 11), False, "orange", id="due-day"),
    pytest.param(date(2026, 4, 12), False, "red", id="overdue"),
    pytest.param(date(2026, 3, 12), True, "green", id="reported-yellow-is-green"),
    pytest.param(date(2026, 3, 27), True, "yellow", id="reported-orange-is-yellow"),
    pytest.param(date(2026, 4, 12), True, "red", id="reported-but-overdue-is-red"),
])
def test_colour_by_share_left_and_report(today: date, reported: bool, color: str) -> None:
    warning = color_of(start=START, due=DUE, today=today, reported=reported, policy=POLICY)
    assert warning.color == color
    assert warning.word in warning.label  # a word always goes with the colour


def test_thresholds_are_policy() -> None:
    strict = Policy(yellow_left=0.5, orange_left=0.4)
    today = date(2026, 2, 20)  # 50 of 100 days left
    assert color_of(start=START, due=DUE, today=today, reported=False, policy=POLICY).color == "green"
    assert color_of(start=START, due=DUE, today=today, reported=False, policy=strict).color == "yellow"


def test_change_days_are_the_first_days_of_each_colour() -> None:
    days = change_days(START, DUE, POLICY)
    assert days == [(date(2026, 3, 12), "yellow"), (date(2026, 3, 27), "orange")]
    for day, color in days:
        assert color_of(start=START, due=DUE, today=day, reported=False, policy=POLICY).color == color
    # A period of one day has no room to warn in.
    assert change_days(date(2026, 4, 10), DUE, POLICY) == []
    assert share_left(DUE, DUE, DUE) == 0.0


def test_policy_keys_parse_and_refuse_with_file_and_place() -> None:
    policy = build_policy({"yellow_left": "40%", "orange_left": 20, "orange_to": ["coordinator"]})
    assert (policy.yellow_left, policy.orange_left, policy.orange_to) == (0.4, 0.2, ("coordinator",))
    assert build_policy().colors and build_policy().red_to == ()
    with pytest.raises(PolicyError, match="orange_left"):
        build_policy({"yellow_left": "10%", "orange_left": "20%"})
    with pytest.raises(PolicyError, match="yellow_left"):
        build_policy({"yellow_left": "130%"})
    with pytest.raises(PolicyError, match="red_to"):
        build_policy({"red_to": ["mayor"]})


SENDING = """
[policy]
yellow_to = ["units"]
orange_to = ["units", "coordinator"]
red_to = ["leaders"]
"""


def test_the_dry_run_shows_a_warning_on_the_day_each_colour_begins(tmp_path: Path) -> None:
    plan = make(tmp_path, SENDING)
    found = [n for n in notices(plan) if n.task == "1" and n.stage == "warn"]
    # Task 1: issued 2021-07-23, due 2021-10-09 (Sunday 10-10 moved to the make-up Saturday):
    # 78 days; 黄 from 23 days before, 橙 from 11 days before.
    by_step = {s: sorted({(n.send_at.date(), n.recipient) for n in found if n.step == s})
               for s in ("yellow", "orange")}
    assert by_step["yellow"] == [(date(2021, 9, 16), "办公室"), (date(2021, 9, 16), "法规科")]
    assert by_step["orange"] == [(date(2021, 9, 28), u) for u in ("公开办", "办公室", "法规科")]
    overdue = {n.recipient for n in notices(plan) if n.task == "1" and n.stage == "overdue"}
    assert overdue == {"法规科", "公开办", "分管领导"}  # 红 adds the leaders, as escalation does


def test_no_warning_when_nobody_is_named_when_off_or_after_a_report(tmp_path: Path) -> None:
    assert not [n for n in notices(make(tmp_path / "shipped")) if n.stage == "warn"]  # shipped: show only
    off = make(tmp_path / "off", SENDING.replace("[policy]", "[policy]\ncolors = false"))
    assert not [n for n in notices(off) if n.stage == "warn"]
    assert "分管领导" not in {n.recipient for n in notices(off) if n.stage == "overdue"}
    plan = make(tmp_path / "on", SENDING)
    reported = {("p2021", "1", date(2021, 10, 9))}
    found = notices(plan, reported=reported)
    assert not [n for n in found if n.task == "1" and n.stage == "warn"]
    assert [n for n in found if n.task == "8" and n.stage == "warn"]  # others still warned


def test_a_recurring_task_is_warned_in_each_period(tmp_path: Path) -> None:
    plan = make(tmp_path, SENDING)
    warned = sorted({n.due for n in notices(plan) if n.task == "5" and n.stage == "warn"})
    assert len(warned) >= 2  # each quarter of the plan has its own 黄/橙
    for n in notices(plan):
        if n.task == "5" and n.stage == "warn":
            occ_days = sorted({m.due for m in notices(plan) if m.task == "5"})
            previous = max((d for d in occ_days if d < n.due), default=None)
            assert previous is None or n.send_at.date() > previous


def test_an_event_deadline_is_coloured_from_its_event_and_not_warned_by_the_planner(
        tmp_path: Path) -> None:
    from reminder.models import Occurrence
    from reminder.plan.colors import period_start

    occ = Occurrence(plan="p", task="3", kind="event", nominal=date(2021, 8, 6), due=date(2021, 8, 6))
    assert period_start(occ, date(2021, 7, 23), 2021, event=date(2021, 7, 30)) == date(2021, 7, 30)
    assert period_start(occ, date(2021, 7, 23), 2021) == date(2021, 7, 23)
    plan = make(tmp_path, SENDING + '\n[tasks."3"]\nevent = 2021-09-01\n')
    assert not [n for n in notices(plan) if n.task == "3" and n.stage == "warn"]
