"""The core commands: explain, tasks, plan (the dry run) and check. Thin over the core;
the bodies of explain and plan are in reminder/cli/quick.py, free of click."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from reminder.cli.common import (
    cached_rules,
    contact_book,
    format_option,
    load_plans,
    rules_option,
)
from reminder.cli.quick import deployment_config, dry_run, explain_phrase

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
    explain_phrase(phrase, year, issued, as_json, rules)


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
    dry_run(plan_dirs, start, end, now, units, task_ids, stages, config_path, detail, fmt,
            rules)


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
    config = deployment_config(config_path)
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
