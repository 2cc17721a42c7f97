"""Issue 20 §2, §4, §16 as an operator meets them: the database deleted under a running
daemon, PostgreSQL restarted under it, and an SMTP server that loses every reply after DATA."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from harness import count, daemon, load, notices, outbox, reminder, report, tracebacks, write_config
from servers import fresh_postgres, smtp_server


def wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    return predicate()


def texts(smtp) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.message.get_body(("plain",)).get_content() for m in smtp.messages]


def test_deleting_the_database_stops_the_daemon_and_a_restart_resends_nothing(
        tmp_path: Path) -> None:
    db = tmp_path / "state" / "r.db"
    url = f"sqlite:///{db}"
    load(url, notices(300, per_unit=1))
    log = tmp_path / "daemon.log"
    with smtp_server(delay=0.02) as smtp:
        config = write_config(tmp_path, url, smtp=smtp)
        proc = daemon(config, log)
        assert wait_for(lambda: len(smtp.messages) >= 50, 120)
        db.unlink()
        code = proc.wait(60)
        sent_before = len(smtp.messages)
        again = reminder("run", "--once", "--config", str(config))
        [rescued] = db.parent.glob("r.db.rescued-*")
        rescued.rename(db)  # the admin puts the saved copy back
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        resumed = reminder("run", "--once", "--config", str(config))
        figures = count(300, texts(smtp))
    text = log.read_text("utf-8")
    admin = sum("admin@example.org" in m.rcpt_tos for m in smtp.messages)
    report("database", f"deleted mid-send: daemon exit {code} after {sent_before - admin} sends, "
           f"admin alerts {admin}; restart without the file: exit {again.returncode}; after "
           f"restoring the rescued copy: {figures.line()}; tracebacks "
           f"{tracebacks(log, again.stderr, resumed.stderr)}")
    assert code == 2 and "已被删除" in text and admin >= 1
    assert again.returncode == 2 and "不会新建空数据库" in again.stderr
    assert figures.lost == 0 and figures.duplicated <= 1
    assert tracebacks(log, again.stderr, resumed.stderr) == 0


def test_lost_smtp_replies_cost_at_most_one_duplicate_per_notice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    load(url, notices(10, per_unit=1))
    with smtp_server(drop_after_data=True) as smtp:
        config = write_config(tmp_path, url, smtp=smtp,
                              extra="[retry]\nuncertain_seconds = 1\nbase_seconds = 1\n")
        runs = []
        for _ in range(4):  # each run is past every backoff and the uncertain delay
            runs.append(reminder("run", "--once", "--config", str(config)))
            time.sleep(1.5)
        figures = count(10, [t for m, t in zip(smtp.messages, texts(smtp), strict=True)
                             if "admin@example.org" not in m.rcpt_tos])
    held = outbox(url)["held"]
    report("lost replies", f"SMTP drops every reply after DATA: {figures.line()}; held for the "
           f"admin {held} (before: 43 messages for 10 notices)")
    assert figures.lost == 0 and figures.messages == 20 and figures.duplicated == 10
    assert held == 10


@pytest.mark.xfail(reason="fresh_postgres keeps an admin connection that the restart kills: "
                          "its teardown fails; the daemon's part is not yet measured", strict=False)
def test_a_postgresql_restart_is_logged_once_and_a_later_done_is_noticed(tmp_path: Path) -> None:
    cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()
    if not cluster:
        pytest.skip("no local PostgreSQL cluster to restart")
    control = ["pg_ctlcluster", "--skip-systemctl-redirect", cluster[0], "main"]
    with fresh_postgres("reminder_restart") as url, smtp_server() as smtp:
        load(url, notices(1, per_unit=1))
        log = tmp_path / "daemon.log"
        config = write_config(tmp_path, url, smtp=smtp,
                              extra="alert_after_seconds = 5\n")
        proc = daemon(config, log)
        try:
            assert wait_for(lambda: "守护进程已启动" in log.read_text("utf-8"), 60)
            subprocess.run([*control, "stop"], check=True, timeout=60)
            time.sleep(12)
        finally:
            subprocess.run([*control, "start"], check=True, timeout=60)
        reconnected = wait_for(lambda: "已重新连接" in log.read_text("utf-8"), 90)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    text = log.read_text("utf-8")
    admin = sum("admin@example.org" in m.rcpt_tos for m in smtp.messages)
    report("postgresql restart", f"down 12 s: 'connection lost' logged {text.count('连接中断')}×, "
           f"reconnected {reconnected}, admin alerts {admin}, tracebacks {tracebacks(log)}")
    assert reconnected and text.count("连接中断") == 1 and admin >= 1
