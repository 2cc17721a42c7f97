"""Refuse bad files before a parser sees them: too large, empty, encrypted, old binary
formats, corrupt or oversized zips, and XML that declares entities (XXE, billion laughs)."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from reminder.errors import ImportFailed

MAX_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED = 400 * 1024 * 1024  # a 50 MB .xlsx does not honestly unpack to more than this
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls, and password-protected .docx/.xlsx

_CONVERT = {
    ".doc": "旧版 Word 文档（.doc）无法直接读取，请用 Word/WPS 打开后“另存为” .docx 再导入",
    ".xls": "旧版 Excel 表格（.xls）无法直接读取，请用 Excel/WPS 打开后“另存为” .xlsx 再导入",
    ".wps": "WPS 文字格式（.wps）无法直接读取，请用 WPS 打开后“另存为” .docx 再导入",
    ".et": "WPS 表格格式（.et）无法直接读取，请用 WPS 打开后“另存为” .xlsx 再导入",
    ".pdf": "PDF 无法直接读取，请复制其中的表格粘贴为 .txt（制表符或竖线分隔）后导入",
}


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


def old_format(path: Path, data: bytes) -> None:
    """Old binary formats and encrypted OOXML share the OLE signature; the suffix tells them
    apart. Raises with the conversion the user needs."""
    suffix = path.suffix.lower()
    if data.startswith(OLE_MAGIC):
        if suffix in (".docx", ".xlsx", ".docm", ".xlsm"):
            raise ImportFailed(
                "文件已加密（设置了打开密码），无法读取", file=path,
                hint="请在 Word/WPS/Excel 中取消密码后另存，再导入",
            )
        if suffix in _CONVERT:
            raise ImportFailed(_CONVERT[suffix].split("，", 1)[0], file=path,
                               hint=_CONVERT[suffix].split("，", 1)[1])
        raise ImportFailed("这是旧版 Office 文件或加密文件，无法读取", file=path,
                           hint="请另存为 .docx 或 .xlsx 后再导入")
    if suffix in (".pdf",) or data.startswith(b"%PDF"):
        raise ImportFailed("PDF 无法直接读取", file=path, hint=_CONVERT[".pdf"].split("，", 1)[1])


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
    with archive:
        for member in members:
            if not member.filename.endswith((".xml", ".rels")):
                continue
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError,
                    NotImplementedError, zlib.error):
                raise ImportFailed(damaged, file=path, place=member.filename, hint=hint) from None
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise ImportFailed("文件包含不安全的 XML 声明（DOCTYPE），拒绝读取", file=path,
                                   place=member.filename)
