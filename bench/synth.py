"""Synthetic deployments for the benchmarks: N tasks in plan folders of 100 tasks each.

Each folder looks like a real 分工方案: a plan.toml with a coordinator and 20 units that have
e-mail and WeCom contacts, and a tasks.csv whose deadlines mix one-off dates, year ends,
quarterly and monthly reports, "长期" and "及时" in the proportions the seeds show.
"""

from __future__ import annotations

from pathlib import Path

TASKS_PER_PLAN = 100
UNITS_PER_PLAN = 20
PHRASES = ["2026年底前", "长期", "12月30日", "次年1月31日前", "7月底前", "每季度", "上半年",
           "第三季度", "每月", "及时", "今年10月10日前及次年1月5日前", "每半年", "下半年",
           "2026年9月底前", "11月15日前", ""]
HEADER = "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限\n"


def plan_folder(folder: Path, number: int, tasks: int = TASKS_PER_PLAN) -> Path:
    """One plan folder; ``number`` varies titles and units so folders are not identical."""
    folder.mkdir(parents=True, exist_ok=True)
    units = [f"单位{number:04d}-{u:02d}" for u in range(UNITS_PER_PLAN)]
    toml = ["year = 2026", "issued = 2026-03-01", f'title = "第{number}号分工方案"',
            'coordinator = "办公室"', 'default_deadline = "2026年底前"',
            '[units."办公室"]', 'email = ["office@example.org"]']
    for u, name in enumerate(units):
        toml += [f'[units."{name}"]', f'email = ["u{number}-{u}@example.org"]',
                 *([f'wecom = "群{u % 4}"'] if u % 3 == 0 else [])]
    (folder / "plan.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
    rows = [
        f"{t + 1},一、章节,于2026年9月底前完成第{number}-{t}项工作并按季度报送进展。,,"
        f"{units[t % UNITS_PER_PLAN]},{units[(t + 7) % UNITS_PER_PLAN]},,"
        f"{PHRASES[(t + number) % len(PHRASES)]}"
        for t in range(tasks)
    ]
    (folder / "tasks.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def deployment(root: Path, tasks: int) -> list[Path]:
    """Plan folders holding ``tasks`` tasks in all (reused when already written)."""
    root.mkdir(parents=True, exist_ok=True)
    count = max(1, tasks // TASKS_PER_PLAN)
    return [
        folder if (folder / "tasks.csv").exists() else plan_folder(folder, n)
        for n in range(count)
        for folder in [root / f"plan{n:04d}"]
    ]


def change_one_task(folder: Path) -> None:
    """Edit one task's deadline, as a clerk correcting one cell would."""
    table = folder / "tasks.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[-1] = "2026年10月31日前" if cells[-1] != "2026年10月31日前" else "2026年11月30日前"
    lines[1] = ",".join(cells)
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
