"""The confidence report every import ends with, exit 3 on junk, --accept, and the import
checks of `reminder check` (no notice at all, tasks without a unit, a guessed year)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from reminder.cli.main import cli
from reminder.errors import ImportDoubtful
from reminder.importers import import_document
from reminder.importers.confidence import Confidence, count_items
from reminder.models import Task


def _conf(**kw) -> Confidence:
    base = dict(tasks=10, with_unit=10, with_deadline=10, long_titles=0, overlong_titles=0,
                from_text=0, expected=10)
    return Confidence(**(base | kw))


@pytest.mark.parametrize(("changes", "words"), [
    pytest.param({}, None, id="complete"),
    pytest.param({"with_unit": 8}, None, id="80pct-units-is-enough"),
    pytest.param({"with_unit": 7}, "7/10 项任务识别出责任单位", id="few-units"),
    pytest.param({"with_deadline": 5}, None, id="half-deadlines-is-enough"),
    pytest.param({"with_deadline": 4}, "4/10 项任务有完成时限", id="few-deadlines"),
    pytest.param({"overlong_titles": 1, "long_titles": 1}, "超过 400 字", id="overlong-title"),
    pytest.param({"long_titles": 3}, None, id="long-titles-only-reported"),
    pytest.param({"tasks": 3, "with_unit": 3, "with_deadline": 3, "expected": 16},
                 "原文约有 16 个", id="far-below-source"),
    pytest.param({"tasks": 0, "with_unit": 0, "with_deadline": 0}, "没有识别出任务", id="nothing"),
])
def test_reasons_to_review(changes: dict, words: str | None) -> None:
    reasons = _conf(**changes).reasons()
    if words is None:
        assert reasons == []
    else:
        assert any(words in r for r in reasons), reasons


@pytest.mark.parametrize(("lines", "count"), [
    pytest.param(["1.甲", "2、乙", "3. 丙", "1.信里的第一条"], 3, id="arabic-counted-once"),
    pytest.param(["（一）甲", "(二)乙", "一、章"], 2, id="parenthesised"),
    pytest.param(["①甲", "②乙", "③丙", "④丁"], 4, id="circled"),
    pytest.param(["甲\n1.乙\n2.丙"], 2, id="inside-a-cell"),
    pytest.param(["2021年底前", "12345热线"], 0, id="numbers-that-are-not-items"),
])
def test_count_items(lines: list[str], count: int) -> None:
    assert count_items(lines) == count


def test_report_lines_name_every_count() -> None:
    (line,) = _conf(with_unit=9, long_titles=2, from_text=10).lines()
    for words in ("任务 10 项", "有责任单位 9 项", "有完成时限 10 项", "超过 200 字 2 项",
                  "来自表格以外文字 10 项", "约 10 个"):
        assert words in line


# Fragments as a reader site shows them: numbered pages of running text, no units at all.
FRAGMENTS = "\n".join(
    f"{i}、第{i}部分的文字接着上一页继续写下去，没有单位也没有表格，只是一段又一段的说明。"
    for i in range(1, 13)
)


def test_junk_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "dump.txt"
    source.write_text(FRAGMENTS, encoding="utf-8")
    with pytest.raises(ImportDoubtful) as caught:
        import_document(source, tmp_path / "plan")
    assert caught.value.exit_code == 3
    assert "请核对后再用" in str(caught.value) and "0/12 项任务识别出责任单位" in str(caught.value)
    assert any("任务 12 项" in line for line in caught.value.lines)
    assert not (tmp_path / "plan").exists()


def test_cli_prints_report_then_exits_3_and_accept_records_it(tmp_path: Path) -> None:
    source = tmp_path / "dump.txt"
    source.write_text(FRAGMENTS, encoding="utf-8")
    out = tmp_path / "plan"
    refused = subprocess.run([sys.executable, "-m", "reminder", "import", str(source), "-o",
                              str(out)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3
    assert "识别情况：任务 12 项" in refused.stdout
    (error,) = refused.stderr.splitlines()  # one line, no traceback
    assert error.startswith("错误：") and "请核对后再用" in error and "--accept" in error
    assert not out.exists()

    accepted = CliRunner().invoke(cli, ["import", str(source), "-o", str(out), "--accept"])
    assert accepted.exit_code == 0, accepted.output
    assert "已按 --accept 导入" in accepted.output
    plan = tomllib.loads((out / "plan.toml").read_text(encoding="utf-8"))
    assert any("责任单位" in w for w in plan["import"]["accepted_with_warnings"])


# A tab-pasted table with no plan title: the only year is a past year's report.
TAB_TABLE = (
    "序号\t具体要求\t责任单位\t完成时限\n"
    "1\t编制并公开2021年政府信息公开工作年度报告。\t办公室\t1月31日前\n"
    "2\t更新主动公开目录。\t法规科\t6月30日\n"
    "3\t做好政策解读。\t法规科\t长期\n"
)


def _check(out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", str(out)])
    return result.exit_code, result.output


def test_guessed_year_is_recorded_and_checked_until_confirmed(tmp_path: Path) -> None:
    source = tmp_path / "table.txt"
    source.write_text(TAB_TABLE, encoding="utf-8")
    out = tmp_path / "plan"
    report = import_document(source, out)
    assert any("计划年度 2021 是推测的" in w for w in report.warnings)
    text = (out / "plan.toml").read_text(encoding="utf-8")
    plan = tomllib.loads(text)
    assert plan["year"] == 2021
    assert "2021年政府信息公开工作年度报告" in plan["import"]["year_guessed_from"]
    assert plan["import"]["year_confirmed"] is False
    # the commented issued line is a placeholder, not a date someone might take as found
    (issued,) = [line for line in text.splitlines() if "issued" in line]
    assert issued.startswith("#") and not re.search(r"\d{4}-\d{2}-\d{2}", issued)

    code, output = _check(out)
    assert code == 1 and "计划年度 2021 是导入时推测的" in output
    (out / "plan.toml").write_text(text.replace("year_confirmed = false", "year_confirmed = true"),
                                   encoding="utf-8")
    _, output = _check(out)
    assert "推测" not in output


def test_year_from_the_title_is_no_guess(tmp_path: Path) -> None:
    source = tmp_path / "table.txt"
    source.write_text("某局2026年政务公开工作要点分工方案\n" + TAB_TABLE, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    assert plan["year"] == 2026 and "import" not in plan


def _plan_folder(tmp_path: Path, rows: list[str], extra: str = "") -> Path:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "plan.toml").write_text(f"title = \"测试\"\nyear = 2026\n{extra}", encoding="utf-8")
    (out / "tasks.csv").write_text("序号,工作任务,责任单位,完成时限\n" + "\n".join(rows) + "\n",
                                   encoding="utf-8")
    return out


@pytest.mark.parametrize(("rows", "extra", "words"), [
    pytest.param(["1,公开目录,,2026年6月30日"], "", "没有责任单位", id="task-without-unit"),
    pytest.param(["1,公开目录,办公室,", "2,做好解读,法规科,"], "", "不会发出任何提醒",
                 id="no-notice-at-all"),
])
def test_check_errors_on_import_problems(tmp_path: Path, rows: list[str], extra: str,
                                         words: str) -> None:
    code, output = _check(_plan_folder(tmp_path, rows, extra))
    assert code == 1
    assert any(line.startswith("错误") and words in line for line in output.splitlines()), output


def test_default_deadline_makes_notices(tmp_path: Path) -> None:
    out = _plan_folder(tmp_path, ["1,公开目录,办公室,"], 'default_deadline = "年底前"\n')
    _, output = _check(out)
    assert "不会发出任何提醒" not in output and "没有责任单位" not in output


def test_units_counted_per_task() -> None:
    from reminder.importers.confidence import assess

    tasks = [Task(id="1", title="甲", lead=("办公室",)), Task(id="2", title="乙" * 401)]
    conf = assess(tasks, default_deadline="年底前", expected=2, from_text=True)
    assert (conf.with_unit, conf.with_deadline, conf.long_titles, conf.overlong_titles,
            conf.from_text) == (1, 2, 1, 1, 2)


@pytest.mark.parametrize(("lines", "issued", "titles", "expect"), [
    pytest.param(["关于做好某区2026年政务公开重点工作的通知"], None, [], (2026, ""), id="notice-heading-states-it"),
    pytest.param(["编制并公开2021年政府信息公开工作年度报告。"], None, [], (2021, "编制并公开2021年政府信息公开工作年度报告。"),
                 id="prose-is-a-guess"),
    pytest.param([], date(2021, 7, 19), [], (2021, "印发日期 2021-07-19"), id="issue-date-is-a-guess"),
    pytest.param([], None, ["做好2022年度统计公开"], (2022, "做好2022年度统计公开"), id="task-text-is-a-guess"),
    pytest.param(["没有年份"], None, [], (None, ""), id="nothing"),
])
def test_year_evidence(lines: list[str], issued, titles: list[str], expect: tuple) -> None:
    from reminder.importers.meta import year_evidence

    assert year_evidence("", lines, issued, titles) == expect
