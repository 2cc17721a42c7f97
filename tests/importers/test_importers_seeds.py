"""The seed texts as received (../shared/seeds), and the text layouts they stand for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from reminder.importers import import_document
from reminder.importers.writer import read_tasks_csv

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
needs_seeds = pytest.mark.skipif(
    not SEEDS.is_dir(), reason=f"seed plans not present at {SEEDS} (they are not part of the project)"
)


def _seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def _import(prefix: str, tmp_path: Path) -> tuple[dict, dict]:
    import tomllib

    import_document(_seed(prefix), tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    return tasks, plan


@needs_seeds
def test_seed_001_pipe_cells_split_over_lines(tmp_path: Path) -> None:
    tasks, plan = _import("001", tmp_path)
    assert list(tasks) == [str(i) for i in range(1, 36)]
    assert plan["year"] == 2022
    assert (tasks["1"].lead, tasks["1"].support, tasks["1"].deadline_text) == (
        ("法规科",), ("相关科（室）",), "长期")
    assert tasks["1"].section == ("一、持续推进基层 标准化规范化",)
    assert (tasks["10"].lead, tasks["10"].support) == (("政策起草科（室）",), ("法规科",))
    assert (tasks["14"].lead, tasks["14"].support) == (
        ("法规科", "办公室"), ("各职能科（室）", "不动产中心"))
    assert tasks["21"].deadline_text == "12月30日"
    assert tasks["34"].deadline_text == "2023年 1月31日"
    assert tasks["35"].deadline_text == "2023年 3月1日"
    assert all(t.lead for t in tasks.values())


@needs_seeds
def test_seed_002_tab_cells_with_empty_merged_units(tmp_path: Path) -> None:
    tasks, plan = _import("002", tmp_path)
    assert len(tasks) == 46 and list(tasks)[-1] == "46"
    assert plan["title"] == "从化区2021年政务公开工作要点分工方案"
    assert plan["year"] == 2021 and plan["default_deadline"] == "年底前"
    assert "deadline" not in plan["table"]["columns"]
    # An empty units cell is merged with the task above in the same sub-section ...
    for empty, above in (("8", "7"), ("10", "9"), ("16", "15"), ("19", "17"), ("30", "29"), ("46", "44")):
        assert tasks[empty].units_text == tasks[above].units_text, empty
    # ... a guess the import names task by task for review.
    report = import_document(_seed("002"), tmp_path / "again")
    (filled,) = [w for w in report.warnings if "沿用上一项" in w]
    named = filled.split("任务 ")[1].split(" 的")[0].split("、")
    assert {"8", "10", "16", "18", "19", "30", "46"} <= set(named) and "7" not in named
    assert (tasks["2"].lead, tasks["2"].support) == (("区政务公开办",), ("区有关单位", "各镇（街、园区）"))
    assert tasks["28"].deadline_text == tasks["32"].deadline_text == "2021年底前"
    assert tasks["20"].section == ("二、紧扣宏观政策落地见效深化政务公开", "（二）不断改进政策解读工作方式")
    assert all(t.units for t in tasks.values())
    # "卫健局、市场监管局" in this 区 plan are the 区 units it names elsewhere, kept as aliases;
    # "农业农村局等有关部门" is that bureau plus the group
    assert tasks["11"].units == ("区科工商信局", "交通运输局", "区卫健局", "区市场监管局", "各镇（街、园区）")
    assert plan["units"]["区市场监管局"]["aliases"] == ["市场监管局"]
    assert {"农业农村局", "区有关部门"} <= set(tasks["9"].support)


@needs_seeds
def test_seed_004_paragraph_cells_best_effort(tmp_path: Path) -> None:
    """One cell per paragraph; rows found by the 序号 cells. Got: all 28 tasks, their units
    (merged ones inherited), the whole-table deadline split into the 11月底 clause for tasks
    and a plan-level 7月底 date for 局政务公开办."""
    tasks, plan = _import("004", tmp_path)
    assert list(tasks) == [str(i) for i in range(1, 29)]
    assert plan["issued"] == date(2021, 7, 19)
    assert plan["title"] == "广州市司法局2021年政务公开工作要点分工方案"
    # The seed writes half-width parentheses: 各处室(部门)于11月底前…
    assert all(t.deadline_text.startswith("各处室(部门)于11月底前") for t in tasks.values())
    assert plan["dates"][0]["units"] == ["局政务公开办"]
    assert plan["dates"][0]["deadline"].startswith("局政务公开办7月底前")
    assert (tasks["1"].lead, tasks["1"].support) == (("装财处",), ("办公室", "科监处"))
    assert tasks["1"].section == ("一、紧扣“十四五”开好局起好步深化政务公开", "做好财政信息公开")
    assert tasks["9"].units_text == tasks["8"].units_text
    assert tasks["16"].title.startswith("年底本单位门户网站")
    assert all(t.units for t in tasks.values())


@needs_seeds
def test_seed_000_scraped_web_text(tmp_path: Path) -> None:
    """Cells end in "X/td>" where X is the real last character's code point minus one
    (外资夃 for 外资处); the importer shifts it back, and splits the cells whose end tag was
    lost at their run of spaces."""
    tasks, plan = _import("000", tmp_path)
    assert list(tasks) == [str(i) for i in range(1, 32)]
    assert plan["title"] == "广州市商务局2021年政务公开工作要点分工实施方案"
    assert (plan["year"], plan["issued"]) == (2021, date(2021, 7, 23))
    assert all(t.deadline_text == "2021年底" for t in tasks.values())
    assert tasks["1"].lead == ("综合处",)
    assert tasks["4"].lead == ("财务处",) and tasks["5"].lead == ("财务处",)
    assert tasks["4"].support == ("各处室", "直属单位")
    assert all(t.lead for t in tasks.values())
    assert tasks["3"].lead == ("外资处",) and tasks["6"].lead == ("综合统筹组",)
    assert tasks["19"].lead == ("商贸中心",) and tasks["19"].support == ("办公室", "法规处", "各业务处室")
    assert tasks["21"].lead == ("商贸中心",)  # not task 20's units: its cell end was a space run
    assert {tasks[str(i)].lead for i in range(25, 32)} == {("办公室",)}  # merged down
    assert tasks["2"].title.endswith("主动公开工作。")  # 、 shifted back to 。


PIPE_STREAM = """一、持续推进基层政务公开标准化规范化 |
1.结合权责清单,持续推动政府信息主动公开目录的动态更新调整。 |
法规科牵头,相关科(室)配合。 |
长期 |
二、加强优化营商环境信息公开 |
2.在市政府门户网站首页开设“营商环境”政策集成专栏。 |
法规科统筹,各职能科(室)配合。 |
长期 |
3.建立本系统2022年工作要点任务台账。 |
办公室 |
12月30日 |
"""

PARAGRAPH_STREAM = """广州市司法局2021年政务公开工作要点分工方案

序号

工作任务

具体要求

落实处室（部门）

完成时限

1

一、紧扣“十四五”开好局起好步深化政务公开

做好财政信息公开

积极配合、推进单位预算、决算及相关报表公开。

装财处牵头，办公室配合。

各处室（部门）于11月底前按要求落实。

2

（一）持续加强重大政策发布解读

年底本单位门户网站实现支持互联网协议第6版

办公室会科监处牵头落实。

3

建立舆情回应台账管理，按季度核查已作出的承诺落实及公开情况。
"""

TAB_GROUPS = (
    "从化区2021年政务公开工作要点分工方案\n\t工作任务\n\t具体要求\n\t落实单位\n\n"
    "\t一、紧扣“十四五”开好局起好步深化政务公开\n\n"
    "\t（一）做好各类规划主动公开。\n\t1.主动公开规划纲要。\n\t区直各单位；各镇（街、园区）\n\n"
    "\t\n\t2.做好历史规划的归集整理。\n\t\n\n"
    "\t（二）做好财政信息公开。\n\t3.2021年底前，推进预算公开。\n\t区财政局牵头，区直各单位落实\n\n"
    "\t\n\t4.持续深化债务信息公开。\n\t\n\n"
)

DUE = "各处室（部门）于11月底前按要求落实。"
TEXT_CASES = [
    ("pipe-per-line", PIPE_STREAM, {"1": ("法规科", "长期"), "2": ("法规科", "长期"),
                                     "3": ("办公室", "12月30日")}),
    ("paragraph-stream", PARAGRAPH_STREAM, {"1": ("装财处", DUE),
                                            "2": ("办公室", DUE), "3": ("办公室", DUE)}),
    ("tab-groups", TAB_GROUPS, {"1": ("区直各单位", ""), "2": ("区直各单位", ""),
                                "3": ("区财政局", "2021年底前"), "4": ("区财政局", "")}),
]


@pytest.mark.parametrize(("text", "expect"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_text_layouts(text: str, expect: dict, tmp_path: Path) -> None:
    source = tmp_path / "plan.txt"
    source.write_text(text, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert {k: (t.lead[0], t.deadline_text) for k, t in tasks.items()} == expect
