"""Re-importing a changed document: user edits kept, ids kept, changes reported, atomic."""

from __future__ import annotations

import copy
import io
import tomllib
from pathlib import Path

import pytest
from test_importers_common import CONGHUA, JUSTICE, RESOURCES, UP, Spec, write_docx, write_xlsx

from reminder.errors import ImportFailed
from reminder.importers import import_document, open_plan_source
from reminder.importers import writer as writer_module
from reminder.importers.writer import read_tasks_csv

USER_EDIT = '''
# 联系人由办公室维护
[tasks."21"]
deadline = "2022年11月30日"
'''


def _changed(spec: Spec) -> Spec:
    """The office's revised plan: task 6 dropped, a task inserted at the top, 21's date moved."""
    changed = copy.deepcopy(spec)
    rows = changed.rows
    rows[:] = [r for r in rows if not r[1].startswith("6.")]
    rows.insert(2, ["一、持续推进基层政务公开标准化规范化", "1.新增：建立政务公开工作联络员制度。", "办公室", "6月30日"])
    for row in rows:
        if row[1].startswith("21."):
            row[3] = "11月30日"
        if row[1].startswith("1.结合权责清单"):
            row[1] = "2" + row[1][1:]  # the document renumbers; the id must not follow
    return changed


def test_reimport_keeps_edits_and_ids_and_reports_changes(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    first = import_document(write_docx(RESOURCES, tmp_path / "v1.docx"), out)
    assert not first.reimport
    plan_toml = out / "plan.toml"
    text = plan_toml.read_text(encoding="utf-8")
    text = text.replace('[units."法规科"]\nemail = []', '[units."法规科"]\nemail = ["fagui@example.gov.cn"]')
    plan_toml.write_text(text + USER_EDIT, encoding="utf-8")
    (out / "rules").mkdir()
    (out / "rules" / "local.toml").write_text("# 本地规则\n", encoding="utf-8")

    report = import_document(write_docx(_changed(RESOURCES), tmp_path / "v2.docx"), out)

    after = plan_toml.read_text(encoding="utf-8")
    assert "# 联系人由办公室维护" in after
    data = tomllib.loads(after)
    assert data["units"]["法规科"]["email"] == ["fagui@example.gov.cn"]
    assert data["tasks"]["21"]["deadline"] == "2022年11月30日"
    assert (out / "rules" / "local.toml").read_text(encoding="utf-8") == "# 本地规则\n"

    tasks = {t.title[:6]: t.id for t in read_tasks_csv(out / "tasks.csv")}
    assert tasks["结合权责清单"] == "1"  # renumbered to 2 in the document, id kept
    assert tasks["新增：建立政"] == "36"  # "1" is taken: a fresh id past the largest
    assert report.reimport
    assert report.added == ("36",)
    assert report.removed == ("6",)
    assert report.changed == (("21", "12月30日", "11月30日"),)
    lines = "\n".join(report.lines())
    assert "新增任务：36" in lines and "删除任务：6" in lines and "任务 21 时限变更：12月30日 → 11月30日" in lines


def test_reimport_unchanged_document_changes_nothing(tmp_path: Path) -> None:
    source = write_xlsx(JUSTICE, tmp_path / "j.xlsx")
    out = tmp_path / "plan"
    import_document(source, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    report = import_document(source, out)
    assert (report.added, report.removed, report.changed) == ((), (), ())
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert "与上次导入相比没有变化" in report.lines()


def test_new_units_are_added_to_existing_plan(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    import_document(write_docx(CONGHUA, tmp_path / "a.docx"), out)
    changed = copy.deepcopy(CONGHUA)
    changed.rows.append([UP, "34.新增任务：做好政务公开培训。", "区委编办"])
    import_document(write_docx(changed, tmp_path / "b.docx"), out)
    data = tomllib.loads((out / "plan.toml").read_text(encoding="utf-8"))
    assert "区委编办" in data["units"]
    assert list(data["units"]).count("区直各单位") == 1


def test_failed_import_leaves_the_old_folder(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    import_document(write_docx(CONGHUA, tmp_path / "a.docx"), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "b.docx"
    broken.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(ImportFailed):
        import_document(broken, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_failure_while_writing_leaves_the_old_folder(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "plan"
    import_document(write_docx(CONGHUA, tmp_path / "a.docx"), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def fail(tasks):
        raise OSError("disk full")

    monkeypatch.setattr(writer_module, "tasks_csv", fail)
    with pytest.raises(OSError):
        import_document(write_docx(RESOURCES, tmp_path / "b.docx"), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.docx", "b.docx", "plan"]


def test_user_column_mapping_is_used(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    import_document(write_docx(CONGHUA, tmp_path / "a.docx"), out)
    import tomlkit

    doc = tomlkit.parse((out / "plan.toml").read_text(encoding="utf-8"))
    del doc["table"]["columns"]["section"]  # the user: that column is not a section path
    (out / "plan.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    import_document(write_docx(CONGHUA, tmp_path / "a.docx"), out)
    assert all(t.section[:1] != ("（一）做好各类规划主动公开",) for t in read_tasks_csv(out / "tasks.csv"))
    data = tomllib.loads((out / "plan.toml").read_text(encoding="utf-8"))
    assert "section" not in data["table"]["columns"]


def test_open_plan_source(tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    import_document(write_docx(CONGHUA, tmp_path / "a.docx"), folder)
    with open_plan_source(folder) as path:
        assert path == folder
    with open_plan_source(tmp_path / "a.docx") as path:
        temp = path
        assert len(read_tasks_csv(path / "tasks.csv")) == CONGHUA.tasks
    assert not temp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.docx", "plan"]


def test_our_own_tasks_csv_imports_back_unchanged(tmp_path: Path) -> None:
    """examples/demo-2026/tasks.csv is what `reminder import` writes: importing it again gives
    the same 16 tasks, sections, units and deadlines (an empty deadline stays empty)."""
    import csv

    source = Path(__file__).resolve().parents[2] / "examples" / "demo-2026" / "tasks.csv"
    import_document(source, tmp_path / "plan")
    got = (tmp_path / "plan" / "tasks.csv").read_text(encoding="utf-8-sig")
    want = source.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(want)))
    assert len(rows) == 16
    assert list(csv.DictReader(io.StringIO(got))) == rows
