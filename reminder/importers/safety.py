"""Refuse bad files before a parser sees them, and bound the work of reading them.

Before: too large, empty, corrupt or oversized zips, and XML parts that declare a DTD (XXE,
billion laughs) or hold more elements than a plan ever has (what a file is, encrypted or an
old binary format, is sniff.py's to say).
While reading: a cap on rows, cells and paragraphs (``WorkLimit``), and the reader itself runs
in a child process with a ceiling on memory and CPU time (``run_bounded``), so a file that
gets past every count still cannot take the machine. Past any bound: one line naming it.
"""

from __future__ import annotations

import io
import os
import signal
import traceback
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from reminder.errors import ImportFailed
from reminder.importers import progress

MAX_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED = 400 * 1024 * 1024  # a 50 MB .xlsx does not honestly unpack to more than this
# What a task plan never comes near (a 60-task plan: about 10,000 XML elements, 600 cells,
# 100 paragraphs), and what keeps each reader's work to seconds and its memory to hundreds
# of MB: python-docx holds the whole document.xml as a tree, about 250 bytes an element.
MAX_XML_ELEMENTS = 1_000_000  # all XML parts of a .docx/.xlsx together
MAX_ROWS = 100_000  # table rows read, empty and formatted-only rows included
MAX_CELLS = 500_000  # table cells read, merged copies included
MAX_PARAGRAPHS = 50_000
MAX_SPAN = 64  # a Word table has at most 63 columns: a wider gridSpan is a lie
# The reading child may grow this far beyond the address space it inherits, and use this much
# CPU time; the parent waits at most WALL_SECONDS for it.
MEMORY_BUDGET = 1536 * 1024 * 1024
CPU_SECONDS = 60
WALL_SECONDS = 120
_TRIM = "请只保留任务分工表，删除多余内容后另存再导入"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls, and password-protected .docx/.xlsx



def check_size(path: Path, limit: int = MAX_BYTES) -> int:
    """Stat the file, refusing directories-as-files, missing, empty and oversized ones."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFailed("无法读取文件", file=path, hint=exc.strerror or str(exc)) from None
    if not path.is_file():
        raise ImportFailed("不是文件", file=path)
    if size == 0:
        raise ImportFailed("文件是空的", file=path)
    if size > limit:
        raise ImportFailed(
            f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {limit // 1024 // 1024} MB）",
            file=path, hint="请只保留任务分工表后再导入",
        )
    return size


def check_zip(path: Path, data: bytes) -> None:
    """A .docx/.xlsx is a zip of XML parts: it must open, unpack to a sane size, and no part
    may declare a DOCTYPE (entities are how XML parsers are made to read files or explode)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        # NotImplementedError: a corrupt header claiming a zip version nobody implements
        raise ImportFailed("文件已损坏或不是有效的 Office 文件", file=path,
                           hint="请用 Word/WPS/Excel 打开确认后重新保存") from None
    if sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise ImportFailed("文件解压后过大，拒绝读取", file=path)
    damaged = "文件已损坏"
    hint = "请用 Word/WPS/Excel 打开确认后重新保存"
    try:
        # Every part is unpacked and its checksum verified now, so the readers after this
        # never meet a corrupt stream (the size cap above bounds the work).
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
            NotImplementedError, zlib.error):
        raise ImportFailed(damaged, file=path, hint=hint) from None
    if bad is not None:
        raise ImportFailed(damaged, file=path, place=bad, hint=hint)
    scan = _XmlScan(path)
    with archive:
        for member in members:
            if member.is_dir():
                continue
            try:
                with archive.open(member) as part:
                    scan.part(member.filename, part)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
                    NotImplementedError, zlib.error) as exc:
                if isinstance(exc, ImportFailed):
                    raise
                raise ImportFailed(damaged, file=path, place=member.filename, hint=hint) from None


class _Refused(Exception):
    """Raised from the scanning parser's callbacks to stop it at once."""


class _XmlScan:
    """Every part goes through lxml with DTDs neither loaded nor resolved and a callback that
    refuses a DOCTYPE wherever it stands (after a long comment too), counting elements on
    the way; no tree is built, so a 400 MB part costs no memory. Every part, not only those
    named .xml: the package's relationships may point a parser at any name.

    A part lxml cannot parse (an image; Excel's VML drawings, which are not well-formed) is
    searched byte by byte for a DOCTYPE or ENTITY declaration instead, in UTF-8 and UTF-16
    alike, from the last chunk parsed on: a library that reads it leniently must never meet
    one."""

    _CHUNK = 1 << 16
    _MARKERS = tuple(word.encode(codec) for word in ("<!doctype", "<!entity")
                     for codec in ("ascii", "utf-16-le", "utf-16-be"))
    _OVERLAP = max(len(m) for m in _MARKERS)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.elements = 0
        self.counts: dict[str, int] = {}  # part -> elements, to name the largest when refused
        self.current = ""

    def doctype(self, *_: object) -> None:
        raise _Refused("doctype")

    def start(self, *_: object) -> None:
        self.elements += 1
        self.counts[self.current] = self.counts.get(self.current, 0) + 1
        if self.elements > MAX_XML_ELEMENTS:
            raise _Refused("elements")

    def close(self) -> None:
        return None

    def part(self, name: str, stream: io.BufferedIOBase) -> None:
        from lxml import etree

        self.current = name
        parser = etree.XMLParser(target=self, resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=False)
        previous, chunk = b"", stream.read(self._CHUNK)
        try:
            while chunk:
                parser.feed(chunk)
                previous, chunk = chunk, stream.read(self._CHUNK)
            parser.close()
        except _Refused as stop:
            self._refuse(str(stop), name)
        except etree.Error:
            # libxml2 may hold back the end of a chunk, so the search starts one chunk early.
            tail, chunk = b"", previous + chunk
            while chunk:
                window = (tail + chunk).lower()
                if any(marker in window for marker in self._MARKERS):
                    self._refuse("doctype", name)
                tail = window[-self._OVERLAP :]
                chunk = stream.read(self._CHUNK)

    def _refuse(self, why: str, name: str) -> None:
        if why == "elements":
            largest = max(self.counts, key=self.counts.__getitem__)
            raise ImportFailed(f"文件内容超过上限（XML 元素多于 {MAX_XML_ELEMENTS:,} 个），拒绝读取",
                               file=self.path, place=largest, hint=_TRIM)
        raise ImportFailed("文件包含不安全的 XML 声明（DOCTYPE），拒绝读取", file=self.path,
                           place=name, hint="请用 Word/WPS/Excel 打开后另存，再导入")


class WorkLimit:
    """What a reader has read so far; past a cap, one line naming it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = self.cells = self.paragraphs = 0

    def row(self, cells: int) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise ImportFailed(f"表格超过 {MAX_ROWS:,} 行的上限（只有格式的空行也算）", file=self.path,
                               hint="删除表格下方多余的行，" + _TRIM)
        self.add_cells(cells)

    def add_cells(self, cells: int) -> None:
        self.cells += cells
        if self.cells > MAX_CELLS:
            raise ImportFailed(f"表格超过 {MAX_CELLS:,} 个单元格的上限（合并单元格按覆盖的格数计）",
                               file=self.path, hint="删除多余的行列，" + _TRIM)

    def paragraph(self) -> None:
        self.paragraphs += 1
        if self.paragraphs > MAX_PARAGRAPHS:
            raise ImportFailed(f"文档超过 {MAX_PARAGRAPHS:,} 个段落的上限", file=self.path, hint=_TRIM)


T = TypeVar("T")


def run_bounded(path: Path, read: Callable[[], T]) -> T:
    """``read()`` in a forked child under RLIMIT_AS and RLIMIT_CPU; its result, or the one
    line it failed with, comes back. Where there is no fork (Windows) it runs here, bounded
    by the caps alone. Without this ceiling a file the caps miss can still take gigabytes
    (the issue saw 11.6 GB) before MemoryError, and the machine with it."""
    if not hasattr(os, "fork"):
        return read()
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(send, read), daemon=True)
    child.start()
    send.close()
    try:
        while True:
            # The wall limit is on silence: a page reader (PDF, OCR) reports each page, and
            # every report proves progress; a child that says nothing for this long is stuck.
            if not receive.poll(WALL_SECONDS):
                child.kill()
                raise ImportFailed(f"读取文件超过时间上限（{WALL_SECONDS} 秒）", file=path, hint=_TRIM)
            kind, payload = receive.recv()
            if kind != "tick":
                break
            progress.relay(*payload)
    except (EOFError, OSError):
        kind, payload = "died", None
    finally:
        receive.close()
        child.join()
    if kind == "ok":
        return payload
    if kind == "failed":
        raise payload
    if kind == "bug":
        raise RuntimeError(f"导入程序内部错误（读取子进程）：\n{payload}")
    if kind == "memory" or child.exitcode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
        # Out of memory shows as MemoryError in Python, or as a C library dying in malloc.
        raise ImportFailed(f"读取文件所需内存超过上限（{MEMORY_BUDGET // 1024 // 1024} MB）",
                           file=path, hint=_TRIM)
    if child.exitcode == -signal.SIGXCPU:
        raise ImportFailed(f"读取文件超过时间上限（CPU {CPU_SECONDS} 秒）", file=path, hint=_TRIM)
    raise ImportFailed(f"读取文件的子进程意外退出（状态 {child.exitcode}）", file=path,
                       hint="文件可能已损坏；" + _TRIM)


def _child(send, read: Callable[[], object]) -> None:  # pragma: no cover - runs after fork
    try:
        _limit_resources()
        progress.forward(lambda total, label: send.send(("tick", (total, label))))
        result: tuple[str, object] = ("ok", read())
    except MemoryError:
        result = ("memory", None)
    except ImportFailed as err:
        result = ("failed", err)
    except BaseException:
        result = ("bug", traceback.format_exc())
    try:
        send.send(result)
    except MemoryError:
        send.send(("memory", None))


def _limit_resources() -> None:
    import resource

    def lower(kind: int, value: int) -> None:
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        if soft == resource.RLIM_INFINITY or value < soft:
            resource.setrlimit(kind, (value, hard))

    lower(resource.RLIMIT_AS, _address_space() + MEMORY_BUDGET)
    used = resource.getrusage(resource.RUSAGE_SELF)
    lower(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime) + CPU_SECONDS)


def _address_space() -> int:
    """The address space the child inherited (Linux; elsewhere RLIMIT_AS is not enforced)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
