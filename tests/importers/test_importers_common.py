"""Tables built like each seed's, written in every format the importer reads, and the
grid → tasks logic they share.

A table is a list of rows whose cells are text, ``UP`` (merged with the cell above: Word vMerge,
Excel merged range, HTML rowspan) or ``LEFT`` (merged with the cell to the left: gridSpan,
colspan). The writers below turn one table into .docx, .xlsx, GBK .html, .csv, .md and
tab-separated .txt; the flattened formats leave merged cells empty, as real exports do.
Other test modules import these builders.
"""

from __future__ import annotations

import csv
import html as htmllib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from reminder.importers.table import Grid, build_table

UP = "\x00UP"
LEFT = "\x00LEFT"


@dataclass
class Spec:
    """A seed-like table and what importing it must give."""

    name: str
    before: list[str]  # paragraphs above the table (title, issue date)
    rows: list[list[str]]  # may start with a title row inside the table, then the header
    after: list[str] = field(default_factory=list)
    tasks: int = 0
    expect: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = field(default_factory=dict)
    title: str = ""
    year: int = 0
    issued: date | None = None
    due: dict[str, date] = field(default_factory=dict)  # task id -> first due date
    sections: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _resolve(rows: list[list[str]]) -> list[list[str]]:
    """Merged cells expanded (what a reader of a merge-aware format must produce)."""
    out: list[list[str]] = []
    for r, row in enumerate(rows):
        line: list[str] = []
        for c, cell in enumerate(row):
            if cell == LEFT:
                line.append(line[-1])
            elif cell == UP:
                line.append(out[r - 1][c])
            else:
                line.append(cell)
        out.append(line)
    return out


def _regions(rows: list[list[str]]) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) of every anchor cell, inclusive."""
    regions = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell in (UP, LEFT):
                continue
            right = c
            while right + 1 < len(row) and row[right + 1] == LEFT:
                right += 1
            bottom = r
            while bottom + 1 < len(rows) and rows[bottom + 1][c] == UP:
                bottom += 1
            regions.append((r, c, bottom, right))
    return regions


def flat(rows: list[list[str]], joiner: str | None = None) -> list[list[str]]:
    """Merged cells left empty, as a CSV/text export has them."""
    out = []
    for row in rows:
        line = ["" if c in (UP, LEFT) else c for c in row]
        out.append([c.replace("\n", joiner) for c in line] if joiner is not None else line)
    return out


def write_docx(spec: Spec, path: Path) -> Path:
    import docx

    document = docx.Document()
    for text in spec.before:
        document.add_paragraph(text)
    width = max(len(r) for r in spec.rows)
    table = document.add_table(rows=len(spec.rows), cols=width)
    for top, left, bottom, right in _regions(spec.rows):
        cell = table.cell(top, left)
        if (bottom, right) != (top, left):
            cell = cell.merge(table.cell(bottom, right))
        lines = spec.rows[top][left].split("\n")
        cell.paragraphs[0].text = lines[0]
        for line in lines[1:]:
            cell.add_paragraph(line)
    for text in spec.after:
        document.add_paragraph(text)
    document.save(path)
    return path


def write_xlsx(spec: Spec, path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "分工方案"
    offset = 0
    for text in spec.before:  # title rows merged across the sheet above the table
        offset += 1
        sheet.append([text])
        sheet.merge_cells(start_row=offset, start_column=1, end_row=offset,
                          end_column=len(spec.rows[-1]))
    for row in flat(spec.rows):
        sheet.append(row)
    for top, left, bottom, right in _regions(spec.rows):
        if (bottom, right) != (top, left):
            sheet.merge_cells(start_row=top + 1 + offset, start_column=left + 1,
                              end_row=bottom + 1 + offset, end_column=right + 1)
    book.save(path)
    return path


def html_text(spec: Spec) -> str:
    parts = ["<html><head><title>政务公开</title></head><body>"]
    parts += [f"<p>{htmllib.escape(t)}</p>" for t in spec.before]
    parts.append('<table border="1">')
    regions = {(t, lft): (b, r) for t, lft, b, r in _regions(spec.rows)}
    for r, row in enumerate(spec.rows):
        parts.append("<tr>")
        for c, cell in enumerate(row):
            if (r, c) not in regions:
                continue
            bottom, right = regions[(r, c)]
            attrs = (f' rowspan="{bottom - r + 1}"' if bottom > r else "") + (
                f' colspan="{right - c + 1}"' if right > c else "")
            body = "<br>".join(htmllib.escape(line) for line in cell.split("\n"))
            parts.append(f"<td{attrs}>{body}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    parts += [f"<p>{htmllib.escape(t)}</p>" for t in spec.after]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(spec: Spec, path: Path) -> Path:
    path.write_bytes(html_text(spec).encode("gbk"))  # no meta charset, as many sites serve it
    return path


def write_csv(spec: Spec, path: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    width = len(spec.rows[-1])
    for text in spec.before:
        writer.writerow([text] + [""] * (width - 1))
    writer.writerows(flat(spec.rows))
    path.write_bytes(buffer.getvalue().encode("gbk"))  # WPS exports GBK by default
    return path


def write_md(spec: Spec, path: Path) -> Path:
    lines = [f"# {t}" for t in spec.before[:1]] + spec.before[1:] + [""]
    rows = flat(spec.rows, joiner="<br>")
    header_at = next(i for i, r in enumerate(rows) if sum(bool(c) for c in r) > 2)
    for i, row in enumerate(rows):
        lines.append("| " + " | ".join(row) + " |")
        if i == header_at:
            lines.append("|" + "---|" * len(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_tsv(spec: Spec, path: Path) -> Path:
    lines = list(spec.before)
    lines += ["\t".join(row) for row in flat(spec.rows, joiner="；")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WRITERS = {
    "docx": (write_docx, ".docx"), "xlsx": (write_xlsx, ".xlsx"), "html": (write_html, ".html"),
    "csv": (write_csv, ".csv"), "md": (write_md, ".md"), "tsv": (write_tsv, ".txt"),
}

# -- the seeds' tables ----------------------------------------------------------------------

S1 = "一、紧扣“十四五”开好局起好步深化政务公开"
S2 = "二、紧扣宏观政策落地见效深化政务公开"

COMMERCE = Spec(  # seed 000: web page, merged units and a whole-table deadline
    name="000-commerce",
    before=["广州市商务局2021年政务公开工作要点分工实施方案", "发布日期 2021-07-23"],
    rows=[
        ["工作任务", "具体要求", "责任处室", "具体工作", "完成时限"],
        [S1, LEFT, LEFT, LEFT, "2021年底"],  # the deadline cell is merged down the whole table
        ["（一）做好各类规划主动公开。", "1.县级以上各级政府要主动公开国民经济和社会发展第十四个五年规划纲要。",
         "综合处会各业务处室", "密切跟进省商务发展规划编制进展。", UP],
        [UP, "2.做好历史规划（计划）的归集整理和主动公开工作。", UP, "公开发布市商务发展历史规划。", UP],
        ["（二）做好市场规则标准和监管执法信息公开。", "3.按照国家和省的要求，主动公开全国统一的市场准入负面清单。",
         "外资处", "公开发布最新的全国统一的《市场准入负面清单》。", UP],
        ["（三）做好财政信息公开。", "4.积极推进部门所属单位预算、决算及相关报表公开。",
         "财务处会各处室、直属单位", "组织所属单位公开部门预算、决算。", UP],
        [UP, "5.持续深化地方政府债务信息公开。", UP, "做好每月零债务申报。", UP],
        [S2, LEFT, LEFT, LEFT, UP],
        ["（一）持续加强重大政策发布解读。", "6.重点围绕做好“六稳”工作、落实“六保”任务，切实加强重大政策实施的发布解读。",
         "法规处会各业务处室", "定期转载重大政策文件原文及解读材料。", UP],
    ],
    after=["请于今年10月10日前及2022年1月5日前报送第三、第四季度推进落实情况。"],
    tasks=6,
    expect={
        "1": (("综合处",), ("各业务处室",), "2021年底"),
        "2": (("综合处",), ("各业务处室",), "2021年底"),
        "3": (("外资处",), (), "2021年底"),
        "5": (("财务处",), ("各处室", "直属单位"), "2021年底"),
        "6": (("法规处",), ("各业务处室",), "2021年底"),
    },
    title="广州市商务局2021年政务公开工作要点分工实施方案", year=2021, issued=date(2021, 7, 23),
    due={"1": date(2021, 12, 31), "6": date(2021, 12, 31)},
    sections={"2": (S1, "（一）做好各类规划主动公开"), "6": (S2, "（一）持续加强重大政策发布解读")},
)

RESOURCES = Spec(  # seed 001: lead/support units, 长期 and dates, title row inside the table
    name="001-resources",
    before=[],
    rows=[
        ["某市自然资源局2022年政务公开工作要点任务分工方案", LEFT, LEFT, LEFT],
        ["重点任务", "具体工作", "责任单位", "完成时限"],
        ["一、持续推进基层政务公开标准化规范化", "1.结合权责清单以及工作职责,持续推动政府信息主动公开目录的动态更新调整。",
         "法规科牵头,相关科(室)配合。", "长期"],
        ["五、加强优化营商环境信息公开", "5.在市政府门户网站首页开设“营商环境”政策集成专栏,做好信息内容保障。",
         "法规科统筹,各职能科(室)配合。", "长期"],
        [UP, "6.充分发挥“粤企政策通”“粤商通”等政策服务平台作用,加大涉企政策的分类公开和精准推送力度。",
         UP, UP],
        ["九、围绕省委“1+1+9”工作部署加大重大政策解读力度", "10.落实政策文件解读工作的“三同步”工作机制。",
         "政策起草科(室)具体落实,法规科提供指导。", "长期"],
        ["重点任务", "具体工作", "责任单位", "完成时限"],  # the header again, on page 2
        ["十二、提升政务网站、政务新媒体运维管理水平", "21.按照考核要求,每年至少更新一次“开放广东”数据集资料。",
         "国土信息中心牵头,各职能科(室)配合。", "12月30日"],
        ["十六、强化工作指导监督", "34.按照规定于1月31日前发布本单位上年度的《政府信息公开工作年度报告》。",
         "办公室", "2023年 1月31日"],
        [UP, "35.根据上级要求,于3月1日前发布本单位上年度的《法治政府建设情况年度报告》。", "法规科",
         "2023年 3月1日"],
    ],
    tasks=7,
    expect={
        "1": (("法规科",), ("相关科（室）",), "长期"),
        "6": (("法规科",), ("各职能科（室）",), "长期"),
        "10": (("政策起草科（室）",), ("法规科",), "长期"),
        "21": (("国土信息中心",), ("各职能科（室）",), "12月30日"),
        "34": (("办公室",), (), "2023年 1月31日"),
        "35": (("法规科",), (), "2023年 3月1日"),
    },
    title="某市自然资源局2022年政务公开工作要点任务分工方案", year=2022,
    due={"21": date(2022, 12, 30), "34": date(2023, 1, 31)},
)

CONGHUA = Spec(  # seed 002: no deadline column, merged sub-section and unit cells
    name="002-conghua",
    before=["从化区2021年政务公开工作要点分工方案"],
    rows=[
        ["工作任务", "具体要求", "落实单位"],
        [S1, LEFT, LEFT],
        ["（一）做好各类规划主动公开。", "1.主动公开国民经济和社会发展第十四个五年规划纲要。", "区直各单位；各镇（街、园区）"],
        [UP, "2.做好历史规划（计划）的归集整理和主动公开工作。", "区政务公开办牵头，区有关单位落实；各镇（街、园区）"],
        ["（三）做好财政信息公开。", "7.积极推进部门所属单位预算、决算及相关报表公开。",
         "区财政局牵头，区直各单位落实；各镇（街、园区）"],
        [UP, "8.持续深化地方政府债务信息公开。", UP],
        ["三、紧扣强基础抓基层深化政务公开", LEFT, LEFT],
        ["（一）做好政务信息管理工作。", "28.推进部门规范性文件统一公开，2021年底前通过政府网站集中公开现行有效规范性文件。",
         "区直各单位；各镇（街、园区）"],
        ["（二）完善政务公开平台。", "32.2021年底前，政府网站全部支持互联网协议第6版。",
         "区政务服务局牵头，区直各单位落实；各镇（街、园区）"],
        [UP, "33.加快推进政府公报电子化工作。", "区政府公报编辑部"],
    ],
    tasks=7,
    expect={
        "1": (("区直各单位",), ("各镇（街、园区）",), ""),  # no 牵头 word: the first leads
        "2": (("区政务公开办",), ("区有关单位", "各镇（街、园区）"), ""),
        "8": (("区财政局",), ("区直各单位", "各镇（街、园区）"), ""),
        "28": (("区直各单位",), ("各镇（街、园区）",), "2021年底前"),
        "32": (("区政务服务局",), ("区直各单位", "各镇（街、园区）"), "2021年底前"),
        "33": (("区政府公报编辑部",), (), ""),
    },
    title="从化区2021年政务公开工作要点分工方案", year=2021,
    due={"28": date(2021, 12, 31)},
    sections={"8": (S1, "（三）做好财政信息公开"),
              "33": ("三、紧扣强基础抓基层深化政务公开", "（二）完善政务公开平台")},
)

JUSTICE_DEADLINE = ("局政务公开办7月底前完善我局政务公开各项制度并分发2021年度工作任务。\n"
                    "各处室（部门）于11月底前按要求落实，若无法按时完成请向局政务公开办书面说明。")
JUSTICE = Spec(  # seed 004: 序号, one deadline cell for the whole table speaking to two audiences
    name="004-justice",
    before=["广州市司法局关于印发2021年政务公开工作要点分工方案的通知", "2021年7月19日",
            "广州市司法局2021年政务公开工作要点分工方案"],
    rows=[
        ["序号", "工作任务", "具体要求", "落实处室（部门）", "完成时限"],
        ["1", S1 + "\n做好财政信息公开", "积极配合、推进单位预算、决算及相关报表公开。",
         "装财处牵头，办公室配合，科监处技术保障。", JUSTICE_DEADLINE],
        ["2", S2 + "\n（一）持续加强重大政策发布解读", "重点围绕做好“六稳”工作，切实加强重大政策实施的发布解读。",
         "各相关业务处室。", UP],
        ["3", UP, "结合全市新闻发布会计划，对重大政策开展深入解读和普法宣讲。",
         "办公室（宣传组）、普法处按职责牵头，各相关业务处室配合。", UP],
        ["4", S2 + "\n（二）不断改进政策解读工作方式", "健全政策解读工作机制，规范工作流程。",
         "各相关业务处室落实，局政务公开办督办。", UP],
        ["8", S2 + "\n（三）加强回应工作，关切回应效果", "紧紧围绕政务舆情背后的实际问题，实质性回应社会关切。",
         "办公室（宣传组）牵头，各业务处室配合。", UP],
        ["9", UP, "建立舆情回应台账管理，按季度核查已作出的承诺落实及公开情况。", UP, UP],
        ["12", "三、紧扣强基础抓基层深化政务公开\n（一）做好政务信息管理工作", "将广州市现行有效规章集中公开。",
         "局政务公开办会立法一处、立法二处牵头，各业务处室配合。", UP],
    ],
    tasks=7,
    expect={
        "1": (("装财处",), ("办公室", "科监处"), "各处室（部门）于11月底前"),
        "3": (("办公室（宣传组）", "普法处"), ("各相关业务处室",), "各处室（部门）于11月底前"),
        "4": (("各相关业务处室",), ("局政务公开办",), "各处室（部门）于11月底前"),
        "9": (("办公室（宣传组）",), ("各业务处室",), "各处室（部门）于11月底前"),
        "12": (("局政务公开办", "立法一处", "立法二处"), ("各业务处室",), "各处室（部门）于11月底前"),
    },
    title="广州市司法局2021年政务公开工作要点分工方案", year=2021, issued=date(2021, 7, 19),
    due={"1": date(2021, 11, 30), "12": date(2021, 11, 30)},
    sections={"1": (S1, "做好财政信息公开"), "9": (S2, "（三）加强回应工作，关切回应效果")},
)

SPECS = [COMMERCE, RESOURCES, CONGHUA, JUSTICE]


# -- grid-level tests -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("flattened", [False, True], ids=["merged", "flattened"])
def test_grid_gives_each_seed_table(spec: Spec, flattened: bool) -> None:
    rows = flat(spec.rows) if flattened else _resolve(spec.rows)
    table = build_table(Grid(rows=rows, context=spec.before, flattened=flattened))
    tasks = {t.id: t for t in table.tasks}
    assert len(table.tasks) == spec.tasks
    for task_id, (lead, support, deadline) in spec.expect.items():
        assert (tasks[task_id].lead, tasks[task_id].support) == (lead, support), task_id
        assert tasks[task_id].deadline_text.startswith(deadline), task_id
    for task_id, section in spec.sections.items():
        assert tasks[task_id].section == section
    assert (table.title, table.year, table.issued) == (spec.title, spec.year, spec.issued)


def test_no_deadline_column_defaults_to_year_end() -> None:
    table = build_table(Grid(rows=_resolve(CONGHUA.rows), context=CONGHUA.before))
    assert table.default_deadline == "年底前"
    assert "deadline" not in table.columns


def test_deadline_column_has_no_default() -> None:
    table = build_table(Grid(rows=_resolve(COMMERCE.rows), context=COMMERCE.before))
    assert table.default_deadline is None
    assert table.columns == {"section": "工作任务", "title": "具体要求", "units": "责任处室",
                             "detail": "具体工作", "deadline": "完成时限"}


def test_multi_audience_cell_keeps_the_named_unit_as_a_plan_date() -> None:
    table = build_table(Grid(rows=_resolve(JUSTICE.rows), context=JUSTICE.before))
    assert [(d.units, d.deadline_text[:12]) for d in table.dates] == [
        (("局政务公开办",), "局政务公开办7月底前完善")
    ]


def test_section_and_title_rows_are_not_tasks() -> None:
    table = build_table(Grid(rows=_resolve(RESOURCES.rows)))
    titles = [t.title for t in table.tasks]
    assert not any("方案" in t and "2022" in t for t in titles)
    assert not any(t in ("具体工作", "重点任务") for t in titles)
    assert [t.id for t in table.tasks] == ["1", "5", "6", "10", "21", "34", "35"]


def test_unnumbered_rows_get_counters() -> None:
    rows = [["具体要求", "责任单位", "完成时限"], ["甲任务内容", "办公室", "长期"],
            ["乙任务内容", "法规科", "长期"]]
    assert [t.id for t in build_table(Grid(rows=rows)).tasks] == ["1", "2"]


def test_lead_and_support_columns() -> None:
    rows = [["序号", "工作内容", "牵头单位", "配合单位", "时间节点"],
            ["1", "完善制度", "办公室", "法规科、财务科", "6月底前"]]
    table = build_table(Grid(rows=rows))
    task = table.tasks[0]
    assert (task.lead, task.support, task.deadline_text) == (("办公室",), ("法规科", "财务科"), "6月底前")


def test_column_override_from_plan_toml() -> None:
    rows = [["编号", "事项", "经办", "期限"], ["1", "完善制度建设工作", "办公室", "6月底前"]]
    table = build_table(Grid(rows=rows), columns={"title": "事项", "units": "经办", "deadline": "期限"})
    assert (table.tasks[0].title, table.tasks[0].lead) == ("完善制度建设工作", ("办公室",))
