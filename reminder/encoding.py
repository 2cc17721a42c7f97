"""Bytes to text for every file a user hands us (pages, CSV exports, the 通讯录): Chinese
offices save in UTF-8, GBK/GB18030 and, from Excel, UTF-16; a byte order mark decides first.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
# Chinese sites label GBK pages gb2312 (a subset); GB18030 reads all three.
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030"}

# Every byte order mark a codec here can read, longest first: UTF-32 LE's begins with UTF-16
# LE's. A mark names the byte order too, so the codec is the one with that order (a bare
# "utf-16" after the mark is stripped would read big-endian text as little-endian).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (b"\x84\x31\x95\x33", "gb18030"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def declared_charset(data: bytes) -> str | None:
    """The charset an HTML page names in its first 4 KB ``<meta>``, if any."""
    found = _META_CHARSET.search(data[:4096])
    return found.group(1).decode("ascii", "ignore").lower() if found else None


def decode_text(data: bytes, *, declared: str | None = None) -> str:
    """BOM, then the declared charset, then strict UTF-8, then GB18030, then charset
    detection; GBK is read as GB18030 so characters outside GB2312 survive."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    candidates = [_ALIASES.get(declared, declared)] if declared else []
    candidates += ["utf-8", "gb18030"]
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        encoding = _ALIASES.get(best.encoding.lower(), best.encoding)
        return data.decode(encoding, errors="replace")
    return data.decode("gb18030", errors="replace")
