"""Rendering rows as a table, JSON or CSV: the one place that knows output formats."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from reminder.cells import csv_cell
from reminder.models import Deadline, Notice, notice_key
from reminder.plan.wording import (
    CYCLE_NAMES,
    UNIT_NAMES,
    day_with_weekday,
    stage_name,
)

if TYPE_CHECKING:
    from reminder.plan.calendar import WorkCalendar
    from reminder.plan.planner import Batch

CHANNEL_NAMES = {"email": "邮件", "wecom": "企业微信", "wecom_app": "企业微信应用",
                 "dingtalk": "钉钉", "sms": "短信", "none": "无"}


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


# The machine-readable columns of a notice, in order (CSV prints all but step and key).
NOTICE_FIELDS = ("send_at", "stage", "step", "plan", "task", "title", "deadline", "unit",
                 "recipients", "channel", "key")
CSV_FIELDS = tuple(f for f in NOTICE_FIELDS if f not in ("step", "key"))
# CSV is opened in Excel by the people the notices are for: its header and its stage and
# channel cells are in Chinese. JSON is for programs and keeps the English keys and values.
CSV_HEADERS = {"send_at": "发送时间", "stage": "类型", "plan": "计划", "task": "序号",
               "title": "工作任务", "deadline": "完成时限", "unit": "收件单位",
               "recipients": "收件地址", "channel": "渠道"}
_NEEDS_QUOTES = re.compile(r'[,"\r\n]').search
# Lines are written in chunks of this many: few write calls, memory flat however many plans.
CHUNK = 4096


def write_notices(batches: Iterable[Batch], *, fmt: str, out: TextIO | None = None) -> int:
    """Stream notices as CSV, a JSON array or JSON Lines, batch by batch, in bounded memory;
    returns how many were written. The shared part of a batch (time, stage, task, title) is
    formatted once and each (unit, channel, addresses) once per run; the sha256 key only
    for the formats that print it."""
    import json  # here, not at the top: explain prints no JSON

    out = out or sys.stdout
    csv_out = fmt == "csv"
    if csv_out:
        out.write(",".join(CSV_HEADERS[f] for f in CSV_FIELDS) + "\n")
    elif fmt == "json":
        out.write("[")
    moments: dict[datetime, str] = {}
    days: dict[date, str] = {}
    tails: dict[object, str] = {}
    cells: dict[object, str] = {}
    lines: list[str] = []
    count = 0
    for b in batches:
        send_at = moments.get(b.send_at) or moments.setdefault(
            b.send_at, b.send_at.isoformat(timespec="minutes"))
        deadline = days.get(b.due) or days.setdefault(b.due, b.due.isoformat())
        if csv_out:
            # Plan, task and title change once per task: their cells are joined once.
            task = (b.plan, b.task, b.title)
            middle = cells.get(task)
            if middle is None:
                middle = cells[task] = ",".join(_csv_cell(v) for v in task)
            head = f"{send_at},{stage_name(b.stage, b.step)},{middle},{deadline},"
            for target in b.targets:
                tail = tails.get(target)
                if tail is None:
                    tail = tails[target] = ",".join((_csv_cell(target[0]),
                                                     _csv_cell("，".join(target[2])),
                                                     _csv_cell(CHANNEL_NAMES.get(target[1],
                                                                                 target[1])))) + "\n"
                lines.append(head + tail)
        else:
            head = json.dumps({"send_at": send_at, "stage": b.stage, "step": b.step,
                               "plan": b.plan, "task": b.task, "title": b.title,
                               "deadline": deadline}, ensure_ascii=False)[:-1] + ", "
            for target in b.targets:
                tail = tails.get(target)
                if tail is None:
                    tail = tails[target] = json.dumps(
                        {"unit": target[0], "recipients": list(target[2]),
                         "channel": target[1]}, ensure_ascii=False)[1:-1]
                key = notice_key(b.plan, b.task, b.due, b.stage, b.step, target[0], target[1])
                lines.append(f'{head}{tail}, "key": "{key}"}}')
        if len(lines) >= CHUNK:
            count += _flush(lines, out, fmt, first=count == 0)
    count += _flush(lines, out, fmt, first=count == 0)
    if fmt == "json":
        out.write("\n]\n" if count else "]\n")
    return count


def _flush(lines: list[str], out: TextIO, fmt: str, *, first: bool) -> int:
    if not lines:
        return 0
    if fmt == "csv":
        out.write("".join(lines))
    elif fmt == "json":
        out.write(("\n" if first else ",\n") + ",\n".join(lines))
    else:
        out.write("\n".join(lines) + "\n")
    count = len(lines)
    lines.clear()
    return count


def _csv_cell(text: str) -> str:
    """A CSV field as the csv module writes it (minimal quoting), without its per-row cost;
    a title or name a spreadsheet would take for a formula is kept as text (cells.py)."""
    text = csv_cell(text)
    if _NEEDS_QUOTES(text):
        return '"' + text.replace('"', '""') + '"'
    return text


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
        "offsets": [{"n": o.n, "unit": o.unit} for o in d.offsets],
        "start": d.start.isoformat() if d.start else None,
        "note": d.note,
        "rule": d.rule,
        "source": rule_source(d.source),
    }


def describe_deadline(d: Deadline, due: Sequence[date],
                      nominal: Sequence[date] | None = None,
                      calendar: WorkCalendar | None = None) -> str:
    """One line of Chinese for people; ``nominal`` are the dates before the workday shift
    (``d.dates`` unless a recurring deadline counts from each period's end)."""
    note = f"（{d.note}）" if d.note else ""
    if d.kind == "none":
        return f"无具体时限{note or '（及时办理）'}"
    if d.kind == "event":
        assert d.after is not None
        return (f"事件发生后 {d.after.n} {UNIT_NAMES[d.after.unit]}内（记录事件日期后才有截止日）"
                if d.after.n else "事件当日（记录事件日期后才有截止日）") + note
    shifted = [day_with_weekday(x, calendar) + ("" if x == n else f"（原定 {n.isoformat()}，遇非工作日调整）")
               for n, x in zip(nominal if nominal is not None else d.dates, due, strict=False)]
    if d.kind == "recurring":
        after = (f"每期结束后 {d.after.n} {UNIT_NAMES[d.after.unit]}内，" if d.after else "")
        if d.offsets:
            after = "每期结束后分别 " + "、".join(
                f"{o.n} {UNIT_NAMES[o.unit]}" for o in d.offsets) + "内，"
        return f"{CYCLE_NAMES.get(d.cycle or '', d.cycle)}{note}：{after}" + "；".join(shifted)
    start = f"自 {d.start.isoformat()} 起，" if d.start else ""
    return f"{start}截止 " + "；".join(shifted) + note


def emit(rows: Sequence[Mapping[str, Any]], *, fmt: str, columns: Sequence[tuple[str, str]],
         out: TextIO | None = None, wrap: Sequence[str] = ("recipients",),
         width: int | None = 0) -> None:
    """Print rows; ``columns`` are (key, Chinese header) for table and CSV. A table fits
    ``width`` cells (0: the terminal's; None: unwrapped lines) keeping columns in the given
    order of importance; only the ``wrap`` columns may wrap: a wrapped date or id doubles
    every row's height."""
    import json

    out = out or sys.stdout
    if fmt == "json":
        json.dump(list(rows), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        import csv  # here: explain and the dry run's own CSV (write_notices) do without it

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([key for key, _ in columns])
        for row in rows:
            # Text a spreadsheet would take for a formula stays text; a number stays a number.
            writer.writerow([csv_cell(_flat(v)) if isinstance(v, str | list | tuple) else _flat(v)
                             for v in (row.get(key) for key, _ in columns)])
        return
    from reminder.cli.layout import Column, render, terminal_width

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
