"""Every figure of issue 9 in one run: prints a table and writes docs/performance.md.

    .venv/bin/python bench/run.py                  # 1k/10k/100k plan, 1k/10k syncs (~30 min)
    .venv/bin/python bench/run.py --quick          # 1k and 10k only, 100k rows for the claim
    .venv/bin/python bench/run.py --sync-sizes 1000,10000,100000   # also the 100k syncs
    .venv/bin/python bench/run.py --issue21        # issue 21's rows only (~8 min), see below

``--issue21`` measures, in one run: start-up of explain and plan as ratios to a bare
``python -c pass`` (rules cache warm, and cold), cron-style ``run --once`` over 100 plans of
100 tasks (bench/bench_cron.py), batch phrase parsing against JioNLP (3,000 phrases), and
the pages under 50 concurrent clients (bench/bench_web.py: needs PostgreSQL and, for its
preferred client, ``apt-get install wrk``). It rewrites only the issue-21 block of
docs/performance.md.

Each measurement runs in a child process, so its CPU time and peak RSS are its own (taken
from wait4). PostgreSQL is the one at 127.0.0.1:5432 (trust auth); a run without it says so.
The JioNLP comparison runs in bench/.jio-venv, created here on first use; JioNLP is never a
dependency of reminder. CI never runs bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
PY = sys.executable
JIO_VENV = ROOT / ".jio-venv"
JIO_PACKAGES = ["jionlp", "regex", "python-dateutil", "chinese-calendar"]
REPORT = REPO / "docs" / "performance.md"
ANALYSIS = ROOT / "analysis.md"  # the hand-written "why" behind the figures, appended
ANALYSIS_21 = ROOT / "analysis-21.md"  # the same for issue 21, inside its block

sys.path.insert(0, str(ROOT))
from synth import deployment  # noqa: E402


def run_child(args: list[str], *, to_null: bool = False, count_lines: bool = False,
              timeout: float = 3600) -> dict[str, Any]:
    """Run a command; its wall time, CPU seconds and peak RSS (MB) from wait4, and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out, \
            tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        sink = open(os.devnull, "w") if to_null else out  # noqa: SIM115 - closed below
        proc = subprocess.Popen(args, stdout=sink, stderr=err, cwd=REPO, text=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"timed out: {' '.join(args[:4])}")
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if to_null:
            sink.close()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        # Counting instead of reading: this process must stay small, or the children forked
        # after it inherit its peak RSS (Linux keeps ru_maxrss across fork and exec).
        text_out = str(sum(1 for _ in out)) if count_lines else out.read()
        text_err = err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}… failed ({proc.returncode}): "
                           f"{text_err.strip().splitlines()[-1:] if text_err.strip() else ''}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "out": text_out}


def last_json(out: str) -> dict[str, Any]:
    return json.loads(out.strip().splitlines()[-1])


# -- the measurements ----------------------------------------------------------------------

def bench_plan(sizes: list[int], data: Path) -> list[dict[str, Any]]:
    rows = []
    for tasks in sizes:
        folders = deployment(data / f"d{tasks}", tasks)
        exe = str(Path(PY).parent / "reminder")
        lines = run_child([exe, "plan", *map(str, folders), "--format", "csv"], count_lines=True,
                          timeout=7200)
        notices = int(lines["out"]) - 1
        lines["out"] = ""
        rows.append({"tasks": tasks, "notices": notices, **lines})
        print(f"  plan csv {tasks:>6} tasks: {notices} notices, {lines['cpu']:.1f} CPU-s, "
              f"{lines['rss_mb']:.0f} MB", flush=True)
    return rows


def bench_sync(sizes: list[int], data: Path, databases: list[str]) -> list[dict[str, Any]]:
    rows = []
    for kind in databases:
        for tasks in sizes:
            result = run_child([PY, str(ROOT / "bench_store.py"), "sync", str(tasks), kind,
                                str(data / f"d{tasks}")], timeout=7200)
            row = {**last_json(result["out"]), "rss_mb": result["rss_mb"]}
            rows.append(row)
            print(f"  sync {kind:>10} {tasks:>6} tasks: first {row['first_s']:.1f} s "
                  f"({row['rows']} rows), again {row['resync_s']:.2f} s, "
                  f"one task {row['one_change_s']:.2f} s", flush=True)
    return rows


def bench_simple(what: str, *args: str, timeout: float = 3600) -> dict[str, Any]:
    result = run_child([PY, str(ROOT / "bench_store.py"), what, *args], timeout=timeout)
    return {"child_peak_mb": result["rss_mb"], **last_json(result["out"])}


def startup(runs: int = 9, cold: bool = False) -> dict[str, Any]:
    """Medians of alternating runs: bare Python, `reminder explain`, the demo's dry run.

    With bytecode caches, as an installed package has them (pip compiles them; a session
    that sets PYTHONDONTWRITEBYTECODE would otherwise time the compiler, not the program),
    after one warm-up run of each; waiting on each child directly, since polling would round
    a 10 ms process up to the poll interval. Wall and CPU milliseconds: on a shared machine
    the CPU ratio is the steadier one."""
    exe = str(Path(PY).parent / "reminder")
    commands = {
        "python": [PY, "-c", "pass"],
        "explain": [exe, "explain", "2021年底"],
        "plan_table": [exe, "plan", "examples/demo-2026"],
        "plan_csv": [exe, "plan", "examples/demo-2026", "--format", "csv"],
    }
    if cold:  # issue 21: the same commands with an empty rules cache each time
        commands |= {"explain_cold": commands["explain"], "plan_csv_cold": commands["plan_csv"]}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "120"
    caches = Path(tempfile.mkdtemp(prefix="reminder-bench-cache-"))
    env["XDG_CACHE_HOME"] = str(caches / "warm")  # the rules cache, warmed by the first round
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for round_ in range(runs + 1):
        for name, command in commands.items():
            if name.endswith("_cold"):
                env = {**env, "XDG_CACHE_HOME": str(caches / f"cold{round_}{name}")}
            else:
                env = {**env, "XDG_CACHE_HOME": str(caches / "warm")}
            started = time.perf_counter()
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, cwd=REPO, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"{' '.join(command[:3])} failed")
            if round_:  # the first round writes the bytecode caches
                times[name].append((time.perf_counter() - started,
                                    usage.ru_utime + usage.ru_stime))
    import shutil

    shutil.rmtree(caches, ignore_errors=True)
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    return {**{f"{k}_ms": v * 1000 for k, v in wall.items()},
            **{f"{k}_cpu_ms": v * 1000 for k, v in cpu.items()},
            **{f"{k}_x": wall[k] / wall["python"] for k in commands if k != "python"},
            **{f"{k}_cpu_x": cpu[k] / cpu["python"] for k in commands if k != "python"}}


def parser(count: int) -> dict[str, Any]:
    python = JIO_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(JIO_VENV)], check=True)
        pip = subprocess.run([str(JIO_VENV / "bin" / "pip"), "install", "-q", *JIO_PACKAGES],
                             capture_output=True, text=True)
        if pip.returncode != 0:
            return {"error": "pip install jionlp failed: " + pip.stderr.strip().splitlines()[-1]}
    result = run_child([str(python), str(ROOT / "bench_parser.py"), str(count)], timeout=7200)
    return last_json(result["out"])


def postgres_ok() -> bool:
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


# -- the report ----------------------------------------------------------------------------

def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    versions = []
    for name in ("SQLAlchemy", "alembic", "APScheduler", "psycopg", "requests", "Jinja2", "click",
                 "rich", "regex", "chinese-calendar"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    pg = ""
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        with engine.connect() as conn:
            pg = conn.execute(text("show server_version")).scalar() or ""
        engine.dispose()
    except Exception:
        pg = "not reachable"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"cpu": f"{cpu}, {os.cpu_count()} cores, {int(mem) // 1024} MB RAM",
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "postgresql": pg, "libraries": ", ".join(versions),
            "commit": commit + (" (with local changes)" if dirty else ""),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": load}


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}{unit}"


def summary(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, before (issue), now, target) rows, in the issue's order."""
    def plan_at(tasks: int) -> dict[str, Any] | None:
        return next((x for x in r["plan"] if x["tasks"] == tasks), None)

    def sync_at(kind: str, tasks: int) -> dict[str, Any] | None:
        return next((x for x in r["sync"] if x["db"] == kind and x["tasks"] == tasks), None)

    def by_db(items: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
        return next((x for x in items if x.get("db") == kind), None)

    rows = []
    for tasks, before, target in ((10000, "34 CPU-s, 1.01 GiB", "≤ 5 CPU-s, ≤ 300 MB"),
                                  (100000, "342 CPU-s, 9.9 GiB", "≤ 30 s, ≤ 1 GiB, linear")):
        p = plan_at(tasks)
        rows.append((f"`plan --format csv`, {tasks // 1000}k tasks", before,
                     f"{fmt(p['cpu'], ' CPU-s')}, {fmt(p['rss_mb'], ' MB', 0)} ({p['notices']:,} notices)"
                     if p else "not run", target))
    s_sqlite, s_pg = sync_at("sqlite", 10000), sync_at("postgresql", 10000)
    def wall_cpu(row: dict[str, Any] | None, what: str, digits: int = 1) -> str:
        if row is None:
            return "—"
        return f"{row[what + '_s']:.{digits}f} s ({row[what + '_cpu']:.{digits}f} CPU-s)"

    rows.append(("first sync, 10k tasks (wall, CPU of our process)", "SQLite 69 s, PostgreSQL 148 s",
                 f"SQLite {wall_cpu(s_sqlite, 'first')}, PostgreSQL {wall_cpu(s_pg, 'first')}"
                 + (f" ({s_sqlite['rows']:,} rows)" if s_sqlite else ""), "≤ 10 s on both"))
    rows.append(("no-change re-sync at start-up (every plan re-planned), 10k tasks", "—",
                 f"SQLite {wall_cpu(s_sqlite, 'resync', 2)}, PostgreSQL {wall_cpu(s_pg, 'resync', 2)}",
                 "(not set)"))
    rows.append(("re-sync after one task changed, 10k tasks", "55 s",
                 f"SQLite {wall_cpu(s_sqlite, 'one_change', 2)}, "
                 f"PostgreSQL {wall_cpu(s_pg, 'one_change', 2)}", "≤ 1 s"))
    c_sqlite, c_pg = by_db(r["claim"], "sqlite"), by_db(r["claim"], "postgresql")
    rows.append((f"claim query at {r['claim_rows']:,} rows (73% due), first 100 / 1000 rows",
                 "PostgreSQL 261 ms (125k rows)",
                 "; ".join(f"{name} {fmt(c and c['query_100_ms'], ' ms', 2)} / {fmt(c and c['query_ms'], ' ms')}"
                           for name, c in (("SQLite", c_sqlite), ("PostgreSQL", c_pg))), "≤ 5 ms"))
    d_sqlite, d_pg = by_db(r["dispatch"], "sqlite"), by_db(r["dispatch"], "postgresql")
    rows.append(("dispatch of 1,000 notices to a loopback stand-in", "14.5 ms vs 4.0 ms raw: 3.6×",
                 "; ".join(f"{name} {fmt(d and d['dispatch_ms'], ' ms')} vs {fmt(d and d['raw_ms'], ' ms')}: "
                           f"{fmt(d and d['ratio'], '×')} (CPU {fmt(d and d.get('cpu_ratio'), '×')})"
                           for name, d in (("SQLite", d_sqlite), ("PostgreSQL", d_pg))),
                 "≤ 1.5×"))
    st = r["startup"]
    rows.append(("`reminder explain 2021年底` (wall; CPU)", "213 ms = 14× `python -c pass`",
                 f"{fmt(st['explain_ms'], ' ms', 0)} = {fmt(st['explain_x'], '×')}; "
                 f"CPU {fmt(st.get('explain_cpu_x'), '×')}", "≤ 6×"))
    rows.append(("`reminder plan examples/demo-2026` (table; wall; CPU)", "73× bare Python",
                 f"{fmt(st['plan_table_ms'], ' ms', 0)} = {fmt(st['plan_table_x'], '×')}; "
                 f"CPU {fmt(st.get('plan_table_cpu_x'), '×')} (CSV {fmt(st['plan_csv_x'], '×')})",
                 "≤ 10×"))
    ps = r["parser"]
    if "error" in ps:
        rows.append(("phrase parsing vs JioNLP", "84 µs vs 433 µs: 4.6×", ps["error"], "≥ 50×"))
    else:
        rows.append(("phrase parsing vs JioNLP `ner.extract_time`", "84 µs vs 433 µs: 4.6× faster",
                     f"{fmt(ps['reminder']['us_per_phrase'], ' µs', 0)} vs {fmt(ps['jionlp']['us_per_phrase'], ' µs', 0)}: "
                     f"{fmt(ps['speedup'], '×')}; accuracy {ps['reminder']['accuracy']:.1%} vs "
                     f"{ps['jionlp']['accuracy']:.1%} ({ps['phrases']:,} phrases)", "≥ 50× at equal or better accuracy"))
    w_sqlite, w_pg = by_db(r["wakeup"], "sqlite"), by_db(r["wakeup"], "postgresql")
    rows.append(("idle daemon, change written by another process", "up to 300 s",
                 "; ".join(f"{name} median {fmt(w and w['median_s'], ' s', 2)}, max {fmt(w and w['max_s'], ' s', 2)}"
                           for name, w in (("SQLite", w_sqlite), ("PostgreSQL", w_pg))), "≤ 1 s"))
    rss = r["daemon_rss"]
    rows.append((f"daemon RSS with {rss['tasks'] // 1000}k tasks loaded", "—",
                 f"{fmt(rss['rss_mb'], ' MB', 0)}", "≤ 150 MB"))
    return rows


def write_report(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        "# Performance",
        "",
        "Written by `bench/run.py` (see README, Development); do not edit by hand — the analysis",
        "at the end comes from `bench/analysis.md`.",
        "",
        f"- Machine: {m['cpu']}; {m['os']}; Python {m['python']}; PostgreSQL {m['postgresql']}",
        f"- Load average when the run ended: {m['load']} (the machine is shared: CPU seconds are "
        "the steadier figure)",
        f"- Libraries: {m['libraries']}",
        f"- Commit: {m['commit']}; run {m['date']}; command: `{r['command']}`",
        "",
        "## The issue's figures",
        "",
        "| figure | before (issue 9) | now | target |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary(r)),
        "",
        "## Dry run by size (`reminder plan … --format csv`, whole process)",
        "",
        "| tasks | notices | wall s | CPU s | CPU µs/notice | peak RSS MB |",
        "|---|---|---|---|---|---|",
        *(f"| {x['tasks']:,} | {x['notices']:,} | {x['wall']:.1f} | {x['cpu']:.1f} | "
          f"{x['cpu'] / max(x['notices'], 1) * 1e6:.1f} | {x['rss_mb']:.0f} |" for x in r["plan"]),
        "",
        "## Daemon sync by size (wall seconds)",
        "",
        "Wall seconds, CPU seconds of the benchmark process in brackets (the database server's",
        "own CPU is not in them).",
        "",
        "| database | tasks | outbox rows | first sync | no-change re-sync (all plans, forced) | one task changed | plans re-planned | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {x['db']} | {x['tasks']:,} | {x['rows']:,} | {x['first_s']:.1f} ({x['first_cpu']:.1f}) | "
          f"{x['resync_s']:.2f} ({x['resync_cpu']:.2f}) | {x['one_change_s']:.2f} ({x['one_change_cpu']:.2f}) | "
          f"{x['one_change_plans']} | {fmt(x.get('rss_mb'), '', 0)} |" for x in r["sync"]),
        "",
        "## Claim at scale",
        "",
        "| database | rows | query, 100 rows (ms) | query, 1000 rows (ms) | whole claim of 1000 (ms) | plan |",
        "|---|---|---|---|---|---|",
        *(f"| {x['db']} | {x['rows']:,} | {x['query_100_ms']:.2f} | {x['query_ms']:.1f} | {x['claim_ms']:.0f} | "
          f"`{x['plan']}` |" for x in r["claim"]),
        "",
        "## Dispatch, wake-ups, memory",
        "",
        *(f"- Dispatch ({x['db']}): {x['notices']} one-notice digests, {x['dispatch_ms']:.1f} ms each "
          f"vs {x['raw_ms']:.1f} ms for a bare `requests.Session().post`: {x['ratio']:.1f}× wall; "
          f"CPU of the process {x.get('dispatch_cpu_ms', 0):.2f} ms vs {x.get('raw_cpu_ms', 0):.2f} ms: "
          f"{x.get('cpu_ratio', 0):.1f}×" for x in r["dispatch"]),
        *(f"- Wake-up ({x['db']}): another process reopens a completed task; the idle daemon "
          f"(one-hour tick) sent its notice after {x['median_s']:.2f} s (median of {x['runs']}, "
          f"max {x['max_s']:.2f} s)" for x in r["wakeup"]),
        f"- Daemon memory: {r['daemon_rss']['tasks']:,} tasks in {r['daemon_rss']['plans']} plan "
        f"folders loaded and their deadlines parsed: RSS {r['daemon_rss']['rss_mb']:.0f} MB "
        f"(load {r['daemon_rss']['load_s']:.1f} s)",
        "",
        "## Start-up (medians of 9 alternating runs after a warm-up, with bytecode caches)",
        "",
        "| | `python -c pass` | `reminder explain 2021年底` | `reminder plan examples/demo-2026` | the same `--format csv` |",
        "|---|---|---|---|---|",
        *(f"| {label} ms | {r['startup'][f'python{sfx}_ms']:.0f} | {r['startup'][f'explain{sfx}_ms']:.0f} "
          f"({r['startup'][f'explain{sfx}_x']:.1f}×) | {r['startup'][f'plan_table{sfx}_ms']:.0f} "
          f"({r['startup'][f'plan_table{sfx}_x']:.1f}×) | {r['startup'][f'plan_csv{sfx}_ms']:.0f} "
          f"({r['startup'][f'plan_csv{sfx}_x']:.1f}×) |" for label, sfx in (("wall", ""), ("CPU", "_cpu"))),
        "",
        "## Parser against JioNLP",
        "",
    ]
    ps = r["parser"]
    if "error" in ps:
        lines.append(f"Not measured: {ps['error']}")
    else:
        lines += [
            f"{ps['phrases']:,} distinct phrases ({ps['from_corpus']} from tests/corpus/phrases.tsv, "
            f"the rest generated with known answers by `bench/bench_parser.py`), JioNLP "
            f"{ps['jionlp_version']} in bench/.jio-venv.",
            "",
            "| parser | µs/phrase | accuracy |",
            "|---|---|---|",
            f"| reminder | {ps['reminder']['us_per_phrase']:.0f} | {ps['reminder']['accuracy']:.1%} |",
            f"| JioNLP `ner.extract_time` | {ps['jionlp']['us_per_phrase']:.0f} | {ps['jionlp']['accuracy']:.1%} |",
        ]
    if ANALYSIS.exists():
        lines += ["", ANALYSIS.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


# -- issue 21 -----------------------------------------------------------------------------

ISSUE21_START = "<!-- issue 21: written by bench/run.py --issue21; do not edit by hand -->"
ISSUE21_END = "<!-- end of issue 21 figures -->"
# Sections after this line are written by hand or by other benches; every run keeps them.
KEPT = "<!-- sections below are kept as they are by bench/run.py -->"


def issue21(phrases: int) -> dict[str, Any]:
    r: dict[str, Any] = {"command": " ".join(["bench/run.py", *sys.argv[1:]])}
    print("start-up (warm and cold rules cache)…", flush=True)
    r["startup"] = startup(cold=True)
    print("run --once, 100 plans of 100 tasks…", flush=True)
    r["cron"] = last_json(run_child([PY, str(ROOT / "bench_cron.py"), "3"], timeout=3600)["out"])
    print("parser vs JioNLP…", flush=True)
    r["parser"] = parser(phrases)
    print("pages under load…", flush=True)
    if postgres_ok():
        r["web"] = last_json(run_child([PY, str(ROOT / "bench_web.py"), "15"], timeout=3600)["out"])
    else:
        r["web"] = {"error": "PostgreSQL is not reachable at 127.0.0.1:5432"}
    r["machine"] = machine()
    return r


def issue21_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    st, cron, ps = r["startup"], r["cron"], r["parser"]

    def both(key: str) -> str:
        return (f"{st[key + '_x']:.1f}× wall, {st[key + '_cpu_x']:.1f}× CPU "
                f"({st[key + '_ms']:.0f} ms, {st[key + '_cpu_ms']:.0f} CPU-ms)")

    rows = [
        ("`reminder explain 2021年底`", "11.5×", f"{both('explain')}; empty cache: "
         f"{st['explain_cold_x']:.1f}× wall, {st['explain_cold_cpu_x']:.1f}× CPU", "≤ 6×"),
        ("`reminder plan examples/demo-2026 --format csv`", "21.8× (about 380 ms)",
         f"{both('plan_csv')}; empty cache: {st['plan_csv_cold_x']:.1f}× wall, "
         f"{st['plan_csv_cold_cpu_x']:.1f}× CPU; table view {st['plan_table_x']:.1f}×", "≤ 10×"),
        ("`run --once` after one task changed, 100 plans of 100 tasks (SQLite)", "4.0–4.8 s",
         f"{cron['one_change_s']:.2f} s wall, {cron['one_change_cpu']:.2f} CPU-s", "≤ 1 s"),
        ("`run --once` with nothing changed, same deployment", "—",
         f"{cron['unchanged_s']:.2f} s wall, {cron['unchanged_cpu']:.2f} CPU-s", "≤ 0.3 s"),
    ]
    if "error" in ps:
        rows.append(("batch `explain`, distinct phrases", "202 µs vs JioNLP 435 µs", ps["error"],
                     "≥ 2× JioNLP"))
    else:
        rows.append((f"batch `explain`, {ps['phrases']:,} distinct phrases",
                     "202 µs a phrase against JioNLP's 435",
                     f"{ps['reminder']['us_per_phrase']:.0f} µs vs {ps['jionlp']['us_per_phrase']:.0f} µs: "
                     f"{ps['speedup']:.1f}×; accuracy {ps['reminder']['accuracy']:.1%} vs "
                     f"{ps['jionlp']['accuracy']:.1%}", "≥ 2× JioNLP"))
    return rows


def write_issue21(r: dict[str, Any]) -> str:
    m, web = r["machine"], r["web"]
    lines = [
        ISSUE21_START,
        "## Issue 21: instant at the terminal, proportional in the daemon",
        "",
        f"- Machine: {m['cpu']}; {m['os']}; Python {m['python']}; PostgreSQL {m['postgresql']}; "
        f"load average at the end {m['load']} (shared: CPU ratios are the steadier figure)",
        f"- Commit: {m['commit']}; run {m['date']}; command: `{r['command']}`",
        "- Start-up: medians of 9 alternating runs after a warm-up round, bytecode caches "
        "present; \"warm\" is the rules cache as every run after the first finds it, "
        "\"empty cache\" a new empty cache directory each run.",
        "",
        "| what | before (issue 21) | now | goal |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in issue21_rows(r)),
        "",
        f"`python -c pass`: {r['startup']['python_ms']:.0f} ms wall, "
        f"{r['startup']['python_cpu_ms']:.0f} CPU-ms. `run --once`: whole processes as cron "
        f"starts them (medians of {r['cron']['rounds']} alternating rounds; the first full sync "
        f"took {r['cron']['first_s']:.1f} s, {r['cron']['first_cpu']:.1f} CPU-s).",
        "",
        "### Pages under load (`reminder serve` on PostgreSQL, 60 tasks, 40 units)",
        "",
    ]
    if "error" in web:
        lines.append(f"Not measured: {web['error']}")
    else:
        client = web["rows"][0].get("client", "wrk") if web["rows"] else "wrk"
        lines += [
            f"50 concurrent clients ({client}), {web['rows'][0]['seconds']} s per row, after three "
            "warm-up requests; with two workers, 25 connections to each (as a reverse proxy's "
            "round robin splits them): p50 is the mean of the two, p99 the larger.",
            "",
            "| workers | page | size | requests/s | p50 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|---|",
            *(f"| {x['workers']} | {'unit page' if x['page'] == 'unit' else 'board'} | "
              f"{x['bytes'] // 1024} KiB | {x['rps']:.0f} | {x['p50_ms']:.0f} | {x['p99_ms']:.0f} | "
              f"{x['errors']} of {x['requests']:,} |" for x in web["rows"]),
        ]
    if ANALYSIS_21.exists():
        lines += ["", ANALYSIS_21.read_text(encoding="utf-8").strip()]
    lines.append(ISSUE21_END)
    return "\n".join(lines) + "\n"


def update_report(block: str) -> None:
    """Put the issue-21 block in docs/performance.md, in place of the last one (or after
    the issue's figures when there is none); the rest of the page stays as it was."""
    text = REPORT.read_text(encoding="utf-8")
    if ISSUE21_START in text and ISSUE21_END in text:
        head, rest = text.split(ISSUE21_START, 1)
        text = head + block.rstrip("\n") + rest.split(ISSUE21_END, 1)[1]
    else:
        marker = "\n## Dry run by size"
        head, _, tail = text.partition(marker)
        text = head.rstrip("\n") + "\n\n" + block + (marker + tail if tail else "")
    REPORT.write_text(text, encoding="utf-8")


def write_whole_report(text: str) -> None:
    """Write a full run's report, keeping the issue-21 block and the sections under
    :data:`KEPT` of the page it replaces (a plain run used to drop both)."""
    old = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    REPORT.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    if ISSUE21_START in old and ISSUE21_END in old:
        block = old.split(ISSUE21_START, 1)[1].split(ISSUE21_END, 1)[0]
        update_report(ISSUE21_START + block + ISSUE21_END + "\n")
    if KEPT in old:
        text = REPORT.read_text(encoding="utf-8")
        REPORT.write_text(text.rstrip("\n") + "\n\n" + KEPT + old.split(KEPT, 1)[1],
                          encoding="utf-8")


def main() -> None:
    parser_ = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser_.add_argument("--plan-sizes", default="1000,10000,100000")
    parser_.add_argument("--sync-sizes", default="1000,10000")
    parser_.add_argument("--claim-rows", type=int, default=1_000_000)
    parser_.add_argument("--rss-tasks", type=int, default=100_000)
    parser_.add_argument("--phrases", type=int, default=2000)
    parser_.add_argument("--quick", action="store_true", help="1k/10k, 100k claim rows, 10k daemon")
    parser_.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "reminder-bench")
    parser_.add_argument("--issue21", action="store_true",
                         help="only issue 21's rows; rewrites their block of docs/performance.md")
    args = parser_.parse_args()
    if args.issue21:
        r21 = issue21(3000 if args.phrases == 2000 else args.phrases)
        (ROOT / "results-21.json").write_text(json.dumps(r21, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
        update_report(write_issue21(r21))
        for figure, before, now, goal in issue21_rows(r21):
            print(f"{figure}: {now} (goal {goal}; before {before})")
        for row in r21["web"].get("rows", []):
            print(f"pages: {row['workers']} worker(s), {row['page']}: p50 {row['p50_ms']:.0f} ms, "
                  f"p99 {row['p99_ms']:.0f} ms, {row['errors']} errors")
        print(f"wrote {REPORT.relative_to(REPO)}")
        return
    if args.quick:
        args.plan_sizes, args.claim_rows, args.rss_tasks = "1000,10000", 100_000, 10_000
    databases = ["sqlite", "postgresql"] if postgres_ok() else ["sqlite"]
    r: dict[str, Any] = {"command": " ".join(["bench/run.py", *sys.argv[1:]])}
    print("dry run…", flush=True)
    r["plan"] = bench_plan([int(x) for x in args.plan_sizes.split(",")], args.data)
    print("syncs…", flush=True)
    r["sync"] = bench_sync([int(x) for x in args.sync_sizes.split(",")], args.data, databases)
    print("claim…", flush=True)
    r["claim_rows"] = args.claim_rows
    r["claim"] = [bench_simple("claim", kind, str(args.claim_rows)) for kind in databases]
    print("dispatch…", flush=True)
    r["dispatch"] = [bench_simple("dispatch", kind) for kind in databases]
    print("wake-ups…", flush=True)
    r["wakeup"] = [bench_simple("wakeup", kind) for kind in databases]
    print("daemon memory…", flush=True)
    r["daemon_rss"] = bench_simple("daemon-rss", str(args.rss_tasks),
                                   str(args.data / f"d{args.rss_tasks}"))
    print("start-up…", flush=True)
    r["startup"] = startup()
    print("parser vs JioNLP…", flush=True)
    r["parser"] = parser(args.phrases)
    r["machine"] = machine()
    (ROOT / "results.json").write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
    write_whole_report(write_report(r))
    width = max(len(a) for a, *_ in summary(r))
    for figure, before, now, target in summary(r):
        print(f"{figure:<{width}}  {now}  (target {target}; before {before})")
    print(f"wrote {REPORT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
