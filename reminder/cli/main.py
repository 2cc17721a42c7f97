"""Command line entry: the group, command registration and the one error boundary.

Heavy imports stay inside command functions so `reminder explain` and `reminder plan`
start fast."""

from __future__ import annotations

import gc
import importlib
import sys

import click

from reminder.cli.zh import install as _chinese
from reminder.errors import ReminderError, environment_trouble

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
    """Entry point: bad input becomes one line on stderr and an exit status, never a traceback."""
    # Collect young objects after 50,000 allocations instead of 700: a dry run or a sync
    # allocates millions of short-lived tuples and almost no cycles, and the default
    # threshold spent a fifth of a 10k-task dry run in the collector.
    gc.set_threshold(50_000, 20, 100)
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
