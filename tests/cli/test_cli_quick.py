"""`explain PHRASE` and `plan DIR [--format F]` answered by the entry point without click
(reminder/cli/entry.py) write what the click CLI writes, byte for byte, exit status too —
errors included — and everything else still goes through click."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from clirun import EXAMPLE, ROOT

from reminder.cli.entry import quick_command


def run(way: str, args: list[str], tmp_path: Path) -> tuple[int, str, str, bool]:
    """(exit status, stdout, stderr, whether click was imported) of ``reminder ARGS`` through
    the entry point (``entry``) or straight into the click CLI (``main``)."""
    mark = tmp_path / f"click-{way}"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(mark)!r}, 'w').write(str('click' in sys.modules)))\n"
        f"sys.argv = ['reminder', *{args!r}]\n"
        f"from reminder.cli.{way} import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                           "PYTHONIOENCODING": "utf-8"})
    return (out.returncode, out.stdout.decode(), out.stderr.decode(),
            mark.read_text() == "True")


EXAMPLE_DIR = str(EXAMPLE.relative_to(ROOT))


@pytest.mark.parametrize(("args", "quick", "status"), [
    pytest.param(["explain", "2021年底"], True, 0, id="explain"),
    pytest.param(["explain", "每季度末前5个工作日内"], True, 0, id="explain-recurring"),
    pytest.param(["explain", "春节前"], True, 0, id="explain-festival"),
    pytest.param(["explain", "随便写写"], True, 1, id="explain-not-understood"),
    pytest.param(["explain", "2021年底", "--json"], False, 0, id="explain-json-option"),
    pytest.param(["explain", "--help"], False, 0, id="explain-help"),
    pytest.param(["plan", EXAMPLE_DIR, "--format", "csv"], True, 0, id="plan-csv"),
    pytest.param(["plan", "--format=jsonl", EXAMPLE_DIR], True, 0, id="plan-jsonl"),
    pytest.param(["plan", EXAMPLE_DIR], True, 0, id="plan-table"),
    pytest.param(["plan", EXAMPLE_DIR, EXAMPLE_DIR, "--format", "csv"], True, 1, id="plan-same-folder-twice"),
    pytest.param(["plan", "rules", "--format", "csv"], True, 1, id="plan-not-a-plan"),
    pytest.param(["plan", "nosuch", "--format", "csv"], False, 2, id="plan-missing-folder"),
    pytest.param(["plan", EXAMPLE_DIR, "--format", "xml"], False, 2, id="plan-bad-format"),
    pytest.param(["plan", EXAMPLE_DIR, "--detail"], False, 0, id="plan-other-option"),
    pytest.param(["plan"], False, 2, id="plan-no-folder"),
])
def test_the_quick_way_writes_what_click_writes(args: list[str], quick: bool, status: int,
                                                tmp_path: Path) -> None:
    by_click = run("main", args, tmp_path)
    by_entry = run("entry", args, tmp_path)
    assert by_entry[:3] == by_click[:3]
    assert by_click[3]  # the comparison is with click's output
    assert by_entry[3] is not quick, "click imported" if quick else "click not imported"
    assert by_click[0] == status and (by_click[1] or by_click[2])  # errors among them


def test_only_the_plain_forms_are_quick() -> None:
    assert quick_command(["explain", "2021年底", "2022年底"]) is None
    assert quick_command(["plan", EXAMPLE_DIR, "--format", "csv", "--format", "json"]) is None
    assert quick_command(["plan", "--", EXAMPLE_DIR]) is None
    assert quick_command(["explain", "-h"]) is None
    assert quick_command(["plan", EXAMPLE_DIR, "--format"]) is None
