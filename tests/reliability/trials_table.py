"""The trials table of docs/reliability.md, written from what the trials recorded.

Each trial calls ``harness.report(name, figures, tried=…, wrong=…)``, which keeps its latest
result in docs/reliability-trials.json (one entry per trial, replaced when it runs again).
At the end of a pytest run that recorded anything (conftest.py's pytest_sessionfinish), or
by hand:

    .venv/bin/python tests/reliability/trials_table.py

the block between the two markers in docs/reliability.md is rewritten from that file, so
the table is never typed by hand. Nothing else in the page is touched.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "reliability-trials.json"
PAGE = ROOT / "docs" / "reliability.md"
BEGIN = "<!-- trials table: written by tests/reliability/trials_table.py; do not edit -->"
END = "<!-- end of trials table -->"

TEMP = re.compile(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+/")
_recorded: list[str] = []  # trials recorded in this process (the hook rewrites only then)


def load(path: Path = RESULTS) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    return json.loads(path.read_text("utf-8"))


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def record(name: str, *, tried: int, wrong: int, figures: str, path: Path = RESULTS) -> None:
    results = load(path)
    results[name] = {"tried": tried, "clean": tried - wrong, "wrong": wrong,
                     "figures": figures,
                     "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                     "commit": _commit()}
    path.write_text(json.dumps(dict(sorted(results.items())), ensure_ascii=False, indent=1)
                    + "\n", "utf-8")
    if path == RESULTS:  # a test of this module writing elsewhere is no trial run
        _recorded.append(name)


def table(results: dict[str, dict[str, object]]) -> str:
    def cell(text: object) -> str:
        # A trial's temporary folder says nothing to a reader: …/config.toml is enough.
        text = TEMP.sub("…/", str(text))
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Trial | Tried | Clean | Wrong | Figures of its last run | Run at (commit) |",
             "|---|---:|---:|---:|---|---|"]
    totals = [0, 0, 0]
    for name, r in results.items():
        counts = [int(r["tried"]), int(r["clean"]), int(r["wrong"])]  # type: ignore[call-overload]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines.append(f"| {cell(name)} | {counts[0]} | {counts[1]} | {counts[2]} | "
                     f"{cell(r['figures'])} | {r['when']} ({r.get('commit') or '?'}) |")
    lines.append(f"| **all trials** | **{totals[0]}** | **{totals[1]}** | **{totals[2]}** | | |")
    return "\n".join(lines)


def write(page: Path = PAGE, results: dict[str, dict[str, object]] | None = None) -> bool:
    """Rewrite the block between the markers; False (and nothing written) without them."""
    text = page.read_text("utf-8")
    if BEGIN not in text or END not in text:
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = table(load() if results is None else results)
    page.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}", "utf-8")
    return True


def recorded() -> list[str]:
    return list(_recorded)


if __name__ == "__main__":
    import sys

    sys.exit(0 if write() else f"{PAGE}: the trials table markers are missing")
