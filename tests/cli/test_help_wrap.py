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
