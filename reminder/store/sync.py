"""Syncing a freshly planned list of notices into the outbox.

The outbox is the truth; planning is a pure function. Sync makes the outbox agree with a new
plan without ever sending anything twice:
- a notice whose key is new is added (unless its send time was before the cutoff: a moment the
  daemon never knew about, e.g. the months before the first start, is not caught up);
- a pending notice the plan no longer produces (deadline changed, task skipped or completed)
  is cancelled, but only inside the planned window, since outside it absence means nothing;
- a notice cancelled as obsolete or done that the plan produces again is revived if its send
  time is still ahead of the cutoff;
- a notice the deployment cannot route (no channel or robot configured for it) is kept as
  cancelled/nochannel rather than failing at send time, and revived like the above once the
  configuration can route it;
- sent, failed and folded rows are never touched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update

from reminder.models import Notice, Occurrence, Task
from reminder.store.base import StoreBase
from reminder.store.schema import (
    CANCELLED,
    DONE,
    NO_CHANNEL,
    OBSOLETE,
    PENDING,
    UNROUTABLE,
    NoticeRow,
    OccurrenceRow,
    PlanRow,
    TaskRow,
)

REVIVABLE = (OBSOLETE, DONE)


@dataclass(frozen=True, kw_only=True)
class SyncResult:
    plan: str
    added: int = 0
    cancelled: int = 0
    revived: int = 0
    updated: int = 0


# Rows per statement in bulk writes: well under SQLite's bound-variable limit, few round trips.
BATCH = 500


def content_hash(notice: Notice) -> str:
    """Everything sync may rewrite on a not-yet-sent row: equal hashes, nothing to write."""
    raw = "\x1f".join((
        notice.plan_title, notice.task, notice.title, notice.due.isoformat(), notice.occurrence,
        notice.stage, notice.step, notice.recipient, notice.channel,
        "\x1e".join(notice.addresses), "\x1e".join(notice.mentions), "\x1e".join(notice.mobiles),
        notice.send_at.isoformat(),
    ))
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()


def _content(notice: Notice, digest: str) -> dict[str, Any]:
    """The row columns a plan decides (addresses, titles and send time are not part of the
    key, so a corrected e-mail address or send time reaches the existing row)."""
    return {
        "plan_id": notice.plan, "plan_title": notice.plan_title, "task_id": notice.task,
        "title": notice.title, "due": notice.due, "occurrence": notice.occurrence,
        "stage": notice.stage, "step": notice.step, "recipient": notice.recipient,
        "channel": notice.channel, "addresses": list(notice.addresses),
        "mentions": list(notice.mentions), "mobiles": list(notice.mobiles),
        "send_at": notice.send_at, "content_hash": digest,
    }


def _batches(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


#: The columns of a new outbox row, in the order of the values ``_NewRows.add`` builds.
INSERT_COLUMNS = ("key", "plan_id", "plan_title", "task_id", "title", "due", "occurrence",
                  "stage", "step", "recipient", "channel", "addresses", "mentions", "mobiles",
                  "send_at", "content_hash", "status", "reason", "attempts", "next_attempt_at",
                  "created_at", "updated_at")
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


class _NewRows:
    """New outbox rows as bound values for one ``executemany``.

    Each value goes through its column's own SQLAlchemy type, so a row is stored exactly as
    a Core insert stores it (tests/test_store_bulk.py), but once per distinct value: a
    plan's thousands of rows share a few send times, dates and address lists, and
    converting every value of every row (datetimes to naive UTC text, lists to JSON) plus
    SQLAlchemy's per-row parameter handling was most of a first sync's time."""

    def __init__(self, session: Any) -> None:
        self.session = session
        dialect = session.get_bind().dialect
        table = NoticeRow.__table__
        self.converters = []
        for index, name in enumerate(INSERT_COLUMNS):
            process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.converters.append((index, process, {}))
        mark = _PLACEHOLDER.get(dialect.paramstyle)
        self.sql = (None if mark is None else
                    f"INSERT INTO {table.name} ({', '.join(INSERT_COLUMNS)}) "
                    f"VALUES ({', '.join([mark] * len(INSERT_COLUMNS))})")
        self.rows: list[list[Any]] = []

    def add(self, key: str, notice: Notice, now: datetime, routable: bool) -> None:
        status, reason = PENDING, None
        if notice.channel == "none":
            # Recorded so `reminder status` shows the unit lacks contacts, but never sent.
            status, reason = CANCELLED, UNROUTABLE
        elif not routable:
            status, reason = CANCELLED, NO_CHANNEL
        row = [key, notice.plan, notice.plan_title, notice.task, notice.title, notice.due,
               notice.occurrence, notice.stage, notice.step, notice.recipient, notice.channel,
               notice.addresses, notice.mentions, notice.mobiles, notice.send_at,
               content_hash(notice), status, reason, 0, notice.send_at, now, now]
        for index, process, memo in self.converters:
            value = row[index]  # hashable: a string, date, datetime or tuple of strings
            converted = memo.get(value, memo)
            if converted is memo:
                converted = memo[value] = process(value)
            row[index] = converted
        self.rows.append(row)

    def write(self) -> None:
        if self.sql is None:  # a driver with another parameter style: the usual Core insert
            for chunk in _batches(self.rows):
                self.session.execute(insert(NoticeRow.__table__),
                                     [dict(zip(INSERT_COLUMNS, row, strict=True))
                                      for row in chunk])
            return
        connection = self.session.connection()
        if connection.dialect.driver == "psycopg" and self.rows:
            # COPY: one stream instead of a statement per row, several times less work for
            # the server (psycopg adapts the converted values as it does for INSERT).
            with connection.connection.cursor() as cursor, cursor.copy(
                    f"COPY {NoticeRow.__tablename__} ({', '.join(INSERT_COLUMNS)}) "
                    "FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row)
            return
        for chunk in _batches(self.rows):
            connection.exec_driver_sql(self.sql, [tuple(row) for row in chunk])


class SyncMixin(StoreBase):
    def sync_plan(
        self,
        *,
        plan_id: str,
        title: str,
        path: str,
        fingerprint: str | None,
        tasks: Iterable[Task],
        occurrences: Iterable[Occurrence],
        notices: Sequence[Notice],
        window: tuple[date, date],
        cutoff: datetime,
        now: datetime,
        done: Iterable[tuple[str, str, date]] = (),
        keep_error: bool = False,
        routable: Callable[[Notice], bool] | None = None,
        catch_up: Collection[str] = (),
    ) -> SyncResult:
        """``keep_error``: the folder is broken and this is its last good version, so the
        recorded load error stays visible in `reminder status`. ``routable`` says whether the
        deployment has a channel for a notice (default: every channel is configured).
        ``catch_up``: keys added even when due before ``cutoff`` (a held notice planned again
        through the unit's next channel: history for the plan, not for its reader).

        Rows are compared with the plan by key and content hash and only what differs is
        written, in bulk statements: a re-sync of an unchanged plan writes no notice row."""
        def can_route(notice: Notice) -> bool:
            return routable is None or routable(notice)

        done_set = {d for d in done if d[0] == plan_id}
        wanted = {n.key: n for n in notices if n.plan == plan_id}
        added = cancelled = revived = updated = 0
        updates: list[dict[str, Any]] = []
        with self.transaction() as session:
            if self.dialect == "postgresql":
                # Two daemons syncing one plan would both insert its new keys; one would
                # fail on the unique key. Take turns per plan (SQLite's BEGIN IMMEDIATE
                # already serializes every write transaction).
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:plan))"),
                                {"plan": plan_id})
            plan = session.get(PlanRow, plan_id) or PlanRow(id=plan_id)
            plan.title, plan.path, plan.fingerprint = title, path, fingerprint
            plan.synced_at = now
            if not keep_error:
                plan.error, plan.error_at = None, None
            session.add(plan)
            session.flush()
            self._sync_tasks(session, plan_id, tasks)
            self._sync_occurrences(session, plan_id, occurrences, done_set)
            inserts = _NewRows(session)

            existing = {
                row.key: row
                for row in session.execute(
                    select(NoticeRow.id, NoticeRow.key, NoticeRow.status, NoticeRow.reason,
                           NoticeRow.attempts, NoticeRow.content_hash, NoticeRow.send_at,
                           NoticeRow.task_id, NoticeRow.due)
                    .where(NoticeRow.plan_id == plan_id))
            }
            for key, notice in wanted.items():
                row = existing.get(key)
                if row is None:
                    if notice.send_at >= cutoff or key in catch_up:
                        inserts.add(key, notice, now, can_route(notice))
                        added += 1
                elif row.status == PENDING and notice.channel != "none" and not can_route(notice):
                    updates.append({"id": row.id, "status": CANCELLED, "reason": NO_CHANNEL,
                                    "updated_at": now})
                    cancelled += 1
                elif row.status == PENDING:
                    digest = content_hash(notice)
                    if digest != row.content_hash:
                        values = {"id": row.id, **_content(notice, digest), "updated_at": now}
                        if row.attempts == 0:  # a row waiting out a retry keeps its backoff
                            values["next_attempt_at"] = notice.send_at
                        updates.append(values)
                        updated += 1
                elif (row.status == CANCELLED and notice.send_at >= cutoff
                      and (row.reason in REVIVABLE
                           or (row.reason == NO_CHANNEL and can_route(notice)))):
                    updates.append({"id": row.id, **_content(notice, content_hash(notice)),
                                    "next_attempt_at": notice.send_at, "status": PENDING,
                                    "reason": None, "updated_at": now})
                    revived += 1
            first, last = window
            for key, row in existing.items():
                if key in wanted or row.status != PENDING:
                    continue
                if first <= self.local(row.send_at).date() <= last:
                    reason = DONE if (plan_id, row.task_id, row.due) in done_set else OBSOLETE
                    updates.append({"id": row.id, "status": CANCELLED, "reason": reason,
                                    "updated_at": now})
                    cancelled += 1
            inserts.write()
            # Bulk UPDATE by primary key groups the rows by the columns they set.
            for chunk in _batches(updates):
                session.execute(update(NoticeRow), chunk)
        return SyncResult(plan=plan_id, added=added, cancelled=cancelled, revived=revived,
                          updated=updated)

    def _sync_tasks(self, session, plan_id: str, tasks: Iterable[Task]) -> None:  # type: ignore[no-untyped-def]
        wanted = {
            t.id: {"plan_id": plan_id, "id": t.id, "title": t.title,
                   "deadline_text": t.deadline_text, "units": "；".join(t.units)}
            for t in tasks
        }
        current = {
            row.id: row._asdict()
            for row in session.execute(
                select(TaskRow.plan_id, TaskRow.id, TaskRow.title, TaskRow.deadline_text,
                       TaskRow.units).where(TaskRow.plan_id == plan_id))
        }
        gone = [i for i in current if i not in wanted]
        for chunk in _batches(gone):
            session.execute(delete(TaskRow).where(TaskRow.plan_id == plan_id,
                                                  TaskRow.id.in_(chunk)))
        new = [v for i, v in wanted.items() if i not in current]
        changed = [v for i, v in wanted.items() if i in current and current[i] != v]
        for chunk in _batches(new):
            session.execute(insert(TaskRow.__table__), chunk)
        for chunk in _batches(changed):
            session.execute(update(TaskRow), chunk)

    def _sync_occurrences(self, session, plan_id: str, occurrences: Iterable[Occurrence],  # type: ignore[no-untyped-def]
                          done_set: set[tuple[str, str, date]]) -> None:
        wanted: dict[tuple[str, date], dict[str, Any]] = {}
        for occ in occurrences:
            wanted.setdefault((occ.task, occ.due), {
                "plan_id": plan_id, "task_id": occ.task, "due": occ.due,
                "nominal": occ.nominal, "kind": occ.kind, "cycle": occ.cycle,
                "status": "done" if (plan_id, occ.task, occ.due) in done_set else "open",
            })
        current = {
            (row.task_id, row.due): row._asdict()
            for row in session.execute(
                select(OccurrenceRow.id, OccurrenceRow.plan_id, OccurrenceRow.task_id,
                       OccurrenceRow.due, OccurrenceRow.nominal, OccurrenceRow.kind,
                       OccurrenceRow.cycle, OccurrenceRow.status)
                .where(OccurrenceRow.plan_id == plan_id))
        }
        gone = [row["id"] for ident, row in current.items() if ident not in wanted]
        for chunk in _batches(gone):
            session.execute(delete(OccurrenceRow).where(OccurrenceRow.id.in_(chunk)))
        new = [v for ident, v in wanted.items() if ident not in current]
        changed = []
        for ident, values in wanted.items():
            row = current.get(ident)
            if row is not None and any(row[k] != v for k, v in values.items()):
                changed.append({**values, "id": row["id"]})
        for chunk in _batches(new):
            session.execute(insert(OccurrenceRow.__table__), chunk)
        for chunk in _batches(changed):
            session.execute(update(OccurrenceRow), chunk)

    def earliest_pending(self, plan_id: str) -> datetime | None:
        """The oldest pending send time of one plan: asked only of the plans a sync re-plans,
        through that plan's rows (ix_notices_occurrence), so one changed plan among a hundred
        reads its own notices and not every pending row of the store."""
        with self.transaction() as session:
            # `status || ''` keeps SQLite off ix_notices_status, which it picks otherwise and
            # which walks every pending row of every plan (SQLite's dialect renders no hints).
            return session.scalar(select(func.min(NoticeRow.send_at)).where(
                NoticeRow.plan_id == plan_id, NoticeRow.status + "" == PENDING))

    def record_plan_error(self, plan_id: str, path: str, message: str, now: datetime) -> None:
        """Remember why a plan folder stopped loading; its last good notices stay as they are."""
        with self.transaction() as session:
            plan = session.get(PlanRow, plan_id) or PlanRow(id=plan_id, title="", path=path)
            plan.error, plan.error_at = message, now
            session.add(plan)

    def plan_rows(self) -> list[PlanRow]:
        return self._rows(PlanRow)
