"""Which claimed notices travel together: folding missed ones for catch-up, and grouping the
rest into digests (one per unit, or one per group robot for channels that post in a shared
chat).

Pure functions over claimed rows (anything with a ``notice``); the dispatcher calls them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import Any

from reminder.models import STAGE_LIFECYCLE

PRE_DEADLINE = ("remind", "due", "report")


def fold(claimed: Sequence[Any], today: date,
         has_later_stage: Callable[[Any], bool]) -> tuple[list[Any], list[Any]]:
    """Split due notices into (to send, to fold) for catch-up after downtime.

    Of several due notices of one occurrence to one recipient only the latest is sent (two
    missed reminders, or three missed escalations, make one message). A pre-deadline notice
    of an occurrence already past its deadline is folded into that occurrence's overdue
    notice, when one exists, instead of arriving late."""
    groups: dict[tuple[str, str, date, str, str], list[Any]] = {}
    for item in claimed:
        n = item.notice
        groups.setdefault((n.plan, n.task, n.due, n.recipient, n.channel), []).append(item)
    keep, folded = [], []
    for items in groups.values():
        items.sort(key=lambda c: (c.notice.send_at, STAGE_LIFECYCLE.get(c.notice.stage, 9)))
        latest = items[-1]
        folded.extend(items[:-1])
        n = latest.notice
        if n.stage in PRE_DEADLINE and n.due < today and has_later_stage(latest):
            folded.append(latest)
        else:
            keep.append(latest)
    keep.sort(key=lambda c: (c.notice.send_at, c.id))
    return keep, folded


def group_digests(claimed: Sequence[Any], shared: Collection[str] = ()) -> list[list[Any]]:
    """One digest per recipient and channel (and address list), in order of first send time.

    On a ``shared`` channel (a WeCom group robot) every unit due now whose notices go to the
    same robot shares one post, a section each: a chat of ten units gets one message, not
    ten, and the robot's 20-a-minute limit is spent on robots, not units."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[Any]] = {}
    for item in claimed:
        n = item.notice
        who = "" if n.channel in shared else n.recipient
        groups.setdefault((n.channel, who, n.addresses), []).append(item)
    return list(groups.values())


def recipients(group: Sequence[Any]) -> str:
    """The units a digest goes to, for logs, delivery records and the admin's report."""
    return "、".join(dict.fromkeys(c.notice.recipient for c in group))
