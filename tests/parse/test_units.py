"""split_units: every form of units cell the seeds use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminder.parse.units import split_names, split_units

CASES = [
    ("法规科牵头，相关科（室）配合。", ("法规科",), ("相关科（室）",)),
    ("法规科牵头,相关科(室)配合。", ("法规科",), ("相关科（室）",)),
    ("综合处会各业务处室", ("综合处",), ("各业务处室",)),
    ("办公室、法规处会各处室", ("办公室", "法规处"), ("各处室",)),
    ("区政务公开办牵头，区有关单位落实；各镇（街、园区）",
     ("区政务公开办",), ("区有关单位", "各镇（街、园区）")),
    ("法规科统筹，各职能科（室）配合", ("法规科",), ("各职能科（室）",)),
    ("政策起草科（室）具体落实，法规科提供指导", ("政策起草科（室）",), ("法规科",)),
    ("装财处牵头,办公室配合,科监处技术保障。", ("装财处",), ("办公室", "科监处")),
    ("局政务公开办会立法一处、立法二处牵头，各业务处室配合",
     ("局政务公开办", "立法一处", "立法二处"), ("各业务处室",)),
    ("各相关业务处室落实，局政务公开办督办", ("各相关业务处室",), ("局政务公开办",)),
    ("区直各单位；各镇（街、园区）", ("区直各单位",), ("各镇（街、园区）",)),
    ("办公室、市城市地理信息中心、局直属事业单位。",
     ("办公室",), ("市城市地理信息中心", "局直属事业单位")),
    ("区发改局牵头，区有关部门落实；各镇（街、园区）", ("区发改局",), ("区有关部门", "各镇（街、园区）")),
    ("法规科牵头，各科室按职责分工负责", ("法规科",), ("各科室",)),
    ("办公室（宣传组）、普法处按职责牵头，各相关业务处室配合。",
     ("办公室（宣传组）", "普法处"), ("各相关业务处室",)),
    ("办公室会科监处牵头落实。", ("办公室", "科监处"), ()),
    ("商贸中心会办公室、法规处、各业务处室", ("商贸中心",), ("办公室", "法规处", "各业务处室")),
    ("区卫生健康委员会会各处室", ("区卫生健康委员会",), ("各处室",)),
    ("局政务公开办牵头督办，管理服务大厅（窗口）处室、及相关处室（单位）配合，结合实际，采取有效措施抓好落实。",
     ("局政务公开办",), ("管理服务大厅（窗口）处室", "相关处室（单位）")),
    ("区委宣传部牵头，区卫健局等部门落实；各镇（街、园区）",
     ("区委宣传部",), ("区卫健局", "有关部门", "各镇（街、园区）")),
    ("区民政局、农业农村局等有关部门落实", ("区民政局",), ("农业农村局", "有关部门")),
    ("相关重大等下决策事项的承办科（室）", ("相关重大等下决策事项的承办科（室）",), ()),
    ("局政务公开办牵头。", ("局政务公开办",), ()),
    # a county bureau's 股 and a town's 街道; 道 alone ends prose ("通过新媒体渠道")
    ("办公室、法规股", ("办公室",), ("法规股",)),
    ("城建科牵头，各街道配合", ("城建科",), ("各街道",)),
    ("办公室牵头，通过新媒体渠道", ("办公室",), ()),
    ("各业务处室配合", ("各业务处室",), ()),
    # issue 25's shapes: a clause without a role word shares the next clause's lead role
    # (the first named leads, as in "A、B负责落实"); "A，B配合" keeps A leading
    ("区发改局，区财政局负责落实", ("区发改局",), ("区财政局",)),
    ("法规科，办公室配合", ("法规科",), ("办公室",)),
    # A及B / A和B are two units where A ends like an office; 住房和城乡建设局 stays one
    ("区教育局及区卫健局牵头，各镇配合", ("区教育局", "区卫健局"), ("各镇",)),
    ("区发改局与区财政局共同牵头", ("区发改局", "区财政局"), ()),
    ("区审改办牵头，区级各有关部门及各镇街按职责分工负责",
     ("区审改办",), ("区级各有关部门", "各镇街")),
    ("区住房和城乡建设局、区工业和信息化局", ("区住房和城乡建设局",), ("区工业和信息化局",)),
    ("区人力资源和社会保障局牵头，区文化和旅游局配合",
     ("区人力资源和社会保障局",), ("区文化和旅游局",)),
    # 〔〕 hold another name of the same office, as （） do
    ("市府办〔市大数据局〕牵头，各区县配合", ("市府办〔市大数据局〕",), ("各区县",)),
    ("", (), ()),
]


@pytest.mark.parametrize(("text", "lead", "support"), CASES, ids=[c[0][:16] or "empty" for c in CASES])
def test_split_units(text: str, lead: tuple[str, ...], support: tuple[str, ...]) -> None:
    assert split_units(text) == (lead, support)


def test_never_splits_inside_parentheses() -> None:
    lead, support = split_units("各镇（街、园区）、区直各单位")
    assert (lead, support) == (("各镇（街、园区）",), ("区直各单位",))


def test_split_names_reads_one_role_column() -> None:
    assert split_names("法规科、财务科") == ("法规科", "财务科")


@given(st.text(alphabet="处科室办局牵头配合会，、；（）各区镇街", max_size=30))
def test_names_are_clean_and_disjoint(text: str) -> None:
    lead, support = split_units(text)
    assert not set(lead) & set(support)
    for name in lead + support:
        assert name and name[-1] not in "，、；。" and name == name.strip()


@pytest.mark.parametrize(("names", "expect"), [
    pytest.param(["区市场监管局", "市场监管局", "区财政局"], {"市场监管局": "区市场监管局"}, id="district-plan"),
    pytest.param(["区市场监管局", "市场监管局"], {}, id="one-level-name-is-no-plan-level"),
    pytest.param(["市市场监管局", "市场监管局", "市财政局", "区市场监管局"], {"市场监管局": "市市场监管局"},
                 id="city-plan-keeps-its-level"),
    pytest.param(["区财政局", "区民政局", "交通运输局"], {}, id="no-full-name-no-guess"),
])
def test_level_aliases(names: list[str], expect: dict[str, str]) -> None:
    from reminder.parse.units import level_aliases

    assert level_aliases(names) == expect
