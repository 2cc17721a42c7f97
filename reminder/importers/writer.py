"""Write (or re-write) a plan folder: tasks.csv and plan.toml, atomically.

Re-importing keeps the user's plan.toml (comments, contacts, overrides) and adds only what is
new; tasks whose requirement text is unchanged keep their ids, so [tasks."id"] overrides and the
store's history stay attached to the right task.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.confidence import Confidence
from reminder.importers.table import PlanTable
from reminder.models import Task

CSV_HEADER = ("序号", "章节", "工作任务", "具体工作", "牵头单位", "配合单位", "责任单位", "完成时限")
TASKS_FILE = "tasks.csv"
PLAN_FILE = "plan.toml"
_PUNCT = re.compile(r"[\s，,。.；;、：:“”\"'（）()]")


COLUMN_NAMES = {"id": "序号", "section": "章节", "title": "工作任务", "detail": "具体工作",
                "lead": "牵头单位", "support": "配合单位", "units": "责任单位", "deadline": "完成时限"}


@dataclass(frozen=True)
class ImportReport:
    """What an import did; ``added``/``removed`` are task ids, ``changed`` is
    (id, old deadline, new deadline) for tasks whose deadline cell changed."""

    source: Path
    out_dir: Path
    title: str
    year: int
    tasks: int
    units: tuple[str, ...]
    columns: dict[str, str]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[tuple[str, str, str], ...] = ()
    reimport: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)
    confidence: Confidence | None = None
    accepted: tuple[str, ...] = ()  # reasons to review that the user accepted (--accept)

    def lines(self) -> list[str]:
        """The summary printed by `reminder import`, in Chinese."""
        title = self.title or "（未识别标题）"
        out = [f"已导入 {self.tasks} 项任务：{title}（{self.year} 年）→ {self.out_dir}"]
        if self.confidence is not None:
            out.extend(self.confidence.lines())
        if self.accepted:
            out.append("已按 --accept 导入，请核对：" + "；".join(self.accepted))
        # Field names as tasks.csv heads them, not the code's (id=序号 read as a typo).
        out.append("列对应：" + "，".join(f"{COLUMN_NAMES.get(k, k)} ← 原表“{v}”"
                                         for k, v in self.columns.items()))
        out.append(f"责任单位 {len(self.units)} 个，请在 plan.toml 的 [units] 中填写联系方式")
        if self.reimport:
            if not (self.added or self.removed or self.changed):
                out.append("与上次导入相比没有变化")
            if self.added:
                out.append("新增任务：" + "、".join(self.added))
            if self.removed:
                out.append("删除任务：" + "、".join(self.removed))
            for task_id, old, new in self.changed:
                out.append(f"任务 {task_id} 时限变更：{old or '（空）'} → {new or '（空）'}")
        out.extend(f"注意：{w}" for w in self.warnings)
        return out


def _key(text: str) -> str:
    return _PUNCT.sub("", text)


def reconcile(old: list[Task], new: list[Task]) -> tuple[list[Task], list[str], list[str]]:
    """Give matched tasks their old ids; return (tasks, added ids, removed ids)."""
    unused = {t.id: t for t in old}
    matched: dict[int, str] = {}
    by_key: dict[str, list[str]] = {}
    for task in old:
        by_key.setdefault(_key(task.title), []).append(task.id)
    for i, task in enumerate(new):  # 1: the same requirement text
        for old_id in by_key.get(_key(task.title), []):
            if old_id in unused:
                matched[i] = old_id
                del unused[old_id]
                break
    for i, task in enumerate(new):  # 2: an edited requirement under the same number
        if i in matched or task.id not in unused:
            continue
        ratio = difflib.SequenceMatcher(None, _key(task.title), _key(unused[task.id].title)).ratio()
        if ratio >= 0.6:
            matched[i] = task.id
            del unused[task.id]
    taken = {t.id for t in old} | set(matched.values())
    counter = max((int(i) for i in taken | {t.id for t in new} if i.isdigit()), default=0)
    result: list[Task] = []
    added: list[str] = []
    for i, task in enumerate(new):
        if i in matched:
            result.append(replace(task, id=matched[i]))
            continue
        task_id = task.id
        if task_id in taken:
            counter += 1
            task_id = str(counter)
        taken.add(task_id)
        added.append(task_id)
        result.append(replace(task, id=task_id))
    return result, added, [t.id for t in old if t.id in unused]


def tasks_csv(tasks: list[Task]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for t in tasks:
        writer.writerow((
            t.id, " / ".join(t.section), t.title, t.detail, "；".join(t.lead),
            "；".join(t.support), t.units_text, t.deadline_text,
        ))
    return "\ufeff" + buffer.getvalue()


def read_tasks_csv(path: Path) -> list[Task]:
    """The previous import's tasks (as the user may have edited them)."""
    text = path.read_text(encoding="utf-8-sig")
    tasks = []
    for row in csv.DictReader(io.StringIO(text)):
        if not (row.get("序号") or "").strip():
            continue
        split = lambda v: tuple(x for x in (v or "").split("；") if x)  # noqa: E731
        tasks.append(Task(
            id=row["序号"].strip(), title=row.get("工作任务") or "",
            section=tuple(s for s in (row.get("章节") or "").split(" / ") if s),
            detail=row.get("具体工作") or "", lead=split(row.get("牵头单位")),
            support=split(row.get("配合单位")), units_text=row.get("责任单位") or "",
            deadline_text=row.get("完成时限") or "",
        ))
    return tasks


def write_plan(
    out_dir: Path, table: PlanTable, *, source: Path, accepted: tuple[str, ...] = ()
) -> ImportReport:
    """Write the plan folder; on re-import merge with what is there. All or nothing."""
    from reminder.importers import plantoml

    plan_path = out_dir / PLAN_FILE
    old_doc = None
    old_tasks: list[Task] = []
    table_file = TASKS_FILE
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ImportFailed("输出位置已存在且不是文件夹", file=out_dir)
        if any(out_dir.iterdir()) and not plan_path.exists():
            raise ImportFailed("输出文件夹不是空的，也不是计划文件夹", file=out_dir,
                               hint="请指定一个新的文件夹或已有的计划文件夹")
        if plan_path.exists():
            old_doc = plantoml.load(plan_path)
            table_file = plantoml.table_file(old_doc) or TASKS_FILE
            if (out_dir / table_file).exists():
                try:
                    old_tasks = read_tasks_csv(out_dir / table_file)
                except (UnicodeDecodeError, csv.Error, KeyError) as exc:
                    raise ImportFailed(f"无法读取原有任务表：{exc}", file=out_dir / table_file) from None

    tasks, added, removed = reconcile(old_tasks, list(table.tasks))
    old_by_id = {t.id: t for t in old_tasks}
    changed = [
        (t.id, old_by_id[t.id].deadline_text, t.deadline_text)
        for t in tasks
        if t.id in old_by_id and t.id not in added
        and old_by_id[t.id].deadline_text != t.deadline_text
    ]
    toml_text = plantoml.render(table, old_doc, table_file=table_file, source=source,
                                accepted=accepted)
    _swap(out_dir, {table_file: tasks_csv(tasks), PLAN_FILE: toml_text})
    return ImportReport(
        source=source, out_dir=out_dir, title=table.title, year=table.year, tasks=len(tasks),
        units=table.units, columns=dict(table.columns),
        added=tuple(added) if old_doc is not None else (), removed=tuple(removed),
        changed=tuple(changed), reimport=old_doc is not None, warnings=table.warnings,
        confidence=table.confidence, accepted=accepted,
    )


def _swap(out_dir: Path, files: dict[str, str]) -> None:
    """Build the new folder beside the old one, then swap by rename: a failure at any point
    leaves the old folder exactly as it was."""
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=parent))
    try:
        if out_dir.exists():
            for item in out_dir.iterdir():
                if item.name in files:
                    continue
                target = staging / item.name
                if item.is_dir() and not item.is_symlink():
                    shutil.copytree(item, target, symlinks=True)
                else:
                    shutil.copy2(item, target, follow_symlinks=False)
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8", newline="")
        if out_dir.exists():
            backup = parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, backup)
            try:
                os.replace(staging, out_dir)
            except OSError:
                os.replace(backup, out_dir)
                raise
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
