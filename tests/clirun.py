"""Running `reminder` as a user does, for tests in every package: a real process, the
example plan, the loopback servers' keys, and a config that points at those servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from servers import SmtpServer, WeComServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "demo-2026"
TZ = ZoneInfo("Asia/Shanghai")
KEYS = {"REMINDER_WECOM_GONGKAI": "key-gongkai", "REMINDER_WECOM_YEWU": "key-yewu"}
MOMENT = "2026-06-23T09:00"  # a Tuesday with reminders for twelve notices


def reminder(*args: str, timeout: float = 60, env: dict[str, str] | None = None,
             home: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``home``: run there as a user whose home it is, so that no config or state of the
    machine's own user is found."""
    env = {**os.environ, **KEYS, "PYTHONUNBUFFERED": "1", **(env or {})}
    env.pop("REMINDER_CONFIG", None)
    if home is not None:
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "STATE_DIRECTORY"):
            env.pop(name, None)
        env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "reminder", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=home)


def write_config(tmp_path: Path, smtp: SmtpServer, wecom: WeComServer, *,
                 plans: str = '["plans"]', extra: str = "", login: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""
plans = {plans}
[database]
path = "state/reminder.db"
[channels.email]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "reminder@example.org"
sender_name = "局政务公开办"
timeout = 5
{f'username = "{login}"' + chr(10) + 'password_env = "REMINDER_SMTP_PASSWORD"' if login else ""}
[channels.wecom]
base_url = "{wecom.url}"
timeout = 5
[channels.wecom.robots."公开办群"]
key_env = "REMINDER_WECOM_GONGKAI"
[channels.wecom.robots."业务科室群"]
key_env = "REMINDER_WECOM_YEWU"
[admin]
email = ["admin@example.org"]
{extra}
""", encoding="utf-8")
    return path
