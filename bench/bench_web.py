"""Pages under load: `reminder serve` on PostgreSQL, a unit page and the board of a 60-task,
40-unit plan, 50 concurrent clients, one and two worker processes.

    apt-get install wrk                      # Debian's package; without it a Python client runs
    .venv/bin/python bench/bench_web.py [seconds]

Each worker is a real `reminder serve` process on its own port over one PostgreSQL database
(a fresh one at 127.0.0.1:5432, dropped afterwards) that `reminder run --once` filled. With
two workers the 50 connections are split 25/25, one wrk per port, as a reverse proxy's
round robin would split them; their p50 is the mean of the two, their p99 the larger. Prints
one JSON line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
sys.path.insert(0, str(REPO / "tests"))

from clirun import KEYS, write_config  # noqa: E402
from servers import free_port, fresh_postgres, smtp_server, wecom_server  # noqa: E402
from webutil import SECRET_ENV, write_big_plan  # noqa: E402

CLIENTS = 50
PLAN = "big-2026"
UNIT = "区教育局"  # the lead of 2 tasks and support of others: a typical unit page


def serve(config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).parent / "reminder")
    return subprocess.Popen([exe, "serve", "--config", str(config)], env=env, cwd=config.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url}")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url: str, connections: int, seconds: int) -> dict[str, Any]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", url], capture_output=True, text=True, check=True).stdout
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if "99" not in dist:  # no request answered in time: say what wrk said
        raise RuntimeError(f"wrk on {url}: {out.strip()}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"p50_ms": _ms(dist["50"]), "p99_ms": _ms(dist["99"]), "requests": total,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "errors": (int(non2xx.group(1)) if non2xx else 0)
            + (sum(map(int, sockets.groups())) if sockets else 0)}


def python_client(urls: list[str], connections: int, seconds: int) -> dict[str, Any]:
    """The same load from threads of this process (when wrk is not installed)."""
    import http.client

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(url: str) -> None:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        mine: list[float] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                answer = conn.getresponse()
                answer.read()
                ok = answer.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(urls[i % len(urls)],))
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "requests": len(latencies),
            "rps": len(latencies) / seconds, "errors": errors[0]}


def load(urls: list[str], seconds: int) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        return {**python_client(urls, CLIENTS, seconds), "client": "python threads"}
    results: list[dict[str, Any]] = [{} for _ in urls]

    def one(i: int) -> None:
        results[i] = wrk(urls[i], CLIENTS // len(urls), seconds)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"p50_ms": statistics.mean(r["p50_ms"] for r in results),
            "p99_ms": max(r["p99_ms"] for r in results),
            "requests": sum(r["requests"] for r in results),
            "rps": sum(r["rps"] for r in results), "errors": sum(r["errors"] for r in results),
            "client": "wrk"}


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    env = {**os.environ, **KEYS, SECRET_ENV: "bench-secret-of-24-chars!!"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp, fresh_postgres("reminder_bench") as database, \
            smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        folder = Path(tmp)
        write_big_plan(folder / "plans" / PLAN)
        ports = [free_port(), free_port()]
        configs = []
        for n, port in enumerate(ports):
            base = write_config(folder, smtp, wecom, extra=(
                f'[web]\nlisten = "127.0.0.1:{port}"\nsecret_env = "{SECRET_ENV}"\n'))
            text = base.read_text(encoding="utf-8").replace('path = "state/reminder.db"',
                                                            f'url = "{database}"')
            configs.append(folder / f"config{n}.toml")
            configs[-1].write_text(text, encoding="utf-8")
        exe = str(Path(sys.executable).parent / "reminder")
        subprocess.run([exe, "run", "--once", "--now", "2026-06-23T09:00", "--config",
                        str(configs[0])], env=env, check=True, capture_output=True)
        sys.path.insert(0, str(REPO))
        from reminder import wiring

        os.environ[SECRET_ENV] = env[SECRET_ENV]
        links = wiring.build_links(wiring.load(configs[0]))
        paths = {"unit": urlsplit(links.unit_url(PLAN, UNIT)).path,
                 "board": urlsplit(links.url("admin", PLAN)).path}
        for workers in (1, 2):
            procs = [serve(configs[n], env) for n in range(workers)]
            try:
                for n in range(workers):
                    ready(f"http://127.0.0.1:{ports[n]}{paths['unit']}")
                for page, path in paths.items():
                    urls = [f"http://127.0.0.1:{ports[n]}{path}" for n in range(workers)]
                    for url in urls:  # warm: templates compiled, plan loaded, pool filled
                        for _ in range(3):
                            urllib.request.urlopen(url, timeout=30).read()
                    size = len(urllib.request.urlopen(urls[0], timeout=30).read())
                    result = load(urls, seconds)
                    rows.append({"workers": workers, "page": page, "bytes": size,
                                 "seconds": seconds, "clients": CLIENTS, **result})
                    print(f"  {workers} worker(s), {page}: p50 {result['p50_ms']:.0f} ms, "
                          f"p99 {result['p99_ms']:.0f} ms, {result['rps']:.0f}/s, "
                          f"{result['errors']} errors", file=sys.stderr, flush=True)
            finally:
                for proc in procs:
                    proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    try:
                        proc.wait(20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
