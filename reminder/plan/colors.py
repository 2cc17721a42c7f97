"""三色预警: an open occurrence's warning colour, from the share of its period left and
whether a progress report came in during that period. Pure: today, the period and the
report are handed in; the pages, the 台账 and the planner all ask here.

- 红 (red): past its due date and not done.
- 橙 (orange): at most ``orange_left`` of the period left and no progress report in it.
- 黄 (yellow): at most ``yellow_left`` left and no report; a report in the period keeps an
  occurrence one step lower (橙 → 黄, 黄 → 绿): the unit has shown it is working on it,
  but a report does not make a nearly spent period comfortable.
- 绿 (green): on track.

The period of an occurrence runs from where its work opens (a range's start; for a deadline
counted from an event, the event), else the previous occurrence's due date (a recurring task
is coloured per period), else the plan's issue date, else 1 January of the plan year, to its
due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from reminder.models import Occurrence, Policy

Color = Literal["green", "yellow", "orange", "red"]
COLORS: tuple[Color, ...] = ("green", "yellow", "orange", "red")
# The word always shown beside the mark: colour alone tells nothing to a colour-blind
# reader or on a black-and-white print of the 台账.
WORDS: dict[str, str] = {"green": "绿", "yellow": "黄", "orange": "橙", "red": "红"}
LABELS: dict[str, str] = {"green": "绿 正常", "yellow": "黄 预警", "orange": "橙 预警",
                          "red": "红 逾期"}
# Who a colour may add, as the policy names them.
AUDIENCES = ("units", "coordinator", "leaders")


@dataclass(frozen=True, kw_only=True)
class Warning:
    """An occurrence's colour on a day; ``left`` is the share of its period still to run."""

    color: Color
    left: float
    reported: bool

    @property
    def word(self) -> str:
        return WORDS[self.color]

    @property
    def label(self) -> str:
        return LABELS[self.color]


def period_start(occ: Occurrence, issued: date | None, year: int,
                 event: date | None = None) -> date:
    """Where the occurrence's period opens (see the module's note); an event-relative
    deadline (收到后5个工作日内) opens at its ``event``."""
    if occ.kind == "event" and event is not None:
        return event
    return occ.start or occ.previous_due or issued or date(year, 1, 1)


def share_left(start: date, due: date, today: date) -> float:
    """The share of [start, due] still to run on ``today``: 1 at the start, 0 on the due
    day, negative once past it. A period of no length is spent at once."""
    total = (due - start).days
    if total <= 0:
        return 0.0 if today <= due else -1.0
    return min(1.0, (due - today).days / total)


def color_of(*, start: date, due: date, today: date, reported: bool, policy: Policy) -> Warning:
    left = share_left(start, due, today)
    if today > due:
        return Warning(color="red", left=left, reported=reported)
    step = 2 if left <= policy.orange_left else 1 if left <= policy.yellow_left else 0
    if reported:
        step = max(0, step - 1)
    return Warning(color=COLORS[step], left=left, reported=reported)


def change_days(start: date, due: date, policy: Policy) -> list[tuple[date, Color]]:
    """The first day an occurrence without a report is 黄 and 橙, in order; a colour whose
    day would fall on or before the period's start (a period too short to warn in) or on
    the due day itself (the due-day reminder speaks then) is left out."""
    total = (due - start).days
    found: list[tuple[date, Color]] = []
    for color, share in (("yellow", policy.yellow_left), ("orange", policy.orange_left)):
        # The first day with (due - day) / total <= share.
        day = due - timedelta(days=int(share * total + 1e-9))
        if start < day < due and all(d != day for d, _ in found):
            found.append((day, color))  # type: ignore[arg-type]
    return found


def audience_names(plan: object, who: tuple[str, ...], units: list[str],
                   escalation: list[str]) -> list[str]:
    """The contact names a colour's ``who`` adds: the task's units, the plan's coordinator,
    or the leaders an escalation goes to (``escalation``, as the planner picks them)."""
    names: list[str] = []
    coordinator = getattr(plan, "coordinator", "")
    for kind in who:
        if kind == "units":
            names.extend(units)
        elif kind == "coordinator" and coordinator:
            names.append(coordinator)
        elif kind == "leaders":
            names.extend(escalation)
    return names
