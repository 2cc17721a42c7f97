"""Benchmark: how fast the core parses and plans, and how fast `reminder plan` starts.

    .venv/bin/python bench/bench_plan.py [--plans 10] [--tasks 50]

Targets (2-core machine): parsing and planning 10 plans x 50 tasks well under a second,
peak traced memory under 50 MB, `reminder plan` on the example under 1.5 s wall time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHRASES = ["2026年底前", "长期", "12月30日", "次年1月31日前", "7月底前", "每季度", "上半年",
           "第三季度", "每月", "及时", "今年10月10日前及次年1月5日前", "每半年", "下半年", ""]
HEADER = "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限\n"


def make_plans(root: Path, plans: int, tasks: int) -> list[Path]:
    folders = []
    for p in range(plans):
        folder = root / f"plan{p:02d}"
        folder.mkdir()
        units = [f"第{u}科" for u in range(8)]
        toml = ['year = 2026', 'issued = 2026-03-01', 'coordinator = "办公室"',
                'default_deadline = "2026年底前"', '[units."办公室"]', 'email = ["o@example.org"]']
        for u in units:
            toml += [f'[units."{u}"]', f'email = ["{u}@example.org"]', f'wecom = "群{u}"']
        (folder / "plan.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
        rows = [
            f"{t + 1},一、章节,于2026年9月底前完成第{t}项工作并按季度报送进展。,,"
            f"{units[t % 8]},{units[(t + 1) % 8]},,{PHRASES[t % len(PHRASES)]}"
            for t in range(tasks)
        ]
        (folder / "tasks.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        folders.append(folder)
    return folders


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from reminder.plan.folder import load_plan
    from reminder.plan.planner import plan_notices, plan_window

    with tempfile.TemporaryDirectory() as tmp:
        folders = make_plans(Path(tmp), args.plans, args.tasks)
        started = time.perf_counter()
        plans = [load_plan(f) for f in folders]
        loaded = time.perf_counter()
        start, end = plan_window(plans)
        notices = plan_notices(plans, start=start, end=end)
        planned = time.perf_counter()
        # Memory in a second pass: tracemalloc slows everything it watches several times over.
        tracemalloc.start()
        again = [load_plan(f) for f in folders]
        plan_notices(again, start=start, end=end)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"{args.plans} plans x {args.tasks} tasks: load {loaded - started:.3f} s, "
          f"plan {planned - loaded:.3f} s, {len(notices)} notices, peak {peak / 2**20:.1f} MB")

    exe = shutil.which("reminder") or str(Path(sys.executable).parent / "reminder")
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([exe, "plan", str(ROOT / "examples" / "demo-2026"), "--format", "csv"],
                       check=True, capture_output=True)
        runs.append(time.perf_counter() - t0)
    print(f"reminder plan examples/demo-2026: best {min(runs):.3f} s, median {sorted(runs)[2]:.3f} s")


if __name__ == "__main__":
    main()
