"""The daemon: keep the outbox in step with the plan folders and wake the dispatcher.

APScheduler only wakes us (a date job at the next send time, plus a slow safety tick); it
keeps no state of ours. Everything worth remembering is in the store, so a restart, a second
machine (PostgreSQL) or `run --once` from a timer all see the same truth.

Threads: signal handlers only set flags; the main thread turns flags into jobs; every job
(sync, dispatch) runs in APScheduler's single worker thread, one at a time.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time as _time
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reminder.config import Config
from reminder.delivery.dispatcher import Dispatcher, DispatchReport
from reminder.delivery.synckey import deployment, plan_inputs, sync_key
from reminder.errors import ReminderError
from reminder.plan.cache import Loaded, PlanCache

if TYPE_CHECKING:
    from reminder.store import Store

log = logging.getLogger("reminder.daemon")


def rerouted(notices: Iterable[Any], stuck: Iterable[Any], held: Collection[str]) -> set[str]:
    """Keys of the notices that take over held ones (``stuck``: HeldNotice) on another
    channel the unit's order names; the held rows stay held, as the mark of their broken
    route, and are cancelled rather than requeued once that route works again."""
    wanted = {h.identity for h in stuck}
    if not wanted:
        return set()
    return {n.key for n in notices if n.channel not in held and n.channel != "none"
            and (n.task, n.due, n.stage, n.step, n.recipient) in wanted}


def _add(total: DispatchReport, more: DispatchReport) -> None:
    for name in ("claimed", "sent", "messages", "retried", "failed", "folded", "deferred",
                 "held"):
        setattr(total, name, getattr(total, name) + getattr(more, name))
    total.admin_unreachable = more.admin_unreachable or total.admin_unreachable
    total.quiet_until = total.quiet_until or more.quiet_until
    total.errors.extend(more.errors)


def unsettled_file(config: Config) -> Path | None:
    """Where sends the database would not record at shutdown are saved for the next start:
    beside the SQLite file, or beside config.toml for PostgreSQL."""
    from reminder.store import sqlite_path

    database = sqlite_path(config.database_url)
    if database is not None:
        return database.with_name(database.name + ".unsettled.json")
    return config.path.with_name("reminder.unsettled.json") if config.path else None


def unplannable(plan: Any, folder: Path, events: dict[tuple[str, str], date],
                err: Exception) -> ReminderError:
    """Why a plan that loaded cannot be planned, as one line with its place and fix. The
    known cause is an event date stored before the entry points refused far-out dates
    (counting workdays from 9999-12-31 overflows): it is named with the command that mends
    it. Anything else names the exception, and the plan's own check."""
    from reminder.models import outside_window

    year = getattr(plan, "year", None)
    if isinstance(year, int):
        for (plan_id, task), day in sorted(events.items()):
            why = outside_window(day, year) if plan_id == plan.id else ""
            if why:
                return ReminderError(
                    f"计划无法排期，暂停更新其提醒：任务 {task} 在数据库中记录的事件{why}",
                    file=folder, place=f"任务 {task} 的事件日期",
                    hint=f"运行 reminder event {plan.id} {task} 正确日期（如 {year}-04-15）改正；"
                         "其他计划照常提醒")
    return ReminderError(f"计划无法排期，暂停更新其提醒：{type(err).__name__}: {err}",
                         file=folder, hint=f"运行 reminder check {folder} 查看详情，修正后"
                                           "守护进程自动重新计划；其他计划照常提醒")


def claimant_id() -> str:
    """Who holds a lease: readable in the database, unique per process start."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PlanSet:
    """The daemon's view of the shared plan cache: every folder kept up to date, errors
    logged and recorded in the store, the last good version of a broken folder kept."""

    def __init__(self, config: Config, store: Store, loader: Callable[..., Any] | None = None,
                 cache: PlanCache | None = None) -> None:
        self.store = store
        self.cache = cache or PlanCache(config.plan_folders, rules=config.rules,
                                        contacts=config.contacts, loader=loader,
                                        timezone=config.timezone,
                                        source=config.path)
        self.cache._on_book_error = _book_error

    @property
    def good(self) -> dict[Path, Loaded]:
        return self.cache.good

    @property
    def broken(self) -> dict[Path, Any]:
        return self.cache.broken

    def refresh(self, now: datetime, unchanged: Callable[[Path, str], bool] | None = None) -> bool:
        """Reload changed folders; True when a plan changed. ``unchanged``: see
        :meth:`PlanCache.refresh`."""

        def failed(folder: Path, err: ReminderError, keeping: bool) -> None:
            if folder == Path():
                log.error("%s", err)
                return
            log.error("计划文件夹加载失败%s：%s", "，继续使用上次成功加载的版本" if keeping else "", err)
            self.store.record_plan_error(folder.name, str(folder), str(err), now)

        loaded = self.cache.refresh(failed, unchanged)
        for folder in loaded:
            self._log_missing_contacts(self.cache.good[folder].plan)
        return bool(loaded)

    @staticmethod
    def _log_missing_contacts(plan: Any) -> None:
        """Each unit nobody can reach is an error for the daemon (check only warns while a
        plan has no contact at all), said once per load with the line of the sheet to fill."""
        from reminder.plan.checks import missing_contacts
        from reminder.plan.folder import Plan

        if isinstance(plan, Plan):
            for gap in missing_contacts(plan):
                log.error("计划 %s：%s [%s]：%s（%s）", plan.id, gap.file, gap.place, gap.message,
                          gap.hint)


def _book_error(err: ReminderError, keeping: bool) -> None:
    log.error("通讯录读取失败%s：%s", "，继续使用上次读到的版本" if keeping else "", err)


class Daemon:
    settle_seconds = 10.0  # at shutdown, how long an unrecorded send is retried before saving
    reconnect_first = 1.0  # the first pause after losing the database, doubled up to 60 s

    def __init__(self, config: Config, store: Store, dispatcher: Dispatcher, *,
                 clock: Callable[[], datetime] | None = None,
                 planner: Callable[..., list[Any]] | None = None,
                 occurrences: Callable[..., list[Any]] | None = None,
                 plans: PlanSet | None = None) -> None:
        self.config = config
        self.store = store
        self.dispatcher = dispatcher
        self.tz = ZoneInfo(config.timezone)
        self.clock = clock or (lambda: datetime.now(self.tz))
        self._planner = planner
        self._occurrences = occurrences
        self.plans = plans or PlanSet(config, store)
        self.stop = dispatcher.stop
        self._signalled = threading.Event()
        self._hup = False
        self._synced: tuple[object, ...] | None = None
        self._scheduler: Any = None
        self._warned_years: set[tuple[str, int]] = set()
        self._warned_channels: set[tuple[str, str]] = set()
        self._inputs: dict[str, tuple[object, ...]] = {}  # what each plan was last synced from
        self._deployment: str | None = None  # the config's part of every sync key
        self._health: Any = None  # DatabaseHealth while run() runs
        self.fatal: str | None = None  # why run() stopped by itself (the database is gone)
        self._journal = unsettled_file(config)
        # Plans that loaded but could not be planned, by id, with the line that said why:
        # `run --once` exits non-zero while any is here or any folder does not load.
        self.unplanned: dict[str, str] = {}

    # -- syncing -------------------------------------------------------------------------
    def sync(self, now: datetime, *, force: bool = False, lazy: bool = False) -> list[Any]:
        """Re-plan and sync the outbox when a plan folder, the date, or the completions and
        events recorded by commands changed since the last sync (always when ``force``).
        Only the plans whose own inputs changed (folder fingerprint, date, their completions
        and events) are planned again, unless ``force``. ``lazy`` (`run --once`): a plan
        whose stored sync key already matches its folder is not even loaded."""
        today = now.astimezone(self.tz).date()
        unchanged = facts = None
        if lazy and not force and not self._inputs:
            stored_keys = {row.id: row.fingerprint for row in self.store.plan_rows()}
            facts = self._facts()

            def unchanged(folder: Path, mark: str) -> bool:
                # The key sync would compute once the plan loaded (plan id = folder name;
                # a plan that was broken when stored had another key, so it loads).
                plan_id = folder.resolve().name
                if plan_id not in stored_keys:
                    return False
                inputs = self._plan_inputs(plan_id, mark, today, False, facts)
                return stored_keys[plan_id] == self._sync_key(inputs)

        changed = self.plans.refresh(now, unchanged)
        # A route held since (60020) re-plans too: its units' next channel takes over now,
        # not at midnight.
        marker = (today, self.store.change_marker(), self._held_channels())
        if not (force or changed or marker != self._synced):
            return []
        if self._planner is None or self._occurrences is None:
            from reminder.plan.occurrences import occurrences
            from reminder.plan.planner import plan_notices

            self._planner = self._planner or plan_notices
            self._occurrences = self._occurrences or occurrences
        facts = facts or self._facts()
        done, events, held, reported, signed, extended = facts
        usable = frozenset(self.dispatcher.channels) - held
        # Notices held on those channels go to each unit's next channel too, not only the
        # ones planned from now on: the unit's order is what reaches it (issue 22).
        waiting = self.store.held_notices(held) if held else {}
        rows = self.store.plan_rows()
        synced_at = {row.id: row.synced_at for row in rows}
        # What each plan was last synced from, as the store remembers it: a fresh process
        # (`run --once` from a timer) skips the plans whose inputs have not changed.
        stored = {row.id: row.fingerprint for row in rows}
        results, seen = [], set()
        for folder, loaded in self.plans.good.items():
            plan = loaded.plan
            if plan.id in seen:
                log.error("计划编号重复（文件夹名相同）：%s，已跳过", folder)
                continue
            seen.add(plan.id)
            inputs = self._plan_inputs(plan.id, loaded.fingerprint, today,
                                       folder in self.plans.broken, facts)
            key = self._sync_key(inputs)
            if not force and (self._inputs.get(plan.id) == inputs
                              or (plan.id not in self._inputs and stored.get(plan.id) == key)):
                self._inputs[plan.id] = inputs
                continue
            stuck = waiting.get(plan.id, [])
            earliest = min([t for t in (self.store.earliest_pending(plan.id),
                                        *(h.send_at for h in stuck)) if t is not None],
                           default=None)
            start, end, cutoff = self.window(plan.id, now, synced_at.get(plan.id), earliest)
            try:
                # Occurrences once: the notices need the open ones, the store all of them.
                occs = self._occurrences(plan, events=events, extended=extended)
                notices = self._planner([plan], start=start, end=end, events=events, done=done,
                                        occs={plan.id: occs}, usable=usable, reported=reported,
                                        signed=signed)
            except Exception as err:  # one plan's bad data must not stop the rest
                # A plan that loads but cannot be planned (an event date in the store far
                # out overflows the workday count) keeps its outbox as it was; the others go on.
                message = str(unplannable(plan, folder, events, err))
                log.error("计划 %s：%s", plan.id, message)
                log.debug("排期失败的详情", exc_info=True)
                self.store.record_plan_error(plan.id, str(folder), message, now)
                self.unplanned[plan.id] = message
                self._inputs[plan.id] = inputs  # told once per version of its inputs
                continue
            self.unplanned.pop(plan.id, None)
            self._warn_missing_years(plan, {n.send_at.year for n in notices} | {end.year})
            result = self.store.sync_plan(
                plan_id=plan.id, title=plan.title, path=str(folder),
                fingerprint=key, tasks=plan.tasks, occurrences=occs,
                notices=notices, window=(start, end), cutoff=cutoff, now=now, done=done,
                keep_error=folder in self.plans.broken, routable=self._routable,
                catch_up=rerouted(notices, stuck, held),
            )
            self._inputs[plan.id] = inputs
            log.info("已同步计划 %s：新增 %d，取消 %d，恢复 %d，更新 %d", plan.id, result.added,
                     result.cancelled, result.revived, result.updated)
            results.append(result)
        self._synced = marker
        return results

    def _facts(self) -> tuple[Any, ...]:
        """What the store holds that shapes planning, for every plan at once: completions,
        event dates, the channels held on their configuration, the occurrences a progress
        report came in for (no 三色预警), the 签收 and the approved 延期申请."""
        return (self.store.done_set(), self.store.events(), self._held_channels(),
                self.store.reported_set(), self.store.signed_set(), self.store.extended_dates())

    _plan_inputs = staticmethod(plan_inputs)

    def _sync_key(self, inputs: tuple[Any, ...]) -> str:
        if self._deployment is None:
            self._deployment = deployment(self.config, self.dispatcher.channels)
        return sync_key(inputs, self._deployment)

    def _held_channels(self) -> frozenset[str]:
        """Channels whose one route is held on its configuration right now (a WeCom app
        refused for 可信IP, an SMS gateway refusing the token): units that name a next
        channel in their order are planned through it meanwhile. Group robots are routes of
        their own, so one held robot does not take its channel from every unit."""
        from reminder.store.schema import UNCERTAIN

        held = set()
        for route in self.store.held_routes():
            channel = self.dispatcher.channels.get(route.channel)
            if (route.fingerprint == UNCERTAIN or channel is None
                    or getattr(channel, "shared", False) or route.channel in ("wecom", "dingtalk")):
                continue
            if channel.fingerprint(route.addresses) == route.fingerprint:  # still as it failed
                held.add(route.channel)
        return frozenset(held)

    def _routable(self, notice: Any) -> bool:
        """A notice the configuration cannot deliver waits (cancelled/nochannel) instead of
        failing at send time; the gap is logged once, and fixing the config revives it."""
        channel = self.dispatcher.channels.get(notice.channel)
        if channel is not None and channel.routes(notice.addresses):
            return True
        # A missing channel is one gap; a missing WeCom robot is one gap per robot.
        gap = (notice.channel, notice.addresses[0] if channel and notice.addresses else "")
        if gap not in self._warned_channels:
            self._warned_channels.add(gap)
            what = {"email": "邮件渠道 [channels.email]", "wecom": "企业微信渠道 [channels.wecom]",
                    "wecom_app": "企业微信应用 [channels.wecom_app]",
                    "dingtalk": "钉钉渠道 [channels.dingtalk]", "sms": "短信渠道 [channels.sms]"}
            robot = {"wecom": "企业微信机器人", "dingtalk": "钉钉机器人"}.get(notice.channel)
            missing = (f"{robot}“{gap[1]}”（[channels.{notice.channel}.robots]）"
                       if channel and robot else what.get(notice.channel, notice.channel))
            log.error("配置中没有%s，发给%s等单位的提醒暂不发送；在 config.toml 中配置后"
                      "（发送 SIGHUP 或重启）即按计划发送", missing, notice.recipient)
        return False

    def _warn_missing_years(self, plan: Any, years: set[int]) -> None:
        from reminder.plan.calendar import missing_year_note

        for year in plan.calendar.missing_years(years):
            if (plan.id, year) not in self._warned_years:
                self._warned_years.add((plan.id, year))
                log.warning("计划 %s：%s", plan.id, missing_year_note(year))

    def window(self, plan_id: str, now: datetime, synced_at: datetime | None,
               earliest: datetime | None = None) -> tuple[date, date, datetime]:
        """(first day, last day) to plan, and the cutoff before which new notices are
        history rather than catch-up: the start of today, or the last sync if earlier (so
        notices planned during downtime are still caught up)."""
        local = now.astimezone(self.tz)
        today = local.date()
        # Planning back to the oldest pending notice lets sync cancel it if it became obsolete.
        start = min(today, earliest.astimezone(self.tz).date()) if earliest else today
        end = today + timedelta(days=self.config.window_days)
        cutoff = datetime.combine(today, time(0), self.tz)
        if synced_at is not None:
            cutoff = min(cutoff, synced_at)
        return start, end, cutoff

    def broken_plans(self) -> list[str]:
        """The plans this process could not load or plan, by name (each was logged with its
        file, place and fix when it failed)."""
        names = {folder.name for folder in self.plans.broken} | set(self.unplanned)
        return sorted(names)

    # -- one shot ------------------------------------------------------------------------
    def run_once(self, now: datetime, *, settle_for: float = 30.0) -> DispatchReport:
        """Sync, then dispatch until nothing is due at ``now`` (one claim takes at most a
        batch; what was deferred or will be retried is due later, so the loop ends). When the
        database would not record a send, keep trying for ``settle_for`` seconds, since an
        unrecorded send is sent again by the next run."""
        self._recover_unsettled()
        self._reserve_journal()
        self.sync(now, lazy=True)  # plans synced from the same inputs are not even loaded
        total = self._dispatch_all(now)
        if total.held and not total.errors and not self.stop.is_set() and self.sync(now):
            # A route was held in this run: the units that name a next channel get the
            # held notices through it in this run too, not the next one.
            _add(total, self._dispatch_all(now))
        deadline = _time.monotonic() + settle_for
        while (self.dispatcher.store.unsettled and _time.monotonic() < deadline
               and not self.stop.wait(1.0)):
            self.dispatcher.store.replay()
        if self.dispatcher.store.unsettled:
            self._save_unsettled()
        return total

    def _dispatch_all(self, now: datetime) -> DispatchReport:
        total = self.dispatcher.dispatch(now)
        while total.claimed and not total.errors and not self.stop.is_set():
            more = self.dispatcher.dispatch(now)
            if not more.claimed:
                break
            _add(total, more)
        return total

    # -- foreground daemon ---------------------------------------------------------------
    def run(self) -> int:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        from reminder.delivery.health import DatabaseHealth
        from reminder.store import sqlite_path

        self._health = DatabaseHealth(sqlite_path(self.config.database_url),
                                      alert_after=self.config.alert_after_seconds)
        self._recover_unsettled()
        self._reserve_journal()
        self.sync(self.clock(), force=True)
        scheduler = BackgroundScheduler(
            timezone=self.tz,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._scheduler = scheduler
        scheduler.add_job(self._tick, "interval", seconds=self.config.tick_seconds, id="tick")
        previous = self._install_signals()
        watching = self._start_watching()
        try:
            scheduler.start()
            scheduler.add_job(self._wake, id="wake")  # send what is due right away
            log.info("reminder 守护进程已启动（%d 个计划）", len(self.plans.good))
            while not self.stop.is_set():
                self._signalled.wait(timeout=1.0)
                self._signalled.clear()
                if self._check_database():
                    break
                if self._hup and not self.stop.is_set():
                    self._hup = False
                    log.info("收到 SIGHUP，重新加载计划")
                    scheduler.add_job(self._resync, id="sync", replace_existing=True)
        finally:
            # The dispatcher sees self.stop, finishes the message in flight and gives the
            # rest of its claims back; shutdown(wait=True) waits for that job to end.
            self.stop.set()
            if watching is not None:
                watching.join()
            scheduler.shutdown(wait=True)
            self._restore_signals(previous)
            self._settle_before_exit()
            self._health.close()
            log.info("reminder 守护进程已停止")
        return 1 if self.fatal else 0

    # -- the database's health -----------------------------------------------------------
    def _check_database(self) -> bool:
        """Every second, from the main thread: True when the database is gone for good (the
        daemon stops); tell the admin once when it has been out of reach too long."""
        health = self._health
        why = health.lost()
        if why is not None:
            self.fatal = why
            self.stop.set()
            return True
        store = self.dispatcher.store
        if store.unsettled:
            health.failing(f"{len(store.unsettled)} 项发送结果无法写入数据库（磁盘已满或数据库只读）")
        elif self._journal is not None and self._journal.exists():
            self._journal.unlink(missing_ok=True)  # replayed: nothing is owed any more
        if health.overdue():
            line = (f"数据库已有 {health.down_for():.0f} 秒无法使用：{health.why}；"
                    "提醒暂停发送，恢复后自动继续")
            log.error("%s", line)
            self._tell_admin("数据库无法使用，提醒暂停", line)
        return False

    def _tell_admin(self, title: str, line: str) -> None:
        why = self.dispatcher.alert_admin(f"【政务公开提醒】{title}", line)
        if why is not None:
            log.error("无法通知管理员：%s", why)

    def _settle_before_exit(self) -> None:
        """Stopping (SIGTERM, or the database lost): what was sent is recorded first. A send
        the database would not take is tried for a few seconds more, then saved to a file the
        next start replays before sending anything; one log line and the admin told."""
        store = self.dispatcher.store
        deadline = _time.monotonic() + self.settle_seconds
        while store.unsettled and not store.replay() and _time.monotonic() < deadline:
            _time.sleep(1)
        owed = ""
        if store.unsettled:
            ids = sorted({i for _, args, _ in store.unsettled
                          if args and isinstance(args[0], list | tuple) for i in args[0]})
            saved = self._save_unsettled()
            owed = (f"停止时仍有 {len(ids)} 条已发出的提醒未能记入数据库（磁盘已满或数据库只读），"
                    + (f"已保存到 {saved}，下次启动时先补记，不会重发" if saved else
                       f"也无法保存到文件，下次启动会重发（提醒编号 {ids[:50]}）"))
        lost = self.fatal
        parts = []
        if lost is not None:
            parts.append(f"{lost}，守护进程已停止")
            rescued = self._health.rescue(self.clock()) if self._health.path else None
            if rescued is not None:
                parts.append(f"已把仍打开的数据库保存为 {rescued}，核对后改名为 "
                             f"{self._health.path.name} 再启动（不会自动新建空数据库，以免全部重发）")
        if owed:
            parts.append(owed)
            self.fatal = self.fatal or owed
        line = "；".join(parts)
        if line:
            log.error("%s", line)
            self._tell_admin("数据库出错", line)

    def _save_unsettled(self) -> Path | None:
        if self._journal is None:
            return None
        try:
            self.dispatcher.store.dump(self._journal)
        except OSError as exc:
            log.error("无法保存未记录的发送结果：%s", exc)
            return None
        return self._journal

    def _reserve_journal(self) -> None:
        if self._journal is None:
            return
        try:
            self.dispatcher.store.reserve(self._journal)
        except OSError as exc:  # a disk already full: saving may still fit, or say it did not
            log.warning("无法为未记录的发送结果预留磁盘空间：%s", exc)

    def _recover_unsettled(self) -> None:
        """Replay the sends a previous run could not record, before any claim resends them."""
        if self._journal is None or not self._journal.exists():
            return
        count = self.dispatcher.store.load(self._journal)
        if self.dispatcher.store.replay():
            self._journal.unlink(missing_ok=True)
            log.info("已补记上次停止前未能记入数据库的 %d 项发送结果", count)
        else:
            log.error("上次停止前的 %d 项发送结果仍无法记入数据库，暂不发送", count)

    def _start_watching(self) -> threading.Thread | None:
        """A thread that turns a change written by another process (done, undo, event, the
        board) into a sync and wake-up within a second, instead of at the next tick."""
        make = getattr(self.store, "watcher", None)
        watcher = make(self.stop) if make is not None else None
        if watcher is None:
            return None

        def watch() -> None:
            pause = 0.0  # backoff while the database is out of reach: 1, 2, 4 … 60 s
            try:
                while not self.stop.is_set():
                    try:
                        changed = watcher.wait(1.0)
                    except Exception as exc:  # the database restarting must not end the daemon
                        from reminder.errors import environment_trouble

                        if not pause:  # once per outage, not once per attempt
                            log.warning("与数据库的连接中断（%s），将自动重连",
                                        environment_trouble(exc) or f"{type(exc).__name__}: {exc}")
                        if self._health is not None:
                            self._health.failing(f"无法连接数据库：{type(exc).__name__}")
                        pause = min(60.0, pause * 2 or self.reconnect_first)
                        self.stop.wait(pause)
                        continue
                    if pause:
                        pause = 0.0
                        log.info("已重新连接数据库")
                        changed = True  # changes made meanwhile sent no notification we saw
                    if changed and not self.stop.is_set() and self._scheduler is not None:
                        self._scheduler.add_job(self._tick, id="changed", replace_existing=True)
            finally:
                watcher.close()

        thread = threading.Thread(target=watch, name="reminder-watch", daemon=True)
        thread.start()
        return thread

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}

        def on_stop(signum: int, _frame: Any) -> None:
            self.stop.set()
            self._signalled.set()

        def on_hup(_signum: int, _frame: Any) -> None:
            self._hup = True
            self._signalled.set()

        for signum, handler in ((signal.SIGTERM, on_stop), (signal.SIGINT, on_stop),
                                (signal.SIGHUP, on_hup)):
            previous[signum] = signal.signal(signum, handler)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _resync(self) -> None:
        self._guard(lambda: self.sync(self.clock(), force=True))
        self._wake()

    def _tick(self) -> None:
        """Safety net: notice folder edits and commands' changes, and catch any wake-up that
        was missed (e.g. a notice added by `reminder undo`)."""
        self._guard(lambda: self.sync(self.clock()))
        self._wake()

    def _wake(self) -> None:
        if self.stop.is_set():
            return
        report = self._guard(lambda: self.dispatcher.dispatch(self.clock()))
        if report is not None and (report.claimed or report.deferred):
            log.info("本轮：发送 %d 条通知（%d 封消息），合并 %d，重试 %d，失败 %d，延后 %d",
                     report.sent, report.messages, report.folded, report.retried,
                     report.failed, report.deferred)
        self._schedule_wake()

    def _schedule_wake(self) -> None:
        if self.stop.is_set() or self._scheduler is None:
            return
        now = self.clock()
        when = self._guard(lambda: self.dispatcher.next_wake(now))
        if when is None:
            return  # nothing pending; the tick (or a sync) will schedule the next one
        self._scheduler.add_job(self._wake, "date", run_date=max(when, now), id="wake",
                                replace_existing=True)
        log.debug("下次唤醒：%s", when.astimezone(self.tz).isoformat())

    def _guard(self, action: Callable[[], Any]) -> Any:
        # A job that raises would only be logged by APScheduler and the next wake-up never
        # scheduled; log it ourselves and let the tick try again.
        try:
            result = action()
        except ReminderError as err:
            log.error("%s", err)
            return None
        except Exception as exc:
            from reminder.errors import environment_trouble

            line = environment_trouble(exc)
            if line is None:
                log.exception("守护进程任务出错，将在下次定时检查时重试")
            else:  # expected trouble, said once per attempt without a traceback
                log.error("%s；将在下次定时检查时重试", line)
                if self._health is not None:
                    self._health.failing(line)
            return None
        if (self._health is not None and not self.dispatcher.store.unsettled
                and self._health.working()):
            log.info("数据库已恢复")
            self._tell_admin("数据库已恢复", "数据库已恢复，提醒继续发送")
        return result
