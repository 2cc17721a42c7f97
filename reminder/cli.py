"""Command line entry: the group, command registration and the one error boundary.

Heavy imports stay inside command functions so `reminder explain` and `reminder plan`
start fast."""

from __future__ import annotations

import importlib
import sys

import click

from reminder.clickzh import install as _chinese
from reminder.errors import ReminderError, environment_trouble

_chinese()


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             subcommand_metavar="命令 [参数]...")
@click.help_option("-h", "--help", help="显示帮助并退出")
@click.version_option(package_name="reminder", message="reminder %(version)s",
                      help="显示版本并退出")
def cli() -> None:
    """政务公开任务分工方案的截止提醒工具：解析时限、预览提醒计划、按期发送提醒与督办。"""


# Core commands live in reminder.commands; the import and daemon commands in their own
# modules. Each exposes COMMANDS.
for _module in ("reminder.commands", "reminder.cli_import", "reminder.cli_daemon",
                "reminder.cli_contacts", "reminder.cli_web", "reminder.doctor"):
    try:
        for _command in importlib.import_module(_module).COMMANDS:
            cli.add_command(_command)
    except ModuleNotFoundError as exc:  # a module not written yet
        if exc.name != _module:
            raise


for _command in (cli, *cli.commands.values()):
    _command.options_metavar = "[选项]"


def main() -> None:
    """Entry point: bad input becomes one line on stderr and an exit status, never a traceback."""
    try:
        code = cli.main(standalone_mode=False)
    except ReminderError as err:
        click.echo(f"错误：{err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("已中止。", err=True)
        sys.exit(130)
    except click.UsageError as err:
        command = err.ctx.command_path if err.ctx else "reminder"
        click.echo(f"错误：{err.format_message()}（运行 {command} --help 查看用法）", err=True)
        sys.exit(err.exit_code)
    except click.ClickException as err:
        click.echo(f"错误：{err.format_message()}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as err:
        line = environment_trouble(err)
        if line is None:
            raise
        click.echo(f"错误：{line}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
