"""Every fault of the issue, as an operator meets it: one clear line, the right exit status,
no traceback, and the daemon going on where it can."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from harness import (
    KEY,
    count,
    daemon,
    load,
    notices,
    outbox,
    reminder,
    report,
    tracebacks,
    write_config,
)
from servers import INVALID_KEY, free_port, smtp_server, wecom_server


def one_line(stderr: str) -> bool:
    return stderr.strip().count("\n") == 0 and "Traceback" not in stderr


@pytest.mark.parametrize("make, code, words", [
    (lambda d: (d / "config.toml").write_bytes("timezone = '亚洲/上海'\n".encode("gbk")),
     2, "UTF-8"),
    (lambda d: (d / "secrets.toml").mkdir(), 2, "目录"),
], ids=["config-not-utf8", "secrets-file-is-a-directory"])
def test_unreadable_files_are_one_line(tmp_path: Path, make, code: int, words: str) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}",
                          extra=f'secrets_file = "{tmp_path / "secrets.toml"}"'.replace(
                              "[daemon]", ""))
    text = config.read_text("utf-8")
    # secrets_file is a top-level key: move it above the first table.
    line = f'secrets_file = "{tmp_path / "secrets.toml"}"'
    config.write_text(line + "\n" + text.replace(line, ""), "utf-8")
    make(tmp_path)
    result = reminder("run", "--once", "--config", str(config))
    report(f"fault: {words}", f"exit {result.returncode}: {result.stderr.strip()}", tried=1,
           wrong=not (result.returncode == code and words in result.stderr
                      and one_line(result.stderr)))
    assert result.returncode == code and words in result.stderr
    assert one_line(result.stderr)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a mode-000 file anyway")
def test_secrets_file_without_permission_is_one_line(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[smtp]\npassword = 'x'\n", "utf-8")
    secrets.chmod(0)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'r.db'}")
    config.write_text(f'secrets_file = "{secrets}"\n' + config.read_text("utf-8"), "utf-8")
    result = reminder("run", "--once", "--config", str(config))
    assert result.returncode == 2 and "权限" in result.stderr and one_line(result.stderr)


def test_database_locked_for_longer_than_the_busy_timeout(tmp_path: Path) -> None:
    """A running daemon meets a database locked for longer than SQLite's 30 s busy timeout:
    one log line per failed attempt, and it sends once the lock is gone. `run --once` at that
    moment gives up with one line and exit status 2."""
    from datetime import datetime, timedelta

    from harness import TZ

    url = f"sqlite:///{tmp_path / 'r.db'}"
    # Due a few seconds from now: after the daemon started and the database got locked.
    load(url, notices(3, per_unit=1, now=datetime.now(TZ) + timedelta(seconds=68)))
    log = tmp_path / "daemon.log"
    with smtp_server() as smtp:
        config = write_config(tmp_path, url, smtp=smtp, lease=4, max_wait=2)
        proc = daemon(config, log)
        deadline = time.monotonic() + 30
        while "守护进程已启动" not in log.read_text("utf-8") and time.monotonic() < deadline:
            time.sleep(0.2)
        blocker = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        once = reminder("run", "--once", "--config", str(config), timeout=120)
        time.sleep(3)
        blocker.execute("ROLLBACK")
        blocker.close()
        deadline = time.monotonic() + 90
        while len(smtp.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    text = log.read_text("utf-8")
    errors = tracebacks(log, once.stderr)
    report("fault: database locked", f"database locked > 30 s: run --once exit {once.returncode}: "
           f"{once.stderr.strip()}; daemon logged {text.count('database is locked')} one-line "
           f"errors and sent {len(smtp.messages)}/3 after; tracebacks {errors}",
           tried=4, wrong=(once.returncode != 2 or not one_line(once.stderr))
           + (3 - min(3, len(smtp.messages))) + errors)
    assert once.returncode == 2 and "数据库" in once.stderr and one_line(once.stderr)
    assert "database is locked" in text, text
    assert len(smtp.messages) == 3 and errors == 0, text


@pytest.mark.parametrize("fault", ["smtp-535", "wecom-93000", "smtp-refused"])
def test_configuration_faults_hold_and_resend_after_retry(tmp_path: Path, fault: str) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    channel = "wecom" if fault.startswith("wecom") else "email"
    load(url, notices(6, per_unit=2, channel=channel))
    with smtp_server(users={"u": "right"} if fault == "smtp-535" else None) as smtp, \
            wecom_server([INVALID_KEY] if fault == "wecom-93000" else [], keys={KEY}) as wecom:
        if fault == "smtp-refused":
            smtp = type("Closed", (), {"port": free_port()})()  # nothing listens there
        config = write_config(tmp_path, url, smtp=smtp, wecom=wecom)
        if fault == "smtp-535":
            text = config.read_text("utf-8").replace(
                "timeout = 5\n", "timeout = 5\nusername = \"u\"\npassword_env = \"TRIAL_PW\"\n", 1)
            config.write_text(text, "utf-8")
            os.environ["TRIAL_PW"] = "wrong"
        try:
            first = reminder("run", "--once", "--config", str(config))
            held = outbox(url)["held"]
            retried = reminder("retry", "--config", str(config))
            if fault == "smtp-535":
                os.environ["TRIAL_PW"] = "right"
            second = reminder("run", "--once", "--config", str(config))
        finally:
            os.environ.pop("TRIAL_PW", None)
        delivered = ([m.message.get_body(("plain",)).get_content() for m in smtp.messages]
                     if hasattr(smtp, "messages") else [])
        # The first WeCom request was refused (93000); the ones after the retry delivered.
        delivered += [r.body["markdown"]["content"] for r in wecom.requests[1:]
                      if isinstance(r.body, dict) and "markdown" in r.body]
    errors = tracebacks(first.stderr, second.stderr)
    resent = outbox(url)["held"] if fault == "smtp-refused" else 6 - count(6, delivered).lost
    report(f"fault: {fault}", f"first run exit {first.returncode}, held {held}; "
           f"after retry: exit {second.returncode}; tracebacks {errors}", tried=6,
           # Each notice must be held, then sent after the retry (or held again while
           # nothing listens).
           wrong=max(6 - held, 6 - resent) + errors)
    assert held == 6 and errors == 0
    assert first.returncode == (3 if channel == "email" else 0)  # admin is e-mail only
    assert "已重新排队 6" in retried.stdout
    if fault != "smtp-refused":  # still nothing listens: held again, not lost
        assert second.returncode == 0 and count(6, delivered).lost == 0
    else:
        assert outbox(url)["held"] == 6
