"""Opening the database: engine options per dialect, migrations at start. The SQLite lock
(reminder/sqlitefile.py) is re-exported here; PostgreSQL needs none: claims use
SELECT … FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from reminder.errors import StoreError
from reminder.sqlitefile import MIGRATIONS, DaemonLock, scripted_heads, unwritable

__all__ = ["DaemonLock", "create_store_engine", "dispose_engine", "migrate", "redact",
           "scripted_heads", "sqlite_path"]

MIGRATION_LOCK = 0x72656D696E646572  # "reminder": the advisory lock key of schema migrations


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<无效的数据库地址>"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_store_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"无效的数据库地址：{url!r}", place="database.url",
            hint="SQLite 写作 sqlite:////绝对路径.db，PostgreSQL 写作 postgresql+psycopg://用户@主机/库",
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            try:
                _private(path)
            except OSError as exc:
                raise StoreError(
                    f"无法创建数据库目录：{exc.strerror}", file=path.parent,
                    hint="检查 database.url 或目录权限",
                ) from exc
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if path is None:
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        file = path

        def begin(connection) -> None:  # type: ignore[no-untyped-def]
            part = unwritable(file)
            if part is not None:
                # Before SQLite touches the file: its write to a -shm the kernel refuses is
                # SIGBUS (reminder/sqlitefile.py); this is one error line the caller handles.
                raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
                    f"数据库文件 {part} 不可写（只读或被 chattr +i 设为不可修改）"))
            _sqlite_begin(connection)

        event.listen(engine, "begin", begin)
        event.listen(engine, "connect", lambda conn, _record: _OPEN.setdefault(id(conn), (file, conn)))
        event.listen(engine, "close", lambda conn, _record: _OPEN.pop(id(conn), None))
        event.listen(engine, "close_detached", lambda conn: _OPEN.pop(id(conn), None))
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise StoreError(
                "未安装 PostgreSQL 驱动 psycopg", place="database.url",
                hint="pip install 'reminder[postgres]'",
            ) from exc
    raise StoreError(
        f"不支持的数据库：{backend}", place="database.url", hint="请使用 SQLite 或 PostgreSQL"
    )


# The SQLite connections open in this process, by id: (file, connection). dispose_engine
# leaves those of a file that can no longer be written open for good.
_OPEN: dict[int, tuple[Path, object]] = {}


def dispose_engine(engine: Engine) -> None:
    """Close the engine's connections; but not those of a SQLite file that turned read-only
    or immutable. Closing the last connection checkpoints the WAL, which writes the -shm
    through a memory map, and the kernel answers that write with SIGBUS: the process died
    at its very end, after its one line, with no exit status of its own. Left open, the
    files are closed by the kernel at exit, as after a kill: the WAL stays and SQLite
    replays it at the next open."""
    path = sqlite_path(str(engine.url))
    if path is None or unwritable(path) is None:
        engine.dispose()
        return
    import ctypes

    for key, (file, connection) in list(_OPEN.items()):
        if file == path:
            # An extra reference nothing releases: not even the interpreter's last clean-up
            # frees (and so closes) the connection.
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(connection))
            del _OPEN[key]
    engine.dispose(close=False)


def _private(path: Path) -> None:
    """Create the state directory 0700 and the database file 0600 whatever the umask (SQLite
    gives its -wal and -shm files the database file's mode). Existing folders are left alone:
    the database may live in a folder the admin chose."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        path.parent.chmod(0o700)
    if not path.exists():
        # A database was here (its daemon lock or WAL files remain): a new empty one would
        # make the daemon send every reminder again. Stop and let the admin restore it.
        traces = [p.name for p in (path.with_name(path.name + s) for s in ("-wal", "-shm",
                                                                          ".lock"))
                  if p.exists()]
        if traces:
            raise StoreError(
                f"数据库文件不见了，但这里曾有数据库（还留有 {'、'.join(traces)}），"
                "不会新建空数据库（否则提醒会全部重发）", file=path,
                hint=f"从备份或守护进程保存的 {path.name}.rescued-* 恢复为 {path.name}；"
                     f"确要从头开始，先删除 {'、'.join(traces)}")
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        path.chmod(0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets `reminder status` and `reminder done` read and write while the daemon runs;
    # the busy timeout makes the short write transactions wait instead of failing.
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: the database stays
    # consistent on power loss, only the last commits may roll back. Here that means a
    # "sent" mark at worst, i.e. one message sent again (at-least-once, never lost); in
    # exchange a dispatch no longer waits for a disk flush per message.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    # Take the write lock when a transaction starts, not at its first write: a read-then-
    # write transaction (a claim) racing `reminder done` would otherwise fail with
    # SQLITE_BUSY instead of waiting its turn.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _at_head(engine: Engine) -> bool:
    """Whether the database already is at the newest revision, asked without alembic:
    importing it was a fifth of every `run --once` start (issue 21). Any doubt (no version
    table, an error) says no, and :func:`migrate` takes the full path, which reports it."""
    heads = scripted_heads()
    if not heads:
        return False
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return False
    return {row[0] for row in rows} == heads


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it already is)."""
    if _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    url = redact(str(engine.url))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Daemons started together on a fresh database would each create the tables
                # (duplicate key in pg_type). The first takes this lock and migrates; the
                # others wait here until it commits, then find the schema at head.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            current = _current_revisions(connection)
            unknown = current - _all_revisions(config)
            if unknown:
                raise StoreError(
                    f"数据库结构版本 {', '.join(sorted(unknown))} 比本程序新", file=url,
                    hint="请升级 reminder 后再使用此数据库",
                )
            if current != heads:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(
            f"无法打开数据库：{_first_line(exc)}", file=url,
            hint="检查 database.url、数据库服务是否运行以及访问权限",
        ) from exc
    except DBAPIError as exc:
        raise StoreError(f"数据库迁移失败：{_first_line(exc)}", file=url) from exc


def _current_revisions(connection) -> set[str]:  # type: ignore[no-untyped-def]
    from alembic.runtime.migration import MigrationContext

    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(MigrationContext.configure(connection).get_current_heads())


def _all_revisions(config) -> set[str]:  # type: ignore[no-untyped-def]
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
