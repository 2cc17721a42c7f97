"""The dry run as people read it: notices grouped into the messages that will arrive, rows
for the table, and the closing summary.

Everything here consumes notices as a stream in send-time order, so it works on the planner's
output however long it is; only the rows of one send time are held at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TextIO

from reminder.cli.layout import Column, pack, wrap_text
from reminder.cli.output import CHANNEL_NAMES
from reminder.models import Notice
from reminder.plan.wording import STAGE_NAMES, makeup_mark, stage_name


@dataclass(frozen=True, kw_only=True)
class Message:
    """Notices sent together: one send time, one recipient, one channel and address list
    (the key the dispatcher groups a digest by)."""

    send_at: datetime
    recipient: str
    channel: str
    addresses: tuple[str, ...]
    notices: tuple[Notice, ...]

    @property
    def tasks(self) -> int:
        return len({(n.plan, n.task, n.due) for n in self.notices})

    @property
    def stages(self) -> Counter[str]:
        return Counter(n.stage for n in {(n.plan, n.task, n.due, n.stage): n
                                         for n in self.notices}.values())


def messages(notices: Iterable[Notice]) -> Iterator[Message]:
    """Group consecutive notices of one send time by recipient and channel."""
    current: datetime | None = None
    groups: dict[tuple[str, str, tuple[str, ...]], list[Notice]] = {}

    def flush() -> Iterator[Message]:
        for (recipient, channel, addresses), group in groups.items():
            assert current is not None
            yield Message(send_at=current, recipient=recipient, channel=channel,
                          addresses=addresses, notices=tuple(group))

    for n in notices:
        if n.send_at != current:
            yield from flush()
            current, groups = n.send_at, {}
        groups.setdefault((n.recipient, n.channel, n.addresses), []).append(n)
    yield from flush()


def address_items(channel: str, addresses: tuple[str, ...]) -> list[str]:
    """Where it goes, the channel folded in: an email address speaks for itself, a robot
    name does not."""
    if channel == "none" or not addresses:
        return ["（未配置联系方式）"]
    label = ROUTE_LABELS.get(channel)
    return [f"{label} {a}" for a in addresses] if label else list(addresses)


# Every channel but email names its addresses: "zhangsan" alone could be anything.
ROUTE_LABELS = {"wecom": "企业微信群", "wecom_app": "企业微信应用", "dingtalk": "钉钉群",
                "sms": "短信"}


def stage_text(counts: Counter[str]) -> list[str]:
    """Stage names; with their task counts only when a message mixes stages (the task
    count has its own column)."""
    order = list(STAGE_NAMES)
    ordered = sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    if len(ordered) == 1:
        return [STAGE_NAMES.get(ordered[0][0], ordered[0][0])]
    return [f"{STAGE_NAMES.get(s, s)} {n}" for s, n in ordered]


class Clock:
    """Shows the time of day only when it varies: every notice going out at 09:00 is said
    once in the header instead of on every row."""

    def __init__(self, times: Iterable[datetime]) -> None:
        self.times = {t.strftime("%H:%M") for t in times}
        self.marks: dict[date, str] = {}

    @property
    def header(self) -> str:
        return "发送日期" if len(self.times) == 1 else "发送时间"

    @property
    def column(self) -> Column:
        # A make-up-day mark may go to a second line under its date on a narrow terminal.
        return Column(key="send_at", header=self.header, priority=0, kind="wrap",
                      min_width=len("2026-10-10 09:00"))

    @property
    def note(self) -> str:
        return f"均在 {next(iter(self.times))} 发送。" if len(self.times) == 1 else ""

    def __call__(self, moment: datetime) -> str:
        # A send day on a make-up Saturday (调休上班) says so, or it reads as a mistake.
        day = moment.date()
        mark = self.marks.get(day)
        if mark is None:
            mark = self.marks[day] = makeup_mark(day)
        return moment.strftime("%Y-%m-%d" if len(self.times) == 1 else "%Y-%m-%d %H:%M") + mark


def message_view(msgs: list[Message]) -> tuple[list[dict[str, Any]], list[Column], str]:
    clock = Clock(m.send_at for m in msgs)
    rows = [{
        "send_at": clock(m.send_at), "unit": m.recipient, "stages": stage_text(m.stages),
        "tasks": m.tasks, "to": address_items(m.channel, m.addresses),
    } for m in msgs]
    return rows, [
        clock.column,
        Column(key="unit", header="收件单位", priority=1),
        Column(key="tasks", header="任务数", priority=3, align="right"),
        Column(key="stages", header="类型", priority=2, kind="items"),
        Column(key="to", header="收件人", priority=4, kind="items"),
    ], clock.note


def notice_view(notices: list[Notice],
                plans: int) -> tuple[list[dict[str, Any]], list[Column], str]:
    clock = Clock(n.send_at for n in notices)
    rows = [{
        "send_at": clock(n.send_at), "stage": stage_name(n.stage, n.step),
        "plan": n.plan if plans > 1 else None, "title": f"{n.task} {n.title}"
        if not n.task.startswith("@") else n.title, "deadline": n.due.isoformat() + makeup_mark(n.due),
        "unit": n.recipient, "to": address_items(n.channel, n.addresses),
        "channel": CHANNEL_NAMES.get(n.channel, n.channel),
    } for n in notices]
    return rows, [
        clock.column,
        Column(key="stage", header="类型", priority=1),
        Column(key="plan", header="计划", priority=7),
        Column(key="title", header="任务", priority=3, kind="flex", min_width=16),
        Column(key="deadline", header="截止日", priority=4),
        Column(key="unit", header="单位", priority=2),
        Column(key="to", header="收件人", priority=5, kind="items"),
        Column(key="channel", header="渠道", priority=6, fallback_for="to"),
    ], clock.note


class Summary:
    """Counts gathered while notices stream past."""

    def __init__(self) -> None:
        self.notices = 0
        self.messages = 0
        self.stages: Counter[str] = Counter()
        self.units: dict[str, list[Any]] = {}  # unit -> [messages, notices, first, last]
        self.first: datetime | None = None
        self.last: datetime | None = None

    def add(self, message: Message) -> None:
        self.messages += 1
        self.notices += len(message.notices)
        self.stages.update(n.stage for n in message.notices)
        self.first = self.first or message.send_at
        self.last = message.send_at
        entry = self.units.setdefault(message.recipient, [0, 0, message.send_at, None])
        entry[0] += 1
        entry[1] += len(message.notices)
        entry[3] = message.send_at

    def lines(self, width: int | None) -> list[str]:
        """The totals, wrapped between phrases to ``width``."""
        if not self.messages:
            return ["没有要发送的通知。"]
        assert self.first is not None and self.last is not None
        order = list(STAGE_NAMES)  # the order a task goes through them
        stages = [f"{STAGE_NAMES.get(s, s)} {self.stages[s]}，"
                  for s in sorted(self.stages, key=lambda s: order.index(s) if s in order else 99)]
        stages[-1] = stages[-1][:-1] + "）。"
        parts = [f"共 {self.messages} 条消息（{self.notices} 条通知：", *stages,
                 f"首次发送 {self.first:%Y-%m-%d %H:%M}，", f"最后一次 {self.last:%Y-%m-%d %H:%M}。"]
        return pack(parts, width or 10**6, sep="")

    def unit_rows(self) -> tuple[list[dict[str, Any]], list[Column]]:
        rows = [{"unit": unit, "messages": m, "notices": n, "first": f"{first:%Y-%m-%d}",
                 "last": f"{last:%Y-%m-%d}"}
                for unit, (m, n, first, last) in sorted(self.units.items(),
                                                        key=lambda kv: -kv[1][1])]
        return rows, [
            Column(key="unit", header="单位", priority=0),
            Column(key="messages", header="消息", priority=1, align="right"),
            Column(key="notices", header="通知", priority=2, align="right"),
            Column(key="first", header="首次发送", priority=3),
            Column(key="last", header="最后发送", priority=4),
        ]


def show(notices: Iterable[Notice], *, detail: bool, plans: int, out: TextIO,
         width: int | None, notes: Sequence[str] = ()) -> Summary:
    """The table (one row per message, or per notice with ``detail``), the summary, and
    ``notes`` (whole sentences) to close with."""
    from reminder.cli.layout import render

    summary = Summary()
    seen: list[Notice] = []  # in the planner's order, for the detail view

    def tee() -> Iterator[Notice]:
        for n in notices:
            seen.append(n)
            yield n

    msgs = []
    for message in messages(tee() if detail else notices):
        summary.add(message)
        if not detail:
            msgs.append(message)
    rows, columns, note = notice_view(seen, plans) if detail else message_view(msgs)
    render(rows, columns, out, width)
    out.write("\n")
    for line in summary.lines(width):
        out.write(line + "\n")
    if summary.units:
        out.write("\n")
        render(*summary.unit_rows(), out, width)
        out.write("\n")
    for line in pack([note, *notes] if summary.messages else notes, width or 10**6, sep=""):
        # A sentence wider than the terminal (the 签收 note) breaks after its punctuation.
        for part in wrap_text([line], width) if width else [line]:
            out.write(part + "\n")
    return summary
