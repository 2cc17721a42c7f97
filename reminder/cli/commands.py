"""The core commands: explain, tasks, plan (the dry run) and check. Thin over the core."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reminder.cli.common import (
    cached_rules,
    contact_book,
    format_option,
    load_plans,
    missing_years,
    parse_day,
    parse_moment,
    rules_option,
    warn,
)
from reminder.plan.calendar import missing_year_note

if TYPE_CHECKING:
    from reminder.config import Config

PLAN_PATHS = click.argument("plan_dirs", nargs=-1, required=True, metavar="计划文件夹…",
                            type=click.Path(exists=True, path_type=Path))


@click.command()
@click.argument("phrase", required=False)
@click.option("--year", type=int, help="计划年度（默认：发文日期所在年或今年）")
@click.option("--issued", help="发文日期，如 2022-04-15")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@rules_option
@cached_rules
def explain(phrase: str | None, year: int | None, issued: str | None, as_json: bool,
            rules: tuple[Path, ...]) -> None:
    """解释一个时限表述如何被解析，如 “次年1月底前”。

    不给表述时从标准输入逐行读取，每行输出一个 JSON 对象（批量核对用）。"""
    from reminder.cli.output import CYCLE_NAMES, deadline_record, describe_deadline, rule_source
    from reminder.parse.deadlines import Context, read
    from reminder.parse.rules import load_rules
    from reminder.plan.calendar import load_calendar
    from reminder.plan.occurrences import due_pairs, nominal_dates, shift_note, shift_policy
    from reminder.plan.policy import build_policy

    issued_day = parse_day(issued, "--issued")
    year = year or (issued_day.year if issued_day else date.today().year)
    calendar, policy = load_calendar(), build_policy()
    ctx, ruleset = Context(year=year, issued=issued_day), load_rules(rules)

    def holiday(dl: Any) -> dict[str, str] | None:
        # The same policy line the text output prints: which key moved the date, and why.
        named = shift_policy(dl, policy)
        return None if named is None else {
            "policy": named[0], "shift": named[1], "note": shift_note(dl, policy)}

    def record(text: str) -> tuple[Any, list[Any], list[Any], dict[str, Any]]:
        reading = read(text, ctx, ruleset)
        pairs = [due_pairs(dl, calendar, policy) for dl in reading.deadlines]
        nominals = [[n for n, _ in p] for p in pairs]
        dues = [[d for _, d in p] for p in pairs]
        return reading, nominals, dues, {
            "phrase": text, "understood": reading.understood, "leftover": list(reading.leftover),
            "ambiguous": [{"text": t, "reason": r} for t, r in reading.ambiguous],
            "deadlines": [deadline_record(dl, due) | {"holiday": holiday(dl),
                                                      "skipped": [d.isoformat() for d in gone]}
                          for dl, due, gone in zip(reading.deadlines, dues,
                                                   skipped(reading.deadlines, nominals),
                                                   strict=True)]}

    def skipped(deadlines: list[Any], nominals: list[list[date]]) -> list[list[date]]:
        # Weeks wholly on holiday have no weekly deadline (in_own_week): name them, since
        # a date that silently vanishes from a list reads like a bug.
        return [[d for d in (nominal_dates(dl, calendar) if dl.kind == "recurring" else ())
                 if d not in set(kept)] for dl, kept in zip(deadlines, nominals, strict=True)]

    import json  # here: plan and a plain explain print no JSON

    if phrase is None:  # one phrase a line on stdin, one JSON object a line out
        for line in sys.stdin:
            if line.strip():
                click.echo(json.dumps(record(line.strip())[3], ensure_ascii=False))
        return
    reading, nominals, dues, data = record(phrase)
    deadlines = reading.deadlines
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for text, why in reading.ambiguous:
            click.echo(f"“{text}”有歧义：{why}")
        if not deadlines and not reading.ambiguous:
            click.echo(f"“{phrase}”：没有规则能识别这个时限。")
        for dl, due, nominal in zip(deadlines, dues, nominals, strict=True):
            source = rule_source(dl.source)
            click.echo(f"“{dl.text}” → {describe_deadline(dl, due, nominal, calendar)}  "
                       f"[规则 {dl.rule}，{source}]")
            if dl.kind != "none":
                click.echo(f"    节假日：{shift_note(dl, policy)}")
            for gone in skipped([dl], [nominal])[0]:
                click.echo(f"    不设时限：{gone.isoformat()} 所在的一周整周放假")
            spread = ruleset.get(dl.rule)
            if spread is not None and spread.recur in ("per_year", "per_month") and dl.cycle:
                period = "年" if spread.recur == "per_year" else "月"
                click.echo(f"    次数：“{dl.text}”按每{period}的次数均分，"
                           f"{CYCLE_NAMES.get(dl.cycle, dl.cycle)}提醒一次")
    if deadlines and reading.leftover and not as_json:
        click.echo(f"未能识别：{'、'.join(f'“{x}”' for x in reading.leftover)}——"
                   "这部分仍像日期，上面的结果可能不完整，请补充规则或在 plan.toml 中改写时限。")
    for y in calendar.missing_years({d.year for due in dues for d in due}):
        warn(missing_year_note(y))
    if not reading.understood:
        raise SystemExit(1)


@click.command()
@click.argument("plan_dir", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@rules_option
@cached_rules
def tasks(plan_dir: Path, as_json: bool, rules: tuple[Path, ...]) -> None:
    """列出计划中的任务：编号、章节、标题、牵头与配合单位、时限及其解析结果。"""
    from reminder.cli.output import deadline_record, describe_deadline, emit
    from reminder.plan.occurrences import deadlines_of, due_pairs, effective_task

    with ExitStack() as stack:
        (plan,) = load_plans([plan_dir], stack, rules)
        records = []
        for raw in plan.tasks:
            task = effective_task(plan, raw)
            deadlines = deadlines_of(plan, raw)
            pairs = [due_pairs(dl, plan.calendar, plan.policy) for dl in deadlines]
            nominals = [[n for n, _ in p] for p in pairs]
            dues = [[d for _, d in p] for p in pairs]
            records.append({
                "id": task.id, "section": list(task.section), "title": task.title,
                "lead": list(task.lead), "support": list(task.support),
                "deadline_text": task.deadline_text,
                "deadlines": [deadline_record(dl, due) for dl, due in zip(deadlines, dues, strict=True)],
                "_summary": "；".join(describe_deadline(dl, due, n, plan.calendar) for dl, due, n
                                     in zip(deadlines, dues, nominals, strict=True)) or "（未识别）",
                "_short": task.short_title,
            })
        if as_json:
            for record in records:
                record.pop("_summary")
                record.pop("_short")
            emit(records, fmt="json", columns=())
            return
        emit(records, fmt="table", columns=(
            ("id", "编号"), ("_short", "任务"), ("lead", "牵头"), ("support", "配合"),
            ("deadline_text", "时限原文"), ("_summary", "解析结果"),
        ), wrap=("_short", "support", "deadline_text", "_summary"))


@click.command(name="plan")
@PLAN_PATHS
@click.option("--from", "start", help="从这一天起（默认：发文日期）")
@click.option("--to", "end", help="到这一天止（默认：最后截止日后 30 天）")
@click.option("--now", help="只列出此刻之后仍会发送的通知，如 2026-10-09T08:00")
@click.option("--unit", "units", multiple=True, help="只看发给这个单位的通知，可重复")
@click.option("--task", "task_ids", multiple=True, help="只看这个任务编号的通知，可重复")
@click.option("--stage", "stages", multiple=True,
              type=click.Choice(["remind", "warn", "due", "overdue", "escalate", "report", "sign"]),
              help="只看这类通知：remind 提醒、warn 预警（黄/橙）、due 到期、overdue 逾期、escalate 督办、"
                   "report 报送、sign 催签收")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="读取守护进程数据库中的完成标记和事件日期（只读），使预演与实际发送一致")
@click.option("--detail", is_flag=True,
              help="表格每行一条通知（默认每行一条消息：同一时间发给同一收件人的通知合为一条）")
@format_option
@rules_option
@cached_rules
def plan_command(plan_dirs: tuple[Path, ...], start: str | None, end: str | None,
                 now: str | None, units: tuple[str, ...], task_ids: tuple[str, ...],
                 stages: tuple[str, ...], config_path: Path | None, detail: bool, fmt: str,
                 rules: tuple[Path, ...]) -> None:
    """预演：按时间顺序列出将发送的全部提醒、逾期通知和督办（不发送、不写入任何东西）。

    表格默认每行一条消息，--detail 每行一条通知；CSV 和 JSON 每行一条通知，
    多个计划时逐个计划输出（各计划内按时间顺序）。"""
    from reminder.plan.occurrences import occurrences, without_done
    from reminder.plan.planner import plan_batches, plan_window

    # Arguments first: a typo in --now should not wait for the plans to load.
    moment, first_day, last_day = parse_moment(now), parse_day(start, "--from"), parse_day(end, "--to")
    config = _deployment(config_path)
    events, done, reported = _recorded(config) if config else ({}, frozenset(), frozenset())
    signed, extended = _answered(config) if config else (frozenset(), {})
    with ExitStack() as stack:
        plans = load_plans(plan_dirs, stack, rules, contact_book(config),
                           config.timezone if config else None)
        # Occurrences once per plan: the default window needs all of them, the notices only
        # the open ones.
        occs = {p.id: occurrences(p, events=events, extended=extended) for p in plans}
        default_start, default_end = plan_window(plans, occs=occs)
        first = first_day or (moment.date() if moment else default_start)
        last = last_day or default_end
        if last < first:
            raise click.BadParameter("结束日期早于开始日期", param_hint="--to")
        _warn_unparsed(plans)
        years = {last.year}

        def batches() -> Iterator[Any]:
            # Plan by plan, so memory holds one plan's notices however many plans there are.
            for plan in plans:
                # With a config, a unit's channel order picks among the deployment's channels.
                found = plan_batches(plan, without_done(occs.pop(plan.id), done), start=first,
                                     end=last, now=moment, reported=reported, signed=signed,
                                     usable=config.channel_names if config else None)
                if not (task_ids or stages or units):
                    years.update({b.due.year for b in found})
                    yield from found
                    continue
                for batch in found:
                    if (task_ids and batch.task not in task_ids) or (stages and batch.stage not in stages):
                        continue
                    if units:
                        targets = tuple(t for t in batch.targets if t[0] in units)
                        if not targets:
                            continue
                        batch = batch._replace(targets=targets)
                    years.add(batch.due.year)
                    yield batch

        if fmt != "table":
            from reminder.cli.output import write_notices

            write_notices(batches(), fmt=fmt)
            for line in (*extension_notes(plans, extended), *sign_notes(plans)):
                warn(line)
            for year in missing_years(plans, years):
                warn(missing_year_note(year))
            return
        from reminder.cli.dryrun import show
        from reminder.cli.layout import terminal_width
        from reminder.plan.wording import UNIT_NAMES

        notices = [n for b in batches() for n in b.notices()]
        notices.sort(key=lambda n: (n.send_at, n.plan))  # stable: each plan is in order already
        for year in missing_years(plans, years):
            warn(missing_year_note(year))
        # Say only what the policy does: escalations go to escalate_to, else the
        # coordinator, else nobody (then nothing is chased and nothing is said).
        every = {(p.policy.escalate_every, tuple(p.escalate_to) or
                  ((p.coordinator,) if p.coordinator else ())) for p in plans}
        chase = [f"逾期未办结的任务每 {step.n} {UNIT_NAMES[step.unit]}向{'、'.join(whom)}督办一次，"
                 "直到完成。" for step, whom in every if len(every) == 1 and whom]
        show(notices, detail=detail, plans=len(plans), out=sys.stdout,
             width=terminal_width(sys.stdout),
             notes=[f"预演范围 {first} 至 {last}。", *chase, *extension_notes(plans, extended),
                    *sign_notes(plans)])


def _deployment(config_path: Path | None) -> Any:
    """The config given with --config (its 通讯录 and database), or None."""
    if config_path is None:
        return None
    from reminder.config import load_config

    return load_config(config_path)


def _recorded(config: Config) -> tuple[dict[Any, date], frozenset[Any], frozenset[Any]]:
    """Events, completions and progress reports (which stop a 三色预警) the daemon's
    database holds, read without writing anything (no migration, no new file)."""
    from sqlalchemy.exc import SQLAlchemyError

    from reminder.errors import StoreError
    from reminder.store import open_store, sqlite_path

    config_path = config.path
    db = sqlite_path(config.database_url)
    if db is not None and not db.exists():
        warn(f"数据库 {db} 尚不存在（守护进程还没运行过），按没有完成记录预演")
        return {}, frozenset(), frozenset()
    store = open_store(config.database_url, timezone=config.timezone, migrate_schema=False)
    try:
        return store.events(), frozenset(store.done_set()), frozenset(store.reported_set())
    except SQLAlchemyError as exc:
        raise StoreError(f"无法读取数据库：{type(exc).__name__}", file=config_path,
                         hint="先运行一次 reminder run --once 完成数据库迁移") from None
    finally:
        store.dispose()


def _answered(config: Config) -> tuple[frozenset[Any], dict[Any, date]]:
    """签收 and approved 延期申请 the daemon's database holds, read as ``_recorded`` reads:
    nothing written, and a database from before migration 0010 reads as none recorded."""
    from sqlalchemy.exc import SQLAlchemyError

    from reminder.store import open_store, sqlite_path

    db = sqlite_path(config.database_url)
    if db is not None and not db.exists():
        return frozenset(), {}
    store = open_store(config.database_url, timezone=config.timezone, migrate_schema=False)
    try:
        return frozenset(store.signed_set()), store.extended_dates()
    except SQLAlchemyError:
        warn("数据库尚未升级（没有签收与延期记录），按没有签收与延期预演；"
             "运行一次 reminder run --once 即完成升级")
        return frozenset(), {}
    finally:
        store.dispose()


def extension_notes(plans: list[Any], extended: dict[Any, date]) -> list[str]:
    """One sentence per approved 延期申请 of the plans shown: the dry run's dates moved."""
    from reminder.plan.wording import cn_date

    ids = {p.id for p in plans}
    return [f"已批准延期：{plan} 任务 {task} 原定 {cn_date(due)}，延至 {cn_date(new)}。"
            for (plan, task, due), new in sorted(extended.items()) if plan in ids]


def sign_notes(plans: list[Any]) -> list[str]:
    """The dry run knows when each first notice is planned, not when it will actually go out:
    say that its 签收 chase counts from the planned one."""
    if not any(p.policy.sign_within is not None for p in plans):
        return []
    return ["预演中催签收按首次提醒的计划发送日起算（实际发出日可能因免打扰时段或限速推迟）。"]


def _warn_unparsed(plans: list[Any]) -> None:
    from reminder.plan.checks import unparsed_tasks

    for plan in plans:
        for task_id, text in unparsed_tasks(plan):
            warn(f"{plan.id} 任务 {task_id} 的时限“{text}”无法识别，未安排提醒（运行 reminder check 查看）")


@click.command()
@PLAN_PATHS
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="按部署配置中的通讯录（contacts）检查联系方式")
@rules_option
@cached_rules
def check(plan_dirs: tuple[Path, ...], config_path: Path | None, rules: tuple[Path, ...]) -> None:
    """检查计划：无法识别的时限、没有联系方式的单位、缺少节假日数据的年份等。有错误时退出码为 1。"""
    from reminder.plan.checks import check_plan

    errors = 0
    config = _deployment(config_path)
    if config is not None and config.web is not None:
        from reminder.config import web_secret

        web_secret(config)  # a secret run and serve would refuse fails the check too (exit 2)
    book = contact_book(config)
    zone = config.timezone if config else None
    with ExitStack() as stack:
        for source, plan in zip(plan_dirs, load_plans(plan_dirs, stack, rules, book, zone),
                                strict=True):
            findings = check_plan(plan)
            for finding in findings:
                line = str(finding)
                if source.is_file():  # a document imported just for this look
                    line = line.replace(str(plan.path), f"{source}（导入预览）")
                click.echo(line)
            plan_errors = sum(1 for f in findings if f.level == "error")
            warnings = len(findings) - plan_errors
            errors += plan_errors
            shown = f"{source}（导入预览）" if source.is_file() else plan.path
            click.echo(f"{shown}：{len(plan.tasks)} 项任务，{plan_errors} 个错误，"
                       f"{warnings} 个警告。", err=True)
    if errors:
        raise SystemExit(1)


COMMANDS = [explain, tasks, plan_command, check]
