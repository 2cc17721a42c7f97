"""`reminder run --once` with nothing to do, answered before SQLAlchemy is imported.

Cron starts `run --once` every few minutes, and most runs find nothing changed and nothing
due; importing the store (SQLAlchemy), the renderer (Jinja2) and the daemon was 80 % of such
a run (issue 21). For a SQLite deployment this reads, with the standard library's sqlite3,
what the full path would read first: each plan's stored sync key, the facts that go into
the keys, and whether any notice is due, held, being sent or alerted on. Only when every
plan's key is the one the daemon would compute now and nothing is due does it print the
full path's summary of an empty run and exit.

It may only skip work the full path provably would not do: any doubt (PostgreSQL, another
option, a missing database or one not at the newest schema revision, the daemon lock taken,
a plan error or a plan added or gone, quiet hours, an unsettled-sends file, any exception)
answers "not idle", and the full path runs and reports as it always did.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from reminder.config import Config

#: What the full path prints for a run that sent nothing (reminder/cli/daemon.py).
SUMMARY = "已发送 0 条提醒（0 条消息），合并 0，待重试 0，失败 0，延后 0"


def plain_run_once(args: Sequence[str]) -> tuple[Path | None, str | None] | None:
    """(--config, --now) of exactly ``run --once [--config PATH] [--now MOMENT]`` (either
    option also as ``--name=value``, each at most once); None for any other argument list."""
    if not args or args[0] != "run":
        return None
    once, values = False, {}
    rest = list(args[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--once" and not once:
            once = True
            continue
        name, eq, value = arg.partition("=")
        if name not in ("--config", "--now") or name in values:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if not value or value.startswith("-"):
            return None
        values[name] = value
    if not once:
        return None
    config = values.get("--config")
    return (Path(config) if config else None), values.get("--now")


def nothing_to_do(args: Sequence[str]) -> bool:
    """True when ``args`` is a plain `run --once` that would sync nothing and send nothing."""
    plain = plain_run_once(args)
    if plain is None:
        return False
    try:
        return _idle(*plain)
    except Exception:  # any doubt: the full path decides, and reports what it finds
        return False


def _idle(config_path: Path | None, now_text: str | None) -> bool:
    from reminder import wiring
    from reminder.sqlitefile import DaemonLock

    config = wiring.load(config_path)
    if not config.plans:
        return False  # the full path warns that nothing is configured
    database = _sqlite_file(config.database_url)
    if database is None or not database.is_file():
        return False
    now = _moment(now_text, config.timezone) if now_text else wiring.now(config)
    if config.quiet is not None and (config.quiet.workdays_only
                                     or config.quiet.until(now, config.tz) is not None):
        return False  # the full path prints when the quiet hours end (days off: its calendar)
    # Sends the database would not record at the last shutdown wait here (Daemon).
    if database.with_name(database.name + ".unsettled.json").exists():
        return False
    # The full path's first check: every channel's secret resolves (an error exits 2).
    channels = wiring.build_channels(config)
    for channel in channels.values():
        channel.close()
    lock = DaemonLock(database)
    lock.acquire()  # another daemon on this file: the full path says so
    try:
        uri = database.resolve().as_uri() + "?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
            return _unchanged(db, config, channels, now)
    finally:
        lock.release()


def _unchanged(db: sqlite3.Connection, config: Config, channels: dict[str, Any],
               now: datetime) -> bool:
    from reminder.delivery.synckey import deployment, plan_inputs, sync_key
    from reminder.plan.cache import book_state, plan_mark
    from reminder.sqlitefile import scripted_heads

    heads = scripted_heads()
    if not heads or {r[0] for r in db.execute("SELECT version_num FROM alembic_version")} != heads:
        return False
    stored = {}
    for plan_id, key, error in db.execute("SELECT id, fingerprint, error FROM plans"):
        if error is not None or key is None:
            return False
        stored[plan_id] = key
    # Anything the dispatcher would act on: an alert (run --once exits 3 on the admin's), a
    # held route it may revive, a row being sent (its lease may have run out), a due row.
    for query in ("SELECT 1 FROM alerts LIMIT 1",
                  "SELECT 1 FROM notices WHERE status = 'held' LIMIT 1",
                  "SELECT 1 FROM notices WHERE status = 'sending' LIMIT 1"):
        if db.execute(query).fetchone() is not None:
            return False
    # By the claim's own partial index: left to itself SQLite picks ix_notices_status and
    # reads every pending row (200 ms for 170k rows); a missing index is an error, i.e. "not
    # idle".
    (due,) = db.execute("SELECT min(next_attempt_at) FROM notices INDEXED BY ix_notices_pending"
                        " WHERE status = 'pending'").fetchone()
    if due is not None and datetime.fromisoformat(due).replace(tzinfo=UTC) <= now:
        return False
    folders = config.plan_folders()
    ids = [folder.resolve().name for folder in folders]
    if ids != [folder.name for folder in folders] or sorted(ids) != sorted(stored):
        return False  # a plan added, gone, renamed by a link, or two of one name
    facts = _facts(db)
    today = now.astimezone(ZoneInfo(config.timezone)).date()
    common = deployment(config, channels)
    book = book_state(config.contacts)
    return all(stored[plan_id] == sync_key(
        plan_inputs(plan_id, plan_mark(folder, book), today, False, facts), common)
        for plan_id, folder in zip(ids, folders, strict=True))


def _facts(db: sqlite3.Connection) -> tuple[Any, ...]:
    """What ``Daemon._facts`` reads through the store, read here with the same conditions:
    completions, event dates, held channels (none: a held row already answered "not idle"),
    the occurrences with a progress report, 签收 and approved 延期 (store/records.py,
    feedback.py, signing.py). A difference only changes the keys, and a changed key means
    the full path; tests/cli/test_cli_idle.py holds these equal to the store's."""
    day = date.fromisoformat
    done = {(p, t, day(d)) for p, t, d in db.execute(
        "SELECT plan_id, task_id, due FROM completions WHERE undone_at IS NULL")}
    events = {(p, t): day(d) for p, t, d in db.execute(
        "SELECT plan_id, task_id, event_date FROM events")}
    reported = {(p, t, day(d)) for p, t, d in db.execute(
        "SELECT DISTINCT plan_id, task_id, due FROM feedback "
        "WHERE kind = 'progress' AND due IS NOT NULL")}
    signed = set(db.execute("SELECT plan_id, task_id, unit FROM signatures"))
    extended = {(p, t, day(d)): day(new) for p, t, d, new in db.execute(
        "SELECT plan_id, task_id, due, coalesce(approved, requested) FROM extensions "
        "WHERE status = 'approved' ORDER BY decided_at, id")}
    return done, events, frozenset(), reported, signed, extended


def _sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL (as config.toml's [database] path writes
    it); None for PostgreSQL and anything with a driver, query or escape in it."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or any(c in url for c in "?%#"):
        return None
    path = url[len(prefix):]
    return Path(path) if path and path != ":memory:" else None


def _moment(text: str, zone: str) -> datetime:
    """--now as the full path reads it (cli/common.py parse_moment); a ValueError falls
    through to the full path, which explains the mistake."""
    moment = datetime.fromisoformat(text.strip().replace(" ", "T"))
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))
