import io

import pytest

from reminder.cli.output import emit

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


# -- streaming notice writers ---------------------------------------------------------------

def _batches():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from reminder.plan.planner import Batch

    at = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    targets = (("法规科", "email", ("a@example.org", "b@example.org"), (), ()),
               ("办公室", "wecom", ("办公室群",), ("liwei",), ()),
               ('单位,"甲"', "none", (), (), ()))
    titles = ("第一项", '含逗号,和"引号"的标题', "两行\n标题")
    return [Batch(send_at=at, stage="remind", step="7d", plan="p", plan_title="方案", task=str(i),
                  title=title, due=date(2026, 3, 9), occurrence="2026-03-09", targets=targets)
            for i, title in enumerate(titles, 1)]


def test_csv_writer_matches_the_csv_module_cell_for_cell() -> None:
    import csv

    from reminder.cli.output import CHANNEL_NAMES, CSV_FIELDS, CSV_HEADERS, notice_record, write_notices
    from reminder.plan.wording import STAGE_NAMES

    shown = {"stage": STAGE_NAMES, "channel": CHANNEL_NAMES}

    batches = _batches()
    out = io.StringIO()
    assert write_notices(batches, fmt="csv", out=out) == 9
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow([CSV_HEADERS[f] for f in CSV_FIELDS])
    for b in batches:
        for n in b.notices():
            record = notice_record(n)
            writer.writerow(["，".join(record[f]) if f == "recipients" else
                             shown[f][record[f]] if f in shown else record[f]
                             for f in CSV_FIELDS])
    assert out.getvalue() == expected.getvalue()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_writers_give_the_notice_records_with_their_keys(fmt: str) -> None:
    import json

    from reminder.cli.output import notice_record, write_notices

    batches = _batches()
    out = io.StringIO()
    write_notices(batches, fmt=fmt, out=out)
    text = out.getvalue()
    records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    assert records == [notice_record(n) for b in batches for n in b.notices()]


@pytest.mark.parametrize(("fmt", "expected"), [("json", "[]\n"), ("jsonl", ""),
                                               ("csv", "发送时间,类型,计划,序号,工作任务,完成时限,收件单位,收件地址,渠道\n")])
def test_writers_with_no_notices(fmt: str, expected: str) -> None:
    from reminder.cli.output import write_notices

    out = io.StringIO()
    assert write_notices([], fmt=fmt, out=out) == 0
    assert out.getvalue() == expected


def test_writer_flushes_in_chunks_rather_than_holding_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from reminder.cli import output

    monkeypatch.setattr(output, "CHUNK", 4)
    writes: list[str] = []

    class Sink(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    output.write_notices(_batches(), fmt="jsonl", out=Sink())
    # Checked after each batch of 3 lines: 6 lines once past the chunk, then the last 3.
    assert [w.count("\n") for w in writes] == [6, 3]


# -- text a spreadsheet would take for a formula (issue 20 item 9, beyond the 台账) -----------

FORMULAS = ('=HYPERLINK("http://evil.example/","点此")', "+1+1", "-2+3", "@SUM(A1)", "\t=1")


@pytest.mark.parametrize("text", FORMULAS, ids=["equals", "plus", "minus", "at", "tab"])
def test_the_dry_runs_csv_keeps_a_formula_like_title_or_unit_as_text(text: str) -> None:
    """`reminder plan --format csv` is for Excel, and titles and unit names come from
    documents we did not write: a title =HYPERLINK(…) was a live link there."""
    import csv

    from reminder.cli.output import write_notices

    batch = _batches()[0]
    batch = batch._replace(title=text, targets=((text, "email", ("a@example.org",), (), ()),))
    out = io.StringIO()
    write_notices([batch], fmt="csv", out=out)
    [row] = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert row[4] == row[6] == "'" + text


def test_emitted_csv_keeps_formula_like_text_as_text_and_numbers_as_numbers() -> None:
    """`reminder status --format csv` (and every table given --format csv)."""
    import csv

    out = io.StringIO()
    emit([{"title": FORMULAS[0], "unit": "法规科", "n": -3}], fmt="csv",
         columns=(("title", "标题"), ("unit", "单位"), ("n", "数")), out=out)
    [row] = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert row == ["'" + FORMULAS[0], "法规科", "-3"]
