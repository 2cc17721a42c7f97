"""Every error a user can cause, formatted as one line: where, what, how to fix.

The hierarchy sits under ValueError (as croniter's does) so library callers can catch
bad input without catching programming errors.
"""

from __future__ import annotations

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
