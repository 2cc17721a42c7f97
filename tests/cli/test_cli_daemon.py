"""The daemon commands as a user runs them: real processes, a real SQLite file, and the
loopback SMTP and WeCom servers of tests/servers.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time as _time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from clirun import EXAMPLE, KEYS, MOMENT, ROOT, TZ, reminder, write_config  # noqa: F401
from servers import INVALID_KEY, SmtpServer, WeComServer, smtp_server, wecom_server

from reminder.models import Notice
from reminder.store import SENT, open_store


@pytest.fixture
def servers() -> Iterator[tuple[SmtpServer, WeComServer]]:
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        yield smtp, wecom


@pytest.fixture
def setup(tmp_path: Path, servers: tuple[SmtpServer, WeComServer]) -> dict[str, Any]:
    import shutil

    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    smtp, wecom = servers
    config = write_config(tmp_path, smtp, wecom)
    return {"config": str(config), "smtp": smtp, "wecom": wecom,
            "db": f"sqlite:///{tmp_path / 'state' / 'reminder.db'}"}


def text_of(mail: Any) -> str:
    return mail.message.get_body(("plain",)).get_content()


# -- the "done when" -----------------------------------------------------------------

def test_run_once_delivers_exactly_what_plan_lists_in_digests_and_only_once(
        setup: dict[str, Any]) -> None:
    listed = json.loads(reminder("plan", str(EXAMPLE), "--now", MOMENT, "--to", MOMENT[:10],
                                 "--format", "json").stdout)
    assert len(listed) == 12

    first = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert first.returncode == 0, first.stderr
    assert "已发送 12 条提醒" in first.stdout
    store = open_store(setup["db"])
    sent = [r for r in store.notices() if r.status == SENT]
    assert {r.key for r in sent} == {n["key"] for n in listed}

    # Grouped: one e-mail per unit with an address, listing each of its tasks.
    smtp, wecom = setup["smtp"], setup["wecom"]
    email_units = {n["unit"]: set(n["recipients"]) for n in listed if n["channel"] == "email"}
    assert sorted(m.rcpt_tos for m in smtp.messages) == sorted(
        tuple(sorted(a)) for a in email_units.values())
    for mail in smtp.messages:
        titles = {r.title for r in sent if r.channel == "email" and r.addresses == list(
            mail.rcpt_tos)}
        assert titles and all(t in text_of(mail) for t in titles)
    # One WeCom post per robot, a section per unit on it (plus the text message that
    # @-mentions mobile numbers): 业务科室群 carries 信息中心 and 数据资源科 in one post.
    robots: dict[str, set[str]] = {}
    for n in listed:
        if n["channel"] == "wecom":
            robots.setdefault(n["recipients"][0], set()).add(n["unit"])
    markdown = [r.body["markdown"]["content"] for r in wecom.requests
                if r.body["msgtype"] == "markdown"]
    assert len(markdown) == len(robots) == 2
    assert {len(units) for units in robots.values()} == {1, 2}
    for units in robots.values():
        [post] = [m for m in markdown if all(u in m for u in units)]
        if len(units) > 1:
            assert all(f"**▍{u}：" in post for u in units)
    assert {r.key for r in wecom.requests} == set(KEYS.values())

    before = (len(smtp.messages), len(wecom.requests))
    second = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert second.returncode == 0 and "已发送 0 条提醒" in second.stdout
    later = reminder("run", "--once", "--now", "2026-06-23T15:00", "--config", setup["config"])
    assert later.returncode == 0 and "已发送 0 条提醒" in later.stdout
    assert (len(smtp.messages), len(wecom.requests)) == before
    store.dispose()


# -- done / undo / event / status ----------------------------------------------------------

def test_done_undo_event_and_status(setup: dict[str, Any]) -> None:
    cfg = setup["config"]
    assert reminder("run", "--once", "--now", MOMENT, "--config", cfg).returncode == 0

    done = reminder("done", "demo-2026", "5", "--note", "已报送清单", "--by", "李四",
                    "--config", cfg)
    assert done.returncode == 0, done.stderr
    assert "2026-06-30" in done.stdout and "取消待发提醒" in done.stdout
    status = json.loads(reminder("status", "--json", "--config", cfg).stdout)
    task5 = next(t for t in status["tasks"] if t["task"] == "5")
    assert (task5["done"], task5["pending"], task5["last_stage"]) == (True, 0, "remind")
    assert task5["last_sent"].startswith("2026-06-23T09:00")

    undo = reminder("undo", "demo-2026", "5", "--config", cfg)
    assert undo.returncode == 0 and "恢复提醒" in undo.stdout
    status = json.loads(reminder("status", "--json", "--config", cfg).stdout)
    task5 = next(t for t in status["tasks"] if t["task"] == "5")
    assert task5["done"] is False and task5["pending"] > 0

    event = reminder("event", "demo-2026", "10", "2026-07-01", "--config", cfg)
    assert event.returncode == 0, event.stderr
    reminder("run", "--once", "--now", "2026-06-23T09:30", "--config", cfg)
    status = json.loads(reminder("status", "--json", "--config", cfg).stdout)
    task10 = next(t for t in status["tasks"] if t["task"] == "10")
    assert task10["next_due"] > "2026-07-01"

    table = reminder("status", "--config", cfg)
    assert table.returncode == 0 and "demo-2026" in table.stdout


def test_plan_with_config_honours_completions_and_events_and_writes_nothing(
        setup: dict[str, Any], tmp_path: Path) -> None:
    cfg, folder = setup["config"], str(tmp_path / "plans" / "demo-2026")
    db = tmp_path / "state" / "reminder.db"

    def listed(*extra: str) -> list[dict[str, Any]]:
        out = reminder("plan", folder, "--now", MOMENT, "--format", "json", *extra)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    before = listed("--config", cfg)
    assert not db.exists()  # a dry run never creates the database
    assert any(n["task"] == "5" for n in before)

    reminder("run", "--once", "--now", MOMENT, "--config", cfg)
    assert reminder("done", "demo-2026", "5", "--config", cfg).returncode == 0
    assert reminder("event", "demo-2026", "10", "2026-07-01", "--config", cfg).returncode == 0
    mtime = db.stat().st_mtime_ns
    after = listed("--config", cfg)
    assert not any(n["task"] == "5" for n in after)
    assert any(n["task"] == "5" for n in listed())  # without --config: the plan folder alone
    due10 = {n["deadline"] for n in after if n["task"] == "10"}
    assert due10 and min(due10) > "2026-07-01"  # 5 workdays after the recorded event
    assert db.stat().st_mtime_ns == mtime


def test_status_overdue_lists_only_overdue_tasks(setup: dict[str, Any]) -> None:
    reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    out = json.loads(reminder("status", "--overdue", "--json", "--config",
                              setup["config"]).stdout)
    assert out["tasks"] and all(t["overdue"] for t in out["tasks"])


@pytest.mark.parametrize("args, code, message", [
    (["done", "demo-2026", "999"], 1, "没有编号为 999 的任务"),
    (["done", "demo-2026", "5", "--occurrence", "2026-01-01"], 1, "没有 2026-01-01 这一期"),
    (["undo", "demo-2026", "5"], 1, "没有已完成的记录"),
    (["event", "demo-2026", "10", "七月一日"], 2, "日期应写作"),
    (["run", "--now", MOMENT], 2, "--now 只能与 --once 一起使用"),
], ids=["unknown-task", "unknown-occurrence", "undo-not-done", "bad-date", "now-without-once"])
def test_user_mistakes_are_one_line_without_traceback(setup: dict[str, Any], args: list[str],
                                                      code: int, message: str) -> None:
    result = reminder(*args, "--config", setup["config"])
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_config_and_missing_secret_exit_2_with_one_line(
        tmp_path: Path, servers: tuple[SmtpServer, WeComServer]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[channels.email]\nhost = 'h'\nsender = 's'\npassword = 'hunter2'\n",
                   encoding="utf-8")
    result = reminder("status", "--config", str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "hunter2" not in result.stderr
    config = write_config(tmp_path, *servers, extra='[channels.wecom.robots."新群"]\n'
                          'key_env = "REMINDER_WECOM_NEW"')
    result = reminder("run", "--once", "--config", str(config))
    assert result.returncode == 2 and "REMINDER_WECOM_NEW" in result.stderr


# -- a wrong password holds the notices instead of losing them ------------------------------

def test_wrong_password_holds_tells_cron_and_a_fixed_password_sends_them(
        tmp_path: Path) -> None:
    import shutil

    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    with smtp_server(users={"gongkai": "right"}) as smtp, \
            wecom_server(keys=set(KEYS.values())) as wecom:
        config = str(write_config(tmp_path, smtp, wecom, login="gongkai"))
        wrong = {"REMINDER_SMTP_PASSWORD": "wrong-pw"}
        first = reminder("run", "--once", "--now", MOMENT, "--config", config, env=wrong)
        # The robots delivered; the e-mails wait, and the admin (e-mail only) cannot be told.
        assert first.returncode == 3, first.stderr
        assert "暂停" in first.stdout and "无法通知管理员" in first.stderr
        assert "Traceback" not in first.stderr and "wrong-pw" not in first.stderr
        assert smtp.messages == []
        status = reminder("status", "--config", config, env=wrong)
        assert "无法通知管理员" in status.stderr and "配置有误暂停" in status.stdout
        again = reminder("run", "--once", "--now", MOMENT, "--config", config, env=wrong)
        assert again.returncode == 3 and smtp.messages == []  # held, not knocked on again

        fixed = {"REMINDER_SMTP_PASSWORD": "right"}
        later = reminder("run", "--once", "--now", MOMENT, "--config", config, env=fixed)
        assert later.returncode == 0, later.stderr
        assert len(smtp.messages) >= 1 and all(m.login == "gongkai" for m in smtp.messages)
        assert "无法通知管理员" not in reminder("status", "--config", config).stderr
        store = open_store(f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
        assert {r.status for r in store.notices() if r.send_at <= datetime.fromisoformat(
            MOMENT).replace(tzinfo=TZ) and r.status != "cancelled"} == {SENT}
        store.dispose()


def test_retry_requeues_held_notices(setup: dict[str, Any]) -> None:
    setup["wecom"].replies.extend([INVALID_KEY] * 2)
    first = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert first.returncode == 0 and "暂停" in first.stdout  # the admin heard by e-mail
    assert "配置有误" in text_of(setup["smtp"].messages[-1])
    retried = reminder("retry", "--config", setup["config"])
    assert retried.returncode == 0 and "已重新排队" in retried.stdout
    assert not retried.stdout.startswith("已重新排队 0 ")
    again = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert again.returncode == 0 and "暂停" not in again.stdout


# -- test-channel --------------------------------------------------------------------------

def test_test_channel_shows_the_providers_reply(setup: dict[str, Any]) -> None:
    ok = reminder("test-channel", "公开办群", "--config", setup["config"])
    assert ok.returncode == 0 and "成功" in ok.stdout
    assert setup["wecom"].requests[-1].key == "key-gongkai"
    mail = reminder("test-channel", "email", "--config", setup["config"])
    assert mail.returncode == 0, mail.stderr
    assert mail.stdout.startswith("成功：测试消息已发出") and "—" not in mail.stdout
    assert setup["smtp"].messages[-1].rcpt_tos == ("admin@example.org",)
    setup["wecom"].replies.append(INVALID_KEY)
    bad = reminder("test-channel", "业务科室群", "--config", setup["config"])
    assert bad.returncode == 1 and "93000" in bad.stdout


# -- the daemon as a process ---------------------------------------------------------------

def test_daemon_process_sends_when_due_refuses_a_second_and_exits_cleanly_on_sigterm(
        tmp_path: Path, servers: tuple[SmtpServer, WeComServer]) -> None:
    smtp, wecom = servers
    config = write_config(tmp_path, smtp, wecom, plans="[]")
    url = f"sqlite:///{tmp_path / 'state' / 'reminder.db'}"
    due = datetime.now(TZ) + timedelta(seconds=3)
    # Put a notice straight into the outbox: the outbox, not the planner, is what the
    # daemon sends from, and the planner only knows whole minutes.
    store = open_store(url)
    store.sync_plan(
        plan_id="manual", title="手工计划", path="-", fingerprint=None, tasks=[],
        occurrences=[], window=(due.date(), due.date()), cutoff=due - timedelta(hours=1),
        now=datetime.now(TZ), notices=[Notice(
            send_at=due, stage="remind", step="1wd", plan="manual", plan_title="手工计划",
            task="1", title="核查网站栏目", due=due.date() + timedelta(days=3),
            recipient="法规科", channel="email", addresses=("fagui@example.org",))],
    )
    store.dispose()

    env = {**os.environ, **KEYS, "PYTHONUNBUFFERED": "1"}
    daemon = subprocess.Popen([sys.executable, "-m", "reminder", "run", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
    try:
        deadline = _time.monotonic() + 15
        while not smtp.messages and _time.monotonic() < deadline and daemon.poll() is None:
            _time.sleep(0.05)
        arrived = datetime.now(TZ)
        assert smtp.messages, "the notice due 3 s after start never arrived"
        assert arrived >= due
        assert smtp.messages[0].rcpt_tos == ("fagui@example.org",)
        assert "核查网站栏目" in text_of(smtp.messages[0])

        second = reminder("run", "--once", "--config", str(config), timeout=30)
        assert second.returncode == 2
        assert "另一个 reminder 守护进程" in second.stderr

        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=15)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert daemon.returncode == 0, err
    assert "守护进程已停止" in err and "Traceback" not in err
    assert len(smtp.messages) == 1
    store = open_store(url)
    assert [r.status for r in store.notices()] == [SENT]
    store.dispose()


def test_verbose_run_writes_no_webhook_key_in_any_form(tmp_path: Path) -> None:
    """`run -v` logs at DEBUG; urllib3 used to log every request URL with `?key=…`."""
    import shutil
    from urllib.parse import quote, quote_plus

    keys = {"REMINDER_WECOM_GONGKAI": "gk+Y/0z=Q9", "REMINDER_WECOM_YEWU": "yw/8+Kp=="}
    shutil.copytree(EXAMPLE, tmp_path / "plans" / "demo-2026")
    # One robot's key is accepted, the other's was rotated (93000): both paths log.
    with smtp_server() as smtp, wecom_server(keys={keys["REMINDER_WECOM_GONGKAI"]}) as wecom:
        config = write_config(tmp_path, smtp, wecom)
        env = {**os.environ, **keys, "PYTHONUNBUFFERED": "1"}
        env.pop("REMINDER_CONFIG", None)
        run = subprocess.run([sys.executable, "-m", "reminder", "run", "--once", "-v", "--now", MOMENT,
                              "--config", str(config)], capture_output=True, text=True, env=env,
                             timeout=60)
        assert {r.key for r in wecom.requests} == set(keys.values())  # both keys were used
    output = run.stdout + run.stderr
    assert "DEBUG" in output or "INFO" in output  # verbose logging really ran
    for key in keys.values():
        for form in {key, quote(key, safe=""), quote(key), quote_plus(key)}:
            assert form not in output, f"{form!r} in output"
    store = open_store(f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
    stored = " ".join(f"{r.last_error} {r.provider_code}" for r in store.notices())
    assert not any(k in stored or quote(k, safe="") in stored for k in keys.values())


# -- plan folders that are not there -------------------------------------------------------

@pytest.mark.parametrize("break_it", ["plans-path-missing", "plan-folder-disappears"])
def test_missing_plan_folder_is_an_error_in_status_and_for_run_once(
        setup: dict[str, Any], tmp_path: Path, break_it: str) -> None:
    import shutil

    first = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert first.returncode == 0, first.stderr
    if break_it == "plans-path-missing":
        shutil.rmtree(tmp_path / "plans")
        words = "方案目录不存在"
    else:
        shutil.rmtree(tmp_path / "plans" / "demo-2026")
        words = "文件夹已不存在"
    status = reminder("status", "--config", setup["config"])
    assert status.returncode == 1 and words in status.stderr
    assert "demo-2026" in status.stdout  # the table still shows what the database knows
    once = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert once.returncode == 1 and words in once.stderr and "Traceback" not in once.stderr


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_event_far_from_the_plan_year_is_refused_in_one_line(setup: dict[str, Any], day: str
                                                             ) -> None:
    """Issue 20 item 1: `event demo-2026 10 9999-12-31` exited 0, and then no plan got
    reminders (OverflowError counting workdays from it)."""
    event = reminder("event", "demo-2026", "10", day, "--config", setup["config"])
    assert event.returncode == 2
    assert event.stderr.count("\n") == 1 and "Traceback" not in event.stderr
    assert "超出计划年度 2026 的合理范围（2021-01-01 至 2056-12-31）" in event.stderr
    store = open_store(setup["db"])
    try:
        assert store.events() == {}
    finally:
        store.dispose()


def test_run_once_sends_the_healthy_plans_and_exits_1_naming_each_broken_one(
        setup: dict[str, Any], tmp_path: Path) -> None:
    """Issue 20 item 1, for a timer: a plan that does not load and a plan that loads but
    cannot be planned cost the healthy plan nothing, but `run --once` used to exit 0, so
    cron and systemd never heard of them. Each broken plan is one line with its file, place
    and fix; the run ends with exit 1 and no traceback."""
    import shutil

    plans = tmp_path / "plans"
    shutil.copytree(EXAMPLE, plans / "torn-2026")
    (plans / "torn-2026" / "plan.toml").write_text("title = \"未写完\n", "utf-8")
    shutil.copytree(EXAMPLE, plans / "other-2026")
    # An event far out, stored before the entry points refused such dates.
    store = open_store(setup["db"])
    store.set_event("other-2026", "10", datetime(9999, 12, 31).date(), by="旧版本",
                    now=datetime.fromisoformat(MOMENT).replace(tzinfo=TZ))
    store.dispose()
    once = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert once.returncode == 1, once.stdout + once.stderr
    assert "Traceback" not in once.stderr
    store = open_store(setup["db"])
    sent = {r.plan_id for r in store.notices() if r.status == SENT}
    store.dispose()
    assert sent == {"demo-2026"}  # the healthy plan went out
    lines = once.stderr.splitlines()
    torn = [line for line in lines if "torn-2026" in line and "plan.toml" in line]
    other = [line for line in lines if "other-2026" in line and "任务 10 的事件日期" in line]
    assert len(torn) == 1 and "TOML" in torn[0], once.stderr
    assert len(other) == 1, once.stderr
    assert "9999-12-31" in other[0] and "reminder event other-2026 10" in other[0]
    assert lines[-1].startswith("错误：2 个计划未能加载或排期（other-2026、torn-2026）")
    # The next timer run says it again: a broken plan is not forgotten after one telling.
    again = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert again.returncode == 1 and "torn-2026" in again.stderr.splitlines()[-1]
    # Mended, the run is clean.
    shutil.copy(EXAMPLE / "plan.toml", plans / "torn-2026" / "plan.toml")
    mended = reminder("event", "other-2026", "10", "2026-06-01", "--config", setup["config"])
    assert mended.returncode == 0, mended.stderr
    clean = reminder("run", "--once", "--now", MOMENT, "--config", setup["config"])
    assert clean.returncode == 0, clean.stderr
