"""What one run of the rules engine can hand the next: rule files already read and checked,
the prefilter's requirements, and the compiled regex programs.

Compiling the rule patterns was about a quarter of a short run (``reminder plan`` of the demo
compiles some 45 patterns, 3 ms each, all of it in the ``regex`` module's Python parser). A
pickled ``regex.Pattern`` keeps only its source and recompiles when loaded, so that is no
cache; what the parser produces is a program of integers that the ``regex`` C engine takes
in one call. :func:`compile_recording` keeps that program; :func:`from_program` hands it
back to the engine, skipping the parser. The program format belongs to the installed
``regex`` release, so whoever stores it keys it by ``regex.__version__`` (see
``reminder/cli/rulecache.py``), and a program that does not rebuild the same pattern is
dropped and compiled afresh.

Pure: no file is read or written here. The caller loads a :class:`Prepared`, hands it to
:func:`use_prepared`, and saves it when ``changed``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reminder.parse.engine import c_engine

if TYPE_CHECKING:
    import regex

#: The engine the parser hands its program to (the C extension), loaded without the
#: ``regex`` package (engine.py); the package is imported when a pattern must be compiled.
_ENGINE: Any = c_engine()
_swap = threading.Lock()

#: Bound on what a cache keeps, so a long history of edited rule files cannot grow it forever.
MAX_PROGRAMS = 4000
MAX_FILES = 200


@dataclass
class Prepared:
    """What earlier runs worked out, by content: ``files`` maps a rule file's digest to its
    checked rules (field values without source and tier), ``triggers`` a pattern to the
    prefilter's requirements, ``programs`` a compiled pattern text to the engine's arguments.
    ``changed`` says whether this run added anything worth saving."""

    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    triggers: dict[str, Any] = field(default_factory=dict)
    programs: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    #: The statutory holidays the ``holidays`` package computes for a year chinese-calendar
    #: does not cover (day ordinals), by "stamp|year": importing that package costs a short
    #: run more than the rest of its start-up. ``holidays_stamp`` names the installed
    #: package (None: do not keep them).
    holidays: dict[str, list[int]] = field(default_factory=dict)
    holidays_stamp: Callable[[], str] | None = None
    #: Shipped TOML files (policy.toml) as parsed, by their text's digest: a run that finds
    #: them here imports no ``tomllib`` (about 5 ms of explain's start).
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: bool = False

    def full(self) -> bool:
        return len(self.programs) >= MAX_PROGRAMS or len(self.files) >= MAX_FILES


_current: Prepared | None = None


def use_prepared(prepared: Prepared | None) -> None:
    """Work through ``prepared`` from now on (None: work everything out). Call it before the
    first rule is loaded: what this process already worked out stays."""
    global _current
    _current = prepared


def current() -> Prepared | None:
    return _current


class _Recorder:
    """Stands in for the engine during one compile: passes everything through and keeps the
    arguments of ``compile``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(_ENGINE, name)

    def compile(self, *args: Any) -> Any:
        self.calls.append(args)
        return _ENGINE.compile(*args)


def compile_recording(text: str) -> tuple[regex.Pattern[str], tuple[Any, ...] | None]:
    """``regex.compile(text)`` and the program it produced, in a form ``marshal`` can store
    (plain ints, strings, lists and dicts); None when the program uses what we do not store
    (named lists) or the engine was not called as expected."""
    import regex

    main: Any = regex._main  # type: ignore[attr-defined]
    recorder = _Recorder()
    with _swap:  # the engine is swapped module-wide: one recording compile at a time
        main._regex = recorder
        try:
            compiled = regex.compile(text, cache_pattern=False)
        finally:
            main._regex = _ENGINE
    if len(recorder.calls) != 1:
        return compiled, None
    args = recorder.calls[0]
    if len(args) != 11 or args[0] != text or args[5] or args[6]:
        return compiled, None
    (pattern, flags, code, group_index, index_group, _lists, _indexes,
     req_offset, req_chars, req_flags, group_count) = args
    program = (pattern, int(flags), [int(c) for c in code], dict(group_index),
               dict(index_group), int(req_offset),
               tuple(int(c) for c in req_chars) if req_chars else req_chars,
               int(req_flags), int(group_count))
    return compiled, program


def from_program(text: str, program: tuple[Any, ...]) -> regex.Pattern[str] | None:
    """The pattern rebuilt from a stored program, or None when the program is not one for
    ``text`` under this engine (then the caller compiles as usual)."""
    try:
        (pattern, flags, code, group_index, index_group, req_offset, req_chars, req_flags,
         group_count) = program
        if pattern != text:
            return None
        compiled = _ENGINE.compile(pattern, flags, code, group_index, index_group, {}, [],
                                   req_offset, req_chars, req_flags, group_count)
    except Exception:  # a program from another engine: any refusal means "compile it"
        return None
    if compiled.pattern != text or dict(compiled.groupindex) != group_index:
        return None
    return compiled


def parsed_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, through the :class:`Prepared` in use (see ``tables``). Only
    what ``marshal`` stores is kept (plain values: a TOML date is not)."""
    import hashlib
    import marshal

    prepared = _current
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if prepared is not None and key in prepared.tables:
        return prepared.tables[key]
    import tomllib

    data = tomllib.loads(text)
    if prepared is not None:
        try:
            marshal.dumps(data)
        except ValueError:
            return data
        prepared.tables[key] = data
        prepared.changed = True
    return data


def compiled(text: str) -> regex.Pattern[str]:
    """``regex.compile(text)``, through the programs of the :class:`Prepared` in use: rebuilt
    from its stored program when there is one, else compiled and its program kept."""
    prepared = _current
    if prepared is None:
        import regex

        return regex.compile(text)
    program = prepared.programs.get(text)
    if program is not None:
        pattern = from_program(text, program)
        if pattern is not None:
            return pattern
    pattern, program = compile_recording(text)
    if program is not None and not prepared.full():
        prepared.programs[text] = program
        prepared.changed = True
    return pattern
