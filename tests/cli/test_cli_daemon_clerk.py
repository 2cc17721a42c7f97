"""Daemon commands as a clerk first meets them: no config yet, a recurring task left for
months. Real processes and a real SQLite file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clirun import EXAMPLE, reminder


@pytest.mark.skipif(Path("/etc/reminder/config.toml").exists(), reason="this machine has a system config")
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("run", "--once"), id="run"),
        pytest.param(("done", "2026", "12"), id="done"),
        pytest.param(("undo", "2026", "12"), id="undo"),
        pytest.param(("event", "2026", "10", "2026-07-01"), id="event"),
        pytest.param(("status",), id="status"),
        pytest.param(("test-channel", "email"), id="test-channel"),
        pytest.param(("retry",), id="retry"),
    ],
)
def test_without_a_config_each_command_says_where_it_looked(tmp_path: Path, args: tuple) -> None:
    result = reminder(*args, home=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "找不到配置文件" in line and "REMINDER_CONFIG" in line and "/etc/reminder/config.toml" in line
    assert "config.example.toml" in line and "未知计划" not in line
    assert not [p for p in tmp_path.rglob("*") if p.suffix == ".db"]  # no database made anywhere


def test_a_named_config_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    result = reminder("status", "--config", str(tmp_path / "nope.toml"), home=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "配置文件不存在" in result.stderr


def test_an_unknown_plan_names_the_configured_ones(tmp_path: Path) -> None:
    config = _deployment(tmp_path)
    result = reminder("done", "2026", "12", "--config", str(config), home=tmp_path)
    assert result.returncode == 2
    assert "未知计划 2026" in result.stderr and "配置中的计划：demo-2026" in result.stderr


def _deployment(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    config = tmp_path / "config.toml"
    config.write_text('plans = ["plans"]\n[database]\npath = "state/reminder.db"\n', encoding="utf-8")
    return config


def test_done_through_marks_every_period_up_to_the_date_and_status_offers_it(tmp_path: Path) -> None:
    config = str(_deployment(tmp_path))
    assert reminder("run", "--once", "--now", "2026-11-02T09:00", "--config", config, home=tmp_path).returncode == 0
    status = reminder("status", "--config", config, home=tmp_path)
    assert "reminder done demo-2026 16 --through" in status.stdout  # monthly, many periods missed
    missed = {t["task"]: t["missed"] for t in json.loads(
        reminder("status", "--json", "--config", config, home=tmp_path).stdout)["tasks"]}
    assert len(missed["16"]) >= 2

    done = reminder("done", "demo-2026", "16", "--through", "2026-09-30", "--config", config, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "共 7 期，2026-03-31、" in done.stdout and "2026-09-30 截止" in done.stdout
    after = {t["task"]: t["missed"] for t in json.loads(
        reminder("status", "--json", "--config", config, home=tmp_path).stdout)["tasks"]}
    assert after["16"] == [d for d in missed["16"] if d > "2026-09-30"]

    again = reminder("done", "demo-2026", "16", "--through", "2026-09-30", "--config", config, home=tmp_path)
    assert again.returncode == 1 and "2026-09-30 及以前没有未完成的一期" in again.stderr
    both = reminder("done", "demo-2026", "16", "--through", "2026-09-30", "--occurrence", "2026-10-30",
                    "--config", config, home=tmp_path)
    assert both.returncode == 2 and "只能用一个" in both.stderr
