"""Fitting a table to a width: cells are measured as a terminal shows them."""

import io

import pytest
from rich.cells import cell_len

from reminder.cli.layout import Column, cells, fit, pack, render

COLUMNS = [
    Column(key="time", header="时间", priority=0),
    Column(key="title", header="任务", priority=2, kind="flex", min_width=8),
    Column(key="empty", header="空列", priority=1),
    Column(key="to", header="收件人", priority=3, kind="items"),
]
ROWS = [
    {"time": "2026-03-24", "title": "持续更新主动公开目录，做到应公开尽公开", "to": ["keshi-all@example.org", "fagui@example.org"]},
    {"time": "2026-03-25", "title": "短", "to": ["a@example.org"], "empty": ""},
]


def _render(width: int | None, rows=ROWS, columns=COLUMNS) -> list[str]:
    out = io.StringIO()
    render(rows, columns, out, width)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [40, 50, 60, 80, 120])
def test_no_line_is_wider_than_the_width(width: int) -> None:
    assert max(cell_len(line) for line in _render(width)) <= width


def test_a_column_with_nothing_in_it_is_not_shown() -> None:
    assert [c.key for c, _ in fit(COLUMNS, ROWS, 200)] == ["time", "title", "to"]


@pytest.mark.parametrize(
    ("width", "kept"),
    [
        pytest.param(200, ["time", "title", "to"], id="wide-all"),
        pytest.param(45, ["time", "title", "to"], id="items-wrap-title-cut"),
        pytest.param(30, ["time", "title"], id="addresses-dropped-last"),
        pytest.param(12, ["time"], id="only-the-time"),
    ],
)
def test_columns_are_kept_by_priority(width: int, kept: list[str]) -> None:
    assert [c.key for c, _ in fit(COLUMNS, ROWS, width)] == kept


def test_addresses_wrap_between_items_never_inside_one() -> None:
    text = "\n".join(_render(45))
    for address in ("keshi-all@example.org", "fagui@example.org", "a@example.org"):
        assert address in text
    assert "持续更新…" in text


def test_without_a_width_each_row_is_one_unwrapped_line() -> None:
    lines = _render(None)
    assert len(lines) == 2 + len(ROWS)
    assert "持续更新主动公开目录，做到应公开尽公开" in lines[2]
    assert "keshi-all@example.org，fagui@example.org" in lines[2]


def test_fallback_column_only_when_the_wider_one_is_dropped() -> None:
    columns = [*COLUMNS, Column(key="channel", header="渠道", priority=4, fallback_for="to")]
    rows = [{**r, "channel": "邮件"} for r in ROWS]
    assert [c.key for c, _ in fit(columns, rows, 200)] == ["time", "title", "to"]
    assert [c.key for c, _ in fit(columns, rows, 30)] == ["time", "title", "channel"]


@pytest.mark.parametrize(
    ("items", "width", "lines"),
    [
        pytest.param(["ab", "cd", "ef"], 6, ["ab，cd", "ef"], id="two-per-line"),
        pytest.param(["abcdefgh"], 3, ["abcdefgh"], id="never-split"),
        pytest.param([], 5, [], id="empty"),
    ],
)
def test_pack(items: list[str], width: int, lines: list[str]) -> None:
    assert pack(items, width) == lines


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ()), ("", ()), ("x", ("x",)), (["a", "", "b"], ("a", "b")), (3, ("3",))],
    ids=["none", "blank", "text", "list", "number"],
)
def test_cells(value: object, expected: tuple) -> None:
    assert cells(value) == expected


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        pytest.param("截止 2026-10-10 周六；截止 2027-01-05 周二", 20, ["截止 2026-10-10", "周六；截止", "2027-01-05 周二"], id="dates-whole"),
        pytest.param("公开部门预算、决算及相关报表", 12, ["公开部门预算", "、决算及相关", "报表"], id="long-chinese-fills-lines"),
    ],
)
def test_wrapped_text_breaks_after_punctuation_or_spaces(text: str, width: int, lines: list[str]) -> None:
    from reminder.cli.layout import wrap_text

    assert wrap_text([text], width) == lines
    assert all(cell_len(line) <= width for line in lines)


def test_spare_room_goes_to_texts_in_proportion() -> None:
    columns = [Column(key="a", header="a", kind="wrap", min_width=4, priority=0),
               Column(key="b", header="b", kind="wrap", min_width=4, priority=1)]
    rows = [{"a": "x" * 40, "b": "y" * 10}]
    widths = dict((c.key, w) for c, w in fit(columns, rows, 32))
    assert widths["a"] + widths["b"] == 30 and widths["a"] > widths["b"] >= 4
