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
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reminder.config import Config
from reminder.delivery.dispatcher import Dispatcher, DispatchReport
from reminder.errors import ReminderError
from reminder.plan.cache import Loaded, PlanCache

if TYPE_CHECKING:
    from reminder.store import Store

log = logging.getLogger("reminder.daemon")


def _add(total: DispatchReport, more: DispatchReport) -> None:
    for name in ("claimed", "sent", "messages", "retried", "failed", "folded", "deferred",
                 "held"):
        setattr(total, name, getattr(total, name) + getattr(more, name))
    total.admin_unreachable = more.admin_unreachable or total.admin_unreachable
    total.quiet_until = total.quiet_until or more.quiet_until
    total.errors.extend(more.errors)


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

    def refresh(self, now: datetime) -> bool:
        """Reload changed folders; True when a plan changed."""

        def failed(folder: Path, err: ReminderError, keeping: bool) -> None:
            if folder == Path():
                log.error("%s", err)
                return
            log.error("计划文件夹加载失败%s：%s", "，继续使用上次成功加载的版本" if keeping else "", err)
            self.store.record_plan_error(folder.name, str(folder), str(err), now)

        loaded = self.cache.refresh(failed)
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
        self._synced: tuple[date, tuple[object, ...]] | None = None
        self._scheduler: Any = None
        self._warned_years: set[tuple[str, int]] = set()
        self._warned_channels: set[tuple[str, str]] = set()
        self._inputs: dict[str, tuple[object, ...]] = {}  # what each plan was last synced from

    # -- syncing -------------------------------------------------------------------------
    def sync(self, now: datetime, *, force: bool = False) -> list[Any]:
        """Re-plan and sync the outbox when a plan folder, the date, or the completions and
        events recorded by commands changed since the last sync (always when ``force``).
        Only the plans whose own inputs changed (folder fingerprint, date, their completions
        and events) are planned again, unless ``force``."""
        changed = self.plans.refresh(now)
        today = now.astimezone(self.tz).date()
        marker = (today, self.store.change_marker())
        if not (force or changed or marker != self._synced):
            return []
        if self._planner is None or self._occurrences is None:
            from reminder.plan.occurrences import occurrences
            from reminder.plan.planner import plan_notices

            self._planner = self._planner or plan_notices
            self._occurrences = self._occurrences or occurrences
        events, done = self.store.events(), self.store.done_set()
        synced_at = {row.id: row.synced_at for row in self.store.plan_rows()}
        earliest = self.store.earliest_pending_by_plan()
        results, seen = [], set()
        for folder, loaded in self.plans.good.items():
            plan = loaded.plan
            if plan.id in seen:
                log.error("计划编号重复（文件夹名相同）：%s，已跳过", folder)
                continue
            seen.add(plan.id)
            inputs = (loaded.fingerprint, today, folder in self.plans.broken,
                      frozenset(d for d in done if d[0] == plan.id),
                      frozenset((k, v) for k, v in events.items() if k[0] == plan.id))
            if not force and self._inputs.get(plan.id) == inputs:
                continue
            start, end, cutoff = self.window(plan.id, now, synced_at.get(plan.id),
                                             earliest.get(plan.id))
            # Occurrences once: the notices need the open ones, the store all of them.
            occs = self._occurrences(plan, events=events)
            notices = self._planner([plan], start=start, end=end, events=events, done=done,
                                    occs={plan.id: occs})
            self._warn_missing_years(plan, {n.send_at.year for n in notices} | {end.year})
            result = self.store.sync_plan(
                plan_id=plan.id, title=plan.title, path=str(folder),
                fingerprint=loaded.fingerprint, tasks=plan.tasks, occurrences=occs,
                notices=notices, window=(start, end), cutoff=cutoff, now=now, done=done,
                keep_error=folder in self.plans.broken, routable=self._routable,
            )
            self._inputs[plan.id] = inputs
            log.info("已同步计划 %s：新增 %d，取消 %d，恢复 %d，更新 %d", plan.id, result.added,
                     result.cancelled, result.revived, result.updated)
            results.append(result)
        self._synced = marker
        return results

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
            what = {"email": "邮件渠道 [channels.email]", "wecom": "企业微信渠道 [channels.wecom]"}
            missing = (f"企业微信机器人“{gap[1]}”（[channels.wecom.robots]）" if channel
                       else what.get(notice.channel, notice.channel))
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

    # -- one shot ------------------------------------------------------------------------
    def run_once(self, now: datetime, *, settle_for: float = 30.0) -> DispatchReport:
        """Sync, then dispatch until nothing is due at ``now`` (one claim takes at most a
        batch; what was deferred or will be retried is due later, so the loop ends). When the
        database would not record a send, keep trying for ``settle_for`` seconds, since an
        unrecorded send is sent again by the next run."""
        self.sync(now, force=True)
        total = self.dispatcher.dispatch(now)
        while total.claimed and not total.errors and not self.stop.is_set():
            more = self.dispatcher.dispatch(now)
            if not more.claimed:
                break
            _add(total, more)
        deadline = _time.monotonic() + settle_for
        while (self.dispatcher.store.unsettled and _time.monotonic() < deadline
               and not self.stop.wait(1.0)):
            self.dispatcher.store.replay()
        return total

    # -- foreground daemon ---------------------------------------------------------------
    def run(self) -> int:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

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
            log.info("reminder 守护进程已停止")
        return 0

    def _start_watching(self) -> threading.Thread | None:
        """A thread that turns a change written by another process (done, undo, event, the
        board) into a sync and wake-up within a second, instead of at the next tick."""
        make = getattr(self.store, "watcher", None)
        watcher = make(self.stop) if make is not None else None
        if watcher is None:
            return None

        def watch() -> None:
            try:
                while not self.stop.is_set():
                    try:
                        changed = watcher.wait(1.0)
                    except Exception:  # the database restarting must not end the daemon
                        log.exception("监视数据库变化出错，5 秒后重试")
                        self.stop.wait(5)
                        continue
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
            return action()
        except ReminderError as err:
            log.error("%s", err)
        except Exception as exc:
            from reminder.errors import environment_trouble

            line = environment_trouble(exc)
            if line is None:
                log.exception("守护进程任务出错，将在下次定时检查时重试")
            else:  # expected trouble, said once per attempt without a traceback
                log.error("%s；将在下次定时检查时重试", line)
        return None
