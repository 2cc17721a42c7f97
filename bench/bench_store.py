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

from synth import change_one_task, deployment  # noqa: E402

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
    from reminder.daemon import Daemon
    from reminder.dispatcher import Dispatcher
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
            t0 = time.perf_counter()
            daemon.sync(NOW, force=True)
            again = time.perf_counter() - t0
            change_one_task(folders[0])
            t0 = time.perf_counter()
            changed = daemon.sync(NOW + timedelta(minutes=1))
            one = time.perf_counter() - t0
            change_one_task(folders[0])  # put it back for the next run
            store.dispose()
        finally:
            db.drop()
    return {"tasks": tasks, "db": kind, "rows": rows, "first_s": first[0], "first_cpu": first[1],
            "resync_s": again, "one_change_s": one, "one_change_plans": len(changed),
            "peak_mb": peak_mb()}


def bench_dispatch(kind: str, count: int = 1000) -> dict[str, Any]:
    """``count`` one-notice digests through the dispatcher to a loopback WeCom stand-in,
    against the same number of bare ``requests.Session().post`` calls to it."""
    import requests

    from reminder.channels.wecom import WeComChannel
    from reminder.dispatcher import Dispatcher
    from reminder.models import Notice
    from reminder.store import open_store
    from tests.servers import wecom_server

    now = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
    notices = [Notice(send_at=now, stage="remind", step="1wd", plan="bench", plan_title="压测方案",
                      task=str(i), title=f"任务{i}", due=now.date() + timedelta(days=3),
                      recipient=f"单位{i:04d}", channel="wecom", addresses=("群",))
               for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp, wecom_server() as server:
        session = requests.Session()
        payload = {"msgtype": "markdown", "markdown": {"content": "提醒：任务1 将于 2026-06-04 到期"}}
        session.post(server.url, params={"key": "k"}, json=payload)  # connect once
        t0 = time.perf_counter()
        for _ in range(count):
            session.post(server.url, params={"key": "k"}, json=payload).json()
        raw = (time.perf_counter() - t0) / count
        db = Database(kind, Path(tmp))
        try:
            store = open_store(db.url)
            store.sync_plan(plan_id="bench", title="压测方案", path="/bench", fingerprint=None,
                            tasks=(), occurrences=(), notices=notices,
                            window=(now.date(), now.date()), cutoff=now - timedelta(hours=1),
                            now=now - timedelta(hours=1))
            channel = WeComChannel({"群": "k"}, base_url=server.url)
            channel.rate_limit = None  # the stand-in has no limit; measure our own cost
            dispatcher = Dispatcher(store, {"wecom": channel}, claimant="bench")
            t0 = time.perf_counter()
            report = dispatcher.dispatch(now)
            ours = (time.perf_counter() - t0) / count
            assert report.sent == count, report
            store.dispose()
        finally:
            db.drop()
    return {"db": kind, "notices": count, "raw_ms": raw * 1000, "dispatch_ms": ours * 1000,
            "ratio": ours / raw}


def main() -> None:
    what = sys.argv[1]
    if what == "sync":
        tasks, kind = int(sys.argv[2]), sys.argv[3]
        root = Path(sys.argv[4]) if len(sys.argv) > 4 else Path(tempfile.gettempdir()) / f"reminder-bench-{tasks}"
        print(json.dumps(bench_sync(tasks, kind, root)))
    elif what == "dispatch":
        print(json.dumps(bench_dispatch(sys.argv[2])))
    else:
        raise SystemExit(f"unknown benchmark {what}")


if __name__ == "__main__":
    main()
