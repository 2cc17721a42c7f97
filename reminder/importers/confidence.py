"""How far an import can be trusted: counts over the tasks found, and the reasons to review.

Pure: the importer fills it in, the CLI decides what is an error (exit 3 unless --accept).
The thresholds are the ones a clerk can check by eye against the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reminder.models import Task

LONG_TITLE = 200  # reported: a title this long usually swallowed a neighbouring cell
MAX_TITLE = 400  # refused: no requirement in a plan is this long; cells ran together
MIN_UNITS = 0.8
MIN_DEADLINES = 0.5
# "far below": fewer tasks than this share of the numbered items / rows the source shows
MIN_FOUND = 0.6

_ITEM = re.compile(r"^\s*(?:(\d{1,3})\s*[.．、]|[（(]\s*([一二三四五六七八九十]{1,3})\s*[）)]|([①-⑳]))")


@dataclass(frozen=True, kw_only=True)
class Confidence:
    tasks: int
    with_unit: int
    with_deadline: int  # a deadline of its own, or the plan's default
    long_titles: int
    overlong_titles: int
    from_text: int  # tasks read from running text rather than table cells
    expected: int  # numbered items / task rows seen in the source (0: unknown)
    skipped: tuple[str, ...] = ()  # parts of the source not read (sheets without a table…)
    notes: tuple[str, ...] = ()  # what a reader could not understand, already in words

    def lines(self) -> list[str]:
        """The short report printed after every import, in Chinese."""
        out = [
            f"识别情况：任务 {self.tasks} 项；有责任单位 {self.with_unit} 项，有完成时限 "
            f"{self.with_deadline} 项，标题超过 {LONG_TITLE} 字 {self.long_titles} 项，"
            f"来自表格以外文字 {self.from_text} 项"
        ]
        if self.expected:
            out[0] += f"；原文编号条目或表格行约 {self.expected} 个"
        out.extend(f"未导入：{s}" for s in self.skipped)
        return out

    def reasons(self) -> list[str]:
        """Why the result should be reviewed before use; [] when it looks complete."""
        reasons = list(self.notes)
        if not self.tasks:
            return reasons or ["没有识别出任务"]
        if self.with_unit < MIN_UNITS * self.tasks:
            reasons.append(f"只有 {self.with_unit}/{self.tasks} 项任务识别出责任单位")
        if self.with_deadline < MIN_DEADLINES * self.tasks:
            reasons.append(f"只有 {self.with_deadline}/{self.tasks} 项任务有完成时限")
        if self.overlong_titles:
            reasons.append(f"{self.overlong_titles} 项任务标题超过 {MAX_TITLE} 字，可能是多个单元格连在一起")
        if self.expected and self.tasks < MIN_FOUND * self.expected:
            reasons.append(f"只识别出 {self.tasks} 项任务，原文约有 {self.expected} 个编号条目或表格行")
        return reasons


def count_items(lines: Iterable[str]) -> int:
    """Numbered items in the source: the longest run of 1. 2. 3. (or （一）…, ①…) numbers
    counted once each, so a covering letter's own "1." does not inflate the count."""
    seen: dict[str, set[str]] = {"arabic": set(), "paren": set(), "circled": set()}
    for line in lines:
        for piece in str(line).split("\n"):
            m = _ITEM.match(piece)
            if m is None:
                continue
            arabic, paren, circled = m.groups()
            if arabic:
                seen["arabic"].add(arabic)
            elif paren:
                seen["paren"].add(paren)
            elif circled:
                seen["circled"].add(circled)
    return max(len(v) for v in seen.values())


def assess(
    tasks: Sequence[Task],
    *,
    default_deadline: str | None,
    expected: int,
    from_text: bool,
    skipped: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Confidence:
    return Confidence(
        tasks=len(tasks),
        with_unit=sum(1 for t in tasks if t.units),
        with_deadline=sum(1 for t in tasks if t.deadline_text or default_deadline),
        long_titles=sum(1 for t in tasks if len(t.title) > LONG_TITLE),
        overlong_titles=sum(1 for t in tasks if len(t.title) > MAX_TITLE),
        from_text=len(tasks) if from_text else 0,
        expected=expected,
        skipped=tuple(skipped),
        notes=tuple(notes),
    )
