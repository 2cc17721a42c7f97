"""The one place where time passes: claim due notices, fold, group into digests, send.

Retry with backoff, rate limiting and quiet hours live here once; channels only say whether a
send was ok, retryable or permanent. The store's outbox is the truth: this module keeps no
state between calls except the rate limiter's recent sends.

Heavy modules (the store, channels, messages) are imported lazily or passed in.
"""

from __future__ import annotations

import logging
import random
import threading
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reminder.config import QuietHours, RetryPolicy
from reminder.delivery.digests import fold, group_digests, recipients
from reminder.delivery.ratelimit import RateLimiter, StoreRateLimiter
from reminder.errors import environment_trouble

if TYPE_CHECKING:
    from reminder.store import Delivery, Store

log = logging.getLogger("reminder.dispatcher")


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0  # notices
    messages: int = 0  # messages delivered (digests, possibly split)
    retried: int = 0
    failed: int = 0
    folded: int = 0
    deferred: int = 0
    held: int = 0  # held back by a configuration failure (bad password, invalid key …)
    admin_unreachable: str | None = None  # why the admin could not be told, when not
    quiet_until: datetime | None = None
    errors: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Any],
        *,
        claimant: str,
        timezone: str = "Asia/Shanghai",
        retry: RetryPolicy | None = None,
        quiet: QuietHours | None = None,
        lease: timedelta = timedelta(minutes=5),
        render: Callable[..., list[Any]] | None = None,
        templates_dir: Any = None,
        admin: Any = None,
        stop: threading.Event | None = None,
        limiter: RateLimiter | StoreRateLimiter | None = None,
        rng: random.Random | None = None,
        max_inline_wait: float = 65.0,
        sender_name: str = "",
        is_workday: Callable[[date], bool] | None = None,
    ) -> None:
        self.store = _SettlingStore(store)
        self.channels = dict(channels)
        for channel in self.channels.values():
            # Tokens a provider hands out (a WeCom app's) are shared through the database.
            if callable(bind := getattr(channel, "bind_store", None)) and hasattr(store, "token"):
                bind(store)
        self.claimant = claimant
        self.tz = ZoneInfo(timezone)
        self.retry = retry or RetryPolicy()
        self.quiet = quiet
        # Quiet hours that keep days off (personal channels) ask the working calendar: the
        # shipped one, holidays and make-up workdays included.
        self.is_workday = is_workday or _shipped_workday
        self.lease = lease
        self._render = render
        self.templates_dir = templates_dir
        self.admin = admin
        self.stop = stop or threading.Event()
        self.limiter = limiter or (StoreRateLimiter(store) if hasattr(store, "take_slot")
                                   else RateLimiter())
        self.rng = rng or random.Random()
        self.max_inline_wait = max_inline_wait
        self.sender_name = sender_name  # the office the admin's failure report speaks for
        self._lock = threading.Lock()  # one dispatch at a time per process
        self._held: dict[str, str] = {}  # route fingerprint -> error, for routes held now
        self._pass: tuple[list[int], datetime, float] = ([], datetime.min, 0.0)
        self._renewed = 0.0  # monotonic time of the pass's last lease renewal

    # -- scheduling ----------------------------------------------------------------------
    def next_wake(self, now: datetime) -> datetime | None:
        """When a notice is next due, moved to the end of quiet hours when it falls in them."""
        if self.store.unsettled:  # the database cannot take writes: try again in a while
            return now + timedelta(seconds=30)
        due = self.store.next_wake()
        if due is None:
            return None
        due = max(due, now)
        if self.quiet is not None:
            return self.quiet.until(due, self.tz, self.is_workday) or due
        return due

    # -- one pass ------------------------------------------------------------------------
    def dispatch(self, now: datetime) -> DispatchReport:
        with self._lock:
            return self._dispatch(now)

    def _dispatch(self, now: datetime) -> DispatchReport:
        report = DispatchReport()
        if not self.store.replay():
            report.errors.append(f"数据库仍无法写入，{len(self.store.unsettled)} 条发送结果待记录")
            log.error("%s；本轮不发送，稍后重试", report.errors[-1])
            return report
        try:
            return self._pass_of(now, report)
        except _Unsettled as exc:
            line = environment_trouble(exc.__cause__ or exc) or str(exc)
            report.errors.append(line)
            log.error("无法记录发送结果（%s）：已发出的提醒记在内存中，数据库恢复后补记，不会重发；"
                      "其余提醒稍后发送", line)
            return report

    def _pass_of(self, now: datetime, report: DispatchReport) -> DispatchReport:
        if self.quiet is not None and (end := self.quiet.until(now, self.tz,
                                                              self.is_workday)) is not None:
            report.quiet_until = end  # nothing claimed: the rows wait, they are not dropped
            return report
        self._revive_held(now)
        claimed = self.store.claim(now, self.claimant, lease=self.lease)
        report.claimed = len(claimed)
        if not claimed:
            return report
        self._pass = ([c.id for c in claimed], now, _time.monotonic())
        self._renewed = self._pass[2]
        today = now.astimezone(self.tz).date()
        keep, folded = fold(claimed, today, self._has_later_stage)
        report.folded = self.store.fold([c.id for c in folded], self.claimant, now)
        failures: list[tuple[list[Any], str]] = []
        started = self._pass[2]
        shared = {name for name, c in self.channels.items() if getattr(c, "shared", False)}
        groups = group_digests(keep, shared)
        for index, group in enumerate(groups):
            if self.stop.is_set():
                rest = [c.id for g in groups[index:] for c in g]
                report.deferred += self.store.release(rest, self.claimant, now)
                break
            if not self._renew_if_needed(groups[index:], now, started):
                log.warning("租约已过期，%s 的提醒已由另一进程接手，本进程不再发送",
                            recipients(group))
                continue
            self._send_group(group, now, today, report, failures)
        if failures:
            report.admin_unreachable = self._report_failures(failures, now)
        return report

    def _revive_held(self, now: datetime) -> None:
        """Send held notices again once their route's configuration changed (a new password
        or key, a fixed address); the others stay held and their routes known broken."""
        self._held = {}
        revived = []
        from reminder.store.schema import UNCERTAIN

        for route in self.store.held_routes():
            if route.fingerprint == UNCERTAIN:  # only the admin's `reminder retry` frees these
                continue
            channel = self.channels.get(route.channel)
            if channel is not None and _fingerprint(channel, route.addresses) != route.fingerprint:
                revived.extend(route.ids)
            else:
                self._held[route.fingerprint] = "此前发送时发现配置有误"
        if revived and self.store.release_held(revived, now):
            from reminder.store import ADMIN_UNREACHABLE

            log.info("渠道配置已更改，重新发送暂停的 %d 条提醒", len(revived))
            self.store.clear_alert(ADMIN_UNREACHABLE)  # someone fixed the config: they know

    def _wait_renewing(self, wait: float) -> bool:
        """Wait out a rate limit inline, renewing the pass's lease as the time goes by so no
        rival daemon takes rows still queued here. True when asked to stop meanwhile."""
        ids, now, started = self._pass
        deadline = _time.monotonic() + wait
        step = max(self.lease.total_seconds() / 3, 0.05)
        while (left := deadline - _time.monotonic()) > 0:
            if self.stop.wait(min(left, step)):
                return True
            elapsed = _time.monotonic() - started
            self.store.renew(ids, self.claimant, now + timedelta(seconds=elapsed) + self.lease)
            self._renewed = _time.monotonic()
        return False

    def _has_later_stage(self, item: Any) -> bool:
        n = item.notice
        stages = self.store.live_stages(n.plan, n.task, n.due, n.recipient, n.channel)
        return bool(stages & {"overdue", "escalate"})

    def _renew_if_needed(self, groups: Sequence[Sequence[Any]], now: datetime,
                         started: float) -> bool:
        """Renew the lease of the rows still queued once a third of it has passed, so a long
        pass does not outlive it; False when the next group's rows are no longer ours (the
        lease ran out anyway and a rival daemon took them): sending them would duplicate."""
        if _time.monotonic() - self._renewed < self.lease.total_seconds() / 3:
            return True
        until = now + timedelta(seconds=_time.monotonic() - started) + self.lease
        head = [c.id for c in groups[0]]
        held = self.store.renew(head, self.claimant, until)
        self.store.renew([c.id for g in groups[1:] for c in g], self.claimant, until)
        if held < len(head):
            return False  # and check the next group afresh
        self._renewed = _time.monotonic()
        return True

    def _send_group(self, group: list[Any], now: datetime, today: date,
                    report: DispatchReport, failures: list[tuple[list[Any], str]]) -> None:
        from reminder.store import Delivery

        ids = [c.id for c in group]
        first, who = group[0].notice, recipients(group)
        channel = self.channels.get(first.channel)
        base = {"channel": first.channel, "recipient": who,
                "addresses": first.addresses, "notice_ids": ids}
        if channel is None:
            error = f"未配置渠道 {first.channel}"
            report.failed += self.store.mark_failed(ids, self.claimant, now, error=error,
                                                    delivery=None)
            failures.append((group, error))
            return
        quiet = getattr(channel, "quiet", None)
        if quiet is not None and (end := quiet.until(now, self.tz, self.is_workday)) is not None:
            # This channel's own quiet hours (SMS and app messages: working hours only):
            # the rows wait for their end, untouched, and the other channels go on.
            report.deferred += self.store.release(ids, self.claimant, now, next_attempt_at=end)
            return
        fingerprint = _fingerprint(channel, first.addresses)
        if fingerprint in self._held:  # this route failed on its configuration: don't knock
            report.held += self.store.mark_held(ids, self.claimant, now, fingerprint=fingerprint,
                                                error=self._held[fingerprint], delivery=None)
            return
        try:
            messages = self.render([c.notice for c in group], channel=first.channel,
                                   today=today, fmt=getattr(channel, "fmt", None))
        except Exception as exc:  # a template mistake must not stop the other digests
            if environment_trouble(exc) is not None:
                # The database (a renderer reads links and tallies), not the template: the
                # rows go back to the queue, or that write waits in memory with the others.
                # Marked failed, a locked or read-only database would have cost the notices.
                log.error("渲染消息时无法读取数据库：%s；稍后重试", who)
                report.deferred += self.store.release(ids, self.claimant, now)
                return
            log.exception("渲染消息失败：%s", who)
            error = f"渲染消息失败：{exc}"
            report.failed += self.store.mark_failed(ids, self.claimant, now, error=error,
                                                    delivery=None)
            failures.append((group, error))
            return
        # Notices are settled part by part: once the message carrying a task went out, that
        # task's notices are sent, so a retry or deferral of a later part never repeats it.
        remaining = list(group)
        result = delivery = None
        partial = ""  # some addressees not reached though the message went out
        refused: list[str] = []  # copies a provider refused for their address alone
        reached: tuple[Any, Any] | None = None  # the last copy that went out, and its record
        for number, message in enumerate(messages):
            rate_key = (first.channel, _rate_key(channel, message))
            limit = getattr(channel, "rate_limit", None)
            windows = _rate_windows(channel, first.channel, message)
            waited = 0.0
            while (wait := (self.limiter.acquire_many(windows) if windows
                            else self.limiter.acquire(rate_key, limit))) > 0:
                waited += wait
                if waited > self.max_inline_wait or self._wait_renewing(wait):
                    # Too long to wait here, or asked to stop: give the rest back untouched.
                    later = now + timedelta(seconds=wait)
                    report.deferred += self.store.release([c.id for c in remaining],
                                                          self.claimant, now, next_attempt_at=later)
                    return
            result = _safe_send(channel, message)
            if (done := getattr(self.limiter, "done", None)) is not None:
                # the provider counts from arrival: date the slot at the end
                for key in dict.fromkeys([k for k, _ in windows] if windows else [rate_key]):
                    done(key)
            delivery = Delivery(**{**base, "notice_ids": [c.id for c in remaining]},
                                subject=getattr(message, "subject", "") or "",
                                result=result.status, provider_code=result.provider_code,
                                detail=result.detail or "")
            if result.status == "permanent" and getattr(message, "copy", False):
                # This address is refused (a number on the platform's blacklist): the unit's
                # other numbers still get the text; the admin hears of this one.
                refused.append(f"{'、'.join(message.to)}：{result.detail or result.provider_code}")
                self.store.record_delivery(delivery, self.claimant, now)
                continue
            if result.status != "ok":
                if (result.provider_code in getattr(channel, "block_codes", ()) and limit
                        and callable(block := getattr(self.limiter, "block", None))):
                    # The provider blocked the route for a while: every process waits it out.
                    block(rate_key, limit, result.retry_after or 600.0)
                if result.status == "uncertain" and number < len(messages) - 1:
                    remaining, delivery = self._keep_carried(remaining, message, delivery, now,
                                                             report)
                break
            report.messages += 1
            if getattr(message, "copy", False):
                reached = (result, delivery)
            if getattr(result, "unreached", ()):
                partial = result.detail
            carried = set(getattr(message, "keys", ()) or ())
            done = [c for c in remaining if c.notice.key in carried]
            if done and number < len(messages) - 1:
                report.sent += self.store.mark_sent([c.id for c in done], self.claimant, now,
                                                    replace(delivery, notice_ids=[c.id for c in done]))
                remaining = [c for c in remaining if c.notice.key not in carried]
            elif number < len(messages) - 1:
                self.store.record_delivery(delivery, self.claimant, now)
        # Some copies refused, some sent: the notices are sent and the admin hears of the
        # refused numbers. Every copy refused (nothing reached): the group fails below, once.
        if refused and reached is not None:
            partial = "；".join(filter(None, [partial, *refused]))
            if result is not None and result.status != "ok":  # the last number was refused
                result, delivery = reached
        if partial:  # a failure of those members alone: the admin fixes their userids
            log.error("部分收件人未送达：%s → %s：%s", first.channel, who, partial)
            failures.append((group, partial))
        if not remaining:
            if result is not None and result.status != "ok":  # only the @-message failed
                self.store.record_delivery(delivery, self.claimant, now)
                log.warning("@提醒消息发送失败（提醒本身已送达）：%s → %s：%s", first.channel,
                            who, result.detail)
            return
        ids = [c.id for c in remaining]
        if result is None:  # the renderer had nothing to say
            report.sent += self.store.mark_sent(ids, self.claimant, now,
                                                Delivery(**{**base, "notice_ids": ids}))
        elif result.status == "ok":
            report.sent += self.store.mark_sent(ids, self.claimant, now, delivery)
            log.info("已发送 %s → %s（%d 项）", first.channel, who, len(group))
        else:
            self._after_failure(remaining, result, delivery, now, report, failures)

    def _keep_carried(self, remaining: list[Any], message: Any, delivery: Delivery,
                      now: datetime, report: DispatchReport) -> tuple[list[Any], Delivery]:
        """A part of a split digest may have arrived: only the notices it carried are in
        doubt. The later parts never left, so their notices go back to the queue, due now,
        instead of being held with the uncertain ones as if they might have been sent."""
        carried = set(getattr(message, "keys", ()) or ())
        doubtful = [c for c in remaining if c.notice.key in carried]
        unsent = [c.id for c in remaining if c.notice.key not in carried]
        if not doubtful or not unsent:
            return remaining, delivery
        report.deferred += self.store.release(unsent, self.claimant, now, next_attempt_at=now)
        return doubtful, replace(delivery, notice_ids=[c.id for c in doubtful])

    def _after_failure(self, group: list[Any], result: Any, delivery: Any, now: datetime,
                       report: DispatchReport, failures: list[tuple[list[Any], str]]) -> None:
        ids = [c.id for c in group]
        first, who = group[0].notice, recipients(group)
        error = f"{result.provider_code or ''} {result.detail or ''}".strip() or result.status
        attempt = max(c.attempts for c in group) + 1
        if result.status == "uncertain":
            self._after_uncertain(group, error, delivery, now, report, failures)
            return
        if result.status == "config":
            channel = self.channels[first.channel]
            fingerprint = _fingerprint(channel, first.addresses)
            report.held += self.store.mark_held(ids, self.claimant, now, fingerprint=fingerprint,
                                                error=error, delivery=delivery)
            log.error("渠道配置有误，提醒暂停发送（修正配置后自动重发，或运行 reminder retry）："
                      "%s → %s：%s", first.channel, who, error)
            if fingerprint not in self._held:  # tell the admin once per broken route
                self._held[fingerprint] = error
                failures.append((group, f"配置有误，已暂停发送：{error}"))
            return
        if result.status == "retryable" and attempt < self.retry.max_attempts:
            wait = result.retry_after or self.retry.delay(attempt, self.rng)
            later = now + timedelta(seconds=wait)
            report.retried += self.store.mark_retry(ids, self.claimant, now,
                                                    next_attempt_at=later, error=error,
                                                    delivery=delivery)
            log.warning("发送失败，%s 后重试（第 %d 次）：%s → %s：%s", later.astimezone(self.tz)
                        .strftime("%H:%M:%S"), attempt, first.channel, who, error)
            return
        report.failed += self.store.mark_failed(ids, self.claimant, now, error=error,
                                                delivery=delivery)
        report.errors.append(f"{who}: {error}")
        log.error("发送失败，不再重试：%s → %s：%s", first.channel, who, error)
        failures.append((group, error))

    def _after_uncertain(self, group: list[Any], error: str, delivery: Any, now: datetime,
                         report: DispatchReport, failures: list[tuple[list[Any], str]]) -> None:
        """The message left but no answer came: it may have arrived. Retrying it like a
        failure sent 4 copies; one retry after a long delay, then a hold, keeps a lost reply
        to at most one duplicate, and the admin decides the rest (`reminder retry`)."""
        from reminder.store.schema import UNCERTAIN

        ids = [c.id for c in group]
        first, who = group[0].notice, recipients(group)
        if max(getattr(c, "uncertain", 0) for c in group) == 0:
            later = now + timedelta(seconds=self.retry.uncertain_delay)
            report.retried += self.store.mark_uncertain(ids, self.claimant, now,
                                                        next_attempt_at=later, error=error,
                                                        delivery=delivery)
            log.warning("发送结果不明（可能已送达），%s 再发一次，之后不再自动重发：%s → %s：%s",
                        later.astimezone(self.tz).strftime("%m-%d %H:%M"), first.channel, who,
                        error)
            return
        report.held += self.store.mark_held(ids, self.claimant, now, fingerprint=UNCERTAIN,
                                            error=error, delivery=delivery)
        log.error("两次发送结果都不明（可能已送达），提醒暂停，请管理员确认后运行 reminder retry："
                  "%s → %s：%s", first.channel, who, error)
        failures.append((group, f"两次发送都未收到应答（可能已送达），已暂停；确认未收到后运行 "
                                f"reminder retry 重发：{error}"))

    def render(self, notices: list[Any], *, channel: str, today: date,
               fmt: str | None = None) -> list[Any]:
        if self._render is None:
            from reminder.delivery.render.messages import render_digest

            self._render = render_digest
        extra = {"fmt": fmt} if fmt else {}  # WeCom: split for the robot's own format
        return self._render(notices, channel=channel, today=today,
                            templates_dir=self.templates_dir, **extra)

    # -- telling the admin ---------------------------------------------------------------
    def _report_failures(self, failures: list[tuple[list[Any], str]],
                         now: datetime) -> str | None:
        """One message to the admin contact per pass, over each of its routes that is not
        itself held. When none gets through, the admin cannot be reached: that is recorded
        for `reminder status` (and `run --once` exits non-zero), never sent about again."""
        from reminder.store import ADMIN_UNREACHABLE

        if not self._admin_targets():
            log.error("有 %d 组提醒发送失败，但未配置管理员联系人（[admin]）", len(failures))
            why = "未配置管理员联系人（[admin]）"
            self.store.set_alert(ADMIN_UNREACHABLE, why, now)
            return why
        from reminder.delivery.render.messages import render_failure_report

        rows = [(recipients(g), g[0].notice.channel,
                 sorted({c.notice.task for c in g}), error) for g, error in failures]
        try:
            subject, text = render_failure_report(
                rows, at=f"{now.astimezone(self.tz):%Y-%m-%d %H:%M}",
                templates_dir=self.templates_dir, sender=self.sender_name)
        except Exception:  # a broken admin template must not hide the failures themselves
            log.exception("无法生成失败报告；失败的提醒：%s", rows)
            return None
        why = self.alert_admin(subject, text)
        if why is None:
            self.store.clear_alert(ADMIN_UNREACHABLE)
        else:
            self.store.set_alert(ADMIN_UNREACHABLE, why, now)
        return why

    def _admin_targets(self) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """(channel, addresses, mentions) to reach the admin by, in order: email, the WeCom
        robot, and the admin's own userids by WeCom app message when that channel is set up
        (the one way left when the others are the ones failing)."""
        admin = self.admin
        if admin is None:
            return []
        targets: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        if admin.email:
            targets.append(("email", tuple(admin.email), ()))
        if admin.wecom:
            targets.append(("wecom", (admin.wecom,), tuple(admin.wecom_users)))
        if admin.wecom_users and "wecom_app" in self.channels:
            targets.append(("wecom_app", tuple(admin.wecom_users), ()))
        return targets

    def alert_admin(self, subject: str, text: str) -> str | None:
        """Tell the admin, over the first route that takes it (a route held for its
        configuration is known broken and skipped). Touches no database, so it can tell of
        the database itself being gone. None once told, else why not."""
        targets = self._admin_targets()
        if not targets:
            return "未配置管理员联系人（[admin]）"
        problems = []
        for name, to, mentions in targets:
            channel = self.channels.get(name)
            if channel is None:
                problems.append(f"{name}：未配置该渠道")
                continue
            if (fingerprint := _fingerprint(channel, to)) in self._held:
                problems.append(f"{name}：配置有误（{self._held[fingerprint]}）")
                continue
            result = _safe_send(channel, _message(subject, text, to, mentions))
            if result.status == "ok":
                return None
            said = f"{result.provider_code or ''} {result.detail}".strip()
            problems.append(f"{name}：{said}")
            log.error("无法通知管理员（%s）：%s", name, said)
        return "；".join(problems) or "没有可用的渠道"


class _Unsettled(Exception):
    """A write settling an outcome failed (disk full, database locked): the pass ends."""


class _SettlingStore:
    """The store as the dispatcher settles outcomes in it. A message that went out must be
    recorded even when the database cannot take the write just then (disk full, locked past
    the busy timeout): the write is kept and replayed before anything else is claimed or
    sent, so this process never sends that digest again."""

    SETTLING = frozenset({"mark_sent", "mark_retry", "mark_uncertain", "mark_failed", "mark_held",
                          "record_delivery", "release", "fold"})

    def __init__(self, store: Store) -> None:
        self._store = store
        # (store method, args, kwargs): by name, so the list can be saved to a file (``dump``)
        self.unsettled: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in self.SETTLING:
            return attr

        def settle(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except Exception as exc:
                if environment_trouble(exc) is None:
                    raise
                self.unsettled.append((name, args, kwargs))
                raise _Unsettled(str(exc)) from exc

        return settle

    def dump(self, path: Any) -> None:
        """Save the writes still owed to ``path`` (JSON), for the next start to replay: a
        daemon stopped while the disk is full must not forget a send it made."""
        import json
        import os

        data = json.dumps([[name, list(args), kwargs] for name, args, kwargs in self.unsettled],
                          default=_to_json, ensure_ascii=False).encode("utf-8")
        tmp = f"{path}.tmp"
        # Into the blocks ``reserve`` took (no O_TRUNC, which would free them): on a full
        # disk, the very case this file is for, a new block is not to be had.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.ftruncate(fd, len(data))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    RESERVE = 1 << 20  # a pass settles at most a claim of 1,000 rows: tens of KB of JSON

    @staticmethod
    def reserve(path: Any) -> None:
        """Take the disk space ``dump`` will need while there is some: the daemon's start
        calls this, so a SIGTERM on a full disk still saves what it owes (it could not:
        "No space left on device", and those sends went out again)."""
        import os

        fd = os.open(f"{path}.tmp", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, _SettlingStore.RESERVE)
        finally:
            os.close(fd)

    def load(self, path: Any) -> int:
        """Queue the writes saved by ``dump`` ahead of anything else; how many."""
        import json

        with open(path, encoding="utf-8") as f:
            saved = json.load(f, object_hook=_from_json)
        self.unsettled[:0] = [(name, tuple(args), kwargs) for name, args, kwargs in saved]
        return len(saved)

    def replay(self) -> bool:
        """Write what could not be written before, in order; False while it still fails."""
        while self.unsettled:
            name, args, kwargs = self.unsettled[0]
            try:
                getattr(self._store, name)(*args, **kwargs)
            except Exception as exc:
                if environment_trouble(exc) is None:
                    raise
                return False
            self.unsettled.pop(0)
        return True


def _to_json(value: Any) -> Any:
    from dataclasses import asdict

    from reminder.store import Delivery

    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, Delivery):
        return {"$delivery": asdict(value)}
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot save {type(value).__name__}")


def _from_json(obj: dict[str, Any]) -> Any:
    if "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    if "$delivery" in obj:
        from reminder.store import Delivery

        fields = obj["$delivery"]
        return Delivery(**{**fields, "addresses": tuple(fields.get("addresses", ())),
                           "notice_ids": tuple(fields.get("notice_ids", ()))})
    return obj


def _fingerprint(channel: Any, addresses: Sequence[str]) -> str:
    fingerprint = getattr(channel, "fingerprint", None)
    return str(fingerprint(addresses)) if callable(fingerprint) else getattr(channel, "name", "")


def _rate_windows(channel: Any, name: str,
                  message: Any) -> list[tuple[tuple[str, str], tuple[int, float]]]:
    """Every (key, limit) one message counts against, for channels with several limits at
    once (a WeCom app: each member's minute and hour, the app's day); [] for the others."""
    windows = getattr(channel, "rate_windows", None)
    if not callable(windows):
        return []
    return [((name, key), limit) for key, limit in windows(message)]


def _rate_key(channel: Any, message: Any) -> str:
    rate_key = getattr(channel, "rate_key", None)
    return str(rate_key(message)) if callable(rate_key) else ""


@dataclass(frozen=True)
class _Failure:
    status: str
    provider_code: str | None
    detail: str
    retry_after: float | None = None


def _safe_send(channel: Any, message: Any) -> Any:
    """A channel that raises instead of returning a result is treated as a transient
    failure, so one bug or odd network error cannot kill the daemon."""
    try:
        return channel.send(message)
    except Exception as exc:
        log.exception("渠道 %s 抛出异常", getattr(channel, "name", "?"))
        return _Failure("retryable", None, f"{type(exc).__name__}: {exc}")


def _message(subject: str, text: str, to: tuple[str, ...], mentions: tuple[str, ...]) -> Any:
    from reminder.delivery.channels.base import Message
    from reminder.delivery.render.environment import md_safe

    # Unit names and provider errors are not the office's markup: escape them for WeCom.
    markdown = md_safe(text).replace("\n- ", "\n> ")
    return Message(subject=subject, text=text, markdown=markdown, html="", to=to,
                   mentions=mentions, mobiles=())


def _shipped_workday(day: date) -> bool:
    from reminder.plan.calendar import default_calendar  # the calendar only when asked

    return default_calendar().is_workday(day)
