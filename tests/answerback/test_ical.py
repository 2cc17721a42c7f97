"""The .ics export, parsed back with icalendar: one event per due date, alarms at the policy's
reminder moments, filtered by unit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from clirun import EXAMPLE, reminder
from icalendar import Calendar

from reminder.answerback.ical import alarm_offsets, build_calendar
from reminder.plan.folder import load_plan
from reminder.plan.occurrences import occurrences

STAMP = datetime(2026, 6, 23, 9, 0)


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    return load_plan(EXAMPLE)


def events(body: bytes) -> list:  # type: ignore[type-arg]
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_one_event_per_due_date_with_stable_uids(plan) -> None:  # type: ignore[no-untyped-def]
    parsed = events(build_calendar(plan, stamp=STAMP))
    expected = {(o.task, o.due) for o in occurrences(plan)}
    assert len(parsed) == len(expected)
    assert {e.decoded("dtstart") for e in parsed} == {d for _, d in expected}
    assert len({str(e["uid"]) for e in parsed}) == len(parsed)
    assert all(e.decoded("dtend") - e.decoded("dtstart") == timedelta(days=1) for e in parsed)


def test_alarms_follow_the_policy_offsets(plan) -> None:  # type: ignore[no-untyped-def]
    task3 = next(e for e in events(build_calendar(plan, stamp=STAMP)) if "〔3〕" in str(e["summary"]))
    due = task3.decoded("dtstart")
    triggers = sorted(a.decoded("trigger") for a in task3.walk("VALARM"))
    assert triggers == sorted(alarm_offsets(plan, due, plan.policy.remind_before, True))
    # remind_before = 30d, 7d, 3wd, 1wd and the due day, each at 09:00
    assert len(triggers) == 5 and triggers[-1] == timedelta(hours=9)
    assert triggers[0] == -timedelta(days=30) + timedelta(hours=9)


@pytest.mark.parametrize("unit, present, absent", [
    ("法规科", "〔3〕", "〔4〕"),
    ("财务科", "〔13〕", "〔3〕"),
], ids=["fagui", "caiwu"])
def test_unit_filter(plan, unit: str, present: str, absent: str) -> None:  # type: ignore[no-untyped-def]
    summaries = " ".join(str(e["summary"]) for e in events(build_calendar(plan, unit=unit, stamp=STAMP)))
    assert present in summaries and absent not in summaries


def test_calendar_command_writes_a_file_icalendar_reads(tmp_path: Path) -> None:
    out = tmp_path / "x.ics"
    result = reminder("calendar", "demo-2026", "--unit", "法规科", "-o", str(out), "--config",
                      str(_config_for(tmp_path)))
    assert result.returncode == 0, result.stderr
    parsed = events(out.read_bytes())
    assert parsed and all(isinstance(e.decoded("dtstart"), date) for e in parsed)


def _config_for(tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    path = tmp_path / "config.toml"
    path.write_text('plans = ["plans"]\n[database]\npath = "state/r.db"\n', encoding="utf-8")
    return path


def test_a_line_break_in_a_title_is_folded(plan) -> None:  # type: ignore[no-untyped-def]
    """Issue 20 item 11: a CR/LF in a title made icalendar raise (the feed answered 500)."""
    from dataclasses import replace

    broken = replace(plan, title="方案\r\n第二行", tasks=tuple(
        replace(t, title=t.title + "\r\nX-INJECTED:1") for t in plan.tasks))
    body = build_calendar(broken, stamp=datetime(2026, 6, 1, 9, 0))
    cal = Calendar.from_ical(body)
    assert cal["x-wr-calname"] == "方案 第二行"
    assert b"\nX-INJECTED" not in body


def test_calendar_command_folds_a_plan_title_with_a_line_break(tmp_path: Path) -> None:
    config = _config_for(tmp_path)
    toml = tmp_path / "plans" / "demo-2026" / "plan.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(f'title = "标题\\r\\n第二行"\n{text.replace("title =", "#title =", 1)}',
                    encoding="utf-8")
    out = tmp_path / "out.ics"
    result = reminder("calendar", "demo-2026", "-o", str(out), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "X-WR-CALNAME:标题 第二行" in out.read_text(encoding="utf-8")


def test_an_events_summary_is_the_whole_title() -> None:
    """Issue 17 §5: the .ics SUMMARY cut titles at their first clause."""
    plan = load_plan(EXAMPLE)
    long = next(t for t in plan.tasks if t.short_title != t.title)
    summaries = [str(e["summary"]) for e in events(build_calendar(plan, stamp=STAMP))]
    assert any(s.endswith(f"〔{long.id}〕{long.title}") for s in summaries)
