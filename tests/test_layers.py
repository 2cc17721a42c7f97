"""House rule 1: the core imports nothing heavy, so `reminder plan` starts fast and the
core is testable without a database."""

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
