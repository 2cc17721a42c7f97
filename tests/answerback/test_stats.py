"""统计: figures per unit for a period, from the example plan and a store on SQLite and
PostgreSQL with known completions and sent notices (tests/answerback/reportdata.py)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from clirun import EXAMPLE, reminder
from reportdata import NOW, deployment, store_url

from reminder.answerback.stats import COLUMNS, Period, UnitStats, compute, parse_period, rank
from reminder.plan.folder import load_plan
from reminder.store import Store

Q3 = "2026年第三季度"


@pytest.mark.parametrize(("text", "start", "end", "label", "key"), [
    ("2026年第三季度", "2026-07-01", "2026-09-30", "2026年第三季度", "2026Q3"),
    ("2026年第3季度", "2026-07-01", "2026-09-30", "2026年第三季度", "2026Q3"),
    ("2026Q1", "2026-01-01", "2026-03-31", "2026年第一季度", "2026Q1"),
    ("２０２６年 ４季度", "2026-10-01", "2026-12-31", "2026年第四季度", "2026Q4"),
    ("2026年9月", "2026-09-01", "2026-09-30", "2026年9月", "2026-09"),
    ("2024年2月", "2024-02-01", "2024-02-29", "2024年2月", "2024-02"),
    ("2026-02", "2026-02-01", "2026-02-28", "2026年2月", "2026-02"),
    ("2026年", "2026-01-01", "2026-12-31", "2026年", "2026"),
    ("2026年度", "2026-01-01", "2026-12-31", "2026年", "2026"),
    ("2026年下半年", "2026-07-01", "2026-12-31", "2026年下半年", "2026H2"),
    ("2026H1", "2026-01-01", "2026-06-30", "2026年上半年", "2026H1"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_periods(text: str, start: str, end: str, label: str, key: str) -> None:
    assert parse_period(text) == Period(start=date.fromisoformat(start), end=date.fromisoformat(end),
                                        label=label, key=key)


@pytest.mark.parametrize("text", ["2026年第五季度", "2026年13月", "第三季度", "26年", "2026年第三期", ""])
def test_bad_periods_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="2026年第三季度"):
        parse_period(text)


def test_third_quarter_per_unit(store: Store) -> None:
    plan = load_plan(EXAMPLE)
    (stats,) = compute([plan], store, parse_period(Q3), NOW).plans
    rows = {u.unit: u for u in stats.units}
    office = rows["办公室"]  # 16: Jul done 09-03 (34 days late), Aug open (39), Sep on time
    assert (office.tasks, office.on_time, office.late, office.overdue, office.days_overdue) == (3, 1, 1, 1, 73)
    assert office.reminders == 2  # two sent in Q3; the June one and pending ones do not count
    assert rows["财务科"].reminders == 1 and rows["法规科"].reminders == 0
    assert (rows["数据资源科"].overdue, rows["数据资源科"].days_overdue) == (1, 9)
    assert [(u.unit, u.rank) for u in stats.units] == [
        ("法规科", 1), ("信息中心", 1), ("办公室", 3), ("数据资源科", 4), ("财务科", 4)]
    # No extension asked; the example asks units to sign and none has: every item unsigned.
    assert office.extensions == 0 and office.unsigned == office.tasks == 3
    total = stats.total
    assert (total.tasks, total.on_time, total.late, total.overdue, total.days_overdue, total.reminders) == (7, 3, 1, 3, 91, 3)
    assert total.tasks == total.on_time + total.late + total.overdue + total.pending
    # Overdue at each month end, and today: the last point is the table's overdue count.
    assert stats.overdue_trend == [(date(2026, 7, 31), 0), (date(2026, 8, 31), 1),
                                   (date(2026, 9, 30), 1), (date(2026, 10, 9), 3)]


def test_a_period_not_yet_due_is_pending_and_unranked(store: Store) -> None:
    (stats,) = compute([load_plan(EXAMPLE)], store, parse_period("2026年第四季度"), NOW).plans
    assert stats.total.pending == stats.total.tasks > 0
    assert all(u.rank is None and u.rate_text == "—" for u in stats.units)


def test_ranking_rate_first_then_fewer_overdue() -> None:
    def unit(name: str, on_time: int, late: int, overdue: int) -> UnitStats:
        return UnitStats(plan="p", unit=name, tasks=on_time + late + overdue, on_time=on_time,
                         late=late, overdue=overdue)
    ranked = rank([unit("甲", 1, 1, 0), unit("乙", 1, 0, 1), unit("丙", 2, 0, 0),
                   unit("丁", 0, 0, 0), unit("戊", 3, 3, 0)])
    assert [(r.unit, r.rank) for r in ranked] == [("丙", 1), ("甲", 2), ("戊", 2), ("乙", 4), ("丁", None)]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_cli_formats(kind: str, tmp_path: Path) -> None:
    with store_url(kind, tmp_path) as url:
        config = deployment(tmp_path, url)
        args = ("stats", "demo-2026", "--period", Q3, "--now", "2026-10-09T09:00", "--config", str(config))
        table = reminder(*args)
        assert table.returncode == 0, table.stderr
        assert "2026年第三季度" in table.stdout and all(h in table.stdout for _, h in COLUMNS)
        rows = list(csv.reader(io.StringIO(reminder(*args, "--format", "csv").stdout)))
        assert rows[0] == ["计划", *(h for _, h in COLUMNS)]
        office = next(r for r in rows if r[2] == "办公室")
        assert office[1:] == ["3", "办公室", "3", "1", "1", "1", "73", "0", "33.3%", "2", "0", "3"]
        data = json.loads(reminder(*args, "--format", "json").stdout)
        assert data["plans"][0]["total"]["overdue"] == 3 and data["start"] == "2026-07-01"


def test_cli_refuses_a_bad_period_in_one_line(tmp_path: Path) -> None:
    config = deployment(tmp_path, f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
    result = reminder("stats", "demo-2026", "--period", "三季度", "--config", str(config))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--period" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_csv_keeps_a_unit_name_a_spreadsheet_would_take_for_a_formula_as_text(
        tmp_path: Path) -> None:
    """Unit names come from documents we did not write: `stats --format csv` is opened in
    Excel, where @… or =… is a formula (issue 20 item 9 named the 台账 and `report`)."""
    config = deployment(tmp_path, f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
    for name in ("plan.toml", "tasks.csv"):
        path = tmp_path / "plans" / "demo-2026" / name
        path.write_text(path.read_text("utf-8-sig").replace("办公室", "@办公室"), "utf-8")
    done = reminder("stats", "demo-2026", "--period", Q3, "--now", "2026-10-09T09:00",
                    "--config", str(config), "--format", "csv")
    assert done.returncode == 0, done.stderr
    units = [row[2] for row in csv.reader(io.StringIO(done.stdout))][1:]
    assert "'@办公室" in units and "@办公室" not in units
