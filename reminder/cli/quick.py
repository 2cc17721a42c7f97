"""The bodies of `explain` and `plan` (the dry run), free of click.

`reminder explain PHRASE` and `reminder plan DIR [--format …]` are answered from here by the
entry point without importing click (about a third of their start-up, issue 21); the click
commands in reminder/cli/commands.py parse every other form and call the same functions, so
both ways write the same bytes (tests/cli/test_cli_quick.py compares them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reminder.cli.common import (
    contact_book,
    load_plans,
    missing_years,
    parse_day,
    parse_moment,
)
from reminder.cli.echo import echo, warn
from reminder.plan.calendar import missing_year_note

if TYPE_CHECKING:
    from reminder.config import Config


def explain_phrase(phrase: str | None, year: int | None, issued: str | None, as_json: bool,
                   rules: tuple[Path, ...]) -> None:
    """`reminder explain`: how a phrase is read; without one, a JSON object a line of stdin."""
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

    if phrase is None or as_json:
        import json  # here: plan and a plain explain print no JSON

    if phrase is None:  # one phrase a line on stdin, one JSON object a line out
        for line in sys.stdin:
            if line.strip():
                echo(json.dumps(record(line.strip())[3], ensure_ascii=False))
        return
    reading, nominals, dues, data = record(phrase)
    deadlines = reading.deadlines
    if as_json:
        echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for text, why in reading.ambiguous:
            echo(f"“{text}”有歧义：{why}")
        if not deadlines and not reading.ambiguous:
            echo(f"“{phrase}”：没有规则能识别这个时限。")
        for dl, due, nominal in zip(deadlines, dues, nominals, strict=True):
            source = rule_source(dl.source)
            echo(f"“{dl.text}” → {describe_deadline(dl, due, nominal, calendar)}  "
                       f"[规则 {dl.rule}，{source}]")
            if dl.kind != "none":
                echo(f"    节假日：{shift_note(dl, policy)}")
            for gone in skipped([dl], [nominal])[0]:
                echo(f"    不设时限：{gone.isoformat()} 所在的一周整周放假")
            spread = ruleset.get(dl.rule)
            if spread is not None and spread.recur in ("per_year", "per_month") and dl.cycle:
                period = "年" if spread.recur == "per_year" else "月"
                echo(f"    次数：“{dl.text}”按每{period}的次数均分，"
                           f"{CYCLE_NAMES.get(dl.cycle, dl.cycle)}提醒一次")
    if deadlines and reading.leftover and not as_json:
        echo(f"未能识别：{'、'.join(f'“{x}”' for x in reading.leftover)}——"
                   "这部分仍像日期，上面的结果可能不完整，请补充规则或在 plan.toml 中改写时限。")
    for y in calendar.missing_years({d.year for due in dues for d in due}):
        warn(missing_year_note(y))
    if not reading.understood:
        raise SystemExit(1)



def dry_run(plan_dirs: tuple[Path, ...], start: str | None, end: str | None, now: str | None,
            units: tuple[str, ...], task_ids: tuple[str, ...], stages: tuple[str, ...],
            config_path: Path | None, detail: bool, fmt: str, rules: tuple[Path, ...]) -> None:
    """`reminder plan`: every notice the plans would send, in order; nothing sent or written."""
    from reminder.plan.occurrences import occurrences, without_done
    from reminder.plan.planner import plan_batches, plan_window

    # Arguments first: a typo in --now should not wait for the plans to load.
    moment, first_day, last_day = parse_moment(now), parse_day(start, "--from"), parse_day(end, "--to")
    config = deployment_config(config_path)
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
            import click

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



def deployment_config(config_path: Path | None) -> Any:
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
    """The 签收 chase counts from the first notice's planned day, in the dry run and the
    daemon alike (a first notice held by a route or a stopped daemon is not waited for):
    say so where the chase is shown."""
    if not any(p.policy.sign_within is not None for p in plans):
        return []
    return ["催签收按首次提醒的计划发送日起算；首次提醒若推迟发出（线路暂停、服务停机），"
            "催签收不随之推迟。"]


def _warn_unparsed(plans: list[Any]) -> None:
    from reminder.plan.checks import unparsed_tasks

    for plan in plans:
        for task_id, text in unparsed_tasks(plan):
            warn(f"{plan.id} 任务 {task_id} 的时限“{text}”无法识别，未安排提醒（运行 reminder check 查看）")
