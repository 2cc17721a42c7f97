"""Issue 20 item 1 as an operator meets it: one out-of-range date, entered every way there
is, must cost the other plans nothing. Before the fix `reminder event p 10 9999-12-31`
exited 0 and from then on `run` died with OverflowError at start, so no plan got reminders."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from clirun import EXAMPLE, KEYS, MOMENT, TZ, reminder, write_config
from harness import report, tracebacks
from servers import smtp_server, wecom_server

from reminder.store import open_store


def test_an_out_of_range_date_stops_only_its_own_plan(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    for name in ("demo-2026", "other-2026", "typo-2026"):
        shutil.copytree(EXAMPLE, plans / name)
    # plan.toml with a far-out event date, and a task row whose deadline is 9999年12月31日.
    typo = plans / "typo-2026"
    (typo / "plan.toml").write_text((typo / "plan.toml").read_text("utf-8").replace(
        "event = 2026-", "event = 9999-", 1), "utf-8")
    assert "event = 9999-" in (typo / "plan.toml").read_text("utf-8")
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config = write_config(tmp_path, smtp, wecom)
        entered = {
            "event 9999-12-31": reminder("event", "demo-2026", "10", "9999-12-31", "--config",
                                         str(config)),
            "event 0001-01-01": reminder("event", "demo-2026", "10", "0001-01-01", "--config",
                                         str(config)),
        }
        scratch = tmp_path / "scratch-2026"
        shutil.copytree(EXAMPLE, scratch)
        text = (scratch / "tasks.csv").read_text("utf-8-sig")
        first = text.splitlines()[1].rsplit(",", 1)[0]
        (scratch / "tasks.csv").write_text(text.replace(text.splitlines()[1],
                                                        first + ",9999年12月31日", 1), "utf-8-sig")
        entered["task row 9999年12月31日"] = reminder("check", str(scratch))
        refused = {k: r.returncode for k, r in entered.items()}
        # A database written before the fix may hold such a date already: put one there.
        store = open_store(f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
        store.set_event("demo-2026", "10", date(9999, 12, 31), by="旧版本",
                        now=datetime.fromisoformat(MOMENT).replace(tzinfo=TZ))
        store.dispose()

        once = reminder("run", "--once", "--now", MOMENT, "--config", str(config), timeout=120)
        sent = len(smtp.messages) + len(wecom.requests)
        # The foreground daemon starts too (it used to die at start) and keeps running.
        log = tmp_path / "daemon.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "reminder", "run", "--config",
                                     str(config)], stdout=out, stderr=subprocess.STDOUT,
                                    env={**os.environ, **KEYS,
                                         "PYTHONUNBUFFERED": "1"})
            started = time.monotonic()
            while time.monotonic() - started < 30 and "守护进程已启动" not in log.read_text(
                    "utf-8", "replace"):
                time.sleep(0.2)
            alive = proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        store = open_store(f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
        errors = store.plan_errors()
        other = sum(1 for r in store.notices() if r.plan_id == "other-2026"
                    and r.status == "sent")
        store.dispose()
    said = once.stdout + once.stderr + log.read_text("utf-8", "replace")
    report("dates", f"entry points refused: {refused}; run --once exit {once.returncode}, "
                    f"{sent} messages, other-2026 sent {other}; plans reported: "
                    f"{sorted(errors)}; foreground daemon alive after start: {alive}; "
                    f"tracebacks {tracebacks(said, *(r.stderr for r in entered.values()))}",
           # The three entries (each refused), the healthy plan's run --once (sent, exit 1
           # for the broken ones) and the daemon's start.
           tried=5, wrong=sum(1 for code in refused.values() if code == 0)
           + (other == 0 or once.returncode != 1) + (not alive)
           + tracebacks(said, *(r.stderr for r in entered.values())))
    assert refused == {"event 9999-12-31": 2, "event 0001-01-01": 2,
                       "task row 9999年12月31日": 1}
    assert "超出计划年度 2026 的合理范围" in entered["event 9999-12-31"].stderr
    assert "超出计划年度 2026 的合理范围" in entered["task row 9999年12月31日"].stdout
    assert other > 0 and sent > 0
    assert once.returncode == 1  # a timer hears of the two broken plans
    assert {"demo-2026", "typo-2026"} <= set(errors)
    assert "超出计划年度 2026" in errors["typo-2026"][0]
    assert alive and "守护进程已启动" in log.read_text("utf-8", "replace")
    assert tracebacks(said, *(r.stderr for r in entered.values())) == 0
