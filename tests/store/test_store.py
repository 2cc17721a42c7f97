"""The store on real databases: SQLite files in tmp_path, PostgreSQL on 127.0.0.1:5432."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.script import ScriptDirectory
from servers import fresh_postgres
from sqlalchemy import create_engine, text, update

from reminder.errors import StoreError
from reminder.models import Notice, Occurrence, Task
from reminder.store import (
    CANCELLED,
    DONE,
    HELD,
    OBSOLETE,
    PENDING,
    REROUTED,
    SENDING,
    SENT,
    UNROUTABLE,
    DaemonLock,
    Delivery,
    Store,
    open_store,
)
from reminder.store.engine import MIGRATIONS
from reminder.store.schema import NoticeRow

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "demo-2026"
ME, OTHER = "host:1:aaaa", "host:2:bbbb"
LEASE = timedelta(minutes=5)


def at(day: str, clock: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


def notice(task: str = "1", due: str = "2026-06-30", send: str = "2026-06-23", *,
           stage: str = "remind", step: str = "5wd", recipient: str = "法规科",
           channel: str = "email", addresses: tuple[str, ...] = ("fagui@example.gov.cn",),
           ) -> Notice:
    return Notice(
        send_at=at(send), stage=stage, step=step, plan=PLAN,  # type: ignore[arg-type]
        plan_title="示例方案", task=task, title=f"任务{task}", due=date.fromisoformat(due),
        recipient=recipient, channel=channel, addresses=addresses, occurrence=due,
    )


def sync(store: Store, notices: list[Notice], now: datetime, *,
         window: tuple[str, str] = ("2026-01-01", "2026-12-31"),
         cutoff: datetime | None = None, done: set[tuple[str, str, date]] | None = None,
         ) -> object:
    tasks = [Task(id=t, title=f"任务{t}", deadline_text="6月底前") for t in
             sorted({n.task for n in notices} | {"1"})]
    occs = [Occurrence(plan=PLAN, task=n.task, kind="once", nominal=n.due, due=n.due)
            for n in notices]
    return store.sync_plan(
        plan_id=PLAN, title="示例方案", path="/plans/demo-2026", fingerprint="f1",
        tasks=tasks, occurrences=occs, notices=notices,
        window=(date.fromisoformat(window[0]), date.fromisoformat(window[1])),
        cutoff=cutoff or at("2026-01-01", "00:00"), now=now, done=done or set(),
    )


def statuses(store: Store) -> dict[str, tuple[str, str | None]]:
    return {f"{r.task_id}/{r.stage}/{r.step}": (r.status, r.reason) for r in store.notices()}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'reminder.db'}")
    yield s
    s.dispose()


# -- schema --------------------------------------------------------------------------------

def test_migration_matches_models_and_reopening_is_a_noop(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from reminder.store.schema import Base

    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = open_store(url)
    first.dispose()
    store = open_store(url)  # second open: already at head
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        assert head is not None and head >= "0003"
        assert conn.execute(text("select version_num from alembic_version")).scalar() == head
    store.dispose()


def test_database_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_store(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("update alembic_version set version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="比本程序新"):
        open_store(url)


@pytest.mark.parametrize("url, message", [
    ("nonsense://", "不支持的数据库|无效的数据库地址"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/none", "无法打开数据库"),
], ids=["unknown-scheme", "postgres-unreachable"])
def test_unusable_database_is_one_line_store_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as info:
        open_store(url)
    assert "\n" not in str(info.value)


def test_sqlite_directory_is_created(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path / 'state' / 'deep' / 'r.db'}").dispose()
    assert (tmp_path / "state" / "deep" / "r.db").is_file()


# -- sync ----------------------------------------------------------------------------------

def test_planning_twice_adds_nothing(store: Store) -> None:
    planned = [notice(), notice(send="2026-06-29", step="1wd"), notice(task="2")]
    first = sync(store, planned, at("2026-06-01"))
    second = sync(store, planned, at("2026-06-01", "10:00"))
    assert (first.added, second.added, second.cancelled) == (3, 0, 0)
    assert len(store.notices()) == 3


def test_changed_deadline_cancels_old_notices_and_adds_new(store: Store) -> None:
    sync(store, [notice(due="2026-06-30", send="2026-06-23")], at("2026-06-01"))
    result = sync(store, [notice(due="2026-07-31", send="2026-07-24")], at("2026-06-02"))
    assert (result.added, result.cancelled) == (1, 1)
    rows = {r.due.isoformat(): (r.status, r.reason) for r in store.notices()}
    assert rows == {"2026-06-30": (CANCELLED, OBSOLETE), "2026-07-31": (PENDING, None)}


def test_sent_notice_is_never_sent_again_or_cancelled(store: Store) -> None:
    n = notice(send="2026-06-01")
    sync(store, [n], at("2026-06-01", "08:00"))
    [claimed] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.mark_sent([claimed.id], ME, at("2026-06-01"), Delivery(channel="email",
                                                                 recipient="法规科"))
    sync(store, [n], at("2026-06-01", "10:00"))  # still planned: stays sent
    sync(store, [], at("2026-06-01", "11:00"))  # no longer planned: still sent
    assert statuses(store) == {"1/remind/5wd": (SENT, None)}
    assert store.claim(at("2026-06-02"), ME, lease=LEASE) == []


def test_earliest_pending_is_the_plans_oldest_send_still_to_go(store: Store) -> None:
    assert store.earliest_pending(PLAN) is None
    first, later = notice(send="2026-06-01"), notice(task="2", send="2026-06-10")
    sync(store, [first, later], at("2026-06-01", "08:00"))
    assert store.earliest_pending(PLAN) == at("2026-06-01")
    [claimed] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.mark_sent([claimed.id], ME, at("2026-06-01"), Delivery(channel="email",
                                                                 recipient="法规科"))
    assert store.earliest_pending(PLAN) == at("2026-06-10")  # sent rows no longer count
    assert store.earliest_pending("other-plan") is None


def test_only_inside_the_window_is_absence_a_cancellation(store: Store) -> None:
    sync(store, [notice(send="2026-06-23"), notice(task="2", send="2026-09-01")],
         at("2026-06-01"))
    sync(store, [], at("2026-06-02"), window=("2026-06-02", "2026-08-01"))
    assert statuses(store) == {"1/remind/5wd": (CANCELLED, OBSOLETE),
                               "2/remind/5wd": (PENDING, None)}


def test_notices_before_the_cutoff_are_history_not_catch_up(store: Store) -> None:
    result = sync(store, [notice(send="2026-05-01"), notice(task="2", send="2026-06-02")],
                  at("2026-06-02", "10:00"), cutoff=at("2026-06-02", "00:00"))
    assert result.added == 1
    assert [r.task_id for r in store.notices()] == ["2"]


def test_unit_without_contacts_is_recorded_but_never_sent(store: Store) -> None:
    sync(store, [notice(channel="none", addresses=())], at("2026-06-01"))
    assert statuses(store) == {"1/remind/5wd": (CANCELLED, UNROUTABLE)}
    assert store.claim(at("2026-07-01"), ME, lease=LEASE) == []


def test_corrected_address_reaches_the_pending_row(store: Store) -> None:
    sync(store, [notice()], at("2026-06-01"))
    sync(store, [notice(addresses=("new@example.gov.cn",))], at("2026-06-01", "10:00"))
    [row] = store.notices()
    assert row.addresses == ["new@example.gov.cn"]


def test_plan_error_is_kept_while_the_last_good_version_runs(store: Store) -> None:
    sync(store, [notice()], at("2026-06-01"))
    store.record_plan_error(PLAN, "/plans/demo-2026", "plan.toml:3: TOML 格式错误",
                            at("2026-06-02"))
    store.sync_plan(plan_id=PLAN, title="示例方案", path="/p", fingerprint="f1", tasks=[],
                    occurrences=[], notices=[notice()], window=(date(2026, 6, 2),
                                                                date(2026, 8, 1)),
                    cutoff=at("2026-06-02", "00:00"), now=at("2026-06-02"), keep_error=True)
    assert store.plan_errors()[PLAN][0] == "plan.toml:3: TOML 格式错误"
    sync(store, [notice()], at("2026-06-03"))  # loads again: error cleared
    assert store.plan_errors() == {}


# -- completions and events ----------------------------------------------------------------

def test_done_cancels_pending_and_undo_revives_them(store: Store) -> None:
    sync(store, [notice(), notice(task="2")], at("2026-06-01"))
    due = date(2026, 6, 30)
    assert store.mark_done(PLAN, "1", due, by="李四", note="已公开", now=at("2026-06-02")) == 1
    assert statuses(store)["1/remind/5wd"] == (CANCELLED, DONE)
    assert store.done_set() == {(PLAN, "1", due)}
    # Re-planning with the completion must not bring the notice back.
    sync(store, [notice(task="2")], at("2026-06-03"), done={(PLAN, "1", due)})
    assert statuses(store)["1/remind/5wd"] == (CANCELLED, DONE)
    assert store.reopen(PLAN, "1", due, by="李四", now=at("2026-06-04")) == 1
    assert statuses(store)["1/remind/5wd"] == (PENDING, None)
    assert store.done_set() == set()
    [completion] = store.completions()
    assert (completion.done_by, completion.note, completion.undone_by) == ("李四", "已公开", "李四")


def test_undo_of_something_not_done_says_so(store: Store) -> None:
    assert store.reopen(PLAN, "1", date(2026, 6, 30), by="x", now=at("2026-06-01")) == -1


def test_event_is_recorded_once_per_task(store: Store) -> None:
    store.set_event(PLAN, "7", date(2026, 5, 6), by="x", now=at("2026-05-06"))
    store.set_event(PLAN, "7", date(2026, 5, 8), by="x", now=at("2026-05-08"))
    assert store.events() == {(PLAN, "7"): date(2026, 5, 8)}


def test_change_marker_moves_with_commands(store: Store) -> None:
    before = store.change_marker()
    store.set_event(PLAN, "7", date(2026, 5, 6), by="x", now=at("2026-05-06"))
    assert store.change_marker() != before


def test_task_status(store: Store) -> None:
    sync(store, [notice(send="2026-06-23"), notice(task="2", due="2026-05-29",
                                                   send="2026-06-01", stage="overdue", step="1wd")],
         at("2026-05-20"))
    [claimed] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.mark_failed([claimed.id], ME, at("2026-06-01"), error="550 no such user",
                      delivery=None)
    rows = {r.task: r for r in store.task_status(date(2026, 6, 2))}
    assert (rows["1"].overdue, rows["1"].pending, rows["1"].next_due) == (False, 1,
                                                                          date(2026, 6, 30))
    assert (rows["2"].overdue, rows["2"].failures, rows["2"].last_error) == (
        True, 1, "550 no such user")


# -- claims and leases -------------------------------------------------------------------

def test_claim_takes_due_rows_once(store: Store) -> None:
    sync(store, [notice(send="2026-06-01"), notice(task="2", send="2026-06-05")],
         at("2026-06-01", "08:00"))
    claimed = store.claim(at("2026-06-01"), ME, lease=LEASE)
    assert [c.notice.task for c in claimed] == ["1"]
    assert claimed[0].notice.send_at == at("2026-06-01")
    assert store.claim(at("2026-06-01", "09:01"), OTHER, lease=LEASE) == []
    assert store.next_wake() == at("2026-06-01", "09:05")  # the lease, before 06-05


def test_expired_lease_is_claimed_again(store: Store) -> None:
    sync(store, [notice(send="2026-06-01")], at("2026-06-01", "08:00"))
    [first] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    # ME stalled mid-send. After the lease, OTHER takes the row; ME's late "sent" is ignored.
    [again] = store.claim(at("2026-06-01", "09:05"), OTHER, lease=LEASE)
    assert again.id == first.id
    assert store.mark_sent([first.id], ME, at("2026-06-01", "09:06"),
                           Delivery(channel="email", recipient="法规科")) == 0
    assert store.notices()[0].claimed_by == OTHER
    assert store.mark_sent([again.id], OTHER, at("2026-06-01", "09:06"),
                           Delivery(channel="email", recipient="法规科", provider_code="250",
                                    detail="250 OK", notice_ids=[again.id])) == 1
    [row] = store.notices()
    assert (row.status, row.attempts, row.provider_code) == (SENT, 1, "250")
    # ME's message did go out, so it is recorded too: deliveries say what was sent.
    assert [(d.claimant, d.detail) for d in store.deliveries()] == [(ME, ""), (OTHER, "250 OK")]


def test_retry_and_release(store: Store) -> None:
    sync(store, [notice(send="2026-06-01")], at("2026-06-01", "08:00"))
    [c] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.mark_retry([c.id], ME, at("2026-06-01"), next_attempt_at=at("2026-06-01", "09:02"),
                     error="timeout", delivery=None)
    assert store.claim(at("2026-06-01", "09:01"), ME, lease=LEASE) == []
    [c] = store.claim(at("2026-06-01", "09:02"), ME, lease=LEASE)
    assert c.attempts == 1
    store.release([c.id], ME, at("2026-06-01", "09:02"))
    [row] = store.notices()
    assert (row.status, row.attempts, row.last_error, row.claimed_by) == (
        PENDING, 1, "timeout", None)


@pytest.mark.parametrize("how", ["retry", "config changed"])
def test_a_held_notice_another_channel_took_is_cancelled_not_requeued(store: Store,
                                                                      how: str) -> None:
    # 法规科's app message was held (60020); the daemon planned the same reminder by email
    # (its order's next channel), due before the cutoff and added all the same, and it went
    # out. Once the app works again, the held row must not be sent on top of it.
    app = notice(send="2026-06-01", channel="wecom_app", addresses=("fagui01",))
    other = notice(task="2", send="2026-06-01", channel="wecom_app", addresses=("fagui01",))
    sync(store, [app, other], at("2026-06-01", "08:00"))
    claimed = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.mark_held([c.id for c in claimed], ME, at("2026-06-01"), fingerprint="fp",
                    error="60020", delivery=None)
    [(plan, stuck)] = store.held_notices({"wecom_app"}).items()
    assert plan == PLAN and sorted(h.task for h in stuck) == ["1", "2"]
    assert stuck[0].identity == ("1", date(2026, 6, 30), "remind", "5wd", "法规科")
    assert store.held_notices({"sms"}) == {}
    mail = notice(send="2026-06-01")
    sync(store, [mail], at("2026-06-02"), cutoff=at("2026-06-02", "00:00"))  # history
    assert len(store.notices()) == 2
    store.sync_plan(plan_id=PLAN, title="示例方案", path="/plans/demo-2026", fingerprint="f1",
                    tasks=[], occurrences=[], notices=[mail],
                    window=(date(2026, 6, 1), date(2026, 12, 31)),
                    cutoff=at("2026-06-02", "00:00"), now=at("2026-06-02"), catch_up={mail.key})
    [c] = store.claim(at("2026-06-02"), ME, lease=LEASE)
    assert c.notice.channel == "email"
    store.mark_sent([c.id], ME, at("2026-06-02"), Delivery(channel="email", recipient="法规科"))
    if how == "retry":
        result = store.retry(at("2026-06-03"), date(2026, 6, 3))
        assert (result.requeued, result.closed, result.rerouted) == (1, 0, 1)
    else:
        ids = [i for route in store.held_routes() for i in route.ids]
        assert store.release_held(ids, at("2026-06-03")) == 1
    rows = {(r.task_id, r.channel): (r.status, r.reason) for r in store.notices()}
    assert rows == {("1", "wecom_app"): (CANCELLED, REROUTED), ("1", "email"): (SENT, None),
                    ("2", "wecom_app"): (PENDING, None)}  # no twin: sent as it was
    assert HELD not in {status for status, _ in rows.values()}


def test_renew_extends_only_the_claimants_rows_still_sending(store: Store) -> None:
    """A long pass keeps its own queued rows; it must not extend another daemon's lease, a
    row it already finished, or a row it did not name."""
    sync(store, [notice(task=t, send="2026-06-01") for t in ("1", "2", "3")]
         + [notice(task="4", send="2026-06-01", recipient="办公室")], at("2026-06-01", "08:00"))
    mine = store.claim(at("2026-06-01"), ME, lease=LEASE, limit=3)
    ids = {c.notice.task: c.id for c in mine}
    assert store.mark_sent([ids["3"]], ME, at("2026-06-01", "09:01"),
                           Delivery(channel="email", recipient="法规科")) == 1
    [theirs] = store.claim(at("2026-06-01"), OTHER, lease=LEASE)
    assert store.renew([], ME, at("2026-06-01", "10:00")) == 0
    later = at("2026-06-01", "09:30")
    assert store.renew([ids["1"], ids["3"], theirs.id], ME, later) == 1
    leases = {r.task_id: (r.status, r.lease_until) for r in store.notices()}
    assert leases["1"] == (SENDING, later)
    assert leases["2"] == (SENDING, at("2026-06-01", "09:05"))  # not named: unchanged
    assert leases["4"] == (SENDING, at("2026-06-01", "09:05"))  # OTHER's row: unchanged
    assert leases["3"][0] == SENT


def test_live_stages_match_the_whole_occurrence_and_skip_cancelled(store: Store) -> None:
    """What a late sender asks before an escalation: exactly this plan, task, due date,
    recipient and channel, not cancelled."""
    sync(store, [
        notice(send="2026-06-23"),
        notice(send="2026-07-01", stage="overdue", step="1d"),
        notice(task="2", send="2026-06-23", stage="escalate", step="#1"),
        notice(due="2026-09-30", send="2026-09-23", stage="escalate", step="#1"),
        notice(send="2026-06-23", stage="due", step="0", recipient="办公室",
               addresses=("ban@example.gov.cn",)),
        notice(send="2026-06-23", stage="escalate", step="#1", channel="wecom",
               addresses=("办公室群",)),
    ], at("2026-06-01", "08:00"))
    args = (PLAN, "1", date(2026, 6, 30), "法规科", "email")
    assert store.live_stages(*args) == {"remind", "overdue"}
    assert store.live_stages("another-plan", *args[1:]) == set()
    store.mark_done(PLAN, "1", date(2026, 6, 30), by="法规科", note="", now=at("2026-06-02"))
    assert store.live_stages(*args) == set()


def test_notices_filter_by_column_in_send_order(store: Store) -> None:
    sync(store, [notice(task="2", send="2026-06-05"), notice(task="1", send="2026-06-20"),
                 notice(task="3", send="2026-06-05", recipient="办公室")],
         at("2026-06-01", "08:00"))
    assert [(r.task_id, r.send_at.date().isoformat()) for r in store.notices()] == [
        ("2", "2026-06-05"), ("3", "2026-06-05"), ("1", "2026-06-20")]
    assert [r.task_id for r in store.notices(recipient="办公室")] == ["3"]
    assert [r.task_id for r in store.notices(recipient="法规科", task_id="1")] == ["1"]


def test_a_split_digests_message_is_recorded_before_its_notices_finish(store: Store) -> None:
    sync(store, [notice(send="2026-06-01")], at("2026-06-01", "08:00"))
    [c] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.record_delivery(Delivery(channel="wecom", recipient="法规科", provider_code="0",
                                   detail="part 1/2", notice_ids=[c.id]),
                          ME, at("2026-06-01", "09:00:30"))
    [d] = store.deliveries()
    assert (d.channel, d.recipient, d.claimant, d.provider_code, d.detail) == (
        "wecom", "法规科", ME, "0", "part 1/2")
    assert d.attempted_at == at("2026-06-01", "09:00:30")
    assert store.notices()[0].status == SENDING  # the notice itself is not finished yet


# -- one daemon per SQLite file ------------------------------------------------------------

def test_second_daemon_lock_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "reminder.db"
    with DaemonLock(db):
        with pytest.raises(StoreError, match="另一个 reminder 守护进程") as info:
            DaemonLock(db).acquire()
        assert "PostgreSQL" in str(info.value)
    with DaemonLock(db):  # released: a new daemon may start
        pass


# -- PostgreSQL ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with fresh_postgres("reminder_test") as url:
        yield url


@pytest.fixture
def pg(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE notices, deliveries, delivery_notices, completions, "
                          "events, occurrences, tasks, plans, rate_windows, alerts RESTART IDENTITY CASCADE"))
    yield store
    store.dispose()


def test_postgres_migration_matches_models(pg: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from reminder.store.schema import Base

    with pg.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_postgres_two_claimants_skip_each_others_rows(pg: Store, pg_url: str) -> None:
    sync(pg, [notice(task=str(i), send="2026-06-01") for i in range(1, 7)],
         at("2026-06-01", "08:00"))
    now = at("2026-06-01")
    other = open_store(pg_url)
    try:
        # Daemon A has selected and locked two rows but not committed yet...
        with pg.transaction() as session_a:
            held = session_a.execute(pg._due_rows(now, 2)).all()
            assert len(held) == 2
            # ...daemon B must neither wait for A (lock_timeout turns waiting into an error)
            # nor take A's rows.
            with other.engine.connect() as conn:
                conn.execute(text("SET lock_timeout = '2s'"))
            other_claims = _claim_with_lock_timeout(other, now)
            assert len(other_claims) == 4
            assert {c.id for c in other_claims}.isdisjoint(r.id for r in held)
            session_a.execute(update(NoticeRow).where(NoticeRow.id.in_([r.id for r in held]))
                              .values(status=SENDING, claimed_by=ME, lease_until=now + LEASE))
        assert {r.claimed_by for r in pg.notices()} == {ME, OTHER}
        assert other.claim(now, OTHER, lease=LEASE) == []
    finally:
        other.dispose()


def _claim_with_lock_timeout(store: Store, now: datetime) -> list:
    from sqlalchemy import event

    def set_timeout(conn, *_args):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")

    event.listen(store.engine, "begin", set_timeout)
    try:
        return store.claim(now, OTHER, lease=LEASE)
    finally:
        event.remove(store.engine, "begin", set_timeout)


def test_postgres_times_round_trip_as_utc(pg: Store) -> None:
    sync(pg, [notice(send="2026-06-01")], at("2026-06-01", "08:00"))
    [row] = pg.notices()
    assert row.send_at == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert pg.next_wake() == at("2026-06-01")


def test_postgres_daemons_syncing_one_plan_at_once_take_turns(pg: Store, pg_url: str) -> None:
    import threading

    planned = [notice(task=str(i), send="2026-06-23") for i in range(1, 41)]
    others = [open_store(pg_url) for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run(store: Store) -> None:
        barrier.wait()
        try:
            sync(store, planned, at("2026-06-01"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in [pg, *others]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in others:
        s.dispose()
    assert errors == []
    assert len(pg.notices()) == 40


def test_postgres_daemons_migrating_a_fresh_database_at_once_all_start() -> None:
    """Without the advisory lock, 2 of 3 died with duplicate key … pg_type_typname_nsp_index."""
    import threading

    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    opened: list[Store] = []
    with fresh_postgres("reminder_race") as url:

        def start() -> None:
            barrier.wait()
            try:
                opened.append(open_store(url))
            except BaseException as exc:  # collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(4)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert (errors, len(opened)) == ([], 4)
            with opened[0].engine.connect() as conn:
                head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
                assert conn.execute(text("select version_num from alembic_version")).scalar() == head
        finally:
            for store in opened:
                store.dispose()


def test_new_state_directory_and_database_are_private_whatever_the_umask(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        store = open_store(f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
        store.notices()  # WAL files exist once a connection is open
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "state").iterdir()}
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    assert modes["reminder.db"] == 0o600
    assert all(mode == 0o600 for name, mode in modes.items() if name.startswith("reminder.db"))
    store.dispose()


def test_a_claim_cut_by_its_limit_keeps_the_last_recipients_rows_together(store: Store) -> None:
    planned = [notice(task=str(i), send="2026-06-01", recipient="法规科") for i in range(1, 4)]
    planned += [notice(task=str(i), send="2026-06-01", recipient="办公室",
                       addresses=("bgs@example.gov.cn",)) for i in range(4, 9)]
    sync(store, planned, at("2026-06-01", "08:00"))
    claimed = store.claim(at("2026-06-01"), ME, lease=LEASE, limit=4)
    # The limit took one row of 办公室's five: the other four come along, for one digest.
    assert sorted(int(c.notice.task) for c in claimed) == list(range(1, 9))



def test_a_claim_takes_the_oldest_due_rows_first_and_respects_its_limit(store: Store) -> None:
    """Under a backlog the oldest notices go first, expired leases before pending rows, and
    a limit cut completes only its last recipient's rows on that channel."""
    planned = [notice(task="1", send="2026-06-03", recipient="甲", addresses=("a@x.cn",)),
               notice(task="2", send="2026-06-01", recipient="乙", addresses=("b@x.cn",)),
               notice(task="3", send="2026-06-02", recipient="丙", addresses=("c@x.cn",)),
               notice(task="4", send="2026-06-02", recipient="丙", channel="wecom",
                      addresses=("丙群",)),
               notice(task="5", send="2026-06-01", recipient="丁", addresses=("d@x.cn",))]
    sync(store, planned, at("2026-06-01", "08:00"))
    stalled = store.claim(at("2026-06-01"), OTHER, lease=LEASE, limit=2)
    assert [c.notice.task for c in stalled] == ["2", "5"]  # 06-01 first; id breaks the tie
    now = at("2026-06-04")
    assert [c.notice.task for c in store.claim(now, ME, lease=LEASE, limit=1)] == ["2"]
    first = store.claim(now, ME, lease=LEASE, limit=2)
    assert [c.notice.task for c in first] == ["5", "3"]  # OTHER's expired lease goes first
    assert [c.notice.channel for c in first] == ["email", "email"]
    assert [c.notice.task for c in store.claim(now, ME, lease=LEASE)] == ["4", "1"]


def test_a_claim_of_more_rows_than_one_update_batch_takes_them_all(store: Store) -> None:
    sync(store, [notice(task=str(i), send="2026-06-01") for i in range(1, 1203)],
         at("2026-06-01", "08:00"))
    claimed = store.claim(at("2026-06-01"), ME, lease=LEASE, limit=2000)
    assert len(claimed) == 1202
    assert {(r.status, r.claimed_by) for r in store.notices()} == {(SENDING, ME)}


def test_sent_records_when_and_clears_the_last_error(store: Store) -> None:
    sync(store, [notice(send="2026-06-01")], at("2026-06-01", "08:00"))
    [c] = store.claim(at("2026-06-01"), ME, lease=LEASE)
    store.mark_retry([c.id], ME, at("2026-06-01"), next_attempt_at=at("2026-06-01", "09:02"),
                     error="timeout", delivery=None)
    [c] = store.claim(at("2026-06-01", "09:02"), ME, lease=LEASE)
    assert store.mark_sent([], ME, at("2026-06-01", "09:03"),
                           Delivery(channel="email", recipient="法规科")) == 0
    sent = at("2026-06-01", "09:03")
    assert store.mark_sent([c.id], ME, sent, Delivery(
        channel="email", recipient="法规科", addresses=("fagui@example.gov.cn",),
        subject="【提醒】任务1", notice_ids=[c.id])) == 1
    [row] = store.notices()
    assert (row.status, row.sent_at, row.last_error, row.attempts, row.lease_until) == (
        SENT, sent, None, 2, None)
    [delivery] = store.deliveries()
    assert (delivery.addresses, delivery.subject) == (["fagui@example.gov.cn"], "【提醒】任务1")


def test_postgres_marks_sent_in_its_own_commit_mode(pg: Store) -> None:
    """The send record's transaction sets its own synchronous_commit (see _finish): the
    statement must be valid PostgreSQL, and the row and its delivery must be recorded."""
    sync(pg, [notice(send="2026-06-01")], at("2026-06-01", "08:00"))
    [c] = pg.claim(at("2026-06-01"), ME, lease=LEASE)
    assert pg.mark_sent([c.id], ME, at("2026-06-01", "09:01"), Delivery(
        channel="email", recipient="法规科", notice_ids=[c.id])) == 1
    [row] = pg.notices()
    assert (row.status, row.sent_at) == (SENT, at("2026-06-01", "09:01"))
    assert len(pg.deliveries()) == 1
