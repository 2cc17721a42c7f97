"""Pieces every command shares: options, argument parsing, loading plans, warnings.

click is imported where an option is declared or a bad value refused, not at the top:
`explain PHRASE` and `plan DIR` run from here without it (reminder/cli/entry.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reminder.errors import PlanError

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.plan.contacts import ContactBook
    from reminder.plan.folder import Plan

DEFAULT_ZONE = "Asia/Shanghai"


def format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The one --format option every listing command shares."""
    import click

    return click.option(
        "--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv"]),
        default="table", show_default=True, help="输出格式（jsonl：每行一个 JSON 对象，适合大量数据）",
    )(func)


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    import click

    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
        help="配置文件（默认：$REMINDER_CONFIG、~/.config/reminder/config.toml 或 "
             "/etc/reminder/config.toml）",
    )(func)


def by_option(func: Callable[..., Any]) -> Callable[..., Any]:
    import click

    return click.option("--by", default=None, help="操作人（默认：当前登录用户）")(func)


def logging_to_terminal(verbose: bool) -> None:
    """The daemon's and the pages' log lines on stderr, secrets masked."""
    import sys

    from reminder.redact import configure

    configure(verbose, sys.stderr)


def rules_option(func: Callable[..., Any]) -> Callable[..., Any]:
    import click

    return click.option(
        "--rules", "rules", multiple=True, type=click.Path(exists=True, path_type=Path),
        help="额外的时限规则文件或文件夹（优先于内置规则），可重复",
    )(func)


def cached_rules(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command with the rules cache (reminder/cli/rulecache.py) and its ``-v``, which
    is the one way to hear that the cache could not be read or written."""
    import functools

    import click

    @functools.wraps(func)
    def wrapper(*args: Any, verbose: bool, **kwargs: Any) -> Any:
        from reminder.cli.rulecache import rule_cache

        with rule_cache(verbose):
            return func(*args, **kwargs)

    return click.option("-v", "--verbose", is_flag=True,
                        help="输出诊断信息（如规则缓存无法读写）")(wrapper)


def parse_day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        import click

        raise click.BadParameter(
            f"日期应写作 2026-10-09，而不是 {text!r}", param_hint=option) from None


def parse_moment(text: str | None, zone: str = DEFAULT_ZONE) -> datetime | None:
    """--now: a date or a date and time; without an offset it is Beijing time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        import click

        raise click.BadParameter(
            f"时间应写作 2026-10-09T09:00，而不是 {text!r}", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def load_plans(paths: Sequence[Path], stack: ExitStack, rules: Sequence[Path] = (),
               contacts: ContactBook | None = None, timezone: str | None = None) -> list[Plan]:
    """Plan folders, or documents imported into a temporary folder just for a look;
    ``contacts`` is the deployment's 通讯录, ``timezone`` its timezone."""
    from reminder.plan.folder import load_plan

    plans: list[Plan] = []
    for path in paths:
        if path.is_file() and path.name != "plan.toml":
            from reminder.importers import open_plan_source

            path = stack.enter_context(open_plan_source(path))
        plan = load_plan(path, extra_rules=rules, contacts=contacts, timezone=timezone)
        clash = next((p for p in plans if p.id == plan.id), None)
        if clash is not None:
            raise PlanError(f"两个计划文件夹同名（{plan.id}）", file=path,
                            hint=f"与 {clash.path} 重名；计划以文件夹名区分，请改名其一")
        plans.append(plan)
    return plans


def contact_book(config: Config | None) -> ContactBook | None:
    """The 通讯录 the config names, read; None when it names none."""
    if config is None or config.contacts is None:
        return None
    from reminder.plan.contacts import read_book

    return read_book(config.contacts)


def missing_years(plans: Sequence[Plan], years: Iterable[int]) -> list[int]:
    wanted = set(years)
    return sorted({y for plan in plans for y in plan.calendar.missing_years(wanted)})
