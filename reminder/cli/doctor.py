"""`reminder doctor`: is this deployment ready to remind? Reads the config, reaches the
database, checks every channel without sending anything, checks every plan and says which
years have holiday data. One line per finding; the exit status is the worst one found."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from reminder.errors import ReminderError
from reminder.plan.checks import Finding

if TYPE_CHECKING:
    from reminder.config import Config

Level = Literal["ok", "warning", "error"]
STATUS = {"ok": 0, "warning": 1, "error": 2}
def diagnose(config_path: Path | None, now: datetime | None = None) -> Iterator[Finding]:
    from reminder.config import load_config, require_config

    try:
        path = require_config(config_path)
        config = load_config(path)
    except ReminderError as err:
        yield Finding(level="error", area="配置", message=str(err))
        return
    yield Finding(level="ok", area="配置", message=f"{path} 读取正常")
    today = (now or datetime.now(config.tz)).date()
    yield from _database(config)
    yield from _channels(config)
    yield from _web(config)
    book = None
    if config.contacts is not None:
        from reminder.plan.contacts import read_book

        try:
            book = read_book(config.contacts)
            yield Finding(level="ok", area="通讯录", message=f"{config.contacts}："
                          f"{len(book.contacts)} 个单位，{book.filled} 个有联系方式")
        except ReminderError as err:
            yield Finding(level="error", area="通讯录", message=str(err))
    yield from _plans(config, book, today)


def _database(config: Config) -> Iterator[Finding]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from reminder.store import open_store, sqlite_path

    shown = make_url(config.database_url).render_as_string(hide_password=True)
    db = sqlite_path(config.database_url)
    if db is not None and not db.exists():
        parent = next(p for p in (db.parent, *db.parent.parents) if p.exists())
        if not os.access(parent, os.W_OK):
            yield Finding(level="error", area="数据库", message=f"{db} 不存在，且 {parent} 不可写，无法创建")
        else:
            yield Finding(level="warning", area="数据库",
                          message=f"{db} 尚不存在（首次运行 reminder run 时创建）")
        return
    try:
        store = open_store(config.database_url, timezone=config.timezone, migrate_schema=False)
    except ReminderError as err:
        yield Finding(level="error", area="数据库", message=str(err))
        return
    try:
        plans = store.plan_rows()
        yield Finding(level="ok", area="数据库", message=f"{shown} 可以连接，记录了 {len(plans)} 个计划")
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        yield Finding(level="error", area="数据库", message=f"{shown} 无法使用：{reason}"
                      "（新建或旧版本的数据库运行一次 reminder run --once 即迁移）")
    finally:
        store.dispose()


def _channels(config: Config) -> Iterator[Finding]:
    from reminder.wiring import build_channels

    try:
        channels = build_channels(config)
    except ReminderError as err:
        yield Finding(level="error", area="渠道", message=str(err))
        return
    if not channels:
        yield Finding(level="error", area="渠道",
                      message="没有配置任何渠道（[channels.email] 或 [channels.wecom]），提醒无法发出")
    try:
        if "email" in channels:
            result = channels["email"].check()
            where = f"{config.email.host}:{config.email.port}（{config.email.security}）"
            if result.status == "ok":
                login = f"，以 {config.email.username} 登录成功" if config.email.username else "（不登录）"
                yield Finding(level="ok", area="邮件", message=f"{where} 连接正常{login}；未发送任何邮件")
            else:
                yield Finding(level="error", area="邮件", message=f"{where}：{result.detail}")
        if "wecom" in channels:
            problems = channels["wecom"].key_problems()
            for robot in channels["wecom"].robots:
                if robot in problems:
                    yield Finding(level="error", area="企业微信",
                                  message=f"机器人“{robot}”：{problems[robot]}")
                else:
                    yield Finding(level="ok", area="企业微信",
                                  message=f"机器人“{robot}”的 key 格式正确（未发送消息）")
            if not channels["wecom"].robots:
                yield Finding(level="warning", area="企业微信",
                              message="没有配置机器人（[channels.wecom.robots]）")
        yield from _personal(config, channels)
    finally:
        for channel in channels.values():
            channel.close()
    # The admin's own userids reach them by WeCom app message when that channel is set up.
    if not (config.admin.email or config.admin.wecom
            or (config.admin.wecom_users and config.wecom_app is not None)):
        yield Finding(level="warning", area="管理员",
                      message="[admin] 没有邮箱或企业微信群（或配置了企业微信应用时的成员账号），"
                              "发送失败时无人得知")


def _personal(config: Config, channels: dict[str, Any]) -> Iterator[Finding]:
    """The WeCom app (a token is fetched: it proves corpid and secret, and sends nothing),
    the DingTalk robots (the form of each token and secret, a signature made) and the SMS
    gateway (its body rendered for a sample number)."""
    if "wecom_app" in channels:
        app = channels["wecom_app"]
        result = app.check()
        where = f"应用“{app.app_name}”（AgentId {app.agentid}）"
        if result.status == "ok":
            yield Finding(level="ok", area="企业微信应用", message=f"{where}：获取 access_token 成功"
                          "（未发送消息；企业可信IP 只在发送时检查，"
                          "可用 reminder test-channel wecom_app 验证）")
        else:
            yield Finding(level="error", area="企业微信应用", message=f"{where}：{result.detail}")
    if "dingtalk" in channels:
        ding = channels["dingtalk"]
        problems = ding.form_problems()
        for robot in ding.robots:
            if robot in problems:
                level = "warning" if "IP" in problems[robot] else "error"
                yield Finding(level=level, area="钉钉", message=f"机器人“{robot}”：{problems[robot]}")
                continue
            spec = ding._robots[robot]
            if spec.secret:
                ding.params(spec)  # the signature is made here, as for a send
                mode = "加签：签名已生成"
            else:
                mode = f"关键词“{spec.keyword}”"
            yield Finding(level="ok", area="钉钉",
                          message=f"机器人“{robot}”配置格式正确（{mode}；未发送消息）")
        if not ding.robots:
            yield Finding(level="warning", area="钉钉",
                          message="没有配置机器人（[channels.dingtalk.robots]）")
    if "sms" in channels:
        result = channels["sms"].check()
        if result.status == "ok":
            yield Finding(level="ok", area="短信", message=f"{config.sms.url if config.sms else ''}："
                          "请求体模板可以生成 JSON（未发送短信）")
        else:
            yield Finding(level="error", area="短信", message=result.detail)


def _web(config: Config) -> Iterator[Finding]:
    """[web]: the signing secret (never shown), the address in every link, the board's
    password. Without [web] messages carry no links, which is a choice, not a finding."""
    if config.web is None:
        return
    from reminder.answerback.passwords import well_formed
    from reminder.config import read_secrets
    from reminder.wiring import build_links

    try:
        build_links(config)
    except ReminderError as err:
        yield Finding(level="error", area="反馈页面", message=str(err))
        return
    # A short secret is an error from build_links (config.web_secret), as for run and serve.
    host = config.web.host_port[0]
    if not config.web.base_url and host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        yield Finding(level="warning", area="反馈页面", message=f"未设置 base_url，链接指向 "
                      f"{config.web.url}，只有本机能打开；经反向代理时填写单位能访问的地址")
    else:
        yield Finding(level="ok", area="反馈页面", message=f"链接指向 {config.web.url}，签名密钥已配置")
    try:
        stored = (read_secrets(config).get("web") or {}).get("password_hash")
    except ReminderError as err:
        yield Finding(level="error", area="督办看板", message=str(err))
        return
    if stored is None:
        yield Finding(level="ok", area="督办看板", message="未设置密码：用 reminder link 计划 --admin "
                      "打开（或运行 reminder web-password 设置）")
    elif not isinstance(stored, str) or not well_formed(stored):
        yield Finding(level="error", area="督办看板", message="密钥文件中的 [web] password_hash 格式"
                      "不对，无法登录；运行 reminder web-password 重新设置")
    else:
        yield Finding(level="ok", area="督办看板", message=f"已设置密码（{config.web.url}/board 登录）")


def _plans(config: Config, book: Any, today: date) -> Iterator[Finding]:
    from reminder.plan.checks import check_plan
    from reminder.plan.folder import load_plan
    from reminder.plan.occurrences import occurrences

    try:
        folders = config.plan_folders()
    except ReminderError as err:
        yield Finding(level="error", area="计划", message=str(err))
        return
    if not folders:
        yield Finding(level="warning", area="计划", message="配置中没有计划（plans），不会产生提醒")
        return
    years: set[int] = {today.year}
    calendars = []
    for folder in folders:
        try:
            plan = load_plan(folder, extra_rules=config.rules, contacts=book,
                             timezone=config.timezone)
        except ReminderError as err:
            yield Finding(level="error", area="计划", message=str(err))
            continue
        findings = check_plan(plan)
        errors = sum(1 for f in findings if f.level == "error")
        warnings = len(findings) - errors
        level: Level = "error" if errors else ("warning" if warnings else "ok")
        more = f"（运行 reminder check {folder} --config {config.path} 查看）" if findings else ""
        yield Finding(level=level, area="计划", message=f"{plan.id}：{len(plan.tasks)} 项任务，"
                      f"{errors} 个错误，{warnings} 个警告{more}")
        years |= {o.due.year for o in occurrences(plan)}
        calendars.append(plan.calendar)
    if calendars:
        missing = sorted({y for c in calendars for y in c.missing_years(years)})
        known = sorted(years - set(missing))
        if known:
            yield Finding(level="ok", area="节假日", message="、".join(map(str, known)) + " 年有调休安排数据")
        if missing:
            # The same sentence as check, plan and the daemon: only one of them can be true.
            from reminder.plan.calendar import missing_year_note

            for year in missing:
                yield Finding(level="warning", area="节假日", message=missing_year_note(year))


@click.command("doctor")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="配置文件（默认：$REMINDER_CONFIG、~/.config/reminder/config.toml 或 "
                   "/etc/reminder/config.toml）")
def doctor_command(config_path: Path | None) -> None:
    """检查部署是否就绪：配置、数据库、各渠道（只连接和登录，不发送）、各计划和节假日数据。

    每项一行；退出码为最严重的一项：0 正常、1 警告、2 错误。"""
    import logging

    # The channels log their failures for the daemon; here each is already a finding line.
    logging.getLogger("reminder").addHandler(logging.NullHandler())
    worst = 0
    for finding in diagnose(config_path):
        click.echo(str(finding))
        worst = max(worst, STATUS[finding.level])
    raise SystemExit(worst)


COMMANDS = [doctor_command]
