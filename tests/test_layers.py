"""House rule 1: the core imports nothing heavy, so `reminder plan` starts fast and the
core is testable without a database."""

import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "apscheduler", "requests", "jinja2", "docx", "openpyxl", "lxml")


@pytest.mark.parametrize(
    "module",
    ["reminder.planner", "reminder.checks", "reminder.commands", "reminder.cli"],
)
def test_core_and_cli_import_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"
