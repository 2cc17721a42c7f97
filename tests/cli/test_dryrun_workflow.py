"""`reminder plan --config` honours 签收 and approved 延期 recorded in the daemon's database,
reads it without writing, and names the approved extensions (issue 19)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from clirun import WORKFLOW_OFF, copy_example, reminder
from servers import smtp_server, wecom_server

from reminder import wiring

TZ = ZoneInfo("Asia/Shanghai")


def test_dry_run_shows_sign_chase_and_an_approved_extension_without_writing(
        tmp_path: Path) -> None:
    from clirun import write_config

    folder = copy_example(tmp_path / "plans" / "demo-2026", 'sign_within = "1wd"')
    with smtp_server() as smtp, wecom_server() as wecom:
        config = write_config(tmp_path, smtp, wecom)
    plain = reminder("plan", str(folder), "--now", "2026-06-01T08:00", "--stage", "sign",
                     "--format", "csv")
    assert plain.returncode == 0, plain.stderr
    assert any(",催签收,demo-2026,9," in line and ",法规科," in line
               for line in plain.stdout.splitlines())
    assert reminder("run", "--once", "--now", "2026-06-01T08:00", "--config",
                    str(config)).returncode == 0
    store = wiring.open_store(wiring.load(config))
    now = datetime(2026, 6, 2, 10, 0, tzinfo=TZ)
    store.sign("demo-2026", "9", "法规科", now=now)
    ident = store.request_extension("demo-2026", "9", due=date(2026, 7, 8),
                                    current=date(2026, 7, 8), requested=date(2026, 8, 31),
                                    unit="法规科", reason="r", progress="", late=False, now=now)
    assert ident is not None
    store.decide_extension(ident, approve=True, by="公开办", note="", now=now + timedelta(hours=1))
    store.dispose()
    db = tmp_path / "state" / "reminder.db"
    before = db.read_bytes()

    shown = reminder("plan", str(folder), "--now", "2026-06-03T08:00", "--task", "9",
                     "--detail", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout.replace(" ", "")
    assert "已批准延期：demo-2026任务9原定2026-07-08" in out and "延至2026-08-31" in out
    assert "2026-07-08" not in out.split("已批准延期")[0]  # no notice for the old date
    assert "2026-08-31" in out.split("已批准延期")[0]
    sign_rows = [line for line in shown.stdout.splitlines() if "催签收" in line]
    assert sign_rows and not any("法规科" in line and "告知" not in line
                                 and "fagui" in line for line in sign_rows)
    assert db.read_bytes() == before  # read only


def test_an_extension_of_a_recurring_task_moves_only_its_period(tmp_path: Path) -> None:
    """Task 6 is quarterly; 信息中心 asks to move the second quarter (06-30) and the office
    approves 07-31. The dry run moves that quarter's notices and leaves the others as they
    were, and says what it moved."""
    from clirun import write_config

    # Signing off: the last check is that a plan without 签收 says nothing of it.
    folder = copy_example(tmp_path / "plans" / "demo-2026", WORKFLOW_OFF)
    with smtp_server() as smtp, wecom_server() as wecom:
        config = write_config(tmp_path, smtp, wecom)
    args = ("plan", str(folder), "--now", "2026-06-01T08:00", "--task", "6", "--format", "csv")

    def by_due(text: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in text.splitlines()[1:]:
            cells = line.split(",")
            found.setdefault(cells[5], []).append(line)
        return found

    before = reminder(*args)
    assert before.returncode == 0, before.stderr
    assert reminder("run", "--once", "--now", "2026-06-01T08:00", "--config",
                    str(config)).returncode == 0
    store = wiring.open_store(wiring.load(config))
    now = datetime(2026, 6, 2, 10, 0, tzinfo=TZ)
    ident = store.request_extension("demo-2026", "6", due=date(2026, 6, 30),
                                    current=date(2026, 6, 30), requested=date(2026, 8, 14),
                                    unit="信息中心", reason="r", progress="", late=False, now=now)
    assert ident is not None
    store.decide_extension(ident, approve=True, by="公开办", note="", now=now,
                           approved=date(2026, 7, 31))
    store.dispose()
    after = reminder(*args, "--config", str(config))
    assert after.returncode == 0, after.stderr
    old, new = by_due(before.stdout), by_due(after.stdout)
    assert "2026-06-30" in old and "2026-06-30" not in new and "2026-08-14" not in new
    assert {"2026-03-31", "2026-09-30", "2026-12-31"} <= set(old)
    for quarter in ("2026-03-31", "2026-09-30", "2026-12-31"):
        assert new[quarter] == old[quarter], quarter
    moved = new["2026-07-31"]
    assert any(",到期," in line and line.startswith("2026-07-31") for line in moved)
    assert not any(line.startswith("2026-06-30") for line in moved)  # the old due day
    detail = reminder("plan", str(folder), "--now", "2026-06-01T08:00", "--task", "6",
                      "--detail", "--config", str(config))
    said = (detail.stdout + detail.stderr).replace(" ", "")
    assert "已批准延期：demo-2026任务6原定2026-06-30" in said and "延至2026-07-31" in said
