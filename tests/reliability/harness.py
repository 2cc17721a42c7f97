"""What the trials share: an outbox of numbered notices, daemon processes, a fresh
PostgreSQL database, and the figures docs/reliability.md reports (lost, duplicated, the most
messages per robot in any 60 s, tracebacks)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reminder.models import Notice, Task

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "trial"
TITLE = re.compile(r"T\d{5}")


def notices(count: int, *, per_unit: int, channel: str = "email", robot: str = "公开办群",
            now: datetime | None = None, pad: int = 0) -> list[Notice]:
    """``count`` notices already due, ``per_unit`` to each unit (so one digest carries that
    many); each task's title T00001… names it in the message that carries it. ``pad``
    characters lengthen each title: at 1,200 a WeCom message has room for one task only.
    A unit's own address on a personal channel: userid u0000… (wecom_app), mobile (sms)."""
    now = now or datetime.now(TZ)
    made = []
    for i in range(count):
        unit = f"单位{i // per_unit:04d}"
        addresses = {"email": (f"u{i // per_unit:04d}@example.org",),
                     "wecom_app": (f"u{i // per_unit:04d}",),
                     "sms": (f"1380000{i // per_unit:04d}",)}.get(channel, (robot,))
        made.append(Notice(
            send_at=now - timedelta(minutes=1), stage="remind", step="1wd", plan=PLAN,
            plan_title="可靠性试验", task=str(i + 1), title=f"T{i + 1:05d}" + "政" * pad,
            due=now.date() + timedelta(days=5), recipient=unit, channel=channel,
            addresses=addresses, occurrence=""))
    return made


def load(url: str, planned: Sequence[Notice]) -> None:
    from reminder.store import open_store

    store = open_store(url)
    now = datetime.now(TZ)
    store.sync_plan(
        plan_id=PLAN, title="可靠性试验", path="/trial", fingerprint="x",
        tasks=[Task(id=n.task, title=n.title) for n in planned], occurrences=[],
        notices=list(planned), window=(now.date() - timedelta(days=1), now.date() + timedelta(days=30)),
        cutoff=now - timedelta(days=1), now=now)
    # No plan folder stands behind these notices: forget the plan, or `status` and
    # `run --once` rightly report its folder as gone. The outbox rows stay.
    from sqlalchemy import delete

    from reminder.store.schema import PlanRow

    with store.transaction() as session:
        session.execute(delete(PlanRow).where(PlanRow.id == PLAN))
    store.dispose()


@dataclass(frozen=True)
class Figures:
    notices: int
    lost: int
    duplicated: int  # notices delivered more than once (extra copies counted)
    messages: int

    def line(self) -> str:
        return (f"{self.notices} notices, {self.messages} messages: lost {self.lost}, "
                f"duplicated {self.duplicated}")


def count(expected: int, texts: Iterable[str]) -> Figures:
    """Lost and duplicated notices from the texts of every message the servers received."""
    seen: Counter[str] = Counter()
    messages = 0
    for text in texts:
        messages += 1
        seen.update(set(TITLE.findall(text)))
    wanted = {f"T{i + 1:05d}" for i in range(expected)}
    return Figures(notices=expected, lost=len(wanted - set(seen)),
                   duplicated=sum(c - 1 for c in seen.values() if c > 1), messages=messages)


def max_in_window(times: Sequence[float], seconds: float = 60.0) -> int:
    """The most events in any window of ``seconds`` (sliding, closed on the left)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def write_config(folder: Path, url: str, *, smtp: Any = None, wecom: Any = None,
                 lease: float = 4, max_wait: float = 2, extra: str = "") -> Path:
    path = folder / "config.toml"
    email = (f'[channels.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
             f'sender = "reminder@example.org"\ntimeout = 5\n') if smtp else ""
    robot = (f'[channels.wecom]\nbase_url = "{wecom.url}"\ntimeout = 5\n'
             f'[channels.wecom.robots."公开办群"]\nkey_env = "TRIAL_KEY"\n') if wecom else ""
    path.write_text(f"""
plans = []
[database]
url = "{url}"
{email}{robot}
[admin]
email = ["admin@example.org"]
[daemon]
tick_seconds = 1
lease_seconds = {lease}
max_wait_seconds = {max_wait}
{extra}
""", encoding="utf-8")
    return path


KEY = "trial-key-0123456789"


def environ() -> dict[str, str]:
    env = {**os.environ, "TRIAL_KEY": KEY, "PYTHONUNBUFFERED": "1"}
    env.pop("REMINDER_CONFIG", None)
    return env


def daemon(config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    handle = open(log, "ab")  # noqa: SIM115 - the process writes it until it ends
    return subprocess.Popen([sys.executable, "-m", "reminder", "run", "--config", str(config),
                             *args], stdout=handle, stderr=subprocess.STDOUT, env=environ())


def reminder(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reminder", *args], capture_output=True,
                          text=True, env=environ(), timeout=timeout)


def wait_for(predicate: Callable[[], object], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def kill_while_sending(config: Path, log: Path, sent: Callable[[], int], *,
                       kills: int, seed: int, after_kill: Callable[[int], None] | None = None) -> int:
    """The kill loop: start a daemon, SIGKILL it at a random moment once ``sent()`` grows (it
    is sending), ``kills`` times. Returns how many kills landed while sending. ``after_kill(n)``
    runs after the n-th kill (a token to expire)."""
    rng = random.Random(seed)
    done = mid_send = 0
    while done < kills:
        before = sent()
        proc = daemon(config, log)
        started = wait_for(lambda b=before, p=proc: sent() > b or p.poll() is not None, 60)
        time.sleep(rng.uniform(0, 0.25))
        if proc.poll() is None:
            proc.kill()
            done += 1
            mid_send += started
            if after_kill is not None:
                after_kill(done)
        proc.wait(10)
    return mid_send


def send_the_rest(config: Path, log: Path, db_url: str, timeout: float = 600) -> None:
    """One last daemon, until every notice of the outbox is sent."""
    final = daemon(config, log)
    try:
        assert wait_for(lambda: set(outbox(db_url)) == {"sent"}, timeout, step=0.5), \
            outbox(db_url)
    finally:
        final.terminate()
        final.wait(30)


def three_daemons_one_restarted(config: Path, url: str, folder: Path,
                                posted: Callable[[], int]) -> list[Path]:
    """Three daemons on ``config``; once ``posted()`` reaches a robot's 20 a minute (or 30 s
    pass) the first is SIGKILLed and started again, since a restart must not reset the
    robot's count. They run until every notice is sent (150 s at most), then are stopped;
    returns the logs of all four processes."""
    logs = [folder / f"daemon{i}.log" for i in range(4)]
    procs = [daemon(config, logs[i]) for i in range(3)]
    try:
        wait_for(lambda: posted() >= 20, 30, step=0.1)
        procs[0].kill()
        procs[0].wait(10)
        procs[0] = daemon(config, logs[3])
        wait_for(lambda: set(outbox(url)) == {"sent"}, 150, step=0.5)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
    return logs


@dataclass
class Race:
    """What became of daemons started against one SQLite file: ``logs`` of every process,
    how many refused to start (one line, exit 2: the file's lock is held), and the most that
    ran at once (must be one: SQLite has no row locks to share an outbox)."""

    logs: list[Path]
    refused: int = 0
    started: int = 0
    most_at_once: int = 0


LOCKED = "另一个 reminder 守护进程"


def three_daemons_on_one_file(config: Path, url: str, folder: Path,
                              posted: Callable[[], int]) -> Race:
    """The SQLite form of ``three_daemons_one_restarted``: three daemons started at once on
    one file, where only the one holding the lock may send; once ``posted()`` reaches a
    robot's 20 a minute (or 30 s pass) that one is SIGKILLed and two more race for the
    freed lock. They run until every notice is sent (150 s at most), then are stopped."""
    race = Race(logs=[])
    procs: list[subprocess.Popen[bytes]] = []

    def start(n: int) -> None:
        for _ in range(n):
            race.logs.append(folder / f"daemon{len(race.logs)}.log")
            procs.append(daemon(config, race.logs[-1]))
        race.started += n

    def settle() -> list[subprocess.Popen[bytes]]:
        """Wait until at most one of the new daemons runs (the others refuse at start)."""
        wait_for(lambda: sum(p.poll() is None for p in procs) <= 1, 20, step=0.1)
        alive = [p for p in procs if p.poll() is None]
        race.most_at_once = max(race.most_at_once, len(alive))
        return alive

    try:
        start(3)
        settle()
        wait_for(lambda: posted() >= 20, 30, step=0.1)
        for proc in [p for p in procs if p.poll() is None]:
            proc.kill()
            proc.wait(10)
        start(2)
        settle()
        wait_for(lambda: set(outbox(url)) == {"sent"}, 150, step=0.5)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
    race.refused = sum(1 for proc, log in zip(procs, race.logs, strict=True)
                       if proc.returncode == 2 and LOCKED in log.read_text("utf-8", "replace"))
    return race


def tracebacks(*logs: Path | str) -> int:
    return sum((p.read_text("utf-8", "replace") if isinstance(p, Path) else p)
               .count("Traceback") for p in logs)


def outbox(url: str) -> Counter[str]:
    from reminder.store import open_store

    store = open_store(url)
    try:
        return Counter(r.status for r in store.notices())
    finally:
        store.dispose()


def report(name: str, text: str, *, tried: int, wrong: int) -> None:
    """Figures go to stdout (pytest -s), to a file (``RELIABILITY_FIGURES``), and, as tried /
    clean / wrong, into docs/reliability-trials.json, from which the trials table in
    docs/reliability.md is written at the end of the run (trials_table.py). Called before
    the trial's asserts, so a trial that comes out wrong is recorded as wrong."""
    from trials_table import record

    wrong = max(0, min(wrong, tried))
    print(f"[{name}] tried {tried}, wrong {wrong}: {text}")
    record(name, tried=tried, wrong=wrong, figures=text)
    out = os.environ.get("RELIABILITY_FIGURES")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            f.write(f"{date.today()} {name}: {text}\n")
