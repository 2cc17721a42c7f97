"""Commands of the daemon issue: run, done, undo, event, status, test-channel.

Thin over config, store, dispatcher and daemon; SQLAlchemy, APScheduler and the channels are
imported inside the command functions so `reminder plan` never loads them.
"""

from __future__ import annotations

import getpass
import json
import logging
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reminder import wiring
from reminder.cli.common import by_option, config_option, logging_to_terminal, parse_day, parse_moment
from reminder.errors import ConfigError, PlanError, ReminderError, StoreError
from reminder.models import outside_window

if TYPE_CHECKING:
    from reminder.config import Config
    from reminder.store import Store

# -- run ---------------------------------------------------------------------------------

@click.command("run")
@config_option
@click.option("--once", is_flag=True, help="只发送此刻已到期的提醒，然后退出（供定时器或测试使用）")
@click.option("--now", help="与 --once 同用：把此刻当作这个时间，如 2026-10-09T09:00")
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志")
def run_command(config_path: Path | None, once: bool, now: str | None, verbose: bool) -> None:
    """在前台运行提醒守护进程（日志写到标准错误；SIGTERM/SIGINT 发完当前消息后退出）。"""
    if now is not None and not once:
        raise click.UsageError("--now 只能与 --once 一起使用")
    logging_to_terminal(verbose)
    from reminder.delivery.daemon import Daemon, PlanSet, claimant_id
    from reminder.delivery.dispatcher import Dispatcher
    from reminder.store import DaemonLock, sqlite_path

    config = wiring.load(config_path)
    moment = parse_moment(now, config.timezone) if now else None
    channels = wiring.build_channels(config)  # before touching the database: fail fast on secrets
    store = wiring.open_store(config)
    plans = wiring.plan_cache(config)  # one cache for the daemon, its messages and its pages
    database = sqlite_path(config.database_url)
    lock = DaemonLock(database) if database is not None else None
    if lock is not None:
        lock.acquire()
    try:
        if not config.plans:
            logging.getLogger("reminder").warning("配置中没有计划目录（plans），不会产生提醒")
        dispatcher = Dispatcher(
            store, channels, claimant=claimant_id(), timezone=config.timezone,
            retry=config.retry, quiet=config.quiet,
            lease=timedelta(seconds=config.lease_seconds), templates_dir=config.templates,
            admin=config.admin, max_inline_wait=config.max_wait_seconds,
            render=wiring.digest_renderer(config, plans, store), sender_name=wiring.office_name(config),
        )
        daemon = Daemon(config, store, dispatcher, plans=PlanSet(config, store, cache=plans))
        if once:
            report = daemon.run_once(moment or wiring.now(config))
            click.echo(
                f"已发送 {report.sent} 条提醒（{report.messages} 条消息），合并 {report.folded}，"
                f"待重试 {report.retried}，失败 {report.failed}，延后 {report.deferred}"
                + (f"，因配置有误暂停 {report.held}" if report.held else "")
                + (f"；免打扰时段至 {report.quiet_until:%H:%M}" if report.quiet_until else "")
            )
            _exit_if_admin_unreachable(store)
            if dispatcher.store.unsettled:
                raise StoreError(f"{len(dispatcher.store.unsettled)} 项已发出的提醒未能记录到数据库"
                                 "（磁盘已满或数据库被锁定），下次运行可能重发", hint="腾出磁盘空间后再运行")
            if report.errors:
                raise StoreError(report.errors[0])
            problems = _plan_problems(config, store)
            if problems:
                raise PlanError(problems[0], hint="修正 config.toml 的 plans 或恢复文件夹；"
                                                  "reminder status 列出全部问题")
            broken = daemon.broken_plans()
            if broken:
                # Each was logged above with its file, place and fix; the other plans were
                # sent. A timer only notices by the exit status.
                raise PlanError(f"{len(broken)} 个计划未能加载或排期（{'、'.join(broken)}），"
                                "本次未更新其提醒，其他计划已照常处理",
                                hint="按上面各行所说修正后再次运行；reminder status 列出全部问题")
        elif config.web is not None:
            from reminder.cli.web import serving

            with serving(config, store, plans):  # the units' pages beside the daemon
                stopped = daemon.run()
        else:
            stopped = daemon.run()
        if not once and stopped and daemon.fatal:  # logged and told the admin; exit status too
            raise StoreError(daemon.fatal, hint="见守护进程日志的最后一行")
    finally:
        for channel in channels.values():
            channel.close()
        if lock is not None:
            lock.release()
        store.dispose()


def _exit_if_admin_unreachable(store: Store) -> None:
    """Cron and systemd only notice a failing timer run by its exit status: when failures
    could not even be reported to the admin, say so and exit non-zero."""
    from reminder.store import ADMIN_UNREACHABLE

    alert = store.alerts().get(ADMIN_UNREACHABLE)
    if alert is not None:
        raise AdminUnreachable(f"有提醒发送失败，且无法通知管理员：{alert[0]}",
                               hint="修正渠道配置后运行 reminder retry；reminder status 查看详情")


class AdminUnreachable(ReminderError):
    exit_code = 3


def _plan_problems(config: Config, store: Store) -> list[str]:
    """Configured plan paths that do not exist, and plan folders the database knows that
    have disappeared: their reminders stop, so they are errors, not notes."""
    try:
        folders = config.plan_folders()
    except ReminderError as err:
        return [str(err)]
    present = {folder.name for folder in folders}
    return [f"计划 {row.id} 的文件夹已不存在：{row.path}" for row in store.plan_rows()
            if row.id not in present]


# -- done / undo / event -----------------------------------------------------------------

def _plan(config: Config, plan_id: str) -> Any | None:
    return wiring.plan_cache(config).get(plan_id, warn=lambda text: click.echo(text, err=True))


@click.command("done")
@click.argument("plan")
@click.argument("task")
@click.option("--occurrence", help="哪一期（截止日期，如 2026-10-09；默认最早未完成的一期）")
@click.option("--through", help="截止日在这一天及以前的各期都标记完成，如 2026-09-30（补记多期）")
@click.option("--note", default="", help="备注")
@by_option
@config_option
def done_command(plan: str, task: str, occurrence: str | None, through: str | None, note: str,
                 by: str | None, config_path: Path | None) -> None:
    """把任务标记为已完成（取消这一期尚未发送的提醒）。"""
    from reminder.answerback.completion import mark_done, open_through

    if occurrence and through:
        raise click.UsageError("--occurrence 与 --through 只能用一个")
    last = parse_day(through, "--through")
    config = wiring.load(config_path)
    store = wiring.open_store(config)
    warn = lambda text: click.echo(text, err=True)  # noqa: E731
    plans = wiring.plan_cache(config)
    loaded = plans.get(plan, warn)
    picked: list[date | None] = (
        list(open_through(plans, store, plan, task, last, loaded=loaded, warn=warn))
        if last is not None else [parse_day(occurrence, "--occurrence")])
    results = [mark_done(plans, store, plan, task, occurrence=due, by=by or getpass.getuser(),
                         note=note, now=wiring.now(config), loaded=loaded, warn=warn)
               for due in picked]
    if len(results) == 1 and results[0].already:
        click.echo(f"任务 {task}（{results[0].due} 截止）此前已标记完成")
        return
    periods = "、".join(r.due.isoformat() for r in results)
    count = f"共 {len(results)} 期，" if len(results) > 1 else ""
    cancelled = sum(r.cancelled for r in results)
    click.echo(f"已标记完成：{plan} 任务 {task}（{count}{periods} 截止），取消待发提醒 {cancelled} 条")


@click.command("undo")
@click.argument("plan")
@click.argument("task")
@click.option("--occurrence", help="哪一期（截止日期；默认最近完成的一期）")
@by_option
@config_option
def undo_command(plan: str, task: str, occurrence: str | None, by: str | None,
                 config_path: Path | None) -> None:
    """撤销完成标记，重新提醒。"""
    from reminder.answerback.completion import reopen

    config = wiring.load(config_path)
    done = reopen(wiring.open_store(config), plan, task, occurrence=parse_day(occurrence, "--occurrence"),
                  by=by or getpass.getuser(), now=wiring.now(config))
    click.echo(f"已撤销完成标记：{plan} 任务 {task}（{done.due} 截止），恢复提醒 {done.revived} 条")


@click.command("event")
@click.argument("plan")
@click.argument("task")
@click.argument("day", metavar="DATE")
@by_option
@config_option
def event_command(plan: str, task: str, day: str, by: str | None,
                  config_path: Path | None) -> None:
    """记录事件日期（如“收到申请后5个工作日内”的收到日），事件相对时限由此起算。"""
    config = wiring.load(config_path)
    when = parse_day(day, "DATE")
    assert when is not None
    store = wiring.open_store(config)
    loaded = _plan(config, plan)
    if loaded is not None and loaded.task(task) is None:
        raise PlanError(f"计划 {plan} 中没有编号为 {task} 的任务", file=loaded.path)
    # Counting workdays from 9999-12-31 overflows: refused here, before the store has it.
    why = outside_window(when, loaded.year if loaded is not None else wiring.now(config).year)
    if why:
        raise click.BadParameter(why, param_hint="DATE")
    store.set_event(plan, task, when, by=by or getpass.getuser(), now=wiring.now(config))
    click.echo(f"已记录：{plan} 任务 {task} 的事件日期为 {when}；"
               "运行中的守护进程会在下次检查时重新计划")


# -- status ------------------------------------------------------------------------------

@click.command("status")
@click.option("--overdue", is_flag=True, help="只列出已逾期的任务")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@config_option
def status_command(overdue: bool, as_json: bool, config_path: Path | None) -> None:
    """各任务的下一截止日、是否完成、最近一次提醒和发送失败情况。"""
    config = wiring.load(config_path)
    store = wiring.open_store(config)
    today = wiring.now(config).date()
    rows = [r for r in store.task_status(today) if r.overdue or not overdue]
    errors = store.plan_errors()
    alerts = store.alerts()
    missed = _missed_periods(store, rows, today)
    if as_json:
        click.echo(json.dumps({
            "alerts": [{"alert": name, "detail": detail, "since": since.isoformat()}
                       for name, (detail, since) in alerts.items()],
            "plans": [{"plan": p, "error": e, "since": t.isoformat() if t else None}
                      for p, (e, t) in errors.items()],
            "tasks": [{
                "plan": r.plan, "task": r.task, "title": r.title,
                "next_due": r.next_due.isoformat() if r.next_due else None,
                "overdue": r.overdue, "done": r.done,
                "last_sent": r.last_sent.astimezone(config.tz).isoformat() if r.last_sent else None,
                "last_stage": r.last_stage, "pending": r.pending, "failures": r.failures,
                "last_error": r.last_error, "unroutable": list(r.unroutable), "held": r.held,
                "missed": [d.isoformat() for d in missed.get((r.plan, r.task), [])],
            } for r in rows],
        }, ensure_ascii=False, indent=2))
        return
    for _name, (detail, since) in alerts.items():
        click.secho(f"警告：有提醒发送失败，且无法通知管理员（自 {since.astimezone(config.tz):%m-%d %H:%M}）"
                    f"：{detail}。修正渠道配置后运行 reminder retry。", fg="red", bold=True,
                    err=True)
    for plan, (error, since) in errors.items():
        when = f"（自 {since.astimezone(config.tz):%m-%d %H:%M}）" if since else ""
        click.echo(f"计划 {plan} 加载失败{when}，仍按上次成功的版本提醒：{error}", err=True)
    problems = _plan_problems(config, store)
    for problem in problems:
        click.secho(f"错误：{problem}", fg="red", err=True)
    _status_table(rows, config)
    for (plan_id, task), dates in missed.items():
        if len(dates) > 1:
            click.echo(f"提示：{plan_id} 任务 {task} 有 {len(dates)} 期已过截止日未标记完成"
                       f"（{dates[0]} 至 {dates[-1]}）；若都已完成，运行 reminder done {plan_id} "
                       f"{task} --through {dates[-1]}")
    if problems:
        sys.exit(1)


def _missed_periods(store: Store, rows: list[Any], today: date) -> dict[tuple[str, str], list[date]]:
    """Past due dates not marked done, for the overdue tasks: a recurring task left alone
    for months has several, and one `done --through` clears them."""
    done = store.done_set()
    missed = {}
    for r in rows:
        if r.overdue:
            dates = [d for d in store.occurrence_dates(r.plan, r.task)
                     if d < today and (r.plan, r.task, d) not in done]
            if dates:
                missed[(r.plan, r.task)] = dates
    return missed


def _status_table(rows: list[Any], config: Config) -> None:
    from reminder.cli.output import emit
    from reminder.plan.wording import STAGE_NAMES

    if not rows:
        click.echo("没有任务记录（守护进程尚未同步计划，或没有符合条件的任务）")
        return
    records = []
    for r in rows:
        failures = str(r.failures) if r.failures else ""
        if r.held:
            failures += ("；" if failures else "") + f"配置有误暂停 {r.held}"
        if r.unroutable:
            failures += ("；" if failures else "") + "无联系方式：" + "、".join(r.unroutable)
        records.append({
            "plan": r.plan, "task": r.task, "title": r.title,
            "next_due": r.next_due.isoformat() if r.next_due else "—",
            "state": "已完成" if r.done else ("逾期" if r.overdue else "进行中"),
            "last": (f"{r.last_sent.astimezone(config.tz):%m-%d %H:%M} "
                     f"{STAGE_NAMES.get(r.last_stage, '')}" if r.last_sent else "—"),
            "pending": r.pending, "failures": failures,
        })
    emit(records, fmt="table", wrap=("failures",), columns=(
        ("plan", "计划"), ("task", "任务"), ("title", "内容"), ("next_due", "下次截止"),
        ("state", "状态"), ("last", "最近提醒"), ("pending", "待发"), ("failures", "失败"),
    ))


# -- retry -------------------------------------------------------------------------------

@click.command("retry")
@click.argument("plan", required=False)
@click.argument("task", required=False)
@click.option("--failed", is_flag=True, help="也重发已判定失败的提醒（默认只重发因配置有误而暂停的）")
@click.option("--since", help="只处理此日期（含）以来最后一次尝试的提醒，如 2026-10-09")
@config_option
def retry_command(plan: str | None, task: str | None, failed: bool, since: str | None,
                  config_path: Path | None) -> None:
    """重新发送暂停或失败的提醒；任务已完成或已到下一期的不再发送。"""
    from reminder.store import ADMIN_UNREACHABLE

    config = wiring.load(config_path)
    store = wiring.open_store(config)
    now = wiring.now(config)
    day = parse_day(since, "--since")
    start = datetime.combine(day, datetime.min.time(), config.tz) if day else None
    result = store.retry(now, now.date(), plan=plan, task=task, failed=failed, since=start)
    store.clear_alert(ADMIN_UNREACHABLE)
    click.echo(f"已重新排队 {result.requeued} 条提醒，守护进程下次唤醒时发送"
               + (f"；{result.closed} 条因任务已完成或已到下一期而不再发送" if result.closed else "")
               + (f"；{result.rerouted} 条已由单位的下一个渠道发出，不再重发" if result.rerouted else ""))


# -- test-channel ------------------------------------------------------------------------

@click.command("test-channel")
@click.argument("name")
@click.option("--to", "to", multiple=True, help="收件地址（默认：[admin] 中的联系人）")
@config_option
def test_channel_command(name: str, to: tuple[str, ...], config_path: Path | None) -> None:
    """发送一条测试消息并显示服务方的回复。

    NAME 为 email、wecom、wecom_app、dingtalk、sms，或企业微信/钉钉机器人名。"""

    config = wiring.load(config_path)
    channels = wiring.build_channels(config)
    robots = tuple(config.wecom.robots) if config.wecom else ()
    dings = tuple(config.dingtalk.robots) if config.dingtalk else ()
    kind = "wecom" if name in robots else "dingtalk" if name in dings else name
    if kind not in channels:
        raise ConfigError(f"未配置渠道 {name}", file=config.path, place="channels",
                          hint="可用：" + "、".join([*channels, *robots, *dings]) if channels else
                          "在 [channels.email] 或 [channels.wecom] 中配置")
    if not to:
        defaults = {"email": config.admin.email,
                    "wecom": (config.admin.wecom,) if config.admin.wecom else (),
                    "wecom_app": config.admin.wecom_users,  # the admin's own userids
                    "dingtalk": dings[:1]}
        to = (name,) if name in robots or name in dings else tuple(defaults.get(kind, ()))
    if not to:
        raise ConfigError("不知道发给谁", file=config.path, place="admin",
                          hint="用 --to 指定（短信为手机号，企业微信应用为 userid），"
                               "或在 [admin] 中填写 email / wecom / wecom_users")
    from reminder.delivery.render.messages import render_test_message

    message = render_test_message(kind, to=tuple(to), now=wiring.now(config),
                                  sender=wiring.office_name(config))
    # An SMS gateway takes one number a request: each gets its own test, the first failure tells.
    messages = ([replace(message, to=(one,)) for one in to] if kind == "sms" else [message])
    try:
        results = [channels[kind].send(m) for m in messages]
    finally:
        channels[kind].close()
    result = next((r for r in results if r.status != "ok"), results[0])
    labels = {"ok": "成功：测试消息已发出", "retryable": "暂时失败，可稍后重试",
              "permanent": "失败，请检查配置"}
    # The provider's code and words only when there are some: "代码 250；回复 —" told a
    # clerk nothing.
    said = "；".join(x for x in (f"服务器返回代码 {result.provider_code}" if result.provider_code
                                 else "", f"回复：{result.detail}" if result.detail else "") if x)
    click.echo(labels.get(result.status, "未知结果") + (f"（{said}）" if said else "。"))
    if result.status != "ok":
        sys.exit(1)


COMMANDS = [run_command, done_command, undo_command, event_command, status_command,
            retry_command, test_channel_command]
