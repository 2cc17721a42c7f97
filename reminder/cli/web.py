"""Commands of the answer-back loop: serve, link, report, calendar; and what `run` needs to
put links in its messages and serve the units' pages beside the daemon.

Starlette, uvicorn, itsdangerous, openpyxl and icalendar are imported inside the functions,
so `reminder plan` and the other dry runs never load them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reminder import wiring
from reminder.cli.common import config_option, logging_to_terminal
from reminder.errors import ConfigError

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.store import Store

log = logging.getLogger("reminder.web")


def _check_listen(config: Config) -> None:
    """Fail with one line before starting, rather than uvicorn's English log line from a
    thread the daemon would outlive."""
    import socket

    host, port = config.web.host_port
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:
        raise ConfigError(f"无法监听 {config.web.listen}：{exc.strerror or exc}", file=config.path,
                          place="web.listen", hint="端口已被占用时换一个端口，或停止占用它的进程"
                          ) from None


def web_app(config: Config, store: Store, plans: Any = None, **options: Any) -> Any:
    """The pages of this deployment over its store, sharing ``plans`` with the daemon when
    they run in one process."""
    from reminder.web import create_app

    return create_app(config, store, links=wiring.build_links(config),
                      plans=plans or wiring.plan_cache(config),
                      channels=partial(wiring.build_channels, config), **options)


def server_config(config: Config, app: Any) -> Any:
    """uvicorn's settings for the app. proxy_headers off: uvicorn would otherwise believe
    X-Forwarded-For from 127.0.0.1, where a reverse proxy sits but so may anyone with a shell,
    and a rotating header would dodge the login limit; the app trusts it only from
    [web] trusted_proxies (see web/app.py)."""
    import uvicorn

    host, port = config.web.host_port
    # No access log: a request line would carry the link's token; the app logs link ids.
    # log_config=None: uvicorn's own log config gives its loggers a stderr handler and stops
    # them propagating, so an error it logs for a failed request would skip the SecretFilter.
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          log_config=None, proxy_headers=False)


def _server(config: Config, store: Store, plans: Any = None) -> Any:
    import uvicorn

    _check_listen(config)
    server = uvicorn.Server(server_config(config, web_app(config, store, plans)))
    _route_uvicorn_logs()
    return server


def _route_uvicorn_logs() -> None:
    """Send uvicorn's records to the root handler, where redact's SecretFilter masks them.
    Also undoes a log config an earlier uvicorn.Config in this process may have applied."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


@contextmanager
def serving(config: Config, store: Store, plans: Any = None) -> Iterator[Any]:
    """The units' pages in a thread of this process, for as long as the block runs."""
    server = _server(config, store, plans)
    thread = threading.Thread(target=server.run, name="reminder-web", daemon=True)
    thread.start()
    log.info("单位反馈页面：%s（监听 %s）", config.web.url, config.web.listen)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _web_config(config: Config) -> Any:
    if config.web is None:
        raise ConfigError("配置中没有 [web]", file=config.path, place="web",
                          hint='添加 [web]，写明 listen = "127.0.0.1:8080"、base_url 和 secret_env')
    return config.web


@click.command("serve")
@config_option
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志")
def serve_command(config_path: Path | None, verbose: bool) -> None:
    """只运行单位反馈页面与督办看板（不发送提醒）。"""
    logging_to_terminal(verbose)
    config = wiring.load(config_path)
    web = _web_config(config)
    store = wiring.open_store(config)
    try:
        server = _server(config, store)
        click.echo(f"单位反馈页面：{web.url}（监听 {web.listen}；Ctrl+C 退出）", err=True)
        server.run()
    finally:
        store.dispose()


@click.command("link")
@click.argument("plan")
@click.argument("unit", required=False)
@click.option("--admin", is_flag=True, help="生成督办看板的链接（给牵头处室），而不是单位页面")
@config_option
def link_command(plan: str, unit: str | None, admin: bool, config_path: Path | None) -> None:
    """打印某单位的“查看与反馈”链接，或用 --admin 打印督办看板链接（均有有效期）。"""
    config = wiring.load(config_path)
    _web_config(config)
    links = wiring.build_links(config)
    if admin == bool(unit):
        raise click.UsageError("请给出单位名称，或使用 --admin（二者选一）")
    url = links.url("admin", plan) if admin else links.unit_url(plan, unit or "")
    click.echo(url)
    click.echo(f"有效期 {config.web.link_days} 天；更换密钥后失效。", err=True)


def _loaded(config: Config, plan_id: str) -> Any:
    plan = wiring.plan_cache(config).get(plan_id, warn=lambda text: click.echo(text, err=True))
    if plan is None:
        known = "、".join(f.name for f in config.plan_folders()) or "（没有）"
        raise ConfigError(f"未知计划 {plan_id}", file=config.path, place="plans",
                          hint=f"计划以文件夹名区分，配置中的计划：{known}")
    return plan


@click.command(
    "report", short_help="生成工作台账（.xlsx 或 CSV）：每项任务的单位、时限、状态、进展与提醒情况。")
@click.argument("plan")
@click.option("--period", help="只列这一报告期的进展，如 2026Q3、2026-07、2026H2")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="输出格式（默认按 -o 的扩展名，否则 xlsx）")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="输出文件，如 台账.xlsx；省略或写 - 时 CSV 输出到标准输出")
@config_option
def report_command(plan: str, period: str | None, fmt: str | None, output: Path | None,
                   config_path: Path | None) -> None:
    """生成工作台账：序号、工作任务、牵头单位、配合单位、完成时限、状态、完成日期、登记人、进展情况、领导批示、提醒次数、最后提醒。"""
    import sys

    from reminder.answerback.ledger import ledger_rows, title_of, write_csv, write_xlsx

    if output is None:  # the README's `reminder report 2026 --format csv`: CSV to stdout
        if fmt == "xlsx" or fmt is None:
            raise click.UsageError("生成 .xlsx 台账请用 -o 指定文件，如 -o 台账.xlsx；"
                                   "或用 --format csv 输出到屏幕")
        output = Path("-")
    config = wiring.load(config_path)
    loaded = _loaded(config, plan)
    store = wiring.open_store(config)
    now = wiring.now(config)
    rows = ledger_rows(loaded, store, now.date(), period=period, tz=config.tz)
    fmt = fmt or ("csv" if output.suffix.lower() == ".csv" or str(output) == "-" else "xlsx")
    if fmt == "csv":
        if str(output) == "-":
            write_csv(rows, sys.stdout)
        else:
            # utf-8-sig: Excel on Windows opens it with the Chinese intact.
            with output.open("w", encoding="utf-8-sig", newline="") as out:
                write_csv(rows, out)
    else:
        write_xlsx(rows, output, title=title_of(loaded, period), made=now)
    if str(output) != "-":
        click.echo(f"已生成台账：{output}（{len(rows)} 项任务）", err=True)


@click.command("calendar")
@click.argument("plan")
@click.option("--unit", help="只导出这个单位的任务（默认全部）")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="输出的 .ics 文件（可导入 Outlook、企业微信日历）")
@config_option
def calendar_command(plan: str, unit: str | None, output: Path, config_path: Path | None) -> None:
    """把计划的截止日期导出为日历文件（.ics），按提醒策略设置提醒。"""
    from reminder.answerback.ical import build_calendar

    config = wiring.load(config_path)
    loaded = _loaded(config, plan)
    events = wiring.open_store(config).events() if config.path is not None else {}
    body = build_calendar(loaded, events=events, unit=unit, stamp=wiring.now(config))
    output.write_bytes(body)
    click.echo(f"已生成日历：{output}（{body.count(b'BEGIN:VEVENT')} 个截止日）", err=True)


def write_secret(path: Path, section: str, key: str, value: str) -> None:
    """Set ``[section] key`` in a secrets file, keeping everything else in it as written;
    the file is replaced whole and only its owner can read it."""
    import os

    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        doc = tomlkit.parse(text)
    except ParseError as exc:  # its message may quote a secret: the line only
        raise ConfigError(f"密钥文件 TOML 语法错误（第 {exc.line} 行）", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取密钥文件：{getattr(exc, 'strerror', None) or exc}",
                          file=path) from None
    if not isinstance(doc.get(section), dict):
        doc[section] = tomlkit.table()
    doc[section][key] = value  # type: ignore[index]
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(tomlkit.dumps(doc))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)  # an umask or an older file of that name: owner only
        os.replace(temporary, path)
    except OSError as exc:
        raise ConfigError(f"无法写入密钥文件：{exc.strerror or exc}", file=path) from None


@click.command("web-password")
@click.option("--file", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="写入哪个密钥文件（默认为配置中的 secrets_file；systemd 下为 /etc/reminder/secrets.toml）")
@config_option
def web_password_command(target: Path | None, config_path: Path | None) -> None:
    """设置督办看板的登录密码：输入两次，只把加盐哈希写入密钥文件的 [web] password_hash。"""
    from reminder.answerback.passwords import MIN_LENGTH, hash_password
    from reminder.config import secret_files

    config = wiring.load(config_path)
    web = _web_config(config)
    path = target or config.secrets_file
    if path is None:
        raise ConfigError("配置中没有 secrets_file，不知道把密码哈希写到哪里", file=config.path,
                          place="secrets_file", hint="在 config.toml 中设置 secrets_file，或用 --file "
                          "指定密钥文件（systemd 下为 /etc/reminder/secrets.toml）")
    for _ in range(3):
        password = click.prompt("新的看板密码", hide_input=True, prompt_suffix="：", err=True)
        if len(password) < MIN_LENGTH:
            click.echo(f"密码至少 {MIN_LENGTH} 个字符，请重新输入。", err=True)
            continue
        if click.prompt("再输入一次", hide_input=True, prompt_suffix="：", err=True) != password:
            click.echo("两次输入不一致，请重新输入。", err=True)
            continue
        break
    else:
        raise click.ClickException("三次都没有设置成功，看板密码未更改。")
    write_secret(Path(path), "web", "password_hash", hash_password(password))
    click.echo(f"已保存看板密码（只保存哈希）：{path} 中的 [web] password_hash。", err=True)
    # Say where to log in only when the server will read this file: a --file that is not
    # the config's secrets_file (nor the systemd credential) leaves the board without one.
    read = {p.resolve() for p in secret_files(config)} | {SYSTEMD_SECRETS}
    if Path(path).resolve() in read:
        click.echo(f"在 {web.url}/board 登录；已登录的会话随之失效。", err=True)
    else:
        click.echo(f"注意：看板读不到这个文件（config.toml 中没有指向它的 secrets_file），"
                   f"仍会显示未设置看板密码。请在 {config.path} 中加入 "
                   f"secrets_file = \"{Path(path).resolve()}\"，再重启 reminder serve。", err=True)


SYSTEMD_SECRETS = Path("/etc/reminder/secrets.toml")  # passed by the service's LoadCredential=

COMMANDS = [serve_command, link_command, report_command, calendar_command, web_password_command]
