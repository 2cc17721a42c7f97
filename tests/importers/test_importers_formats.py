"""Every seed-like table, written in every format, imports to the same tasks and dry-runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_importers_common import SPECS, WRITERS, Spec

from reminder.importers import import_document
from reminder.importers.writer import CSV_HEADER, read_tasks_csv

CASES = [(spec, fmt) for spec in SPECS for fmt in WRITERS]


def _write(spec: Spec, fmt: str, tmp_path: Path) -> Path:
    writer, suffix = WRITERS[fmt]
    return writer(spec, tmp_path / f"{spec.name}{suffix}")


@pytest.mark.parametrize(("spec", "fmt"), CASES, ids=[f"{s.name}-{f}" for s, f in CASES])
def test_imports_tasks_units_and_deadlines(spec: Spec, fmt: str, tmp_path: Path) -> None:
    source = _write(spec, fmt, tmp_path)
    report = import_document(source, tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert report.tasks == len(tasks) == spec.tasks
    for task_id, (lead, support, deadline) in spec.expect.items():
        task = tasks[task_id]
        assert (task.lead, task.support) == (lead, support), task_id
        assert task.deadline_text.startswith(deadline), (task_id, task.deadline_text)
    if fmt != "tsv":  # tab text cannot hold a line break inside a cell
        for task_id, section in spec.sections.items():
            assert tasks[task_id].section == section
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    assert plan["year"] == spec.year
    assert plan["title"] == spec.title
    assert plan.get("issued") == spec.issued
    for unit in {u for t in tasks.values() for u in t.lead + t.support}:
        assert plan["units"][unit] == {
            "email": [], "wecom": "", "wecom_users": [], "wecom_mobiles": [], "aliases": []
        }


@pytest.mark.parametrize(("spec", "fmt"), CASES, ids=[f"{s.name}-{f}" for s, f in CASES])
def test_deadlines_reach_the_engine(spec: Spec, fmt: str, tmp_path: Path) -> None:
    from reminder.parse.deadlines import Context, task_deadlines

    import_document(_write(spec, fmt, tmp_path), tmp_path / "plan")
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    ctx = Context(year=spec.year, issued=spec.issued)
    for task_id, due in spec.due.items():
        found = task_deadlines(tasks[task_id], ctx, None, plan.get("default_deadline", ""))
        assert found and found[0].dates[0] == due, (task_id, found)


def test_tasks_csv_is_the_canonical_table(tmp_path: Path) -> None:
    from test_importers_common import CONGHUA, write_docx

    import_document(write_docx(CONGHUA, tmp_path / "p.docx"), tmp_path / "plan")
    raw = (tmp_path / "plan" / "tasks.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header == ",".join(CSV_HEADER) == "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限"
    assert "一、紧扣“十四五”开好局起好步深化政务公开 / （一）做好各类规划主动公开" in raw.decode("utf-8-sig")
    assert "区政务公开办,区有关单位；各镇（街、园区）" in raw.decode("utf-8-sig")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("command", ["tasks", "plan", "check"])
def test_commands_accept_the_document_directly(spec: Spec, command: str, tmp_path: Path) -> None:
    from test_importers_common import write_docx

    from reminder.cli.main import cli

    source = write_docx(spec, tmp_path / f"{spec.name}.docx")
    result = CliRunner().invoke(cli, [command, str(source)])
    assert result.exit_code in ((0, 1) if command == "check" else (0,)), result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]  # nothing saved


def test_import_command_prints_a_summary(tmp_path: Path) -> None:
    from test_importers_common import JUSTICE, write_xlsx

    from reminder.cli.main import cli

    source = write_xlsx(JUSTICE, tmp_path / "j.xlsx")
    result = CliRunner().invoke(cli, ["import", str(source), "-o", str(tmp_path / "plan")])
    assert result.exit_code == 0, result.output
    assert "已导入 7 项任务" in result.output
    assert "广州市司法局2021年政务公开工作要点分工方案" in result.output


def test_the_import_summary_names_columns_in_chinese(tmp_path: Path) -> None:
    """Issue 17 §6: it printed 列对应：id=序号，lead=牵头单位…, the code's field names."""
    import re

    from test_importers_common import JUSTICE, write_xlsx

    from reminder.cli.main import cli

    source = write_xlsx(JUSTICE, tmp_path / "j.xlsx")
    result = CliRunner().invoke(cli, ["import", str(source), "-o", str(tmp_path / "plan")])
    line = next(x for x in result.output.splitlines() if x.startswith("列对应："))
    assert "序号 ← 原表“" in line and not re.search(r"[A-Za-z]+=", line), line
