"""Cron-style `reminder run --once` over 100 plans of 100 tasks (SQLite): after one task
changed, and with nothing changed. Whole processes, as cron starts them; the mail and WeCom
servers are the test suite's loopback stand-ins (tests/servers.py), so nothing leaves the
machine.

    .venv/bin/python bench/bench_cron.py [rounds]

Prints one JSON line: medians of ``rounds`` alternating runs (one task changed, then nothing
changed), wall and CPU seconds of the child, and the first (full) sync for reference.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(REPO / "tests"))

from servers import smtp_server, wecom_server  # noqa: E402
from synth import change_one_task, deployment  # noqa: E402

# The day after the plans were issued: the first run syncs everything but sends little, so
# the figures are the cost of seeing what changed, not of mailing.
NOW = "2026-03-02T09:00"


def config(folder: Path, smtp_port: int, wecom_url: str) -> Path:
    robots = "\n".join(f'[channels.wecom.robots."群{i}"]\nkey_env = "BENCH_WECOM_{i}"'
                       for i in range(4))
    path = folder / "config.toml"
    path.write_text(f"""plans = ["plans"]
[database]
path = "state/reminder.db"
[channels.email]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "reminder@example.org"
timeout = 5
[channels.wecom]
base_url = "{wecom_url}"
timeout = 5
{robots}
[daemon]
max_wait_seconds = 1
lease_seconds = 60
""", encoding="utf-8")
    return path


def run_once(cfg: Path, env: dict[str, str]) -> tuple[float, float, int]:
    exe = str(Path(sys.executable).parent / "reminder")
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([exe, "run", "--once", "--config", str(cfg), "--now", NOW],
                                stdout=subprocess.DEVNULL, stderr=err, cwd=cfg.parent, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1: a plan's warning (its exit status says so); else broken
            err.seek(0)
            raise RuntimeError(f"run --once failed ({code}): {err.read().decode()[-400:]}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, code


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    # With bytecode caches, as an installed package has them (see run.py's startup()).
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
           **{f"BENCH_WECOM_{i}": f"key-{i}" for i in range(4)}}
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as smtp, wecom_server() as wecom:
        folder = Path(tmp)
        plans = deployment(folder / "plans", 10_000)
        cfg = config(folder, smtp.port, wecom.url)
        first = run_once(cfg, env)
        run_once(cfg, env)  # settles retries and bytecode; not counted
        changed, unchanged = [], []
        for r in range(rounds):
            change_one_task(plans[(r * 37) % len(plans)])
            changed.append(run_once(cfg, env))
            unchanged.append(run_once(cfg, env))
        bare = []
        for _ in range(rounds):
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-c", "pass"])
            _, _, usage = os.wait4(proc.pid, 0)
            bare.append((time.perf_counter() - started, usage.ru_utime + usage.ru_stime))

    def med(rows: list[tuple[float, ...]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(json.dumps({
        "plans": len(plans), "tasks": 10_000, "rounds": rounds,
        "first_s": first[0], "first_cpu": first[1], "first_exit": first[2],
        "one_change_s": med(changed, 0), "one_change_cpu": med(changed, 1),
        "unchanged_s": med(unchanged, 0), "unchanged_cpu": med(unchanged, 1),
        "exits": sorted({r[2] for r in changed + unchanged}),
        "python_s": med(bare, 0), "python_cpu": med(bare, 1),
    }))


if __name__ == "__main__":
    main()
