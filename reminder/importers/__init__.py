"""Import a plan as offices receive it (.docx .doc .wps .xlsx .xls .et .pdf .ofd scans .html
.csv .md .txt) into a plan folder.

One small reader per format turns the file into a ``Grid`` (rows of cell texts, merged cells
expanded); ``table.build_table`` turns any grid into tasks; ``writer.write_plan`` writes the
folder. Readers are chosen by the file's content (``sniff``), the suffix only telling apart
the text formats, and imported only when used, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Protocol

from reminder.errors import ImportDoubtful, ImportFailed
from reminder.importers import progress as page_progress
from reminder.importers.safety import MAX_BYTES, check_size, check_zip, run_bounded
from reminder.importers.sniff import NAMES, sniff
from reminder.importers.table import Grid, PlanTable, build_table
from reminder.importers.writer import ImportReport, write_plan

__all__ = [
    "READERS",
    "Grid",
    "ImportReport",
    "PlanTable",
    "Reader",
    "import_document",
    "open_plan_source",
    "read_grid",
    "reader_for",
]


class Reader(Protocol):
    name: str
    suffixes: tuple[str, ...]

    def read(self, path: Path, data: bytes) -> Grid: ...


# suffix -> "module:Class"; modules load on first use (python-docx, openpyxl and lxml are slow).
READERS: dict[str, str] = {
    ".docx": "reminder.importers.docx:DocxImporter",
    ".docm": "reminder.importers.docx:DocxImporter",
    ".xlsx": "reminder.importers.xlsx:XlsxImporter",
    ".xlsm": "reminder.importers.xlsx:XlsxImporter",
    ".html": "reminder.importers.html:HtmlImporter",
    ".htm": "reminder.importers.html:HtmlImporter",
    ".shtml": "reminder.importers.html:HtmlImporter",
    ".xhtml": "reminder.importers.html:HtmlImporter",
    ".csv": "reminder.importers.csv:CsvImporter",
    ".md": "reminder.importers.text:TextImporter",
    ".markdown": "reminder.importers.text:TextImporter",
    ".txt": "reminder.importers.text:TextImporter",
    ".text": "reminder.importers.text:TextImporter",
    ".tsv": "reminder.importers.text:TextImporter",
}
_ZIPPED = (".docx", ".docm", ".xlsx", ".xlsm", ".ofd")
# content kind (sniff.sniff) -> reader, for every kind whose bytes say what it is
KINDS: dict[str, str] = {
    "docx": READERS[".docx"],
    "xlsx": READERS[".xlsx"],
    "html": READERS[".html"],
    "doc": "reminder.importers.convert:WordImporter",
    "works": "reminder.importers.convert:WordImporter",
    "rtf": "reminder.importers.convert:WordImporter",
    "xls": "reminder.importers.xls:XlsImporter",
    "spreadsheetml": "reminder.importers.spreadsheetml:SpreadsheetMlImporter",
    "pdf": "reminder.importers.pdf:PdfImporter",
    "image": "reminder.importers.ocr:ImageImporter",
    "ofd": "reminder.importers.ofd:OfdImporter",
}
_SUPPORTED = ".docx .doc .wps .xlsx .xls .et .pdf .ofd .png .jpg .tif .html .csv .md .txt"
# suffixes whose files are never plain text: text under such a name is a damaged file
_BINARY_SUFFIXES = {".docx": "docx", ".docm": "docx", ".xlsx": "xlsx", ".xlsm": "xlsx",
                    ".pdf": "pdf", ".ofd": "ofd", ".png": "image", ".jpg": "image",
                    ".jpeg": "image", ".tif": "image", ".tiff": "image"}


def _load(spec: str) -> Reader:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def reader_for(path: Path, data: bytes) -> Reader:
    """The reader for a file, by what its bytes are: sites post web pages and RTF as .doc,
    HTML tables as .xls, and WPS names its OLE Word/Excel files .wps/.et."""
    return _load(_reader_spec(path, data, sniff(path, data)))


def _reader_spec(path: Path, data: bytes, kind: str) -> str:
    suffix = path.suffix.lower()
    unsupported = ImportFailed(f"不支持的文件格式（{suffix or '无扩展名'}）", file=path,
                               hint=f"支持 {_SUPPORTED}")
    if kind == "encrypted":
        raise ImportFailed("文件已加密（设置了打开密码），无法读取", file=path,
                           hint="请在 Word/WPS/Excel 中取消密码后另存，再导入")
    if kind == "ole":
        raise ImportFailed("这是无法识别的 Office 复合文档（不是 Word 或 Excel 文件）", file=path,
                           hint="请另存为 .docx 或 .xlsx 后再导入")
    if kind == "zip":
        if suffix in _ZIPPED:  # the zip check says what is wrong with it
            return READERS.get(suffix, KINDS["ofd"])
        raise unsupported
    if kind in KINDS:
        return KINDS[kind]
    if suffix in _BINARY_SUFFIXES:
        expected = NAMES[_BINARY_SUFFIXES[suffix]]
        raise ImportFailed(f"文件已损坏或不是有效的{expected}文件", file=path,
                           hint="请用原来的软件打开确认后重新保存")
    if kind == "binary" and suffix not in READERS:  # a named text file may be UTF-16/32
        raise unsupported
    # Plain text: its suffix says how it is laid out; text under an office suffix is read
    # as pasted text (some systems export .doc/.xls that are really text).
    if suffix in READERS:
        return READERS[suffix]
    if suffix in (".doc", ".wps", ".xls", ".et", ".rtf", ""):
        return READERS[".txt"]
    raise unsupported


def read_grid(source: Path, *, max_bytes: int = MAX_BYTES) -> Grid:
    """Check the file (size before reading; content; zip safety) and read its table in a
    child process with a ceiling on memory and time (safety.run_bounded)."""
    check_size(source, max_bytes)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ImportFailed("无法读取文件", file=source, hint=exc.strerror or str(exc)) from None
    if not data.strip():
        raise ImportFailed("文件是空的", file=source)
    kind = sniff(source, data)
    reader = _load(_reader_spec(source, data, kind))
    if kind in ("docx", "xlsx", "ofd", "zip"):
        check_zip(source, data)
    return run_bounded(source, lambda: reader.read(source, data))


def import_document(
    source: Path,
    out_dir: Path,
    *,
    progress: bool = False,
    columns: Mapping[str, str] | None = None,
    today: date | None = None,
    max_bytes: int = MAX_BYTES,
    accept: bool = False,
) -> ImportReport:
    """Import ``source`` into the plan folder ``out_dir`` (created, or merged on re-import).

    ``columns`` overrides the header mapping (role -> header text); by default an existing
    folder's plan.toml [table].columns is used when the document still has those columns.
    When the confidence report gives reasons to review, nothing is written (ImportDoubtful,
    exit 3) unless ``accept``; then plan.toml records the accepted reasons.
    """
    from reminder.importers import plantoml

    source, out_dir = Path(source), Path(out_dir)
    try:
        if columns is None and out_dir.is_dir():
            columns = plantoml.old_columns(out_dir)
        with _progress(progress) as tick:
            tick(None, "读取文件")
            with page_progress.reporting(tick):
                grid = read_grid(source, max_bytes=max_bytes)
            tick(len(grid.rows), "识别任务")
            table = build_table(grid, columns=columns, today=today, on_row=lambda: tick(0, ""))
        reasons = tuple(table.confidence.reasons())
        if reasons and not accept:
            raise ImportDoubtful(
                "导入结果可信度低，请核对后再用：" + "；".join(reasons),
                lines=tuple(table.confidence.lines()),
                hint="对照原文检查；确认可以使用时加 --accept 导入",
            )
        return write_plan(out_dir, table, source=source, accepted=reasons)
    except ImportFailed as err:
        if err.file is None:
            err.file = str(source)
        raise


@contextmanager
def open_plan_source(path: Path) -> Iterator[Path]:
    """A plan folder as is; a document imported into a temporary folder, removed afterwards."""
    path = Path(path)
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="reminder-import-") as tmp:
        # The folder name is the plan's id in every listing: let it be the document's name.
        out_dir = Path(tmp) / (path.stem.strip() or "plan")
        # A scan takes seconds a page: on a terminal the pages are counted as they go.
        import_document(path, out_dir, progress=sys.stderr.isatty())
        yield out_dir


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int | None, str], None]]:
    """tick(total, label) starts a stage; tick(0, "") advances one row."""
    if not enabled:
        yield lambda total, label: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def tick(total: int | None, label: str) -> None:
            if label:
                bar.update(task, description=label, total=total, completed=0)
            else:
                bar.advance(task)

        yield tick
