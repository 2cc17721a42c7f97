from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminder.parse.numerals import to_int

VALUES = [
    ("2021", 2021),
    ("07", 7),
    ("２０２１", 2021),  # full-width digits
    ("二〇二一", 2021),  # years are read digit by digit
    ("二零二三", 2023),
    ("二○二二", 2022),  # ○ (white circle) typed for 〇
    ("五", 5),
    ("两", 2),
    ("零", 0),
    ("十", 10),
    ("十二", 12),
    ("二十", 20),
    ("三十一", 31),
    ("一百", 100),
    ("一百零五", 105),
    ("两百", 200),
    ("一千零一十", 1010),
    (" 1 2 ", 12),  # stray spaces inside a cell
]


@pytest.mark.parametrize(("text", "value"), VALUES, ids=[t for t, _ in VALUES])
def test_to_int(text: str, value: int) -> None:
    assert to_int(text) == value


BAD = ["", " ", "abc", "十十", "一二十", "百十百", "一百零", "2〇21", "-1", "1.5", "年"]


@pytest.mark.parametrize("text", BAD, ids=[repr(t) for t in BAD])
def test_not_a_number(text: str) -> None:
    with pytest.raises(ValueError):
        to_int(text)


_CN = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    """How a person writes 1..99: 七, 十二, 二十, 三十一 (written independently of to_int)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN[tens] + "十")
    return head + (_CN[ones] if ones else "")


@given(st.integers(min_value=1, max_value=99))
def test_chinese_counts_round_trip(n: int) -> None:
    assert to_int(_chinese(n)) == n


@given(st.integers(min_value=1000, max_value=9999))
def test_years_digit_by_digit(year: int) -> None:
    assert to_int("".join("〇一二三四五六七八九"[int(c)] for c in str(year))) == year
    assert to_int(str(year).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})) == year


@given(st.text(max_size=12))
def test_any_text_is_a_number_or_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        assert to_int(text) >= 0
