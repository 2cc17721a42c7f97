import io

import pytest

from reminder.output import emit

ROWS = [{"title": "《政策解读办法[试行]》[/]", "unit": "[bold]法规科[/bold]"}]
COLUMNS = (("title", "标题"), ("unit", "单位"))


def test_table_shows_document_text_as_written_never_as_markup() -> None:
    out = io.StringIO()
    emit(ROWS, fmt="table", columns=COLUMNS, out=out)
    text = out.getvalue()
    assert "《政策解读办法[试行]》[/]" in text
    assert "[bold]法规科[/bold]" in text


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_json_and_csv_keep_the_text(fmt: str) -> None:
    out = io.StringIO()
    emit(ROWS, fmt=fmt, columns=COLUMNS, out=out)
    assert "《政策解读办法[试行]》[/]" in out.getvalue()
