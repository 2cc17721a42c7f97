"""签收 chase and approved 延期 in the planner (issue 19): pure, from the plan and the sets the
store hands in."""

from datetime import date
from pathlib import Path

import pytest
from test_planner import days, make, notices

from reminder.errors import PolicyError
from reminder.plan.folder import Plan
from reminder.plan.occurrences import occurrences
from reminder.plan.wording import SIGN_TOLD

SIGN = '\n[policy]\nsign_within = "1wd"\n'


@pytest.fixture
def signing(tmp_path: Path) -> Plan:
    return make(tmp_path, SIGN)


def test_no_sign_chase_unless_the_policy_asks(tmp_path: Path) -> None:
    assert not [n for n in notices(make(tmp_path)) if n.stage == "sign"]


def test_an_unsigned_unit_is_chased_once_then_the_coordinator_is_told(signing: Plan) -> None:
    """Task 1 (法规科 leads, 办公室 supports) is first reminded 2021-09-09: each unit is
    chased 1 workday later, the coordinator told 1 workday after that, once per unit."""
    items = notices(signing)
    assert days(items, "1", "sign", "法规科") == ["2021-09-10"]
    assert days(items, "1", "sign", "办公室") == ["2021-09-10"]
    told = [n for n in items if n.task == "1" and n.stage == "sign" and n.recipient == "公开办"]
    assert sorted(n.step for n in told) == [SIGN_TOLD + "办公室", SIGN_TOLD + "法规科"]
    assert {n.send_at.date().isoformat() for n in told} == {"2021-09-13"}
    # One notice per unit and channel (法规科 e-mail, 办公室 WeCom), one per unit to 公开办.
    assert len([n for n in items if n.task == "1" and n.stage == "sign"]) == 4
    # Plan-level dates (@…) are no unit's task: nothing to sign.
    assert not [n for n in items if n.task.startswith("@") and n.stage == "sign"]


def test_a_signed_unit_is_left_alone_and_the_dry_run_window_does_not_move_the_chase(
        signing: Plan) -> None:
    items = notices(signing, signed={("p2021", "1", "法规科")})
    assert days(items, "1", "sign", "法规科") == []
    assert days(items, "1", "sign", "办公室") == ["2021-09-10"]
    told = [n.step for n in items if n.task == "1" and n.stage == "sign" and n.recipient == "公开办"]
    assert told == [SIGN_TOLD + "办公室"]
    # A window opening after the first message still places the chase on the same days.
    late = notices(signing, start=date(2021, 9, 10))
    assert days(late, "1", "sign", "办公室") == ["2021-09-10"]


def test_an_approved_extension_moves_the_occurrence_and_every_notice(plan_path: Path) -> None:
    plan = make(plan_path)
    extended = {("p2021", "1", date(2021, 10, 9)): date(2021, 11, 30)}
    occ = next(o for o in occurrences(plan, extended=extended) if o.task == "1")
    assert (occ.due, occ.nominal) == (date(2021, 11, 30), date(2021, 10, 10))
    items = notices(plan, extended=extended)
    assert days(items, "1", "due") == ["2021-11-30"]
    assert "2021-10-11" not in days(items, "1", "overdue")
    assert all(n.due == date(2021, 11, 30) for n in items if n.task == "1")
    # Another task is untouched.
    assert days(items, "7", "due") == days(notices(plan), "7", "due")


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    return tmp_path


@pytest.mark.parametrize("value, says", [
    ('"0wd"', "不能为 0"), ("3", "应写作"), ('"soon"', "不是有效的时间间隔"),
    ('"1wd"\nallow_extension = "yes"', "allow_extension"),
], ids=["zero", "number", "words", "extension-not-bool"])
def test_bad_workflow_policy_is_one_line(tmp_path: Path, value: str, says: str) -> None:
    with pytest.raises(PolicyError, match=says):
        make(tmp_path, f"\n[policy]\nsign_within = {value}\n")


def test_sign_off_by_false_or_empty(tmp_path: Path) -> None:
    for value in ("false", '""'):
        plan = make(tmp_path, f"\n[policy]\nsign_within = {value}\n")
        assert plan.policy.sign_within is None and plan.policy.allow_extension
