"""三色预警 sent by the daemon (issue 19, item 3): with `orange_to` named, `run --once` on the
day task 7 turns 橙 sends the unit its warning and the coordinator a copy, in the 预警 wording,
exactly as `reminder plan --config` lists it; a progress report for that period stops it.
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from clirun import KEYS, TZ, copy_example, reminder, write_config
from servers import SmtpServer, WeComServer, fresh_postgres, smtp_server, wecom_server

POLICY = 'orange_to = ["units", "coordinator"]\nred_to = ["leaders"]'
ORANGE_DAY = "2026-06-15T09:00"  # task 7 (due 06-30, issued 03-20) has 15 % of its time left


@pytest.fixture(params=["sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, tmp_path: Path
          ) -> Iterator[tuple[Path, SmtpServer, WeComServer]]:
    copy_example(tmp_path / "plans" / "demo-2026", POLICY)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config = write_config(tmp_path, smtp, wecom)
        if request.param == "sqlite":
            yield config, smtp, wecom
            return
        with fresh_postgres("reminder_warn") as url:
            text = config.read_text(encoding="utf-8")
            config.write_text(text.replace('path = "state/reminder.db"', f'url = "{url}"'), "utf-8")
            yield config, smtp, wecom


def mails(smtp: SmtpServer, address: str) -> list[str]:
    return [m.message.get_body(("plain",)).get_content() for m in smtp.messages
            if address in m.rcpt_tos]


def test_the_orange_day_sends_the_warning_the_dry_run_lists(
        setup: tuple[Path, SmtpServer, WeComServer]) -> None:
    config, smtp, _ = setup
    planned = reminder("plan", str(config.parent / "plans" / "demo-2026"), "--stage", "warn",
                       "--task", "7", "--format", "csv")
    assert planned.returncode == 0, planned.stderr
    lines = [line for line in planned.stdout.splitlines()[1:] if line]
    assert lines and all(line.startswith("2026-06-15") for line in lines)
    result = reminder("run", "--once", "--now", ORANGE_DAY, "--config", str(config))
    assert result.returncode == 0, result.stderr
    unit = [m for m in mails(smtp, "ziyuan@example.org") if "预警任务" in m]
    assert unit and "〔7〕" in unit[0]
    copy = [m for m in mails(smtp, "gongkai@example.org") if "抄送：预警任务" in m]
    assert copy and "〔7〕" in copy[0]


def test_a_progress_report_in_the_period_stops_the_warning(
        setup: tuple[Path, SmtpServer, WeComServer]) -> None:
    config, smtp, _ = setup
    from reminder import wiring

    assert reminder("run", "--once", "--now", "2026-06-01T09:00", "--config", str(config)).returncode == 0
    store = wiring.open_store(wiring.load(config))
    try:
        store.add_feedback("demo-2026", "7", unit="数据资源科", kind="progress", text="目录已更新过半",
                           now=datetime(2026, 6, 10, 15, tzinfo=TZ), period="2026Q2",
                           due=date(2026, 6, 30))
    finally:
        store.dispose()
    planned = reminder("plan", str(config.parent / "plans" / "demo-2026"), "--stage", "warn",
                       "--task", "7", "--format", "csv", "--config", str(config))
    assert planned.returncode == 0 and not [line for line in planned.stdout.splitlines()[1:] if line]
    smtp.messages.clear()
    assert reminder("run", "--once", "--now", ORANGE_DAY, "--config", str(config)).returncode == 0
    assert not [m for m in mails(smtp, "ziyuan@example.org") if "预警任务" in m and "〔7〕" in m]
