"""The command table of the lazy group: every command of every module is reachable, and a
dry-run command loads none of the daemon's or the web's modules."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reminder.cli.main import COMMAND_MODULES, cli


def test_the_table_names_every_command_of_its_modules() -> None:
    defined = {c.name: module for module in set(COMMAND_MODULES.values())
               for c in importlib.import_module(module).COMMANDS}
    assert defined == COMMAND_MODULES


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("命令:")[1].splitlines()
              if line.startswith("  ") and not line.startswith("   ")}
    assert listed == set(COMMAND_MODULES)


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nosuch"])
    assert result.exit_code == 2
    assert "nosuch" in result.output


def test_explain_loads_only_its_own_command_module() -> None:
    others = sorted(set(COMMAND_MODULES.values()) - {"reminder.cli.commands"})
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('LOADED=' + ','.join(sorted("
        f"set(sys.modules) & set({others!r}))) + '\\n'))\n"
        "sys.argv = ['reminder', 'explain', '2021年底']\n"
        "from reminder.cli.main import main\n"
        "main()\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert "LOADED=\n" in out.stderr, out.stderr


# -- the imported module set of each quick command (issue 21) -------------------------------

EXAMPLE = "examples/demo-2026"
#: Packages besides the standard library a quick command may load: anything else (a new
#: dependency imported at the top of a module on the path) fails here.
QUICK_PACKAGES = {"reminder", "click", "regex", "chinese_calendar"}
#: Standard-library modules that were once on the path and cost start-up: a package-metadata
#: read (through holidays.version), dateutil's month arithmetic, the cache directory's helpers.
NEVER = {"holidays", "importlib.metadata", "dateutil", "platformdirs", "tempfile", "shutil",
         "random", "argparse", "logging", "email", "http", "asyncio", "sqlite3", "subprocess",
         "socket", "ssl", "lunardate", "rich"}


def loaded(args: list[str], way: str = "main") -> tuple[set[str], set[str]]:
    """(top-level packages outside the standard library, every module name) a command ends
    with, run in a child as the user runs it; the second of two runs, so that the rules
    cache is warm, as it is for every run but the first."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('MODULES=' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
        f"sys.argv = ['reminder', *{args!r}]\n"
        f"from reminder.cli.{way} import main\n"
        "main()\n"
    )
    root = Path(__file__).resolve().parents[2]
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=root)
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES="))
    modules = set(line[len("MODULES="):].split())
    outside = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names) - {
        "__main__", "_distutils_hack", "_sysconfigdata__linux_x86_64-linux-gnu"}
    return {m for m in outside if not m.startswith("_sysconfigdata")}, modules


@pytest.mark.parametrize(("args", "extra"), [
    pytest.param(["explain", "2021年底"], set(), id="explain"),
    pytest.param(["explain", "春节前", "--year", "2027"], {"lunardate"}, id="explain-festival"),
    pytest.param(["plan", EXAMPLE, "--format", "csv"], set(), id="plan-csv"),
    pytest.param(["plan", EXAMPLE], {"rich"}, id="plan-table"),
    pytest.param(["tasks", EXAMPLE, "--json"], set(), id="tasks"),
    pytest.param(["check", EXAMPLE], set(), id="check"),
])
def test_a_quick_command_imports_only_what_it_uses(args: list[str], extra: set[str]) -> None:
    packages, modules = loaded(args)
    assert packages <= QUICK_PACKAGES | extra, f"{' '.join(args)} loads {packages - QUICK_PACKAGES}"
    crept = {m for m in modules if m.split(".")[0] in NEVER - extra or m in NEVER - extra}
    if "rich" in extra:  # the table view: rich brings shutil along; nothing else may
        crept -= {"shutil"}
    assert crept == set(), f"{' '.join(args)} loads {sorted(crept)}"


@pytest.mark.parametrize("args", [
    pytest.param(["explain", "2021年底"], id="explain"),
    pytest.param(["plan", EXAMPLE, "--format", "csv"], id="plan-csv"),
])
def test_the_entry_point_answers_the_plain_forms_without_click(args: list[str]) -> None:
    """As the console script runs them (reminder/cli/entry.py): click is a third of their
    start-up, and tests/cli/test_cli_quick.py holds their output equal to click's."""
    packages, modules = loaded(args, way="entry")
    # With the rules cache warm, chinese-calendar's table comes from it (plan/calendar.py),
    # and regex's C engine is loaded alone (parse/engine.py): its package's pure-Python
    # parser is imported only to compile a pattern the cache lacks.
    assert packages <= QUICK_PACKAGES - {"click", "chinese_calendar"}, (
        f"{' '.join(args)} loads {packages}")
    assert "regex._regex" in modules and "regex._regex_core" not in modules


def test_the_module_check_sees_a_heavy_import() -> None:
    """The check above can fail: the dry run's table view loads rich, which it forbids for
    the CSV, and a cold cache makes a 2027 plan import holidays and read package metadata."""
    packages, modules = loaded(["plan", EXAMPLE])
    assert "rich" in packages and "shutil" in modules
    code = ("import sys\nfrom reminder.plan.calendar import load_calendar\n"
            "load_calendar().is_workday(__import__('datetime').date(2027, 10, 1))\n"
            "print('importlib.metadata' in sys.modules, 'holidays' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True"]
