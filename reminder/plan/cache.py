"""The one plan cache: each configured plan folder loaded once per version of its files.

The daemon, the web pages and `reminder done` all read plans through it, so a plan edited on
disk is seen the same way everywhere, and a folder that stops loading keeps its last good
version where that matters (the daemon) while a page says it is broken.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reminder.errors import ReminderError


def fingerprint(folder: Path) -> str:
    """Changes whenever a file in the plan folder is added, removed or rewritten."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__"
                                      for p in path.relative_to(folder).parts):
            st = path.stat()
            digest.update(f"{path.relative_to(folder)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def book_state(path: Path | None) -> str:
    """The 通讯录's file state, part of every plan's mark ("" without a sheet)."""
    if path is None:
        return ""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}|{st.st_mtime_ns}"


def plan_mark(folder: Path, book: str) -> str:
    """A plan folder's mark as the daemon stores it: its files and the 通讯录's state."""
    mark = fingerprint(folder)
    if book:  # same length as a plain fingerprint: the store keeps it in one column
        mark = hashlib.sha256(f"{mark}|{book}".encode()).hexdigest()
    return mark


@dataclass
class Loaded:
    plan: Any
    fingerprint: str


class PlanCache:
    """Plan folders by folder, each with the last version that loaded and, while its current
    files do not load, their error.

    ``folders`` is called anew at each refresh, so folders added to a plans directory are
    found. The 通讯录 (``contacts``) is part of every plan's fingerprint: an edited sheet
    re-plans every plan, and a sheet that no longer reads keeps the last good one."""

    def __init__(self, folders: Callable[[], Sequence[Path]], *, rules: Sequence[Path] = (),
                 contacts: Path | None = None, timezone: str | None = None,
                 loader: Callable[..., Any] | None = None,
                 on_book_error: Callable[[ReminderError, bool], None] | None = None,
                 source: Path | None = None) -> None:
        self._folders = folders
        self.source = source  # the config file that lists the folders, for errors
        self.rules = tuple(rules)
        self.contacts = contacts
        self.timezone = timezone  # the deployment's: it wins over a policy's
        self._loader = loader
        self._on_book_error = on_book_error
        self.good: dict[Path, Loaded] = {}
        self.broken: dict[Path, tuple[str, ReminderError]] = {}  # folder -> (mark, error)
        self.book: Any = None  # the 通讯录 last read well, and the file state it was read at
        self.book_mark = ""
        self._lock = threading.RLock()
        self._told: set[tuple[Path, str]] = set()  # broken versions refresh() reported

    def folders(self) -> list[Path]:
        return list(self._folders())

    def load(self, path: Path) -> Any:
        if self._loader is None:
            from reminder.plan.folder import load_plan

            self._loader = load_plan
        options: dict[str, Any] = {"extra_rules": self.rules}
        if self.book is not None:
            options["contacts"] = self.book
        if self.timezone is not None:
            options["timezone"] = self.timezone
        return self._loader(path, **options)

    def _refresh_book(self) -> str:
        """Re-read the 通讯录 when it changed. Returns its state, part of every fingerprint."""
        path = self.contacts
        mark = book_state(path)
        if path is not None and mark != self.book_mark:
            from reminder.plan.contacts import read_book

            self.book_mark = mark
            try:
                self.book = read_book(path)
            except ReminderError as err:
                if self._on_book_error is not None:
                    self._on_book_error(err, self.book is not None)
                else:  # no one to tell: fail this read, try the sheet again next time
                    self.book_mark = ""
                    raise
        return mark

    def _update(self, folder: Path, book: str) -> bool:
        """Load the folder when its files changed; True when a new version loaded."""
        mark = plan_mark(folder, book)
        known = self.good.get(folder)
        if known is not None and known.fingerprint == mark and folder not in self.broken:
            return False
        if folder in self.broken and self.broken[folder][0] == mark:
            return False
        try:
            plan = self.load(folder)
        except ReminderError as err:
            self.broken[folder] = (mark, err)
            raise
        self.broken.pop(folder, None)
        self.good[folder] = Loaded(plan=plan, fingerprint=mark)
        return True

    def refresh(self, on_error: Callable[[Path, ReminderError, bool], None],
                unchanged: Callable[[Path, str], bool] | None = None) -> list[Path]:
        """Bring every folder up to date; the folders that loaded a new version. A folder
        that no longer loads keeps its last good version and goes to ``on_error`` (folder,
        error, whether an older version is kept) once per version of its files.

        ``unchanged(folder, fingerprint)``: True for a folder never loaded here that need not
        be (a fresh `run --once` whose database says that version was already synced); it
        stays unloaded until asked for (:meth:`get`) or a later refresh without it."""
        with self._lock:
            try:
                folders = self.folders()
            except ReminderError as err:  # a folder vanished: keep running what we have
                on_error(Path(), err, True)
                folders = list(self.good)
            book = self._refresh_book()
            loaded: list[Path] = []
            for folder in folders:
                if (unchanged is not None and folder not in self.good
                        and folder not in self.broken and unchanged(folder, plan_mark(folder, book))):
                    continue
                try:
                    if self._update(folder, book):
                        loaded.append(folder)
                except ReminderError:
                    pass
                broken = self.broken.get(folder)
                # Told once per version of the files, even when a page's get() found it first.
                if broken is not None and (folder, broken[0]) not in self._told:
                    self._told.add((folder, broken[0]))
                    on_error(folder, broken[1], folder in self.good)
            return loaded

    def get(self, plan_id: str, warn: Callable[[str], None] | None = None) -> Any | None:
        """The plan whose folder is named ``plan_id`` as its files are now; None when there
        is no such folder or its files do not load (``warn`` is told why)."""
        try:
            folder = next((f for f in self.folders() if f.name == plan_id), None)
        except ReminderError as err:
            if warn is not None:
                warn(f"提示：计划文件夹暂时无法加载（{err}），按数据库中的记录处理")
            return None
        if folder is None:
            return None
        with self._lock:
            try:
                self._update(folder, self._refresh_book())
            except ReminderError as err:
                if warn is not None:
                    warn(f"提示：计划文件夹暂时无法加载（{err}），按数据库中的记录处理")
                return None
            if folder in self.broken:
                if warn is not None:
                    warn(f"提示：计划文件夹暂时无法加载（{self.broken[folder][1]}），按数据库中的记录处理")
                return None
            return self.good[folder].plan
