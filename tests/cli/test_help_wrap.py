"""--help wraps between words (issue 17 §7: `[必␤填]`, `co␤nfig.toml`)."""

from __future__ import annotations

import itertools
import re

import pytest
from click.testing import CliRunner

from reminder.cli.main import COMMAND_MODULES, cli

WORD = re.compile(r"[A-Za-z0-9._/~$-]")


def commands() -> list[str]:
    return sorted(COMMAND_MODULES)


@pytest.mark.parametrize("name", commands())
def test_help_never_breaks_inside_a_word_or_a_short_bracket(name: str) -> None:
    for width in (80, 100):
        out = CliRunner().invoke(cli, [name, "--help"], terminal_width=width).output
        lines = out.splitlines()
        for upper, lower in itertools.pairwise(lines):
            body = lower.lstrip()
            if not upper.strip() or not body or len(lower) - len(body) <= 2:
                continue
            joined = upper.rstrip()[-1:] + body[:1]
            assert not (WORD.match(joined[:1] or " ") and WORD.match(joined[1:] or " ")
                        and upper == upper.rstrip()), (name, width, upper, lower)
            assert not (upper.rstrip().endswith("[必") or body.startswith("填]")), (upper, lower)


def test_chinese_help_fills_its_lines_and_names_every_command() -> None:
    """Help text is measured in terminal cells and may break between Chinese characters,
    never before closing or after opening punctuation; a docstring's line break leaves no
    space between two Chinese characters; every command has a summary, not a bare '...'."""
    outs = [CliRunner().invoke(cli, ["--help"], terminal_width=80).output]
    outs += [CliRunner().invoke(cli, [name, "--help"], terminal_width=80).output
             for name in commands()]
    for out in outs:
        for line in out.splitlines():
            body = line.strip()
            assert not body.startswith(tuple("，。、；：）")), line
            assert not body.endswith(tuple("（《“")), line
            assert not re.search(r"[\u4e00-\u9fff，。、；：）] [\u4e00-\u9fff]", body), line
    summaries = re.findall(r"^  (\S+) {2,}(.*)$", outs[0].split("命令:")[1], re.M)
    assert {name for name, _ in summaries} == set(commands())
    assert all(text.strip() not in ("", "...") for _, text in summaries), summaries
    # A summary that fits in two lines is not cut short.
    wide = outs[0].split("命令:")[1]
    assert "..." not in wide, wide
