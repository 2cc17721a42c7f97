"""`run --once` with nothing to do answers before the store is imported (reminder/cli/idle.py),
and every change, due notice or odd database still takes the full path and sends.

Counted, not timed: a child reports the modules it ended with, and the loopback servers
count what was sent."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import EXAMPLE, KEYS, MOMENT, ROOT, write_config
from servers import smtp_server, wecom_server

from reminder.cli.idle import SUMMARY, plain_run_once

#: What the full path imports and the idle answer must not.
FULL_PATH = ("sqlalchemy", "jinja2", "click", "reminder.store", "reminder.delivery.daemon")


def run_once(config: Path, now: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """`reminder run --once` in a child as the console script runs it, and its modules."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('\\nMODULES=' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
        f"sys.argv = ['reminder', 'run', '--once', '--now', {now!r}, '--config', {str(config)!r}, *{extra!r}]\n"
        "from reminder.cli.entry import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **KEYS}, timeout=120)
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES="))
    return out, set(line[len("MODULES="):].split())


def full_path(modules: set[str]) -> bool:
    return any(m in modules for m in FULL_PATH)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The example plan without task 7 (so restoring it is a changed task with notices due)."""
    folder = tmp_path / "plans" / "demo-2026"
    shutil.copytree(EXAMPLE, folder)
    table = folder / "tasks.csv"
    whole = table.read_text(encoding="utf-8-sig")
    table.write_text("".join(x for x in whole.splitlines(keepends=True) if not x.startswith("7,")),
                     encoding="utf-8-sig")
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config = write_config(tmp_path, smtp, wecom)
        yield {"config": config, "smtp": smtp, "wecom": wecom, "table": table, "whole": whole,
               "db": tmp_path / "state" / "reminder.db"}


def sent(d: dict[str, Any]) -> int:
    return len(d["smtp"].messages) + len(d["wecom"].requests)


def test_nothing_changed_answers_without_the_store_and_sends_nothing(
        deployment: dict[str, Any]) -> None:
    first, modules = run_once(deployment["config"], MOMENT)
    assert first.returncode == 0, first.stderr
    assert "已发送 10 条提醒" in first.stdout and full_path(modules)  # no database yet
    before = sent(deployment)
    for now in (MOMENT, "2026-06-23T15:00"):  # later the same day, nothing due
        again, modules = run_once(deployment["config"], now)
        assert again.returncode == 0, again.stderr
        assert again.stdout == SUMMARY + "\n"
        assert not full_path(modules), sorted(m for m in modules if m.split(".")[0] in
                                              ("sqlalchemy", "jinja2", "click"))
    assert sent(deployment) == before


def test_a_changed_task_takes_the_full_path_and_sends(deployment: dict[str, Any]) -> None:
    assert run_once(deployment["config"], MOMENT)[0].returncode == 0
    before = sent(deployment)
    deployment["table"].write_text(deployment["whole"], encoding="utf-8-sig")  # task 7 is back
    out, modules = run_once(deployment["config"], MOMENT)
    assert out.returncode == 0, out.stderr
    assert full_path(modules) and "已同步计划 demo-2026" in out.stderr
    assert "已发送 2 条提醒" in out.stdout and sent(deployment) > before


def test_a_due_notice_takes_the_full_path_and_sends(deployment: dict[str, Any]) -> None:
    assert run_once(deployment["config"], MOMENT)[0].returncode == 0
    before = sent(deployment)
    out, modules = run_once(deployment["config"], "2026-06-24T09:00")  # a new day, notices due
    assert out.returncode == 0, out.stderr
    assert full_path(modules) and "已发送 2 条提醒" in out.stdout
    assert sent(deployment) > before


@pytest.mark.parametrize("odd", ["missing", "newer-schema", "alert", "locked", "verbose"])
def test_an_odd_database_or_run_takes_the_full_path(deployment: dict[str, Any], odd: str) -> None:
    """Each of these sends or reports on the full path: the idle answer must not hide it."""
    config, db = deployment["config"], deployment["db"]
    assert run_once(config, MOMENT)[0].returncode == 0
    extra: tuple[str, ...] = ()
    if odd == "missing":  # a new empty database: the full path creates it and sends again
        shutil.move(db, db.with_name("moved.db"))
        for trace in db.parent.glob("reminder.db*"):
            trace.unlink()
    elif odd == "newer-schema":  # not at this program's newest revision: alembic decides
        with sqlite3.connect(db) as con:
            con.execute("UPDATE alembic_version SET version_num = '9999'")
    elif odd == "alert":
        with sqlite3.connect(db) as con:
            con.execute("INSERT INTO alerts (name, detail, since) VALUES "
                        "('admin', '测试', '2026-06-23 01:00:00.000000')")
    elif odd == "verbose":
        extra = ("-v",)
    if odd == "locked":
        import fcntl

        with open(db.with_name(db.name + ".lock"), "a+") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            out, modules = run_once(config, MOMENT)
    else:
        out, modules = run_once(config, MOMENT, *extra)
    assert full_path(modules), out.stdout
    expected = {"missing": (0, "已发送 10 条提醒"), "newer-schema": (2, ""),
                "alert": (3, "已发送 0 条提醒"), "locked": (2, ""),
                "verbose": (0, "已发送 0 条提醒")}[odd]
    assert out.returncode == expected[0], out.stderr
    assert expected[1] in out.stdout
    said = {"locked": "另一个 reminder 守护进程", "newer-schema": "比本程序新"}.get(odd)
    assert said is None or said in out.stderr


@pytest.mark.parametrize(("args", "plain"), [
    (["run", "--once"], (None, None)),
    (["run", "--now", "2026-06-23T09:00", "--once", "--config=c.toml"],
     (Path("c.toml"), "2026-06-23T09:00")),
    (["run"], None),
    (["run", "--once", "-v"], None),
    (["run", "--once", "--once"], None),
    (["run", "--once", "--config"], None),
    (["run", "--once", "--config", "--now"], None),
    (["run", "--once", "--now", "x", "--now", "y"], None),
    (["run", "--once", "--help"], None),
    (["status"], None),
])
def test_only_the_plain_form_is_answered_early(args: list[str], plain: Any) -> None:
    assert plain_run_once(args) == plain


def test_the_facts_read_with_sqlite3_are_the_stores(tmp_path: Path) -> None:
    """What goes into the sync keys, read by the pre-check with plain SQL, equals what the
    daemon reads through the store (Daemon._facts) — one row of each kind recorded, an
    extension approved to another date than asked and a completion undone among them.
    A difference would only cost the pre-check its use (keys never match), so it is held
    here rather than found by the bench."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from reminder.cli.idle import _facts
    from reminder.store import open_store

    db = tmp_path / "reminder.db"
    store = open_store(f"sqlite:///{db}")
    now = datetime(2026, 6, 23, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    store.mark_done("p", "1", date(2026, 6, 30), by="a", note="", now=now)
    store.mark_done("p", "2", date(2026, 6, 30), by="a", note="", now=now)
    store.reopen("p", "2", date(2026, 6, 30), by="a", now=now)
    store.set_event("p", "3", date(2026, 5, 1), by="a", now=now)
    store.add_feedback("p", "4", unit="办公室", kind="progress", text="进展", now=now,
                       due=date(2026, 9, 30))
    store.sign("p", "5", "法规科", now=now)
    ident = store.request_extension("p", "6", due=date(2026, 6, 30), current=date(2026, 6, 30),
                                    requested=date(2026, 7, 31), unit="办公室", reason="因",
                                    progress="", late=False, now=now)
    assert ident is not None
    store.decide_extension(ident, approve=True, by="a", note="", now=now,
                           approved=date(2026, 7, 15))
    expected = (store.done_set(), store.events(), frozenset(), store.reported_set(),
                store.signed_set(), store.extended_dates())
    store.dispose()
    with sqlite3.connect(db) as con:
        assert _facts(con) == expected
    assert all(expected[i] for i in (0, 1, 3, 4, 5))  # every kind is there to compare
    assert expected[5] == {("p", "6", date(2026, 6, 30)): date(2026, 7, 15)}
