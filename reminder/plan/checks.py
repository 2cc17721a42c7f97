"""`reminder check`: what in a plan folder will keep reminders from going out as meant."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Literal

from reminder.parse.deadlines import Reading, parse, read, sourced_deadlines
from reminder.parse.rules import probe_rules
from reminder.plan.calendar import missing_year_note
from reminder.plan.folder import PLAN_FILE, Plan
from reminder.plan.occurrences import context, deadlines_of, effective_task, named_units, occurrences
from reminder.plan.wording import CYCLE_NAMES

LEVEL_NAMES = {"ok": "正常", "warning": "警告", "error": "错误"}


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What `check` and `doctor` report without stopping: a problem in a file at a place
    (`check`), or the state of one area of a deployment (`doctor`: area set, no file)."""

    level: Literal["ok", "warning", "error"]
    message: str
    file: str = ""
    place: str = ""
    hint: str = ""
    area: str = ""

    def __str__(self) -> str:
        label = LEVEL_NAMES[self.level]
        if self.area:
            return " ".join(f"{label} {self.area}：{self.message}".split())
        hint = f"（{self.hint}）" if self.hint else ""
        return f"{label} {self.file} [{self.place}]：{self.message}{hint}"


def unparsed_tasks(plan: Plan) -> list[tuple[str, str]]:
    """(task id, deadline text) for every deadline cell no rule understood."""
    ctx = context(plan)
    result = []
    for raw in plan.tasks:
        task = effective_task(plan, raw)
        skipped = plan.overrides.get(task.id)
        if skipped is not None and skipped.skip:
            continue
        if task.deadline_text.strip() and not parse(task.deadline_text, ctx, plan.rules):
            result.append((task.id, task.deadline_text))
    return result


def _override_hint(plan: Plan, task_id: str) -> str:
    # The plan's own year: a suggestion in today's year would move the deadline by years.
    return (f"在 plan.toml 的 [tasks.\"{task_id}\"] 写 deadline = \"{plan.year}年12月31日前\""
            "（按原文改成确切日期），或在计划文件夹 rules/ 中添加规则")


def _partly(reading: Reading) -> str:
    understood = "、".join(f"“{m}”" for m in reading.matched) or "无"
    rest = "、".join(f"“{x}”" for x in reading.leftover)
    return f"只识别了{understood}，未识别{rest}"


def _sentences(text: str) -> list[str]:
    # Requirements run to several sentences; a date in one says nothing about the next.
    return [s for s in text.replace("；", "。").replace(";", "。").split("。") if s.strip()]


def leftover_findings(plan: Plan, table: str) -> list[Finding]:
    """Deadline cells only partly understood (errors) and requirement sentences whose
    deadline came with more date-like text nobody read (warnings)."""
    ctx = context(plan)
    findings: list[Finding] = []
    for raw in plan.tasks:
        task = effective_task(plan, raw)
        override = plan.overrides.get(task.id)
        if override is not None and override.skip:
            continue
        place = f"任务 {task.id}"
        if task.deadline_text.strip():
            cell = read(task.deadline_text, ctx, plan.rules)
            for text, why in cell.ambiguous:
                findings.append(Finding(
                    level="error", file=table, place=place,
                    message=f"时限“{task.deadline_text}”中的“{text}”有歧义：{why}",
                    hint=_override_hint(plan, task.id)))
            if cell.deadlines and cell.leftover:
                findings.append(Finding(
                    level="error", file=table, place=place,
                    message=f"时限“{task.deadline_text}”{_partly(cell)}，提醒日期可能不对",
                    hint=_override_hint(plan, task.id)))
        for sentence in _sentences(task.title) + _sentences(task.detail):
            reading = read(sentence, ctx, plan.rules)
            # 及时 is in every other requirement and dates nothing: it does not count here.
            if reading.leftover and any(d.kind != "none" for d in reading.deadlines):
                findings.append(Finding(
                    level="warning", file=table, place=place,
                    message=f"任务内容“{sentence.strip()[:40]}”中的时限{_partly(reading)}",
                    hint="若这是截止日期，请在完成时限栏写明"))
    return findings


def missing_contacts(plan: Plan) -> list[Finding]:
    """Each unit the plan names that nobody can reach, with the line of the 通讯录 to fill.
    A warning while no contact is filled in yet (a plan just imported); once some are, a
    unit left out is an error."""
    named = named_units(plan)
    contacts = {unit: plan.contact(unit) for unit in named}
    started = any(c is not None and c.reachable for c in contacts.values())
    level: Literal["error", "warning"] = "error" if started else "warning"
    book = plan.book
    findings = []
    for unit, place in named.items():
        contact = contacts[unit]
        if contact is not None and contact.reachable:
            continue
        message = f"单位“{unit}”没有联系方式（见{place}），提醒无法送达"
        if book is None:
            findings.append(Finding(
                level=level, file=str(plan.path / PLAN_FILE), place=f"units.{unit}",
                message=message,
                hint=f"运行 reminder contacts {plan.path} -o 通讯录.xlsx 生成通讯录，填写后在 "
                     f"config.toml 写 contacts = \"通讯录.xlsx\"；或在 plan.toml 的 [units.\"{unit}\"] 填写"))
            continue
        row = book.row_of(unit)
        findings.append(Finding(
            level=level, file=str(book.path), place=f"第 {row} 行" if row else unit,
            message=message, hint=f"在第 {row} 行填写邮箱或企业微信群" if row else
            f"添加一行“{unit}”，或运行 reminder contacts {plan.path} -o {book.path}"))
    return findings


def _title_given(plan: Plan) -> bool:
    """Whether plan.toml names a title (the loader falls back on the folder's name)."""
    try:
        data = tomllib.loads((plan.path / PLAN_FILE).read_text(encoding="utf-8-sig"))
    except (OSError, tomllib.TOMLDecodeError):
        return True  # the loader reported the file already
    return bool(str(data.get("title") or "").strip())


def check_plan(plan: Plan) -> list[Finding]:
    plan_file = str(plan.path / PLAN_FILE)
    table = str(plan.table_file)
    ctx = context(plan)
    findings: list[Finding] = []

    def add(level: Literal["error", "warning"], file: str, place: str, message: str,
            hint: str = "") -> None:
        findings.append(Finding(level=level, file=file, place=place, message=message, hint=hint))

    for error in probe_rules(plan.rules):
        add("error", error.file or plan_file, f"规则 {error.place}", error.message, error.hint or "")
    unparsed = dict(unparsed_tasks(plan))
    for task_id, text in unparsed.items():
        if not read(text, ctx, plan.rules).ambiguous:  # an ambiguity is named below
            add("error", table, f"任务 {task_id}", f"时限“{text}”无法识别",
                _override_hint(plan, task_id))
    findings += leftover_findings(plan, table)
    if plan.default_deadline and not parse(plan.default_deadline, ctx, plan.rules):
        add("error", plan_file, "default_deadline", f"默认时限“{plan.default_deadline}”无法识别")
    for plan_date in plan.dates:
        reading = read(plan_date.deadline_text, ctx, plan.rules)
        if not reading.deadlines:
            add("error", plan_file, f"dates.{plan_date.name}",
                f"时限“{plan_date.deadline_text}”无法识别")
        elif reading.leftover:
            # Imported from the prose around the table, where 报送第三季度情况 names what
            # to report, not when: worth a look, not a refusal.
            add("warning", plan_file, f"dates.{plan_date.name}",
                f"时限“{plan_date.deadline_text}”{_partly(reading)}")
    known_ids = {t.id for t in plan.tasks}
    for task_id in plan.overrides:
        if task_id not in known_ids:
            add("error", plan_file, f"tasks.{task_id}", f"任务 {task_id} 不在任务表中",
                "检查编号是否与任务表的“序号”一致")

    for raw in plan.tasks:
        task = effective_task(plan, raw)
        override = plan.overrides.get(task.id)
        if override is not None and override.skip:
            continue
        if not task.lead and task.support and task.units_text.strip():
            add("warning", table, f"任务 {task.id}",
                f"没有牵头单位，只提醒配合单位（{'、'.join(task.support)}）；"
                f"责任单位写的是“{task.units_text.strip()}”",
                "在任务表填写牵头单位，或在 plan.toml 的 [tasks.\"…\"] 写 units = [\"…\"]")
        if not task.units:
            add("error", table, f"任务 {task.id}", "没有责任单位，不知道提醒谁",
                f"在任务表填写牵头单位，或在 plan.toml 的 [tasks.\"{task.id}\"] 写 units = [\"…\"]")
        deadlines = deadlines_of(plan, raw)
        for note in dict.fromkeys(f"“{d.text}”：{d.note}" for d in deadlines if d.note):
            add("warning", table, f"任务 {task.id}", f"时限{note}",
                "由上级确定的时限请在 plan.toml 写明日期，或记录事件日期")
        if not deadlines and task.id not in unparsed:
            add("warning", table, f"任务 {task.id}", "没有时限，不会安排提醒",
                "填写完成时限，或在 plan.toml 设置 default_deadline")
        series = [(d, where) for d, where in sourced_deadlines(
            task, ctx, plan.rules, plan.default_deadline) if d.kind == "recurring"]
        if len(series) > 1:
            named = "；".join(f"{CYCLE_NAMES.get(d.cycle or '', d.cycle)}（{where}“{d.text}”）"
                             for d, where in series)
            add("warning", table, f"任务 {task.id}", f"有 {len(series)} 个周期提醒系列：{named}",
                "同一节奏只写一处；确需多个周期时可忽略此提示，或在 plan.toml 用 deadline = … 写明")
        event_known = override is not None and override.event is not None
        if any(d.kind == "event" for d in deadlines) and not event_known:
            add("warning", table, f"任务 {task.id}", "时限以事件为起点，尚未记录事件日期",
                f"用 reminder event {plan.id} {task.id} 日期 记录，或在 plan.toml 写 event = 日期")

    findings.extend(missing_contacts(plan))
    if not _title_given(plan):
        add("warning", plan_file, "title", f"方案没有标题，消息中将显示为“{plan.title}”",
            "在 plan.toml 写 title = \"关于…的通知\"（方案或通知的标题）")
    if not plan.coordinator:
        add("warning", plan_file, "coordinator", "没有设置协调人，逾期通知只发给责任单位",
            "写 coordinator = \"局政务公开办\" 并在 [units] 中填写其联系方式")

    if plan.year_guessed_from:
        add("error", plan_file, "year",
            f"计划年度 {plan.year} 是导入时推测的（依据：{plan.year_guessed_from}）",
            "核对无误后在 plan.toml 的 [import] 写 year_confirmed = true，或改正 year")
    years = {o.due.year for o in occurrences(plan)}
    if not years and plan.tasks:
        add("error", table, "全部任务", "这个计划不会发出任何提醒：没有一项任务或报送日期有可用的时限",
            "填写完成时限，或在 plan.toml 设置 default_deadline = \"年底前\"")
    for year in plan.calendar.missing_years(years):
        add("warning", plan_file, "calendar", missing_year_note(year))
    return findings
