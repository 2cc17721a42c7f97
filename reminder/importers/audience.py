"""A deadline cell that speaks to several audiences.

"局政务公开办7月底前完善…；各处室（部门）于11月底前按要求落实" is one cell merged over the
whole table: the second clause is every task's deadline, the first is the 政务公开办's own
plan-level date. Each clause that holds a deadline is split off and tagged with the units it
names at its start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reminder.importers.meta import looks_like_deadline
from reminder.models import PlanDate, Task, short_text
from reminder.parse.units import split_names

_CLAUSES = re.compile(r"[；;\n]+")
_WHEN = re.compile(
    r"(\d{4}\s*年|\d{1,2}\s*月|年底|年内|年末|本月|上半年|下半年|每[年月季周半]|按季度|长期)"
)
_GLUE = ("于", "在", "要", "须", "应", "需", "务必", "应当", "请")


@dataclass(frozen=True)
class Clause:
    text: str
    audience: tuple[str, ...]  # units named at the clause's start; () when none
    generic: bool  # "各处室（部门）…": addressed to every unit


def split_clauses(cell: str, year: int | None) -> list[Clause] | None:
    """The clauses of a multi-audience deadline cell, or None for an ordinary cell."""
    parts = [p.strip(" 。") for p in _CLAUSES.split(cell) if p.strip(" 。")]
    clauses = []
    for part in parts:
        if not looks_like_deadline(part, year):
            continue
        when = _WHEN.search(part)
        head = part[: when.start()] if when else ""
        for glue in _GLUE:
            head = head.removesuffix(glue)
        names = split_names(head) if 2 <= len(head) <= 24 else ()
        generic = not names or any(n.startswith(("各", "相关", "有关", "所有")) for n in names)
        clauses.append(Clause(text=part, audience=names, generic=generic))
    if len(clauses) < 2 or not any(not c.generic for c in clauses):
        return None
    return clauses


def choose(clauses: list[Clause], task: Task) -> str:
    """The clause addressed to every unit is the task's deadline; a clause naming one unit
    ("局政务公开办7月底前完善…") is that unit's own plan-level date, not the task's."""
    generic = [c for c in clauses if c.generic]
    return (generic or clauses)[0].text


def plan_dates(clauses: list[Clause]) -> list[PlanDate]:
    """The clauses addressed to a named unit, kept as plan-level dates for that unit."""
    dates = []
    for clause in clauses:
        if clause.generic:
            continue
        rest = clause.text
        for name in clause.audience:
            rest = rest.replace(name, "", 1)
        name = f"{'、'.join(clause.audience)}：{short_text(rest.lstrip('于在要，,'), 30)}"
        dates.append(PlanDate(name=name, deadline_text=clause.text, units=clause.audience))
    return dates

