"""Store benchmarks: the daemon's first sync, re-syncs, the claim at 1M rows, dispatch overhead.

Each function returns plain numbers; bench/run.py runs them in child processes (for a clean
peak RSS) and writes the table. Run one alone:

    .venv/bin/python bench/bench_store.py sync 1000 sqlite
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth import change_one_task, deployment

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Database:
    """A fresh SQLite file or PostgreSQL database, dropped afterwards."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.name = f"bench_{uuid.uuid4().hex[:8]}"
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp / 'bench.db'}"
        else:
            self._admin("CREATE DATABASE {}")
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def _admin(self, statement: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(statement.format(self.name)))
        engine.dispose()

    def drop(self) -> None:
        if self.kind == "postgresql":
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")


class Accepting:
    """A channel that routes every address (sending is measured in bench_dispatch)."""

    rate_limit = None

    def routes(self, addresses: Any) -> bool:
        return True


def daemon_for(url: str, root: Path) -> Any:
    from reminder.config import Config
    from reminder.delivery.daemon import Daemon
    from reminder.delivery.dispatcher import Dispatcher
    from reminder.store import open_store

    store = open_store(url)
    config = Config(path=None, database_url=url, plans=(root,))
    return Daemon(config, store, Dispatcher(store, {"email": Accepting(), "wecom": Accepting()},
                                              claimant="bench")), store


def bench_sync(tasks: int, kind: str, plans_root: Path) -> dict[str, Any]:
    """First sync, a no-change re-sync, and a re-sync after one task's deadline changed."""
    folders = deployment(plans_root, tasks)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(kind, Path(tmp))
        try:
            daemon, store = daemon_for(db.url, plans_root)
            t0, c0 = time.perf_counter(), cpu()
            results = daemon.sync(NOW, force=True)
            first = (time.perf_counter() - t0, cpu() - c0)
            rows = sum(r.added for r in results)
            t0, c0 = time.perf_counter(), cpu()
            daemon.sync(NOW, force=True)
            again = (time.perf_counter() - t0, cpu() - c0)
            table = folders[0] / "tasks.csv"
            original = table.read_text(encoding="utf-8")
            change_one_task(folders[0])
            t0, c0 = time.perf_counter(), cpu()
            changed = daemon.sync(NOW + timedelta(minutes=1))
            one = (time.perf_counter() - t0, cpu() - c0)
            table.write_text(original, encoding="utf-8")  # as it was, for the next run
            store.dispose()
        finally:
            db.drop()
    return {"tasks": tasks, "db": kind, "rows": rows, "first_s": first[0], "first_cpu": first[1],
            "resync_s": again[0], "resync_cpu": again[1], "one_change_s": one[0],
            "one_change_cpu": one[1], "one_change_plans": len(changed),
            "peak_mb": peak_mb()}


def bench_dispatch(kind: str, count: int = 1000) -> dict[str, Any]:
    """``count`` one-notice digests through the dispatcher to a loopback WeCom stand-in,
    against the same number of bare ``requests.Session().post`` calls to it."""
    import requests

    from reminder.delivery.channels.wecom import WeComChannel
    from reminder.delivery.dispatcher import Dispatcher
    from reminder.models import Notice
    from reminder.store import open_store
    from tests.servers import wecom_server

    now = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
    notices = [Notice(send_at=now, stage="remind", step="1wd", plan="bench", plan_title="压测方案",
                      task=str(i), title=f"任务{i}", due=now.date() + timedelta(days=3),
                      recipient=f"单位{i:04d}", channel="wecom", addresses=(f"群{i}",))
               for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp, wecom_server() as server:
        session = requests.Session()
        payload = {"msgtype": "markdown", "markdown": {"content": "提醒：任务1 将于 2026-06-04 到期"}}
        session.post(server.url, params={"key": "k"}, json=payload)  # connect once
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(count):
            session.post(server.url, params={"key": "k"}, json=payload).json()
        raw, raw_cpu = (time.perf_counter() - t0) / count, (time.process_time() - c0) / count
        db = Database(kind, Path(tmp))
        try:
            store = open_store(db.url)
            store.sync_plan(plan_id="bench", title="压测方案", path="/bench", fingerprint=None,
                            tasks=(), occurrences=(), notices=notices,
                            window=(now.date(), now.date()), cutoff=now - timedelta(hours=1),
                            now=now - timedelta(hours=1))
            # A robot per unit: units sharing a robot share one post (issue 12), and this
            # measures the cost of one message, so each notice is a message of its own.
            channel = WeComChannel({f"群{i}": "k" for i in range(count)}, base_url=server.url)
            channel.rate_limit = None  # the stand-in has no limit; measure our own cost
            dispatcher = Dispatcher(store, {"wecom": channel}, claimant="bench")
            t0, c0 = time.perf_counter(), time.process_time()
            report = dispatcher.dispatch(now)
            ours, ours_cpu = (time.perf_counter() - t0) / count, (time.process_time() - c0) / count
            assert report.sent == count, report
            store.dispose()
        finally:
            db.drop()
    # CPU of this process too (the stand-in server is a thread of it, on both sides): on a
    # shared machine the wall figure mostly measures waiting for a core, several times per
    # message for the database's round trips.
    return {"db": kind, "notices": count, "raw_ms": raw * 1000, "dispatch_ms": ours * 1000,
            "ratio": ours / raw, "raw_cpu_ms": raw_cpu * 1000, "dispatch_cpu_ms": ours_cpu * 1000,
            "cpu_ratio": ours_cpu / raw_cpu}


FILL = {
    # 73% of the rows pending and due (the backlog the issue measured), the rest sent.
    "sqlite": """
        INSERT INTO notices (key, plan_id, plan_title, task_id, title, due, occurrence, stage,
            step, recipient, channel, addresses, mentions, mobiles, send_at, status, attempts,
            next_attempt_at, created_at, updated_at, content_hash)
        WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)
        SELECT printf('k%d', n), 'plan' || (n % 1000), '方案', CAST(n % 100 AS TEXT), '任务',
            '2026-06-30', '2026-06-30', 'remind', '1wd', 'unit' || (n % 2000), 'email',
            '["a@example.org"]', '[]', '[]', t, CASE WHEN n % 100 < 73 THEN 'pending' ELSE 'sent' END,
            0, t, t, t, 'x'
        FROM (SELECT n, strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || (n % 150) || ' days')
                        || '.000000' AS t FROM seq)
    """,
    "postgresql": """
        INSERT INTO notices (key, plan_id, plan_title, task_id, title, due, occurrence, stage,
            step, recipient, channel, addresses, mentions, mobiles, send_at, status, attempts,
            next_attempt_at, created_at, updated_at, content_hash)
        SELECT 'k' || n, 'plan' || (n % 1000), '方案', (n % 100)::text, '任务',
            date '2026-06-30', '2026-06-30', 'remind', '1wd', 'unit' || (n % 2000), 'email',
            '["a@example.org"]'::json, '[]'::json, '[]'::json, t,
            CASE WHEN n % 100 < 73 THEN 'pending' ELSE 'sent' END, 0, t, t, t, 'x'
        FROM (SELECT n, timestamp '2026-01-01' + (n % 150) * interval '1 day' AS t
              FROM generate_series(1, :count) AS n) AS rows
    """,
}


def bench_claim(kind: str, rows: int = 1_000_000, limit: int = 1000) -> dict[str, Any]:
    """The claim's query (median of 15) and one whole claim of ``limit`` rows, at ``rows``."""
    import statistics

    from sqlalchemy import text

    from reminder.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(kind, Path(tmp))
        try:
            store = open_store(db.url)
            t0 = time.perf_counter()
            with store.engine.begin() as conn:
                conn.execute(text(FILL[kind]), {"count": rows})
                conn.execute(text("ANALYZE"))
            fill = time.perf_counter() - t0
            now = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
            runs: dict[int, list[float]] = {100: [], limit: []}
            with store.transaction() as session:
                for size, times in runs.items():
                    for _ in range(15):
                        t0 = time.perf_counter()
                        got = session.execute(store._due_rows(now, size)).all()
                        times.append(time.perf_counter() - t0)
                plan_text = _explain(session, store, now, limit)
            assert len(got) == limit
            t0 = time.perf_counter()
            claimed = store.claim(now, "bench", lease=timedelta(minutes=5), limit=limit)
            whole = time.perf_counter() - t0
            # The claim completes its last recipient's due rows (one digest, not two).
            assert len(claimed) >= limit
            store.dispose()
        finally:
            db.drop()
    return {"db": kind, "rows": rows, "limit": limit, "fill_s": fill,
            "query_100_ms": statistics.median(runs[100]) * 1000,
            "query_ms": statistics.median(runs[limit]) * 1000, "claim_ms": whole * 1000,
            "plan": plan_text}


def _explain(session: Any, store: Any, now: datetime, limit: int) -> str:
    from sqlalchemy.dialects import postgresql, sqlite

    query = store._due_rows(now, limit)
    dialect = postgresql.dialect() if store.dialect == "postgresql" else sqlite.dialect()
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN " if store.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    from sqlalchemy import text

    rows = session.execute(text(prefix + str(compiled))).all()
    return " / ".join(str(r[-1]).strip() for r in rows)


def bench_wakeup(kind: str, runs: int = 5) -> dict[str, Any]:
    """An idle daemon (one-hour tick, nothing pending); another process reopens a completed
    occurrence, reviving its notice: seconds until the daemon has sent it."""
    import os
    import signal
    import statistics
    import subprocess
    import threading

    from reminder.config import Config
    from reminder.delivery.daemon import Daemon, PlanSet
    from reminder.delivery.dispatcher import Dispatcher
    from reminder.models import Notice
    from reminder.store import open_store

    due = datetime(2026, 6, 30, tzinfo=TZ).date()

    class Plan:
        id, title, tasks = "wake", "唤醒", ()

        class calendar:
            @staticmethod
            def missing_years(years: Any) -> list[int]:
                return []

    class Counting:
        rate_limit = None

        def __init__(self) -> None:
            self.sent = threading.Event()

        def routes(self, addresses: Any) -> bool:
            return True

        def send(self, message: Any) -> Any:
            from reminder.delivery.channels.base import SendResult

            self.at = time.time()
            self.sent.set()
            return SendResult(status="ok", provider_code="0", detail="ok")

        def rate_key(self, message: Any) -> str:
            return ""

    latencies = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(kind, Path(tmp))
        try:
            store = open_store(db.url)
            for run in range(runs):
                now = datetime.now(TZ)
                notice = Notice(send_at=now - timedelta(minutes=1), stage="remind", step="1wd",
                                plan="wake", plan_title="唤醒", task=str(run), title="任务",
                                due=due, recipient="单位", channel="email", addresses=("a@x",))
                store.sync_plan(plan_id="wake", title="唤醒", path="/wake", fingerprint=None,
                                tasks=(), occurrences=(), notices=[notice],
                                window=(now.date(), now.date()), cutoff=now - timedelta(hours=1),
                                now=now)
                store.mark_done("wake", str(run), due, by="bench", note="", now=now)
                channel = Counting()
                cfg = Config(path=None, database_url=db.url, plans=(Path(tmp),), tick_seconds=3600)

                def planner(plans: Any, *, done: Any, notice: Any = notice, **_: Any) -> list[Any]:
                    return [] if ("wake", notice.task, due) in done else [notice]

                daemon = Daemon(cfg, store, Dispatcher(store, {"email": channel}, claimant="b"),
                                planner=planner, occurrences=lambda plan, **_: [],
                                plans=PlanSet(cfg, store, loader=lambda path, **_: Plan()))
                cfg_plans = daemon.plans
                cfg_plans.refresh = lambda now: False  # type: ignore[method-assign]
                cfg_plans.good = {Path(tmp): type("L", (), {"plan": Plan(), "fingerprint": "f"})()}
                outcome: dict[str, float] = {}

                def drive(task: str = str(run), outcome: dict[str, float] = outcome,
                          channel: Counting = channel) -> None:
                    time.sleep(1.5)
                    code = ("from datetime import date, datetime; from zoneinfo import ZoneInfo\n"
                            "from reminder.store import open_store\n"
                            f"s = open_store({db.url!r})\n"
                            f"s.reopen('wake', {task!r}, date(2026, 6, 30), by='bench', "
                            "now=datetime.now(ZoneInfo('Asia/Shanghai')))\n"
                            "import time; print(time.time())\n")
                    out = subprocess.run([sys.executable, "-c", code], check=True, text=True,
                                         capture_output=True,
                                         cwd=Path(__file__).resolve().parent.parent)
                    written = float(out.stdout.split()[-1])  # the moment the write committed
                    if channel.sent.wait(30):
                        outcome["latency"] = channel.at - written
                    os.kill(os.getpid(), signal.SIGTERM)

                helper = threading.Thread(target=drive)
                helper.start()
                daemon.run()
                helper.join()
                latencies.append(outcome.get("latency", float("inf")))
            store.dispose()
        finally:
            db.drop()
    return {"db": kind, "runs": runs, "median_s": statistics.median(latencies),
            "max_s": max(latencies)}


def bench_daemon_rss(tasks: int, plans_root: Path) -> dict[str, Any]:
    """Resident memory of a daemon process with every plan of the deployment loaded."""
    from reminder.config import Config
    from reminder.delivery.daemon import PlanSet

    deployment(plans_root, tasks)
    config = Config(path=None, database_url="sqlite://", plans=(plans_root,))

    class NoStore:
        def record_plan_error(self, *args: Any) -> None:
            raise AssertionError(args)

    from reminder.plan.occurrences import occurrences

    plans = PlanSet(config, NoStore())
    t0 = time.perf_counter()
    plans.refresh(NOW)
    for loaded_plan in plans.good.values():  # parsed deadlines stay cached, as after a sync
        occurrences(loaded_plan.plan)
    loaded = time.perf_counter() - t0
    with open("/proc/self/status", encoding="ascii") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return {"tasks": sum(len(p.plan.tasks) for p in plans.good.values()),
            "plans": len(plans.good), "load_s": loaded, "rss_mb": rss / 1024, "peak_mb": peak_mb()}


def main() -> None:
    what = sys.argv[1]
    if what == "sync":
        tasks, kind = int(sys.argv[2]), sys.argv[3]
        root = Path(sys.argv[4]) if len(sys.argv) > 4 else Path(tempfile.gettempdir()) / f"reminder-bench-{tasks}"
        print(json.dumps(bench_sync(tasks, kind, root)))
    elif what == "claim":
        print(json.dumps(bench_claim(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000)))
    elif what == "wakeup":
        print(json.dumps(bench_wakeup(sys.argv[2])))
    elif what == "daemon-rss":
        tasks = int(sys.argv[2])
        root = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.gettempdir()) / f"reminder-bench-{tasks}"
        print(json.dumps(bench_daemon_rss(tasks, root)))
    elif what == "dispatch":
        print(json.dumps(bench_dispatch(sys.argv[2])))
    else:
        raise SystemExit(f"unknown benchmark {what}")


if __name__ == "__main__":
    main()
