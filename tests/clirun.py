"""Running `reminder` as a user does, for tests in every package: a real process, the
example plan, the loopback servers' keys, and a config that points at those servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import tomlkit
from servers import SmtpServer, WeComServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "demo-2026"
TZ = ZoneInfo("Asia/Shanghai")
KEYS = {"REMINDER_WECOM_GONGKAI": "key-gongkai", "REMINDER_WECOM_YEWU": "key-yewu"}
MOMENT = "2026-06-23T09:00"  # a Tuesday with reminders for twelve notices
# The example asks for 签收 and sends 橙/红 warnings; a test of what the plain reminders do
# (or of the daemon's counts) turns that off rather than count around it.
WORKFLOW_OFF = 'sign_within = ""\norange_to = []\nred_to = []'


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


def set_policy(plan_toml: Path, policy: str) -> None:
    """Set keys of a plan.toml's [policy] table from a TOML snippet (``'sign_within = ""'``),
    replacing the values there: appending a key the example already sets is a TOML error.
    tomlkit keeps the file's comments and order."""
    doc = tomlkit.parse(plan_toml.read_text(encoding="utf-8"))
    table = doc.setdefault("policy", tomlkit.table())
    for key, value in tomllib.loads(policy).items():
        table[key] = value
    plan_toml.write_text(tomlkit.dumps(doc), encoding="utf-8")


def copy_example(folder: Path, policy: str = "") -> Path:
    """The example plan copied to ``folder``, with ``policy`` set in its [policy] table."""
    shutil.copytree(EXAMPLE, folder)
    if policy:
        set_policy(folder / "plan.toml", policy)
    return folder
