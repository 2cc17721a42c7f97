"""The rules cache: what one command worked out about the deadline rules, kept for the next.

It lives in the user's cache directory (``platformdirs.user_cache_dir("reminder")``, on Linux
``~/.cache/reminder``), never in a plan folder or the database: it holds nothing but what the
program can work out again from the rule files, so deleting it only costs the next run the
time to rebuild it. The file's name carries everything its content depends on besides the
rule files themselves — the shipped rules' content, the ``regex`` engine's file (whose compiled
programs it stores), Python's and this program's versions — and inside, user rule files are
found by the hash of their content, so an edited rule file is simply a file not seen before.

A cache that cannot be read, is damaged or cannot be written is ignored: the command works
it all out as if there were none, and says so only with ``-v``.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reminder.cli.echo import warn
from reminder.parse import engine, programs, rules
from reminder.parse.programs import Prepared
from reminder.resources import data_dir

#: Bumped when the layout of the stored data changes.
FORMAT = 3
_MAGIC = b"reminder-rules\n"


def cache_dir() -> Path:
    """``platformdirs.user_cache_dir("reminder")``. On Linux worked out here by the same rule
    (XDG_CACHE_HOME, else ~/.cache): importing platformdirs brings tempfile, shutil and
    random, which cost a start-up more than the whole cache saves on a short run
    (tests/cli/test_rulecache.py holds the two equal)."""
    if sys.platform == "linux":
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return Path(base) / "reminder"
    import platformdirs

    return Path(platformdirs.user_cache_dir("reminder", appauthor=False))


def cache_key() -> str:
    """What the stored data depends on besides the user's rule files."""
    digest = hashlib.sha256()
    digest.update(f"{FORMAT}|{sys.version}|{engine.identity()}|".encode())
    from reminder import __version__

    digest.update(__version__.encode())
    # The checks a rule file passes and the prefilter's reading of a pattern are this code's:
    # an edited source (a developer's checkout) is a new key.
    for module in (rules, programs):
        st = os.stat(module.__file__ or "")
        digest.update(f"|{st.st_size}|{st.st_mtime_ns}".encode())
    digest.update((data_dir("rules") / "deadlines.toml").read_bytes())
    return digest.hexdigest()[:20]


def holidays_stamp() -> str:
    """Names the installed ``holidays`` package without importing it (its import is what the
    cache saves): where it is, its files' size and time, its distribution's folder name."""
    import importlib.util

    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return "none"
    folder = Path(spec.origin).parent
    marks = [str(folder)]
    for name in ("__init__.py", "countries/china.py", "groups/chinese.py"):
        try:
            st = (folder / name).stat()
            marks.append(f"{name}|{st.st_size}|{st.st_mtime_ns}")
        except OSError:
            marks.append(f"{name}|-")
    marks += sorted(p.name for p in folder.parent.glob("holidays-*.dist-info"))
    return hashlib.sha256("\n".join(marks).encode()).hexdigest()[:16]


def _once(func: Any) -> Any:
    value: list[str] = []

    def get() -> str:
        if not value:
            value.append(func())
        return value[0]

    return get


def cache_file() -> Path:
    return cache_dir() / f"rules-{cache_key()}.bin"


def read(path: Path) -> Prepared:
    """The stored data, checked whole; raises on anything but a file this version wrote."""
    blob = path.read_bytes()
    if not blob.startswith(_MAGIC):
        raise ValueError("not a rules cache")
    check, payload = blob[len(_MAGIC):len(_MAGIC) + 32], blob[len(_MAGIC) + 32:]
    # The programs go to the regex engine as they are: a damaged byte must never reach it.
    if hashlib.sha256(payload).digest() != check:
        raise ValueError("checksum does not match")
    parts = marshal.loads(payload)
    if not (isinstance(parts, tuple) and len(parts) == 5 and all(isinstance(p, dict) for p in parts)):
        raise ValueError("unexpected layout")
    files, triggers, compiled, holidays, tables = parts
    return Prepared(files=files, triggers=triggers, programs=compiled, holidays=holidays,
                    tables=tables)


def write(path: Path, prepared: Prepared) -> None:
    holidays = prepared.holidays
    if len(holidays) > 64:  # years of a package release long replaced
        holidays = dict(list(holidays.items())[-64:])
    payload = marshal.dumps((prepared.files, prepared.triggers, prepared.programs, holidays,
                             prepared.tables))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a reader in another process sees the old file or the new.
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def rule_cache(verbose: bool = False) -> Iterator[None]:
    """Load the cache for the rules work of one command, and save what it added."""
    def say(message: str) -> None:
        if verbose:
            warn(message)

    try:
        path = cache_file()
    except Exception as exc:  # no home directory, no shipped rules: just no cache
        say(f"规则缓存不可用（{type(exc).__name__}），本次不用缓存")
        yield
        return
    try:
        prepared = read(path)
    except FileNotFoundError:
        prepared = Prepared()
    except Exception as exc:
        say(f"规则缓存 {path} 无法读取（{exc}），已忽略，本次重新生成")
        prepared = Prepared()
    prepared.holidays_stamp = _once(holidays_stamp)
    rules.use_prepared(prepared)
    try:
        yield
    finally:
        rules.use_prepared(None)
        if prepared.changed:
            try:
                write(path, prepared)
            except Exception as exc:
                say(f"规则缓存 {path} 无法写入（{exc}），已忽略（只影响下次启动速度）")
