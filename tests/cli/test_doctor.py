"""`reminder doctor` against real parts: aiosmtpd with a login, a loopback WeCom server that
must receive nothing, a real SQLite file, the example plan."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import EXAMPLE, reminder, write_config
from servers import SmtpServer, WeComServer, smtp_server, wecom_server

KEY = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
PASSWORD = "s3cret-pw"


@pytest.fixture
def servers() -> Iterator[tuple[SmtpServer, WeComServer]]:
    with smtp_server(users={"reminder": PASSWORD}) as smtp, wecom_server(keys={KEY}) as wecom:
        yield smtp, wecom


def _deploy(tmp_path: Path, smtp: SmtpServer, wecom: WeComServer, *, extra: str = "") -> Path:
    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    return write_config(tmp_path, smtp, wecom, login="reminder", extra=extra)


GOOD = {"REMINDER_SMTP_PASSWORD": PASSWORD, "REMINDER_WECOM_GONGKAI": KEY, "REMINDER_WECOM_YEWU": KEY}


def test_a_ready_deployment_reads_checks_and_sends_nothing(tmp_path: Path, servers) -> None:
    smtp, wecom = servers
    config = str(_deploy(tmp_path, smtp, wecom))
    # Make the database the way a first run does (nothing is due on New Year's Day).
    assert reminder("run", "--once", "--now", "2026-01-01T09:00", "--config", config, home=tmp_path,
                    env=GOOD).returncode == 0
    result = reminder("doctor", "--config", config, home=tmp_path, env=GOOD)
    lines = result.stdout.splitlines()
    assert result.returncode == 1, result.stdout  # the example plan has warnings (2027 holidays)
    assert lines[0] == f"正常 配置：{config} 读取正常"
    assert any(line.startswith("正常 数据库：sqlite:///") and "记录了 1 个计划" in line for line in lines)
    assert f"正常 邮件：127.0.0.1:{smtp.port}（none） 连接正常，以 reminder 登录成功；未发送任何邮件" in lines
    assert "正常 企业微信：机器人“公开办群”的 key 格式正确（未发送消息）" in lines
    assert any(line.startswith("警告 计划：demo-2026：16 项任务，0 个错误") for line in lines)
    assert "正常 节假日：2026 年有调休安排数据" in lines
    # doctor says what check, plan and the daemon say of 2027 (it said 仅周末休息).
    from reminder.plan.calendar import missing_year_note

    assert f"警告 节假日：{missing_year_note(2027)}" in lines
    assert not any("仅周末" in line for line in lines)
    assert smtp.messages == [] and wecom.requests == []
    assert PASSWORD not in result.stdout and KEY not in result.stdout


@pytest.mark.parametrize(
    ("env", "extra", "line"),
    [
        pytest.param({"REMINDER_SMTP_PASSWORD": "wrong"}, "", "错误 邮件：127.0.0.1:", id="smtp-wrong-password"),
        pytest.param({"REMINDER_SMTP_PASSWORD": ""}, "", "错误 渠道：", id="smtp-password-missing"),
        pytest.param({"REMINDER_WECOM_GONGKAI": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"}, "",
                     "错误 企业微信：机器人“公开办群”：填的是整个 webhook 地址", id="wecom-whole-url"),
        pytest.param({"REMINDER_WECOM_YEWU": "abc"}, "", "错误 企业微信：机器人“业务科室群”：key 格式不对", id="wecom-bad-form"),
        pytest.param({}, 'contacts = "通讯录.xlsx"', "错误 通讯录：", id="contacts-missing"),
    ],
)
def test_each_problem_is_one_line_and_the_worst_sets_the_exit(tmp_path: Path, servers, env: dict,
                                                              extra: str, line: str) -> None:
    smtp, wecom = servers
    config = _deploy(tmp_path, smtp, wecom)
    if extra:  # top-level keys go before the first table
        config.write_text(extra + "\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    result = reminder("doctor", "--config", str(config), home=tmp_path, env={**GOOD, **env})
    assert result.returncode == 2
    assert [x for x in result.stdout.splitlines() if x.startswith(line)], result.stdout
    assert "Traceback" not in result.stderr and smtp.messages == [] and wecom.requests == []
    for secret in (KEY, PASSWORD, "wrong"):
        assert secret not in result.stdout


def test_a_database_that_is_not_one_is_an_error(tmp_path: Path, servers) -> None:
    config = _deploy(tmp_path, *servers)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "reminder.db").write_text("not a database", encoding="utf-8")
    result = reminder("doctor", "--config", str(config), home=tmp_path, env=GOOD)
    assert result.returncode == 2
    assert any(x.startswith("错误 数据库：") for x in result.stdout.splitlines()), result.stdout


def test_a_database_not_made_yet_is_a_warning(tmp_path: Path, servers) -> None:
    config = _deploy(tmp_path, *servers)
    result = reminder("doctor", "--config", str(config), home=tmp_path, env=GOOD)
    assert f"警告 数据库：{tmp_path / 'state' / 'reminder.db'} 尚不存在（首次运行 reminder run 时创建）" in result.stdout
    assert not (tmp_path / "state" / "reminder.db").exists()


def test_without_a_config_doctor_says_where_it_looked(tmp_path: Path) -> None:
    result = reminder("doctor", home=tmp_path, env={})
    assert result.returncode == 2
    (line,) = result.stdout.splitlines()
    assert line.startswith("错误 配置：找不到配置文件") and "config.example.toml" in line


WEB = '[web]\nlisten = "127.0.0.1:18099"\nsecret_env = "WEB_SECRET"\n'
LONG = "kP3v-8yQ2rT6wZ1xB5nM9cF4hJ7dL0sA"
OLD_HASH = "scrypt$16384$8$1$1Z32tpAr42oTY9m2X7cLfw$1zIW3zPMXHAS2zz0jH_gSLwUMdGRtpWW0aLc4WKfQIM"
NEW_HASH = "scrypt$131072$8$1$MDEyMzQ1Njc4OWFiY2RlZg$eLmx3vo6MiHUlA2KZa4UGeO-pF2dsWuksM96deSJGPU"


@pytest.mark.parametrize(("extra", "env", "secrets", "wanted"), [
    pytest.param(WEB, {}, "", ["错误 反馈页面：…缺少密钥：环境变量 WEB_SECRET"], id="no-secret"),
    pytest.param(WEB, {"WEB_SECRET": "short"}, "", ["错误 反馈页面：…签名密钥太短"], id="weak"),
    pytest.param(WEB + 'base_url = "https://gov.example.cn/reminder"\n', {"WEB_SECRET": LONG}, "",
                 ["正常 反馈页面：链接指向 https://gov.example.cn/reminder，签名密钥已配置",
                  "正常 督办看板：未设置密码"], id="ready"),
    pytest.param(WEB, {"WEB_SECRET": LONG}, '[web]\npassword_hash = "hunter2"\n',
                 ["错误 督办看板：密钥文件中的 [web] password_hash 格式不对"], id="plain-password"),
    # Hashes from before N was raised to 2^17 still log in, so doctor must not call them bad.
    pytest.param(WEB, {"WEB_SECRET": LONG}, f'[web]\npassword_hash = "{OLD_HASH}"\n',
                 ["正常 督办看板：已设置密码"], id="hash-n-2-14"),
    pytest.param(WEB, {"WEB_SECRET": LONG}, f'[web]\npassword_hash = "{NEW_HASH}"\n',
                 ["正常 督办看板：已设置密码"], id="hash-n-2-17"),
    pytest.param(WEB, {"WEB_SECRET": LONG},
                 f'[web]\npassword_hash = "{OLD_HASH.replace("$16384$", f"${2**24}$")}"\n',
                 ["错误 督办看板：密钥文件中的 [web] password_hash 格式不对"], id="hash-n-2-24"),
])
def test_web_findings(tmp_path: Path, servers, extra: str, env: dict, secrets: str,
                      wanted: list[str]) -> None:
    config = _deploy(tmp_path, *servers, extra=extra)
    if secrets:
        (tmp_path / "secrets.toml").write_text(secrets, encoding="utf-8")
        (tmp_path / "secrets.toml").chmod(0o600)
        config.write_text('secrets_file = "secrets.toml"\n' + config.read_text("utf-8"), "utf-8")
    result = reminder("doctor", "--config", str(config), home=tmp_path, env={**GOOD, **env})
    lines = result.stdout.splitlines()
    for line in wanted:  # "start…middle": the line starts with one and holds the other
        start, _, middle = line.partition("…")
        assert any(x.startswith(start) and middle in x for x in lines), result.stdout
    assert LONG not in result.stdout and "hunter2" not in result.stdout


@pytest.mark.parametrize(("web", "secret", "words"), [
    ('listen = "127.0.0.1:99999"', "s" * 32, "端口应在 1 至 65535 之间"),
    ('listen = "127.0.0.1:18765"', "abc", "签名密钥太短（3 个字符，至少 16 个）"),
    ('listen = "127.0.0.1:18765"\nbase_url = "https://r.example.gov.cn/?from=mail"', "s" * 32,
     "base_url 不能带 ? 或 # 之后的部分"),
], ids=["port-99999", "secret-of-3", "base-url-query"])
def test_a_web_mistake_stops_check_doctor_run_and_serve_alike(tmp_path: Path, web: str,
                                                             secret: str, words: str) -> None:
    """Issue 20 item 17: each ended in a traceback, a warning only, or a start that worked."""
    plans = tmp_path / "plans"
    shutil.copytree(EXAMPLE, plans / "demo-2026")
    config = tmp_path / "config.toml"
    config.write_text(f'plans = ["plans"]\n[database]\npath = "state/r.db"\n'
                      f'[web]\nsecret_env = "WEB_SECRET_T"\n{web}\n', encoding="utf-8")
    for args in (["check", str(plans / "demo-2026")], ["doctor"], ["run", "--once"], ["serve"]):
        result = reminder(*args, "--config", str(config), env={"WEB_SECRET_T": secret})
        said = result.stdout + result.stderr
        assert result.returncode == 2, (args, said)
        assert words in said and "Traceback" not in said, (args, said)
        if args[0] != "doctor":  # doctor lists every area, one line each
            assert result.stderr.count("\n") == 1, (args, result.stderr)
