"""The 督查情况通报: opened with python-docx (headings, a table row per unit, A4 portrait,
East Asian fonts in the XML), and every figure the same as `reminder stats` prints."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import docx
import pytest
from clirun import reminder
from docx.oxml.ns import qn
from reportdata import deployment, store_url

from reminder.answerback.stats import COLUMNS

ARGS = ("demo-2026", "--period", "2026年第三季度", "--now", "2026-10-09T09:00")


@pytest.fixture(params=["sqlite", "postgres"])
def made(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[docx.document.Document, list[list[str]]]:
    with store_url(request.param, tmp_path) as url:
        config = deployment(tmp_path, url)
        out = tmp_path / "督查通报.docx"
        result = reminder("bulletin", *ARGS, "-o", str(out), "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert "草稿" in result.stderr
        stats = reminder("stats", *ARGS, "--format", "csv", "--config", str(config))
        assert stats.returncode == 0, stats.stderr
        return docx.Document(str(out)), list(csv.reader(io.StringIO(stats.stdout)))


def test_headings_and_the_draft_mark(made: tuple[docx.document.Document, list[list[str]]]) -> None:
    document, _ = made
    headings = [p.text for p in document.paragraphs if p.style.name in ("Title", "Heading 1", "Heading 2")]
    assert headings == ["关于2026年第三季度重点工作督查情况的通报", "一、总体情况", "二、各单位完成情况",
                        "三、逾期未完成情况", "四、已完成任务", "五、下一步工作"]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "草稿" in text and "2026年7月1日至9月30日" in text
    assert "办公室（1项）、数据资源科（1项）、财务科（1项）仍有逾期事项" in text
    assert "第9项任务“修订依申请公开办理规程”，2026年7月6日完成" in text  # tasks completed
    assert text.rstrip().endswith("2026年10月9日") and "局政务公开办" in text
    assert len(document.inline_shapes) == 2  # the two charts


def test_the_unit_table_agrees_with_stats_on_every_figure(
        made: tuple[docx.document.Document, list[list[str]]]) -> None:
    document, stats_rows = made
    (table,) = document.tables
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == [h for _, h in COLUMNS]
    assert rows[1:] == [r[1:] for r in stats_rows[1:]]  # one row per unit and the total, same cells
    assert [r[1] for r in rows[1:]] == ["法规科", "信息中心", "办公室", "数据资源科", "财务科", "合计"]
    overall = next(p.text for p in document.paragraphs if "本期到期任务" in p.text)
    total = dict(zip((h for _, h in COLUMNS), rows[-1], strict=True))
    for figure in (f"到期任务{total['任务数']}项", f"按时完成{total['按时完成']}项", f"逾期完成{total['逾期完成']}项",
                   f"当前逾期{total['当前逾期']}项", f"累计逾期{total['逾期天数']}天", f"按时完成率{total['按时完成率']}",
                   f"发送提醒{total['提醒次数']}次"):
        assert figure in overall


def test_a4_portrait_with_chinese_fonts_in_the_xml(made: tuple[docx.document.Document, list[list[str]]]) -> None:
    document, _ = made
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert section.orientation == 0  # portrait
    def east_asian(style: str) -> str | None:
        fonts = document.styles[style].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsiaTheme")) is None  # a theme font would win over the name
        return fonts.get(qn("w:eastAsia"))
    assert east_asian("Normal") == "仿宋_GB2312"
    assert east_asian("Heading 2") == east_asian("Title") == "黑体"
    table = next(p for p in document.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml")
    assert "仿宋_GB2312".encode() in table.blob and 'w:altName w:val="仿宋"'.encode() in table.blob


def test_an_unwritable_output_is_one_line(tmp_path: Path) -> None:
    config = deployment(tmp_path, f"sqlite:///{tmp_path / 'state' / 'reminder.db'}")
    result = reminder("bulletin", *ARGS, "-o", str(tmp_path / "nosuch" / "x.docx"), "--config", str(config))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "无法写入" in result.stderr
