"""Commands that report on a period: stats (统计) and bulletin (督查情况通报). Thin over
answerback/stats.py and answerback/bulletin.py; python-docx is imported only by bulletin."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reminder import wiring
from reminder.cells import csv_cell
from reminder.cli.common import config_option, parse_moment
from reminder.errors import ConfigError

if TYPE_CHECKING:
    from reminder.answerback.stats import Period, Stats
    from reminder.config import Config

PLANS = click.argument("plan_ids", nargs=-1, required=True, metavar="计划…")
PERIOD = click.option("--period", help="统计期，如 2026年第三季度、2026年9月、2026年上半年、2026年"
                                       "（默认：今年）")
NOW = click.option("--now", help="按这一时刻统计（默认：现在），如 2026-10-09T09:00")


def _period(text: str | None, now: datetime) -> Period:
    from reminder.answerback.stats import parse_period

    try:
        return parse_period(text or f"{now.year}年")
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--period") from None


def _plans(config: Config, plan_ids: tuple[str, ...]) -> list[Any]:
    """The configured plans by folder name (a path to one of them works too), in order."""
    cache = wiring.plan_cache(config)
    known = "、".join(f.name for f in config.plan_folders()) or "（没有）"
    plans = []
    for given in dict.fromkeys(plan_ids):
        name = Path(given).name or given
        plan = cache.get(name, warn=lambda text: click.echo(text, err=True))
        if plan is None:
            raise ConfigError(f"未知计划 {given}", file=config.path, place="plans",
                              hint=f"计划以文件夹名区分，配置中的计划：{known}")
        plans.append(plan)
    return plans


def gather(plan_ids: tuple[str, ...], period: str | None, now: str | None,
           config_path: Path | None) -> Stats:
    """Both commands count through here, so they cannot disagree."""
    from reminder.answerback.stats import compute

    config = wiring.load(config_path)
    moment = parse_moment(now, config.timezone) or wiring.now(config)
    moment = moment.astimezone(config.tz)
    chosen = _period(period, moment)
    plans = _plans(config, plan_ids)
    store = wiring.open_store(config)
    try:
        return compute(plans, store, chosen, moment)
    finally:
        store.dispose()


@click.command("stats")
@PLANS
@PERIOD
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="输出格式")
@NOW
@config_option
def stats_command(plan_ids: tuple[str, ...], period: str | None, fmt: str, now: str | None,
                  config_path: Path | None) -> None:
    """按单位统计一个时期内到期的任务：任务数、按时完成、逾期完成、当前逾期、逾期天数、提醒次数与排名。

    排名先看按时完成率，再看当前逾期项数；只统计牵头单位。延期为获批延期的项数（在原定时限前
    获批的，按批准的日期判断是否按时）；未签收为责任单位尚未签收的项数，计划不要求签收时显示为 —。"""
    from reminder.answerback.stats import COLUMNS, cells

    stats = gather(plan_ids, period, now, config_path)
    if fmt == "json":
        json.dump({"period": stats.period.label, "start": stats.period.start.isoformat(),
                   "end": stats.period.end.isoformat(), "today": stats.today.isoformat(),
                   "plans": [{"plan": p.plan, "title": p.title,
                              "units": [u.record() for u in p.units],
                              "total": p.total.record(),
                              "overdue_trend": [[d.isoformat(), n] for d, n in p.overdue_trend]}
                             for p in stats.plans]},
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["计划", *(header for _, header in COLUMNS)])
        for plan in stats.plans:
            for row in [*plan.units, plan.total]:
                writer.writerow([csv_cell(v) for v in (plan.plan, *cells(row))])
        return
    from reminder.cli.layout import Column, render, terminal_width

    for index, plan in enumerate(stats.plans):
        if index:
            click.echo()
        click.echo(f"{plan.title or plan.plan}：{stats.period.label}"
                   f"（{stats.period.start} 至 {stats.period.end}，统计至 {stats.today}）")
        columns = [Column(key=key, header=header, priority=i, kind="fixed", min_width=4)
                   for i, (key, header) in enumerate(COLUMNS)]
        rows = [dict(zip((k for k, _ in COLUMNS), cells(r), strict=True))
                for r in [*plan.units, plan.total]]
        render(rows, columns, sys.stdout, terminal_width(sys.stdout))
    click.echo("按时完成率 = 按时完成 ÷（按时完成 + 逾期完成 + 当前逾期）；在原定时限前获批延期的，"
               "按批准的日期判断；未签收在计划不要求签收时显示为 —。", err=True)


@click.command("bulletin", short_help="生成督查情况通报草稿（.docx），数字与 reminder stats 相同。")
@PLANS
@PERIOD
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="输出的 Word 文件，如 督查通报.docx")
@click.option("--office", help="落款单位（默认：计划中的牵头处室 coordinator）")
@NOW
@config_option
def bulletin_command(plan_ids: tuple[str, ...], period: str | None, output: Path,
                     office: str | None, now: str | None, config_path: Path | None) -> None:
    """生成督查情况通报（草稿，.docx）：总体情况、图表、各单位完成情况表、逾期单位与事项、已完成任务、
    下一步工作（供修改）。数字与 reminder stats 相同。"""
    from reminder.answerback.bulletin import write_bulletin

    stats = gather(plan_ids, period, now, config_path)
    if office is None:
        config = wiring.load(config_path)
        office = next((p.coordinator for p in _plans(config, plan_ids) if p.coordinator), "")
    try:
        write_bulletin(stats, output, office=office)
    except OSError as exc:
        raise click.ClickException(f"无法写入 {output}：{exc.strerror or exc}（检查文件夹是否存在、"
                                   "文件是否正被 Word 打开）") from None
    units = sum(len(p.units) for p in stats.plans)
    click.echo(f"已生成通报草稿：{output}（{stats.period.label}，{units} 个单位），请核改后印发。",
               err=True)


COMMANDS = [stats_command, bulletin_command]
