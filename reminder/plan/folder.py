"""A plan folder: `plan.toml` (what the document does not say) beside `tasks.csv`."""

from __future__ import annotations

import csv
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from reminder.addresses import address_problem, channel_name, one_line
from reminder.errors import PlanError
from reminder.models import Contact, PlanDate, Policy, Task, TaskOverride, outside_window
from reminder.parse.deadlines import REPORTING_CYCLES
from reminder.parse.rules import RuleSet, load_rules
from reminder.plan.calendar import WorkCalendar, load_calendar
from reminder.plan.contacts import ContactBook
from reminder.plan.policy import build_policy

PLAN_FILE = "plan.toml"
TASKS_FILE = "tasks.csv"
# Canonical task table columns: (field, Chinese header users see in Excel).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "序号"), ("section", "章节"), ("title", "工作任务"), ("detail", "具体工作"),
    ("lead", "牵头单位"), ("support", "配合单位"), ("units", "责任单位"),
    ("deadline", "完成时限"),
)
SECTION_SEP = " / "
UNIT_SEP = re.compile(r"[；;]")
_TOP_KEYS = frozenset({
    "title", "year", "issued", "default_deadline", "reporting_cycle", "coordinator",
    "escalate_to", "table", "policy", "dates", "tasks", "units", "note", "source", "import",
    "sender_name",
})
_UNIT_KEYS = frozenset({"email", "wecom", "wecom_users", "wecom_mobiles", "aliases", "note",
                        "dingtalk", "dingtalk_mobiles", "mobiles", "channels"})
_SECRET_WORDS = ("key", "secret", "password", "token", "webhook")
# A robot's webhook URL carries its key in the query (…/webhook/send?key=…): a plan file is
# shared and printed, so such a value is refused wherever it stands, like a secret's key.
_SECRET_QUERY = re.compile(r"[?&#;](?:key|access_token|token|secret)=", re.IGNORECASE)


def _refuse_secret_urls(value: Any, path: Path, place: str = "") -> None:
    """Refuse a URL with its key anywhere in plan.toml; the message never repeats the value."""
    if isinstance(value, str):
        match = _SECRET_QUERY.search(value)
        if match:
            raise PlanError(f"计划文件中不能写带密钥的网址（{match.group(0)[1:]}…）", file=path,
                            place=place or None,
                            hint="机器人在 config.toml 的 [channels.wecom.robots] 配置，密钥放在环境变量"
                                 "或密钥文件中，这里只写 wecom = \"机器人名\"")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_secret_urls(item, path, f"{place}.{key}" if place else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _refuse_secret_urls(item, path, f"{place}[{i}]")


@dataclass(frozen=True, kw_only=True)
class Plan:
    id: str
    path: Path
    title: str
    year: int
    issued: date | None
    default_deadline: str
    reporting_cycle: str
    tasks: tuple[Task, ...]
    dates: tuple[PlanDate, ...] = ()
    overrides: Mapping[str, TaskOverride] = field(default_factory=dict)
    units: Mapping[str, Contact] = field(default_factory=dict)
    coordinator: str | None = None
    sender_name: str = ""  # whose reminders these are in messages: 【{sender_name}提醒】
    escalate_to: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    rules: RuleSet
    calendar: WorkCalendar
    table_file: Path
    year_guessed_from: str = ""  # [import]: the words the year was guessed from, unconfirmed
    book: ContactBook | None = None  # the deployment's 通讯录, under the plan's own [units]

    def contact(self, name: str) -> Contact | None:
        """The contact for a unit name or one of its aliases."""
        if name in self.units:
            return self.units[name]
        for contact in self.units.values():
            if name in contact.aliases:
                return contact
        return None

    def task(self, task_id: str) -> Task | None:
        return self._task_index.get(task_id)

    @cached_property
    def _task_index(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    @cached_property
    def deadline_cache(self) -> dict[str, list[Any]]:
        """Parsed deadlines by task id: the window, the notices and the checks all ask."""
        return {}

    @cached_property
    def deadline_values(self) -> dict[Any, Any]:
        """One instance of each distinct parsed deadline: the tasks of a plan repeat a few
        cells (年底前, 每季度), and a daemon keeps every task's deadlines between syncs."""
        return {}


def _toml_error(exc: tomllib.TOMLDecodeError, path: Path) -> PlanError:
    match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    return PlanError(
        f"TOML 格式错误：{message}", file=path, line=int(match.group(1)) if match else None,
        hint="检查引号、等号和方括号",
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, path) from None
    except UnicodeDecodeError:
        raise PlanError("文件不是 UTF-8 编码", file=path, hint="用 UTF-8 另存") from None


def _str_list(value: Any, path: Path, place: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise PlanError("应为文字列表，如 [\"a\", \"b\"]", file=path, place=place)


def _date(value: Any, path: Path, place: str, year: int) -> date:
    if isinstance(value, datetime):  # a TOML date-time: its day is what a plan means
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise PlanError(f"无法识别的日期 {value!r}", file=path, place=place,
                            hint="写作 2026-04-15") from None
    why = outside_window(day, year)
    if why:
        raise PlanError(why, file=path, place=place, hint=f"写作 {year}-04-15 这样的日期")
    return day


def _units(raw: Any, path: Path) -> dict[str, Contact]:
    if not isinstance(raw, dict):
        raise PlanError("[units] 应为表", file=path, place="units")
    units: dict[str, Contact] = {}
    for name, spec in raw.items():
        place = f"units.{name}"
        if not isinstance(spec, dict):
            raise PlanError("应为表，如 email = [\"…\"]", file=path, place=place)
        for key in spec:
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise PlanError(
                    f"计划文件中不能写密钥（{key}）", file=path, place=place,
                    hint="机器人密钥放在 config.toml 指定的环境变量或密钥文件中，"
                         "这里只写 wecom = \"机器人名\"",
                )
            if key not in _UNIT_KEYS:
                raise PlanError(f"未知的联系方式项 {key}", file=path, place=place,
                                hint="可用项：" + "、".join(sorted(_UNIT_KEYS)))
        found: dict[str, tuple[str, ...]] = {}
        for kind in ("email", "wecom_users", "wecom_mobiles", "dingtalk_mobiles", "mobiles"):
            found[kind] = _str_list(spec.get(kind, []), path, f"{place}.{kind}")
            for address in found[kind]:
                # "a@x, evil@x" or a line break would add a recipient or a header (Bcc: …)
                # to the mail; "chenjing>\n<@all" a mention of everyone in the group.
                problem = address_problem(kind, address)
                if problem:
                    raise PlanError(problem, file=path, place=f"{place}.{kind}",
                                    hint="每个地址单独写一项，不要换行或用逗号连写")
        wecom = spec.get("wecom") or None
        if wecom is not None and not isinstance(wecom, str):
            raise PlanError("wecom 应为机器人名称", file=path, place=f"{place}.wecom")
        dingtalk = spec.get("dingtalk") or None
        if dingtalk is not None and not isinstance(dingtalk, str):
            raise PlanError("dingtalk 应为钉钉机器人名称", file=path, place=f"{place}.dingtalk")
        order = []
        for entry in _str_list(spec.get("channels", []), path, f"{place}.channels"):
            channel = channel_name(entry)
            if channel is None:
                raise PlanError(f"不认识的渠道 {entry!r}", file=path, place=f"{place}.channels",
                                hint='可用：email、wecom、wecom_app、dingtalk、sms，如 '
                                     'channels = ["wecom_app", "email"]')
            order.append(channel)
        units[name] = Contact(
            name=name,
            email=found["email"],
            wecom=wecom,
            wecom_users=found["wecom_users"],
            wecom_mobiles=found["wecom_mobiles"],
            aliases=_str_list(spec.get("aliases", []), path, f"{place}.aliases"),
            dingtalk=dingtalk, dingtalk_mobiles=found["dingtalk_mobiles"],
            mobiles=found["mobiles"], channels=tuple(order),
        )
    return units


def _with_book(units: dict[str, Contact], book: ContactBook | None) -> dict[str, Contact]:
    """The 通讯录 under the plan's [units]: a plan entry with an address wins; an empty one
    (as an import leaves it, to be filled) does not blank the sheet's row."""
    if book is None:
        return units
    merged = dict(book.contacts)
    for name, contact in units.items():
        if contact.reachable or name not in merged:
            merged[name] = contact
    return merged


def _overrides(raw: Any, path: Path, year: int) -> dict[str, TaskOverride]:
    if not isinstance(raw, dict):
        raise PlanError("[tasks] 应为表", file=path, place="tasks")
    result: dict[str, TaskOverride] = {}
    for task_id, spec in raw.items():
        place = f"tasks.{task_id}"
        if not isinstance(spec, dict):
            raise PlanError("应为表，如 deadline = \"…\"", file=path, place=place)
        unknown = set(spec) - {"deadline", "skip", "event", "units", "note"}
        if unknown:
            raise PlanError(f"未知的任务设置 {', '.join(sorted(unknown))}", file=path,
                            place=place, hint="可用项：deadline、skip、event、units")
        result[str(task_id)] = TaskOverride(
            deadline=str(spec["deadline"]) if "deadline" in spec else None,
            skip=bool(spec.get("skip", False)),
            event=_date(spec["event"], path, f"{place}.event", year) if "event" in spec else None,
            units=_str_list(spec["units"], path, f"{place}.units") if "units" in spec else None,
        )
    return result


def _dates(raw: Any, path: Path) -> tuple[PlanDate, ...]:
    if not isinstance(raw, list):
        raise PlanError("[[dates]] 应为表数组", file=path, place="dates")
    result = []
    for i, spec in enumerate(raw):
        place = f"dates[{i}]"
        if not isinstance(spec, dict) or not spec.get("deadline"):
            raise PlanError("每个 [[dates]] 需要 deadline", file=path, place=place)
        result.append(PlanDate(
            name=str(spec.get("name") or f"报送{i + 1}"),
            deadline_text=str(spec["deadline"]),
            units=_str_list(spec.get("units", []), path, f"{place}.units"),
            to=str(spec.get("to", "")),
        ))
    return tuple(result)


def _split(cell: str) -> tuple[str, ...]:
    # Interned: the same few unit names recur in every row, and a daemon keeps every task.
    return tuple(sys.intern(p.strip()) for p in UNIT_SEP.split(cell) if p.strip())


def read_tasks(path: Path) -> tuple[Task, ...]:
    """Read the canonical task table (Chinese or English headers)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlanError("找不到任务表", file=path,
                        hint="用 reminder import 生成，或在 [table] file 指定") from None
    except UnicodeDecodeError:
        raise PlanError("任务表不是 UTF-8 编码", file=path, hint="用 UTF-8 另存为 CSV") from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if not header:
        raise PlanError("任务表是空的", file=path)
    names = {zh: f for f, zh in COLUMNS} | {f: f for f, _ in COLUMNS}
    index = {names[h.strip()]: i for i, h in enumerate(header) if h.strip() in names}
    for required in ("title",):
        if required not in index:
            raise PlanError(f"任务表缺少列“{dict(COLUMNS)[required]}”", file=path, line=1,
                            hint="表头应为 " + ",".join(zh for _, zh in COLUMNS))
    from reminder.parse.units import split_units  # pure; imported late to keep load order simple

    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(rows, start=2):
        def cell(name: str, row: list[str] = row) -> str:
            i = index.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        if not any(c.strip() for c in row):
            continue
        task_id = cell("id") or str(len(tasks) + 1)
        if task_id in seen:
            raise PlanError(f"任务编号 {task_id} 重复（第 {seen[task_id]} 行已有）", file=path,
                            line=line_no, hint="每个任务的序号必须唯一")
        seen[task_id] = line_no
        lead, support = _split(cell("lead")), _split(cell("support"))
        if not lead and not support and cell("units"):
            lead, support = split_units(cell("units"))
        tasks.append(Task(
            id=task_id,
            title=cell("title"),
            section=tuple(sys.intern(p.strip()) for p in cell("section").split(SECTION_SEP)
                          if p.strip()),
            detail=cell("detail"),
            lead=lead,
            support=support,
            units_text=sys.intern(cell("units")),
            deadline_text=sys.intern(cell("deadline")),
        ))
    return tuple(tasks)


def load_plan(path: Path, *, extra_rules: Sequence[Path] = (),
              contacts: ContactBook | None = None, timezone: str | None = None) -> Plan:
    """Load and validate a plan folder; every mistake is a PlanError naming file and place.
    ``contacts`` (the 通讯录) fill in every unit the plan's [units] do not name.

    ``timezone`` is the deployment's (config.toml): one office, one timezone, so it wins
    over any policy's; without a config the policy's applies (rules/policy.toml)."""
    path = Path(path)
    if path.is_file() and path.name == PLAN_FILE:
        path = path.parent
    plan_file = path / PLAN_FILE
    if not path.is_dir():
        raise PlanError("计划文件夹不存在", file=path)
    if not plan_file.is_file():
        raise PlanError("不是计划文件夹：缺少 plan.toml", file=path,
                        hint="用 reminder import 文件 -o 文件夹 生成")
    data = read_toml(plan_file)
    _refuse_secret_urls(data, plan_file)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PlanError(f"未知的设置项 {', '.join(sorted(unknown))}", file=plan_file,
                        hint="可用项：" + "、".join(sorted(_TOP_KEYS)))
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise PlanError("缺少或错误的计划年度 year", file=plan_file, place="year",
                        hint="写作 year = 2026")
    issued = _date(data["issued"], plan_file, "issued", year) if data.get("issued") else None
    cycle = data.get("reporting_cycle", "quarterly")
    if cycle not in REPORTING_CYCLES:  # bimonthly and dekadal are task rhythms, not reporting
        raise PlanError(f"未知的报送周期 {cycle!r}", file=plan_file, place="reporting_cycle",
                        hint="monthly、quarterly、semiannual 或 yearly")
    table = data.get("table", {})
    table_file = path / str(table.get("file", TASKS_FILE))
    policy_raw = data.get("policy", {})
    if not isinstance(policy_raw, dict):
        raise PlanError("[policy] 应为表", file=plan_file, place="policy")
    rules = load_rules([p for p in (path / "rules",) if p.is_dir()] + list(extra_rules))
    calendar = load_calendar([p for p in (path / "holidays",) if p.is_dir()])
    coordinator = data.get("coordinator") or None
    return Plan(
        id=path.resolve().name,
        path=path,
        title=one_line(str(data.get("title") or path.name)),  # a CR/LF broke the .ics
        year=year,
        issued=issued,
        default_deadline=str(data.get("default_deadline", "")),
        reporting_cycle=cycle,
        tasks=read_tasks(table_file),
        dates=_dates(data.get("dates", []), plan_file),
        overrides=_overrides(data.get("tasks", {}), plan_file, year),
        units=_with_book(_units(data.get("units", {}), plan_file), contacts),
        coordinator=str(coordinator) if coordinator else None,
        sender_name=str(data.get("sender_name") or ""),
        escalate_to=_str_list(data.get("escalate_to", []), plan_file, "escalate_to"),
        policy=build_policy(policy_raw, file=plan_file, timezone=timezone),
        rules=rules,
        calendar=calendar,
        table_file=table_file,
        year_guessed_from=_year_guess(data.get("import"), plan_file),
        book=contacts,
    )


def _year_guess(raw: Any, path: Path) -> str:
    """The import's guess of the year, unless the user confirmed it."""
    if raw is None:
        return ""
    if not isinstance(raw, dict):
        raise PlanError("[import] 应为表", file=path, place="import")
    if raw.get("year_confirmed") is True:
        return ""
    return str(raw.get("year_guessed_from") or "")
