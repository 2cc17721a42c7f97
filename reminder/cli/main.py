"""Command line entry: the group and command registration (the error boundary is in echo.py).

Heavy imports stay inside command functions so `reminder explain` and `reminder plan`
start fast."""

from __future__ import annotations

import importlib
import sys

import click

from reminder.cli.echo import guarded
from reminder.cli.zh import install as _chinese

_chinese()


#: Which module defines each command. Only the invoked command's module is imported, so
#: `reminder explain` does not load the daemon's logging, getpass or the web commands
#: (tests/test_cli_lazy.py checks this table against the modules' COMMANDS).
COMMAND_MODULES: dict[str, str] = {
    **dict.fromkeys(("explain", "tasks", "plan", "check"), "reminder.cli.commands"),
    "import": "reminder.cli.imports",
    **dict.fromkeys(("run", "done", "undo", "event", "status", "retry", "test-channel"),
                    "reminder.cli.daemon"),
    "contacts": "reminder.cli.contacts",
    **dict.fromkeys(("serve", "link", "report", "calendar", "web-password"), "reminder.cli.web"),
    "doctor": "reminder.cli.doctor",
    **dict.fromkeys(("stats", "bulletin"), "reminder.cli.reports"),
}


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        command = next(c for c in importlib.import_module(module).COMMANDS
                       if c.name == cmd_name)
        command.options_metavar = "[选项]"
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             subcommand_metavar="命令 [参数]...", options_metavar="[选项]")
@click.help_option("-h", "--help", help="显示帮助并退出")
@click.version_option(package_name="reminder", message="reminder %(version)s",
                      help="显示版本并退出")
def cli() -> None:
    """政务公开任务分工方案的截止提醒工具：解析时限、预览提醒计划、按期发送提醒与督办。"""


def main() -> None:
    """The click CLI inside the one error boundary (reminder/cli/echo.py)."""
    guarded(_click_main)


def _click_main() -> object:
    """Click's own exceptions as one line and an exit status; the rest is for guarded()."""
    try:
        return cli.main(standalone_mode=False)
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
