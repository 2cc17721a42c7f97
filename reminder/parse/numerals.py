"""Numbers as Chinese plans write them: 2021, ２０２１, 二〇二一, 十二, 三十一, 两, 一百零五.

Plans mix Arabic, full-width and Chinese numerals in the same table, so every placeholder a
deadline rule captures goes through :func:`to_int`.
"""

from __future__ import annotations

import unicodedata

# 〇 (U+3007) is the proper zero in years; ○ (U+25CB) turns up in typed documents.
DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "○": 0,
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000}

#: Characters a Chinese numeral may contain; rules build their placeholder classes from it.
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)


def to_int(text: str) -> int:
    """The value of a numeral; ``ValueError`` when ``text`` is not one.

    A run of digit characters without 十/百/千 is read digit by digit, which is how years are
    written (二〇二一 → 2021) and also gives the right value for a single digit (五 → 5).
    """
    raw = "".join(unicodedata.normalize("NFKC", text).split())
    if not raw:
        raise ValueError("空的数字")
    if raw.isascii() and raw.isdigit():
        return int(raw)
    if all(ch in DIGITS for ch in raw):
        value = 0
        for ch in raw:
            value = value * 10 + DIGITS[ch]
        return value
    return _positional(raw, text)


def _positional(raw: str, original: str) -> int:
    """Read 十二, 二十, 三十一, 一百零五, 两千: digits followed by descending units."""
    total = 0
    pending: int | None = None  # a digit waiting for its unit
    last_unit = 10_000  # units must strictly descend: 十百 is not a number
    zero_seen = False
    for ch in raw:
        if ch in UNITS:
            unit = UNITS[ch]
            if unit >= last_unit:
                raise ValueError(f"不是有效的数字：{original!r}")
            # "十二" means 一十二: a unit with no digit before it counts once.
            total += (1 if pending is None else pending) * unit
            pending = None
            last_unit = unit
            zero_seen = False
        elif ch in DIGITS:
            digit = DIGITS[ch]
            if digit == 0:
                if pending is not None or zero_seen:
                    raise ValueError(f"不是有效的数字：{original!r}")
                zero_seen = True  # 一百零五: the zero only marks a skipped place
                continue
            if pending is not None:
                raise ValueError(f"不是有效的数字：{original!r}")
            pending = digit
        else:
            raise ValueError(f"不是有效的数字：{original!r}")
    if pending is not None:
        total += pending
    elif zero_seen:
        raise ValueError(f"不是有效的数字：{original!r}")
    return total
