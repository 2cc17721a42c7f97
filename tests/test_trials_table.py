"""The trials table of docs/reliability.md is written from the results the trials record
(tests/reliability/trials_table.py), never typed: recording, rewriting between the
markers, and leaving the rest of the page alone."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "reliability"))

import trials_table


def test_a_recorded_trial_lands_in_the_table_and_nothing_else_changes(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    trials_table.record("kill-loop sqlite", tried=1000, wrong=0, figures="20 SIGKILLs | ok",
                        path=results)
    trials_table.record("wecom hang-up", tried=10, wrong=3, figures="first", path=results)
    trials_table.record("wecom hang-up", tried=10, wrong=0, path=results,
                        figures="again: /tmp/pytest-of-root/pytest-7/test_x0/config.toml")
    page = tmp_path / "reliability.md"
    page.write_text(f"before\n{trials_table.BEGIN}\nold hand-typed rows\n{trials_table.END}\n"
                    "after\n", "utf-8")
    assert trials_table.write(page, trials_table.load(results))
    text = page.read_text("utf-8")
    assert text.startswith("before\n") and text.endswith("\nafter\n")
    assert "old hand-typed rows" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| kill-loop sqlite | 1000 | 1000 | 0 | 20 SIGKILLs \\| ok |")
    assert rows[2].startswith("| wecom hang-up | 10 | 10 | 0 | again: …/config.toml |")
    assert rows[3] == "| **all trials** | **1010** | **1010** | **0** | | |"


def test_a_page_without_the_markers_is_left_alone(tmp_path: Path) -> None:
    page = tmp_path / "reliability.md"
    page.write_text("no markers\n", "utf-8")
    assert not trials_table.write(page, {})
    assert page.read_text("utf-8") == "no markers\n"


def test_the_real_page_carries_the_markers() -> None:
    text = trials_table.PAGE.read_text("utf-8")
    assert text.count(trials_table.BEGIN) == 1 and text.count(trials_table.END) == 1
