"""`reminder contacts`: the 通讯录 of every unit the plans name, for the clerk to fill in."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click

from reminder.cli.common import contact_book, load_plans, rules_option
from reminder.errors import ConfigError


@click.command("contacts")
@click.argument("plan_dirs", nargs=-1, required=True, metavar="计划文件夹…",
                type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="通讯录文件（.xlsx 或 .csv）；已存在时只补充，已填写的内容不变")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="同时采用部署配置中通讯录（contacts）已有的联系方式")
@rules_option
def contacts_command(plan_dirs: tuple[Path, ...], output: Path, config_path: Path | None,
                     rules: tuple[Path, ...]) -> None:
    """生成或补全通讯录：计划涉及的每个单位一行，已知的联系方式填好，待填写的标黄。

    列为 单位、别名、邮箱、企业微信群、企业微信成员、手机、钉钉群、钉钉手机号、短信手机号、渠道顺序，
    新建的表在表头下一行说明每列填什么；一格可写多个，用、；或换行分隔。
    填好后在 config.toml 写 contacts = "通讯录.xlsx"。"""
    from reminder.config import load_config
    from reminder.plan.contacts import write_book
    from reminder.plan.occurrences import named_units

    if output.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError("通讯录应为 .xlsx 或 .csv", file=output, hint="例如 -o 通讯录.xlsx")
    book = contact_book(load_config(config_path)) if config_path else None
    known = {}
    with ExitStack() as stack:
        for plan in load_plans(plan_dirs, stack, rules, book):
            for unit in named_units(plan):
                contact = plan.contact(unit)
                name = contact.name if contact is not None else unit
                if name not in known or (contact is not None and contact.reachable):
                    known[name] = contact
    missing = write_book(output, known, {n: c for n, c in known.items() if c is not None})
    todo = f"{len(missing)} 个待填写（已标黄）：" + "、".join(missing) if missing else "全部已有联系方式"
    click.echo(f"已写入 {output}：计划涉及 {len(known)} 个单位，{todo}")


COMMANDS = [contacts_command]
