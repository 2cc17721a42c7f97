"""Rendering rows as a table, JSON or CSV: the one place that knows output formats."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TextIO

from reminder.models import Deadline, Notice

WEEKDAYS = "一二三四五六日"
STAGE_NAMES = {"remind": "提醒", "due": "到期", "overdue": "逾期", "escalate": "督办",
               "report": "报送"}
CYCLE_NAMES = {"monthly": "每月", "quarterly": "每季度", "semiannual": "每半年",
               "yearly": "每年", "ongoing": "长期"}
UNIT_NAMES = {"day": "天", "workday": "个工作日", "month": "个月"}
CHANNEL_NAMES = {"email": "邮件", "wecom": "企业微信", "none": "无"}


def weekday(day: date) -> str:
    return f"{day.isoformat()} 周{WEEKDAYS[day.weekday()]}"


def notice_record(n: Notice) -> dict[str, Any]:
    """The machine-readable form (JSON and CSV) of a notice."""
    return {
        "send_at": n.send_at.isoformat(timespec="minutes"),
        "stage": n.stage,
        "step": n.step,
        "plan": n.plan,
        "task": n.task,
        "title": n.title,
        "deadline": n.due.isoformat(),
        "unit": n.recipient,
        "recipients": list(n.addresses),
        "channel": n.channel,
        "key": n.key,
    }


def rule_source(source: str) -> str:
    """Shipped rule files by their name in the project (rules/…), user files as given."""
    from pathlib import Path

    from reminder.resources import data_dir

    shipped = data_dir("rules")
    path = Path(source)
    return f"rules/{path.relative_to(shipped)}" if path.is_relative_to(shipped) else source


def deadline_record(d: Deadline, due: Sequence[date]) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "dates": [x.isoformat() for x in d.dates],
        "due": [x.isoformat() for x in due],
        "cycle": d.cycle,
        "after": {"n": d.after.n, "unit": d.after.unit} if d.after else None,
        "rule": d.rule,
        "source": rule_source(d.source),
    }


def describe_deadline(d: Deadline, due: Sequence[date]) -> str:
    """One line of Chinese for people."""
    if d.kind == "none":
        return "无具体时限（及时办理）"
    if d.kind == "event":
        assert d.after is not None
        return f"事件发生后 {d.after.n} {UNIT_NAMES[d.after.unit]}内（记录事件日期后才有截止日）"
    shifted = [f"{weekday(x)}" + ("" if x == n else f"（原定 {n.isoformat()}，遇非工作日调整）")
               for n, x in zip(d.dates, due, strict=False)]
    if d.kind == "recurring":
        return f"{CYCLE_NAMES.get(d.cycle or '', d.cycle)}：" + "；".join(shifted)
    return "截止 " + "；".join(shifted)


def emit(rows: Sequence[Mapping[str, Any]], *, fmt: str, columns: Sequence[tuple[str, str]],
         out: TextIO | None = None, wrap: Sequence[str] = ("recipients",),
         width: int | None = 0) -> None:
    """Print rows; ``columns`` are (key, Chinese header) for table and CSV. A table fits
    ``width`` cells (0: the terminal's; None: unwrapped lines) keeping columns in the given
    order of importance; only the ``wrap`` columns may wrap: a wrapped date or id doubles
    every row's height."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([key for key, _ in columns])
        for row in rows:
            writer.writerow([_flat(row.get(key)) for key, _ in columns])
        return
    from reminder.layout import Column, render, terminal_width

    render(rows, [Column(key=key, header=header, priority=i,
                         kind="wrap" if key in wrap else "fixed", min_width=12)
                  for i, (key, header) in enumerate(columns)],
           out, terminal_width(out) if width == 0 else width)


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "，".join(str(v) for v in value)
    return str(value)
