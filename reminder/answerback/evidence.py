"""佐证材料: supporting files a unit attaches to a report, accepted by what they are.

A file is judged by its first bytes, never by its name: images (PNG, JPEG, GIF, WebP), PDF,
Office files (docx/xlsx/pptx: a zip with the parts of its kind; .doc/.xls: OLE), and zip
archives. Anything else, an executable renamed ``照片.jpg`` included, is refused. A zip (an
Office file is one) is judged by its central directory, before anything is unpacked: too many
entries or too many bytes once unpacked, and it is refused, so a zip bomb never expands.

Accepted bytes are stored under ``<state>/evidence/ab/<sha256>``: the path comes from the
content hash alone, so no name a user sends can reach the file system. The name is kept only
as a display string, without control characters or path separators. Files are served
through signed links (links.file_url) and never rendered inline unless they are images.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from reminder.errors import ReminderError

MAX_BYTES = 20 * 1024 * 1024  # one file
MAX_FILES = 20  # per task
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024
NAME_MAX = 120

MIME = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "ole": "application/octet-stream", "zip": "application/zip"}
IMAGES = frozenset({"png", "jpeg", "gif", "webp"})
# The part each Office kind must have, beside [Content_Types].xml.
OFFICE_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx",
                "ppt/presentation.xml": "pptx"}


class EvidenceRefused(ReminderError):
    """A file that is not accepted; the message says why and what to send instead."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_files: int = MAX_FILES
    zip_entries: int = ZIP_MAX_ENTRIES
    zip_unpacked: int = ZIP_MAX_UNPACKED


@dataclass(frozen=True, kw_only=True)
class Stored:
    sha256: str
    kind: str
    size: int
    name: str  # the cleaned display name
    path: Path


def sniff(data: bytes, limits: Limits = Limits()) -> str:
    """The kind of file ``data`` is, by its content; EvidenceRefused for anything else."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE: .doc, .xls, .ppt
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data, limits)
    raise EvidenceRefused("不接受这种文件", hint="佐证材料请用图片（PNG/JPEG/GIF/WebP）、PDF、"
                          "Word/Excel/PowerPoint 文件或 zip 压缩包；文件类型按内容判断，改扩展名无效")


def _zip_kind(data: bytes, limits: Limits) -> str:
    """docx/xlsx/pptx or zip, judged from the central directory alone: the declared sizes
    are summed before any entry is read, and nothing is ever extracted here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise EvidenceRefused(f"压缩文件已损坏（{type(exc).__name__}）",
                              hint="重新压缩或直接上传原文件") from None
    if len(entries) > limits.zip_entries:
        raise EvidenceRefused(f"压缩包内文件过多（{len(entries)} 个，上限 {limits.zip_entries}）",
                              hint="分成几个压缩包上传")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > limits.zip_unpacked:
        raise EvidenceRefused(f"压缩包解压后过大（{unpacked // 1048576} MB，上限 "
                              f"{limits.zip_unpacked // 1048576} MB）", hint="分成几个压缩包上传")
    names = {e.filename for e in entries}
    if "[Content_Types].xml" in names:
        for part, kind in OFFICE_PARTS.items():
            if part in names:
                return kind
    return "zip"


def clean_name(name: str) -> str:
    """A display name: no control or format characters, no path separators, no leading
    dots, at most NAME_MAX characters, keeping the extension when cut."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    text = re.sub(r"[/\\:]+", "_", text.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    text = text.strip().lstrip(".").strip()
    if len(text) > NAME_MAX:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:NAME_MAX - len(ext) - 2] + "…." + ext) if dot and len(ext) <= 8 \
            else text[:NAME_MAX - 1] + "…"
    return text or "附件"


def path_of(root: Path, sha256: str) -> Path:
    """Where the file with ``sha256`` lives; ValueError for anything but a hex digest."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root / "evidence" / sha256[:2] / sha256


def accept(root: Path, data: bytes, claimed_name: str, *, attached: int = 0,
           limits: Limits = Limits()) -> Stored:
    """Check ``data`` and store it by its hash; ``attached`` is how many files the task
    already has. Storing the same bytes twice keeps one copy."""
    import hashlib

    if attached >= limits.max_files:
        raise EvidenceRefused(f"这项任务已有 {attached} 个佐证材料（上限 {limits.max_files}）",
                              hint="把材料合并成一个 PDF 或压缩包后上传")
    if len(data) > limits.max_bytes:
        raise EvidenceRefused(f"文件过大（{len(data) / 1048576:.1f} MB，上限 "
                              f"{limits.max_bytes // 1048576} MB）", hint="压缩图片或拆分后上传")
    if not data:
        raise EvidenceRefused("文件是空的", hint="重新选择文件")
    kind = sniff(data, limits)
    digest = hashlib.sha256(data).hexdigest()
    target = path_of(root, digest)
    if not target.exists():
        target.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        # Written beside its place and renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o640)  # never executable
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return Stored(sha256=digest, kind=kind, size=len(data), name=clean_name(claimed_name),
                  path=target)


def sweep(root: Path, referenced: Iterable[str], *, older_than_days: int,
          now: datetime | None = None) -> list[str]:
    """Delete stored files no row refers to and older than ``older_than_days`` (a file
    being attached right now is young, so it survives); returns the hashes removed."""
    keep = set(referenced)
    cutoff = (now.timestamp() if now else time.time()) - older_than_days * 86400
    removed = []
    folder = root / "evidence"
    if not folder.is_dir():
        return removed
    for path in sorted(folder.glob("??/*")):
        if path.name.startswith(".") or path.name in keep:
            continue
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def response_headers(kind: str, name: str) -> dict[str, str]:
    """How a page serves a file: images inline, everything else as a download; the type
    from our sniffing, never from the upload, and no sniffing by the browser either."""
    disposition = "inline" if kind in IMAGES else "attachment"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return {"Content-Type": MIME[kind],
            "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; "
                                   f"filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox"}
