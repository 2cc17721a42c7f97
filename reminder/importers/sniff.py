"""What a file really is, from its bytes: government sites label files loosely (a web page
saved as .xls, RTF or HTML saved as .doc, WPS's .wps/.et that are OLE Word/Excel inside), so the
suffix only breaks ties between formats that share a container.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from reminder.errors import ImportFailed

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# kind -> what a clerk calls it, for messages
NAMES = {
    "docx": "Word 文档", "xlsx": "Excel 表格", "ofd": "OFD 版式文件", "doc": "旧版 Word 文档",
    "xls": "旧版 Excel 表格", "works": "Works 文档", "pdf": "PDF", "rtf": "RTF 文档",
    "html": "网页", "image": "图片", "text": "文本", "spreadsheetml": "Excel 2003 XML 表格",
}
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"), (b"BM", "bmp"),
)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<table", b"<meta", b"<?xml",
                b"<!--", b"<div", b"<p", b"<style", b"<title")


def sniff(path: Path, data: bytes) -> str:
    """One of: docx xlsx ofd zip doc xls works encrypted ole pdf rtf spreadsheetml html image
    text binary."""
    if data.startswith(OLE_MAGIC):
        return _ole_kind(path, data)
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    head = data[:1024]
    if b"%PDF-" in head:  # some generators put a few bytes before the marker
        return "pdf"
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if body.startswith(b"{\\rtf"):
        return "rtf"
    if image_format(data):
        return "image"
    if body.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:4096]:
        return "spreadsheetml"  # Excel 2003 XML, exported by many systems as .xls
    if body.startswith(_HTML_STARTS) or (b"<table" in data[:65536].lower() and body.startswith(b"<")):
        return "html"
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return "binary"  # no text format holds NUL bytes (UTF-16/32 aside)
    return "text"


def _zip_kind(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return "zip"  # the zip check names it damaged
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names or any(n.lower() == "ofd.xml" for n in names):
        return "ofd"
    return "zip"


def _ole_kind(path: Path, data: bytes) -> str:
    """Word writes a WordDocument stream, Excel a Workbook (Book before 97), Works its own;
    an OOXML file with an open password is an OLE file holding EncryptedPackage."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError, TypeError) as exc:
        if path.suffix.lower() in (".docx", ".xlsx", ".docm", ".xlsm"):
            return "encrypted"  # OLE under an OOXML name is how an open password looks
        raise ImportFailed("文件已损坏（Office 复合文档结构无法解析）", file=path,
                           hint=f"请用 Word/WPS/Excel 打开确认后重新保存（{type(exc).__name__}）") from None
    if "encryptedpackage" in streams or "encryptioninfo" in streams:
        return "encrypted"
    if "worddocument" in streams:
        return "doc"
    if "workbook" in streams or "book" in streams:
        return "xls"
    if "matost" in streams or "contents" in streams:
        return "works"  # Microsoft Works .wps, which LibreOffice also reads
    return "ole"


def image_format(data: bytes) -> str | None:
    return next((name for magic, name in _IMAGES if data.startswith(magic)), None)
