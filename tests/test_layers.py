"""House rule 1: the core imports nothing heavy, so `reminder plan` starts fast and the
core is testable without a database."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "apscheduler", "requests", "jinja2", "docx", "openpyxl", "lxml",
         "starlette", "uvicorn", "itsdangerous", "icalendar")


@pytest.mark.parametrize(
    "module",
    ["reminder.plan.planner", "reminder.plan.checks", "reminder.cli.commands", "reminder.cli.main"],
)
def test_core_and_cli_import_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


EXAMPLE = "examples/demo-2026"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["plan", EXAMPLE, "--format", "csv"], id="plan-csv"),
        pytest.param(["plan", EXAMPLE, "--format", "jsonl"], id="plan-jsonl"),
        pytest.param(["explain", "2021年底", "--json"], id="explain-json"),
        pytest.param(["tasks", EXAMPLE, "--json"], id="tasks-json"),
        pytest.param(["check", EXAMPLE], id="check"),
    ],
)
def test_dry_run_commands_import_nothing_heavy_until_a_table(args: list[str]) -> None:
    """Run the command itself, not just its import: a lazy import inside a command counts."""
    heavy = (*HEAVY, "rich", "alembic")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('HEAVY=' + ','.join(sorted("
        f"{{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))) + '\\n'))\n"
        f"sys.argv = ['reminder', *{args!r}]\n"
        "from reminder.cli.main import main\n"
        "main()\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    line = next(x for x in out.stderr.splitlines() if x.startswith("HEAVY="))
    assert line == "HEAVY=", f"{' '.join(args)} pulls in {line[6:]}"


def test_the_table_view_does_import_rich() -> None:
    """The check above can fail: the same probe sees rich once a table is printed."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('RICH=' + str('rich' in sys.modules) + '\\n'))\n"
        f"sys.argv = ['reminder', 'plan', {EXAMPLE!r}]\n"
        "from reminder.cli.main import main\n"
        "main()\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert "RICH=True" in out.stderr


# -- the direction of imports, package by package ----------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "reminder"
# Data moves parse → plan → store/importers → delivery → answerback → wiring → web → cli; a
# module may import its own layer and those before it, never one after it (a lazy import
# inside a function counts: it is the same dependency, paid later). store and importers are
# siblings that never import each other.
LAYERS: dict[str, int] = {
    "models": 0, "errors": 0, "config": 0, "resources": 0, "redact": 0, "encoding": 0,
    "addresses": 0, "sqlitefile": 0, "cells": 0,
    "parse": 1, "plan": 2, "store": 3, "importers": 3, "delivery": 4, "answerback": 5,
    "wiring": 6, "web": 7, "cli": 8, "__main__": 9, "__init__": 0,
}
PURE = ("parse", "plan")
PURE_FORBIDDEN = ("sqlalchemy", "apscheduler", "requests", "jinja2")


def _module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ["reminder", *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every import in the file, lazy ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((a.name, [], node.lineno) for a in node.names)
    return found


def _layer(module: str) -> tuple[str, int]:
    part = module.split(".")[1] if module.count(".") else "__init__"
    return part, LAYERS[part]


def _sources(root: Path = PACKAGE) -> list[Path]:
    return [p for p in sorted(root.rglob("*.py")) if "migrations" not in p.parts]


def layer_violations(root: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in _sources(root):
        here = _module_name(path, root)
        part, rank = _layer(here)
        for module, names, line in _imports(path):
            if module.split(".")[0] in PURE_FORBIDDEN and part in PURE:
                wrong.append(f"{here}:{line} imports {module} (parse/ and plan/ stay pure)")
            if not module.startswith("reminder.") and module != "reminder":
                continue
            targets = ([module] if module != "reminder"  # from reminder import a module, not __version__
                       else [f"reminder.{n}" for n in names if not n.startswith("__")])
            for target in targets:
                other, other_rank = _layer(target)
                if other_rank > rank or (other_rank == rank and other != part and rank > 0):
                    wrong.append(f"{here}:{line} imports {target} ({part} → {other})")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and module != here:
                wrong.append(f"{here}:{line} imports private {', '.join(private)} from {module}")
    return wrong


def import_cycles(root: Path = PACKAGE) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), lazy imports included."""
    known = {_module_name(p, root): p for p in _sources(root)}
    graph: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        for target, names, _ in _imports(path):
            candidates = [f"{target}.{n}" for n in names] + [target]
            for cand in candidates:
                if cand in known and cand != module and not cand.endswith(".__init__"):
                    # a package's __init__ re-exporting its modules is not a dependency back
                    if not (module.startswith(cand + ".") or cand.startswith(module + ".")):
                        graph[module].add(cand)
                    break
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_imports_run_one_way_and_name_no_private_name() -> None:
    assert layer_violations() == []


def test_no_import_circles_between_modules() -> None:
    assert import_cycles() == []


def test_the_layer_check_fails_on_a_planted_upward_import(tmp_path: Path) -> None:
    """The checks above can fail: a copy of the package with one upward import (which also
    closes a circle) and one private import is caught by each check."""
    import shutil

    copy = tmp_path / "reminder"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    assert layer_violations(copy) == [] and import_cycles(copy) == []
    calendar = copy / "plan" / "calendar.py"
    calendar.write_text(calendar.read_text(encoding="utf-8")
                        + "\n\ndef _planted():\n    from reminder.delivery.dispatcher import _Failure\n",
                        encoding="utf-8")
    wrong = layer_violations(copy)
    assert len(wrong) == 2, wrong
    assert wrong[0].startswith("reminder.plan.calendar:") and "(plan → delivery)" in wrong[0]
    assert "imports private _Failure from reminder.delivery.dispatcher" in wrong[1]
    [cycle] = import_cycles(copy)
    assert {"reminder.plan.calendar", "reminder.delivery.dispatcher"} <= set(cycle)
