"""The command table of the lazy group: every command of every module is reachable, and a
dry-run command loads none of the daemon's or the web's modules."""

import importlib
import subprocess
import sys
from pathlib import Path

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
