"""The one plan cache the daemon, the pages and `done` share."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from reminder.errors import ReminderError
from reminder.plan.cache import PlanCache

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-2026"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "demo-2026"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _touch(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()  # a new mtime even within the file system's clock tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def test_a_plan_loads_once_per_version_of_its_files(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    loads: list[Path] = []

    def loader(path: Path, **options: object) -> object:
        from reminder.plan.folder import load_plan

        loads.append(path)
        return load_plan(path, **options)  # type: ignore[arg-type]

    cache = PlanCache(lambda: [folder], loader=loader)
    first = cache.get("demo-2026")
    assert cache.get("demo-2026") is first and len(loads) == 1
    plan_toml = folder / "plan.toml"
    _touch(plan_toml, plan_toml.read_text(encoding="utf-8").replace("sender_name", "# sender_name", 1))
    assert cache.get("demo-2026") is not first and len(loads) == 2
    assert cache.get("nonexistent") is None


def test_a_broken_folder_is_none_for_a_page_but_kept_for_the_daemon(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    cache = PlanCache(lambda: [folder])
    good = cache.get("demo-2026")
    assert good is not None
    _touch(folder / "plan.toml", "year = 'not a year'\n")
    said: list[str] = []
    assert cache.get("demo-2026", warn=said.append) is None
    assert said and "无法加载" in said[0]
    assert cache.good[folder].plan is good  # what the daemon goes on planning with
    errors: list[tuple[Path, ReminderError, bool]] = []
    assert cache.refresh(lambda f, e, keeping: errors.append((f, e, keeping))) == []
    # The daemon hears of it though a page found it first, and only once per version.
    assert [(f, keeping) for f, _, keeping in errors] == [(folder, True)]
    assert cache.refresh(lambda f, e, keeping: errors.append((f, e, keeping))) == []
    assert len(errors) == 1
    assert cache.get("demo-2026", warn=said.append) is None and len(said) == 2
