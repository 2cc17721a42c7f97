"""Every error a user can cause, formatted as one line: where, what, how to fix.

The hierarchy sits under ValueError (as croniter's does) so library callers can catch
bad input without catching programming errors.
"""

from __future__ import annotations

import errno
from pathlib import Path


class ReminderError(ValueError):
    """Bad input. ``str()`` is the single line shown to the user."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        place: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.place = place
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        if self.place:
            where = f"{where} [{self.place}]" if where else f"[{self.place}]"
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"（{self.hint}）"
        return " ".join(text.split())  # always one line


def environment_trouble(err: BaseException) -> str | None:
    """One line for what the machine, not the user's input, got wrong mid-command (a database
    locked or unreachable, a full disk); None for anything else, which is a bug to show."""
    if type(err).__module__.split(".")[0] == "sqlalchemy":
        cause = getattr(err, "orig", None) or err
        text = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        if "readonly" in text or "不可写" in text:
            return (f"数据库操作失败：{text}（检查数据库文件及其 -wal、-shm 和所在目录的权限，"
                    "以及是否被 chattr +i 设为不可修改）")
        return (f"数据库操作失败：{text}（数据库被锁定时，检查是否有其他进程长时间占用；"
                "磁盘已满时，腾出空间后重试）")
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return f"磁盘已满：{err.filename or ''}（腾出空间后重试）"
    return None


class RuleError(ReminderError):
    """A deadline rule file is wrong; ``place`` names the rule."""


class CalendarError(ReminderError):
    """A holiday override file is wrong."""


class PlanError(ReminderError):
    """A plan folder (plan.toml or its task table) is wrong."""


class PolicyError(ReminderError):
    """A reminder policy is wrong."""


class ImportFailed(ReminderError):
    """A source document cannot be imported."""

    exit_code = 2


class ImportDoubtful(ImportFailed):
    """The document was read, but too little of it was understood to trust the plan.
    ``lines`` is the confidence report, printed before the one-line error."""

    exit_code = 3

    def __init__(self, message: str, *, lines: tuple[str, ...] = (), **where) -> None:
        super().__init__(message, **where)
        self.lines = lines


class ConfigError(ReminderError):
    """config.toml or the environment is wrong."""

    exit_code = 2


class StoreError(ReminderError):
    """The database cannot be used as asked (locked, wrong schema, ...)."""

    exit_code = 2
