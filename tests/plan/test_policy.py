from datetime import time
from pathlib import Path

import pytest

from reminder.errors import PolicyError
from reminder.models import Offset
from reminder.plan.policy import build_policy


def test_defaults_are_the_issue_policy() -> None:
    policy = build_policy()
    assert policy.send_time == time(9, 0)
    assert [str(o) for o in policy.remind_before] == ["30d", "7d", "3wd", "1wd"]
    assert policy.overdue_after == Offset(n=1, unit="workday")
    assert policy.escalate_after == Offset(n=3, unit="workday")
    assert policy.escalate_every == Offset(n=5, unit="workday")
    assert [str(o) for o in policy.ongoing_remind_before] == ["7d", "1wd"]
    assert policy.shift == "before"


def test_plan_overrides_key_by_key() -> None:
    policy = build_policy({"remind_before": ["14d", "2wd"], "send_time": "08:30"})
    assert [str(o) for o in policy.remind_before] == ["14d", "2wd"]
    assert policy.send_time == time(8, 30)
    assert str(policy.escalate_every) == "5wd"


@pytest.mark.parametrize(
    ("overrides", "place"),
    [
        pytest.param({"remind": ["7d"]}, "policy.remind", id="unknown-key"),
        pytest.param({"remind_before": ["7 days"]}, "policy.remind_before", id="bad-offset"),
        pytest.param({"send_time": "nine"}, "policy.send_time", id="bad-time"),
        pytest.param({"timezone": "Mars/Base"}, "policy.timezone", id="bad-zone"),
        pytest.param({"shift": "later"}, "policy.shift", id="bad-shift"),
        pytest.param({"on_due_day": "yes"}, "policy.on_due_day", id="bad-bool"),
        pytest.param({"escalate_every": "0wd"}, "policy.escalate_every", id="zero-repeat"),
        pytest.param({"term_ends": "07-15"}, "policy.term_ends", id="terms-not-a-list"),
        pytest.param({"term_ends": ["7月15日"]}, "policy.term_ends", id="term-not-month-day"),
        pytest.param({"term_ends": ["02-30"]}, "policy.term_ends", id="term-no-such-day"),
    ],
)
def test_mistakes_name_file_and_key(overrides: dict, place: str) -> None:
    with pytest.raises(PolicyError) as info:
        build_policy(overrides, file=Path("plans/x/plan.toml"))
    assert "plans/x/plan.toml" in str(info.value)
    assert place in str(info.value)


@pytest.mark.parametrize(
    ("text", "offset"),
    [("30d", Offset(n=30, unit="day")), ("3wd", Offset(n=3, unit="workday")),
     ("1m", Offset(n=1, unit="month")), (" 5WD ", Offset(n=5, unit="workday"))],
    ids=["days", "workdays", "months", "case-and-space"],
)
def test_offset_round_trips(text: str, offset: Offset) -> None:
    assert Offset.parse(text) == offset
    assert Offset.parse(str(offset)) == offset


def test_school_terms_end_mid_january_and_mid_july_unless_a_plan_says_otherwise() -> None:
    from reminder.parse.deadlines import TERM_ENDS

    assert build_policy().term_ends == ((1, 15), (7, 15)) == TERM_ENDS
    assert build_policy({"term_ends": ["07-10", "01-20"]}).term_ends == ((1, 20), (7, 10))
