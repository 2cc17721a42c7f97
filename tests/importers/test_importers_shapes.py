"""Task tables and notices in shapes found in public plans (2016–2024), written in this
project's own words: only the structure, the header words and the way deadlines are phrased
follow the originals. Each shape names where it was seen.

Every fixture is imported the way a user does it (``import_document``), in the formats the
shape arrives in, and checked task by task: the units (牵头 and 配合) on the right task, every
deadline cell carried, nothing left out without the import saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_importers_common import LEFT, UP, Spec, html_text, write_csv, write_docx, write_tsv, write_xlsx

from reminder.errors import ImportDoubtful, ImportFailed
from reminder.importers import import_document
from reminder.importers.writer import read_tasks_csv
from reminder.models import Task

# id -> (lead, support, deadline text start)
Expect = dict[str, tuple[tuple[str, ...], tuple[str, ...], str]]


@dataclass
class Shape:
    name: str
    source: str  # where the shape was seen
    kind: str  # "table" (a Spec: html/docx/xlsx) or "text" (pasted)
    expect: Expect
    tasks: int
    spec: Spec | None = None
    text: str = ""
    formats: tuple[str, ...] = ("html",)
    sections: dict[str, tuple[str, ...]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # id -> title start
    doubtful: bool = False  # the import must stop for review (exit 3) and say why
    # formats whose text cannot tell the cells apart (a cell per line, a merged or empty cell
    # simply absent): the import must stop for review naming the line, not guess
    review: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()  # formats the import refuses outright (exit 2), naming why


SHAPES: list[Shape] = []

# -- 1. Three category columns under one 工作任务 header cell (colspan 3): 一、 and （一）
#       merged down their tasks, then the row number; units "负责落实"; 时限要求 持续推进.
#       Seen: hbdiao.com/www/zfwgk/zc/qtzdgkt/202207/t20220728_753231 (a city's 2022
#       政务公开任务分解责任清单).
J1, J11, J12 = "一、以公开稳住市场预期。", "（一）公开惠企政策。", "（二）做好营商环境公开。"
J2, J21 = "二、以公开保障民生。", "（一）公开社会救助信息。"
SHAPES.append(Shape(
    name="three-category-columns", source="hbdiao.com …/t20220728_753231", kind="table",
    spec=Spec(name="cats", before=["某市2026年政务公开任务分解责任清单"], rows=[
        ["工作任务", LEFT, LEFT, "具体要求", "责任单位", "时限要求"],
        [J1, J11, "1", "集中公开本年度出台的惠企政策，标明申报条件和兑现流程。",
         "市政府各有关部门，各县市区人民政府负责落实", "持续推进"],
        [UP, UP, "2", "对惠企政策开展图解、问答等形式的解读，每项政策不少于一种。",
         "市政府各有关部门负责落实", "持续推进"],
        [UP, J12, "3", "公开营商环境投诉渠道和办理结果，按月更新。",
         "市发展改革委牵头，市营商办等有关部门配合", "每月10日前"],
        [J2, J21, "4", "按季度公开低保、特困人员救助资金发放情况。",
         "市民政局牵头，各县市区人民政府负责落实", "每季度末"],
        [UP, UP, "5", "公开临时救助的申请条件和办理时限。", "市民政局", "2026年6月底前"],
    ], title="某市2026年政务公开任务分解责任清单", year=2026),
    formats=("html", "docx", "xlsx", "csv"), tasks=5, review=("lines",),
    expect={
        # "A，B负责落实": A leads as the first named (parse/units); "A等有关部门配合": 有关部门 is
        # a group of its own. Both units are on the task, which is what the importer owes.
        "1": (("市政府各有关部门",), ("各县市区人民政府",), "持续推进"),
        "3": (("市发展改革委",), ("市营商办", "有关部门"), "每月10日前"),
        "4": (("市民政局",), ("各县市区人民政府",), "每季度末"),
        "5": (("市民政局",), (), "2026年6月底前"),
    },
    sections={"3": (J1.rstrip("。"), J12.rstrip("。")), "5": (J2.rstrip("。"), J21.rstrip("。"))},
))

# -- 2. Three category levels (主动公开 / 基础信息公开 / 行政规范性文件) merged down, one
#       units cell merged over two requirements, no deadline column, no numbers.
#       Seen: zhangdian.gov.cn …/doc_64e323afbfe6363923269d77.html (a district's 2023
#       政务公开常态化工作任务清单).
SHAPES.append(Shape(
    name="three-levels-no-deadline", source="zhangdian.gov.cn …/doc_64e323afbfe6363923269d77.html",
    kind="table",
    spec=Spec(name="levels", before=["某区2026年政务公开常态化工作任务清单"], rows=[
        ["工作任务", LEFT, LEFT, "具体要求", "责任单位"],
        ["主动公开", "基础信息公开", "行政规范性文件", "在区政府网站集中公开现行有效的规范性文件。",
         "区司法局牵头，各文件制定单位具体落实"],
        [UP, UP, UP, "文件页面标明文号、成文日期和有效性。", UP],
        [UP, UP, UP, "文件修改或废止后及时更新有效性标注。", "各成员单位"],
        [UP, UP, "机构信息", "公开本单位内设机构、职责和联系电话。", "各成员单位"],
        [UP, "重点领域公开", "财政资金", "公开部门预决算和“三公”经费。", "区财政局牵头，各预算单位配合"],
    ], title="某区2026年政务公开常态化工作任务清单", year=2026),
    formats=("html", "docx", "xlsx", "csv"), tasks=5, review=("lines",),
    sections={"4": ("主动公开", "基础信息公开", "机构信息"), "5": ("主动公开", "重点领域公开", "财政资金")},
    expect={
        "1": (("区司法局",), ("各文件制定单位",), ""),
        "2": (("区司法局",), ("各文件制定单位",), ""),
        "3": (("各成员单位",), (), ""),
        "5": (("区财政局",), ("各预算单位",), ""),
    },
))

# -- 3. A page's table copied as "a | b | c |" rows where the merged category cell is simply
#       missing from the rows after its first: those rows are one cell short and shifted left.
#       Seen: sd-xs.com/bmpd/jmstdcbzx/zwdt/tzgg/content/post_2452685.html (a city land
#       reserve centre's 政务公开 task list).
SHAPES.append(Shape(
    name="pipe-rows-shifted-left", source="sd-xs.com …/post_2452685.html", kind="text",
    text="""某市土地储备中心2026年政务公开工作任务分解
工作任务 | 具体要求 | 责任部门 |
一、做好财政信息公开。 | 1.公开本中心年度预算、决算及说明。 | 财务科 |
二、做好网站专栏信息公开。 | 2.及时更新专栏中的机构概况信息。 | 办公室 |
3.及时答复网民留言并公开办理结果。 | 各科室 | |
4.按周更新微信公众号内容。 | 办公室牵头，各科室配合 | |
三、加强政策解读。 | 5.出台文件时同步发布解读材料。 | 各科室 |
""",
    tasks=5,
    expect={
        "1": (("财务科",), (), ""),
        "3": (("各科室",), (), ""),
        "4": (("办公室",), ("各科室",), ""),
        "5": (("各科室",), (), ""),
    },
    titles={"3": "及时答复网民留言", "4": "按周更新微信公众号"},
    sections={"4": ("二、做好网站专栏信息公开",), "5": ("三、加强政策解读",)},
))

# -- 4. A notice whose numbered targets carry "牵头单位：" and "责任单位：" on lines of their
#       own (the 责任单位 here are the units that work with the lead), no deadlines.
#       Seen: lishan.gov.cn/html/ASLSQ/202303/0168765895614794.html (a district's 2023
#       重点工作任务分解和责任分工方案).
SHAPES.append(Shape(
    name="label-lines-lead-and-units", source="lishan.gov.cn/html/ASLSQ/202303/0168765895614794.html",
    kind="text",
    text="""某区政府2026年重点工作任务分解和责任分工方案
为做好今年政府工作，现就全区重点工作制定分工方案如下。
一、主要预期目标
1.全区地区生产总值增长6%左右。
牵头单位：区发展改革局
责任单位：某某经济开发区，各街道，区统计局
2.一般公共预算收入增长7%左右。
牵头单位：区财政局
责任单位：各街道，区税务局
二、重点工作
3.新建改造城市道路十条。
牵头单位：区住建局
责任单位：区城管局、区交通局
""",
    tasks=3,
    expect={
        "1": (("区发展改革局",), ("某某经济开发区", "各街道", "区统计局"), ""),
        "2": (("区财政局",), ("各街道", "区税务局"), ""),
        "3": (("区住建局",), ("区城管局", "区交通局"), ""),
    },
))

# -- 5. Numbered measures ending in an unlabelled bracket "（A、B牵头，C按职责分工负责）",
#       the deadline inside the text ("2026年10月底前编制…").
#       Seen: newton.com.tw/wiki/…/61994341 (a city's 2022 深化“放管服”改革优化营商环境工作要点).
SHAPES.append(Shape(
    name="unlabelled-trailing-units", source="newton.com.tw/wiki/…/61994341", kind="text",
    text="""某市2026年深化“放管服”改革优化营商环境工作要点
一、推动审批全链条优化
1.实施行政许可事项清单管理。2026年10月底前编制并公布市、县两级行政许可事项清单，清单之外不得实施行政许可。（市政府办公室、市审改办牵头，市级各有关部门及各县市区政府按职责分工负责）
2.深化相对集中行政许可权改革。2026年6月底前完成划转事项目录的梳理并在门户网站公布。（市行政审批服务局牵头，市司法局配合）
二、推进全过程公正监管
3.推行“双随机、一公开”跨部门联合抽查，年内联合抽查占比不低于30%。（市市场监管局牵头，市级各有关部门按职责分工负责）
""",
    tasks=3,
    expect={
        # "A及B": two units (parse/units).
        "1": (("市政府办公室", "市审改办"), ("市级各有关部门", "各县市区政府"), "2026年10月底前"),
        "2": (("市行政审批服务局",), ("市司法局",), "2026年6月底前"),
        "3": (("市市场监管局",), ("市级各有关部门",), "年内"),
    },
))

# -- 6. （一） measures under 二、 with an unlabelled bracket whose units hold 〔〕 inside.
#       Seen: sxqzlawfirm.com/art/2022/8/15/art_1229664147_59030251 (a city's 2022 政务公开
#       五年行动计划实施方案, copied from its government site).
SHAPES.append(Shape(
    name="nested-brackets-in-units", source="sxqzlawfirm.com/art/2022/8/15/art_1229664147_59030251",
    kind="text",
    text="""某市贯彻政务公开五年行动计划实施方案
一、总体要求
推动政务公开更加务实有效。
二、主要任务
（一）夯实主动公开基础。建立市县乡三级公开事项标准目录并动态调整，2026年底前全部完成。（市府办〔市大数据局〕牵头，市政府各部门、各县〔区〕政府按职责分工负责）
（二）规范依申请公开。统一答复文书格式，2026年9月底前修订办理规程。（市府办牵头，市司法局配合）
（三）加强平台建设。2026年12月底前完成政府网站集约化改造。（市大数据局牵头，各县〔区〕政府配合）
""",
    tasks=3,
    # 〔〕 hold another name of the office, as （） do (parse/units).
    expect={
        "1": (("市府办〔市大数据局〕",), ("市政府各部门", "各县〔区〕政府"), "2026年底前"),
        "2": (("市府办",), ("市司法局",), "2026年9月底前"),
        "3": (("市大数据局",), ("各县〔区〕政府",), "2026年12月底前"),
    },
))

# -- 7. A numbered task made of (1)(2)… measures on lines of their own, its units in one
#       "（责任单位：…）" line after the last measure; no deadlines (a five-year plan).
#       Seen: ncp.pkulaw.com/epidemiclar/38be8d5449e27cd4d9743b715461238bbdfb.html (a city's
#       2017 应急体系建设“十三五”规划责任分解).
SHAPES.append(Shape(
    name="sub-measures-then-units-line", source="ncp.pkulaw.com/epidemiclar/38be8d5449e27cd4d9743b715461238bbdfb.html",
    kind="text",
    text="""某市应急体系建设规划责任分解（2026年）
（一）预案与机制建设
1.完善应急预案体系
(1)规范预案的编制、审批、备案和修订。
(2)推进部门预案精简，做到基层单位全覆盖。
(3)每年至少组织一次综合演练。
(4)加强预案的宣传培训。
(5)建立预案评估制度。
(6)推广预案数字化管理，2026年底前上线预案库。
（责任单位：市应急局牵头，市直各有关单位、各县（市、区）人民政府配合）
2.健全应急指挥机制
(1)明确各级应急指挥机构的职责。
(2)2026年9月底前修订指挥部工作规则。
（责任单位：市应急局）
""",
    tasks=2,
    expect={
        "1": (("市应急局",), ("市直各有关单位", "各县（市、区）人民政府"), ""),
        "2": (("市应急局",), (), ""),
    },
    titles={"1": "完善应急预案体系"},
))

# -- 8. Indicator columns (一级指标 / 二级指标 / 三级指标) instead of task words.
#       Seen: shiquan.gov.cn/Content-2305111.html (a county's 2021 政务公开工作任务分解一览表:
#       序号, 一级指标, 二级指标, 三级指标; the units and deadline columns here are assumed).
SHAPES.append(Shape(
    name="indicator-columns", source="shiquan.gov.cn/Content-2305111.html", kind="table",
    spec=Spec(name="indicators", before=["某县2026年政务公开工作任务分解一览表"], rows=[
        ["序号", "一级指标", "二级指标", "三级指标", "责任单位", "完成时限"],
        ["1", "主动公开", "政策文件", "规范性文件在本级政府网站集中公开并标注有效性。", "县司法局", "6月底前"],
        ["2", UP, UP, "政策文件与解读材料同步发布。", "县政府各部门", "持续推进"],
        ["3", UP, "财政信息", "部门预决算在批复后20日内公开。", "县财政局牵头，各预算单位落实", "按时限"],
        ["4", "依申请公开", "办理规范", "依申请公开答复按法定期限办结。", "县政府办", "长期"],
    ], title="某县2026年政务公开工作任务分解一览表", year=2026),
    formats=("html", "xlsx"), tasks=4, review=("lines",),
    expect={
        "1": (("县司法局",), (), "6月底前"),
        "3": (("县财政局",), ("各预算单位",), "按时限"),
        "4": (("县政府办",), (), "长期"),
    },
))

# -- 9. A page served in traditional characters (sites offer a 繁体 switch, mirrors keep it):
#       重點任務 / 工作內容 / 負責科室.
#       Seen: redwoodcoonhounds.com/public/15401/105053833.html (a county bureau's 工作要点
#       with its 重点工作任务分解 table, in traditional characters).
SHAPES.append(Shape(
    name="traditional-characters", source="redwoodcoonhounds.com/public/15401/105053833.html",
    kind="table",
    spec=Spec(name="trad", before=["某縣交通運輸局2026年政務公開工作要點"], rows=[
        ["重點任務", "工作內容", "負責科室", "完成時限"],
        ["政策解讀", "本局起草的政策文件同步發佈解讀材料，採用圖解等形式。", "各業務科室", "持續推進"],
        ["迴應關切", "羣衆來信來電在5個工作日內答覆。", "辦公室", "長期"],
        ["財政資金", "公開部門預決算和“三公”經費。", "綜合科", "2026年6月底前"],
    ], title="某縣交通運輸局2026年政務公開工作要點", year=2026),
    formats=("html",), tasks=3,
    expect={
        "1": (("各業務科室",), (), "持續推進"),
        "2": (("辦公室",), (), "長期"),
        "3": (("綜合科",), (), "2026年6月底前"),
    },
))

# -- 10. A 牵头领导 column (a person, by title) before the 责任单位 column; no deadline column.
#        Seen: gaotang.gov.cn …/doc_660bc75d70ff59102ab2ab7c.html (a county's 2024 政府工作报告
#        目标任务分工方案: 类别、任务内容、牵头领导、责任单位).
SHAPES.append(Shape(
    name="lead-leader-column", source="gaotang.gov.cn …/doc_660bc75d70ff59102ab2ab7c.html",
    kind="table",
    spec=Spec(name="leader", before=["某县2026年政府工作报告目标任务分工方案"], rows=[
        ["类别", "任务内容", "牵头领导", "责任单位"],
        ["经济发展", "规模以上工业增加值增长7%。", "常务副县长", "县工信局"],
        [UP, "新开工亿元以上项目20个。", "常务副县长", "县发改局、县招商服务中心"],
        ["民生保障", "新增城镇就业2000人。", "副县长", "县人社局"],
        [UP, "改造农村公路50公里，年底前完工。", "副县长", "县交通运输局牵头，各乡镇配合"],
    ], title="某县2026年政府工作报告目标任务分工方案", year=2026),
    formats=("html", "docx", "xlsx"), tasks=4, review=("lines",),
    expect={
        "1": (("县工信局",), (), ""),
        "2": (("县发改局",), ("县招商服务中心",), ""),
        "3": (("县人社局",), (), ""),
        "4": (("县交通运输局",), ("各乡镇",), ""),
    },
))

# -- 11. 责任领导 / 责任单位 / 责任人 / 主要措施 / 完成时限, the task in 主要任务 and the
#        measures beside it.
#        Seen: m.xwwlqbz.cn/html/2016/dangfengzhengfeng_0511/16604.html (a city's 2016 分解任务
#        汇编: 责任领导、责任单位、责任人、主要措施、完成时限).
SHAPES.append(Shape(
    name="leader-unit-person-columns", source="m.xwwlqbz.cn/html/2016/dangfengzhengfeng_0511/16604.html",
    kind="table",
    spec=Spec(name="dali", before=["某市2026年主要任务责任分解"], rows=[
        ["序号", "主要任务", "责任领导", "责任单位", "责任人", "主要措施", "完成时限"],
        ["1", "建成城市污水处理厂二期", "副市长", "市住建局", "局长", "6月底前完成主体工程，12月底前通水运行。",
         "2026年12月底前"],
        ["2", "完成农村危房改造800户", "副市长", "市住建局、各乡镇", "分管副局长", "按季度分解任务，逐户验收。",
         "2026年11月底前"],
        ["3", "开通城乡公交线路5条", "副市长", "市交通运输局", "局长", "上半年开通2条，下半年开通3条。", "年内"],
    ], title="某市2026年主要任务责任分解", year=2026),
    formats=("html", "xlsx"), tasks=3, review=("lines",),
    expect={
        "1": (("市住建局",), (), "2026年12月底前"),
        "2": (("市住建局",), ("各乡镇",), "2026年11月底前"),
        "3": (("市交通运输局",), (), "年内"),
    },
    titles={"1": "建成城市污水处理厂二期"},
))

# -- 12. Sections (方面) as rows spanning the table, 牵头单位 with several units, 配合单位, and
#        a 完成时限 cell holding two steps; a footnote under the table about reporting.
#        Seen: elht.gov.cn/mobile/c/2024-04-02/97683.shtml (a city's 2024 重点工作任务分工方案:
#        五个方面, 每项工作列出牵头单位、配合单位及完成时限).
E1, E2 = "一、聚焦扩大开放，打造沿边开放桥头堡", "二、聚焦民生改善，推动社会事业提质"
SHAPES.append(Shape(
    name="sections-two-step-deadlines-footnote", source="elht.gov.cn/mobile/c/2024-04-02/97683.shtml",
    kind="table",
    spec=Spec(name="elht", before=["某市《政府工作报告》2026年重点工作任务分工方案"], rows=[
        ["序号", "重点工作任务", "牵头单位", "配合单位", "完成时限"],
        [E1, LEFT, LEFT, LEFT, LEFT],
        ["1", "口岸货运量增长10%。", "市口岸办、市商务局", "海关、边检站", "12月底前"],
        ["2", "建成进口资源加工园区标准厂房。", "市工信局", "市自然资源局", "6月底前完成招标，11月底前竣工"],
        [E2, LEFT, LEFT, LEFT, LEFT],
        ["3", "新建公办幼儿园2所。", "市教育局", "", "9月1日前投入使用"],
        ["4", "城镇新增就业1500人以上。", "市人社局", "各街道", "全年"],
        ["注：各牵头单位于每季度结束后5日内将进展情况报送市政府督查室。", LEFT, LEFT, LEFT, LEFT],
    ], title="某市《政府工作报告》2026年重点工作任务分工方案", year=2026),
    formats=("html", "docx", "xlsx"), tasks=4, review=("lines",),
    expect={
        "1": (("市口岸办", "市商务局"), ("海关", "边检站"), "12月底前"),
        "2": (("市工信局",), ("市自然资源局",), "6月底前完成招标，11月底前竣工"),
        "3": (("市教育局",), (), "9月1日前"),
        "4": (("市人社局",), ("各街道",), "全年"),
    },
    sections={"2": (E1,), "4": (E2,)},
))

# -- 13. 牵头单位 and a 责任（配合）单位 column side by side.
#        Seen: dawa.gov.cn/2021_02/01_16/content-307974.html (a district's 2021《政府工作报告》
#        任务分解表: 牵头单位, 责任（配合）单位, 完成时限).
SHAPES.append(Shape(
    name="lead-and-responsible-columns", source="dawa.gov.cn/2021_02/01_16/content-307974.html",
    kind="table",
    spec=Spec(name="dawa", before=["某区2026年《政府工作报告》任务分解表"], rows=[
        ["序号", "工作任务", "牵头单位", "责任（配合）单位", "完成时限"],
        ["1", "完成高标准农田建设3万亩。", "区农业农村局", "区财政局、各镇", "10月底前"],
        ["2", "引进亿元以上项目15个。", "区招商局", "区发改局、经济开发区", "12月底前"],
        ["3", "新改建农村公路30公里。", "区交通局", "各镇", "11月底前"],
    ], title="某区2026年《政府工作报告》任务分解表", year=2026),
    formats=("html", "docx", "xlsx"), tasks=3,
    expect={
        "1": (("区农业农村局",), ("区财政局", "各镇"), "10月底前"),
        "2": (("区招商局",), ("区发改局", "经济开发区"), "12月底前"),
        "3": (("区交通局",), ("各镇",), "11月底前"),
    },
))

def write_lines(spec: Spec, path: Path) -> Path:
    """A page's table copied out of the browser: one cell per line, a merged cell once."""
    lines = list(spec.before)
    for row in spec.rows:
        lines += [c for c in dict.fromkeys(row) if c not in (UP, LEFT)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- 14. A 台账 whose 进度安排 header is merged over one column per quarter, the quarters
#        named in a second header row; each cell a milestone. No public page with this shape
#        was found in the stored corpus: it is the 重点任务台账 layout the header word stands for.
SHAPES.append(Shape(
    name="quarter-columns-under-one-header", source="(no page found; 进度安排 台账 layout)",
    kind="table",
    spec=Spec(name="ledger", before=["某区2026年重点任务推进台账"], rows=[
        ["序号", "重点任务", "责任单位", "进度安排", LEFT, LEFT, LEFT],
        [UP, UP, UP, "一季度", "二季度", "三季度", "四季度"],
        ["1", "改造城区雨污分流管网12公里。", "区住建局", "完成设计招标", "开工建设", "完成8公里", "全部完工"],
        # the next page repeats both header rows
        ["序号", "重点任务", "责任单位", "进度安排", LEFT, LEFT, LEFT],
        [UP, UP, UP, "一季度", "二季度", "三季度", "四季度"],
        ["2", "新建社区养老服务站5个。", "区民政局牵头，各街道配合", "完成选址", "", "建成3个", "全部投用"],
    ], title="某区2026年重点任务推进台账", year=2026),
    formats=("html", "docx", "xlsx", "csv"), tasks=2, refused=("lines",),
    expect={
        "1": (("区住建局",), (), "一季度：完成设计招标；二季度：开工建设；三季度：完成8公里；四季度：全部完工"),
        "2": (("区民政局",), ("各街道",), "一季度：完成选址；三季度：建成3个；四季度：全部投用"),
    },
))

WRITERS = {"docx": (write_docx, ".docx"), "xlsx": (write_xlsx, ".xlsx"), "csv": (write_csv, ".csv"),
           "tsv": (write_tsv, ".txt"), "lines": (write_lines, ".txt")}
PASTED = ("tsv", "lines")  # every table shape is also tried as text pasted from the page


def make(shape: Shape, fmt: str, folder: Path) -> Path:
    """The shape's document in one format."""
    folder.mkdir(parents=True, exist_ok=True)
    if shape.kind == "text":
        path = folder / f"{shape.name}.txt"
        path.write_text(shape.text, encoding="utf-8")
        return path
    assert shape.spec is not None
    if fmt == "html":
        path = folder / f"{shape.name}.html"
        path.write_text(html_text(shape.spec).replace("<head>", '<head><meta charset="utf-8">'),
                        encoding="utf-8")
        return path
    writer, suffix = WRITERS[fmt]
    return writer(shape.spec, folder / f"{shape.name}{suffix}")


CASES = [(s, f) for s in SHAPES for f in ((*s.formats, *PASTED) if s.kind == "table" else ("txt",))]


def imported(shape: Shape, fmt: str, tmp: Path) -> list[Task]:
    source = make(shape, fmt, tmp / "in")
    import_document(source, tmp / "plan", accept=shape.doubtful)
    return read_tasks_csv(tmp / "plan" / "tasks.csv")


@pytest.mark.parametrize(("shape", "fmt"), CASES, ids=[f"{s.name}-{f}" for s, f in CASES])
def test_shape_imports_every_task_unit_and_deadline(shape: Shape, fmt: str, tmp_path: Path) -> None:
    if fmt in shape.refused:
        with pytest.raises(ImportFailed):
            import_document(make(shape, fmt, tmp_path / "in"), tmp_path / "first")
        return
    if fmt in shape.review:
        with pytest.raises(ImportDoubtful, match=r"第 \d+ 行|序号 \d+ 的一行"):
            import_document(make(shape, fmt, tmp_path / "in"), tmp_path / "first")
        return
    if shape.doubtful:
        with pytest.raises(ImportDoubtful):
            import_document(make(shape, fmt, tmp_path / "in"), tmp_path / "first")
    tasks = {t.id: t for t in imported(shape, fmt, tmp_path)}
    assert len(tasks) == shape.tasks, sorted(tasks)
    for task_id, (lead, support, deadline) in shape.expect.items():
        task = tasks[task_id]
        assert (task.lead, task.support) == (lead, support), task_id
        assert task.deadline_text.startswith(deadline), (task_id, task.deadline_text)
    for task_id, section in shape.sections.items():
        assert tasks[task_id].section == section, task_id
    for task_id, start in shape.titles.items():
        assert tasks[task_id].title.startswith(start), (task_id, tasks[task_id].title)
    if shape.spec is not None and fmt not in PASTED:
        import tomllib

        plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
        assert plan["title"] == shape.spec.title


@pytest.mark.parametrize("fmt", ["html", "docx", "xlsx"])
def test_footnote_under_the_table_keeps_its_report_date(fmt: str, tmp_path: Path) -> None:
    """"注：各牵头单位于每季度结束后5日内…报送…" in the table's last row is a deadline the
    coordinator wants reminded, not a row to skip."""
    shape = next(s for s in SHAPES if s.name == "sections-two-step-deadlines-footnote")
    import_document(make(shape, fmt, tmp_path / "in"), tmp_path / "plan")
    import tomllib

    plan = tomllib.loads((tmp_path / "plan" / "plan.toml").read_text(encoding="utf-8"))
    assert [(d["deadline"], d["to"]) for d in plan.get("dates", [])] == [
        ("每季度结束后5日内", "市政府督查室")]


def test_column_names_no_list_knows_are_the_header_not_a_task() -> None:
    """"序号｜事项｜经办科室｜办结期限": read as a task, "经办科室" became a unit and every
    document number moved down by one."""
    from reminder.importers.table import Grid, build_table

    rows = [["序号", "事项", "经办科室", "办结期限"],
            ["1", "修订本局信息发布审核办法，明确审核流程", "办公室", "6月底前"],
            ["2", "按季度公开本局财政资金使用情况", "财务科", "每季度末"],
            ["3", "办理政府信息公开申请，按法定期限答复", "法规科", "长期"]]
    table = build_table(Grid(rows=rows))
    assert [(t.id, t.lead, t.deadline_text) for t in table.tasks] == [
        ("1", ("办公室",), "6月底前"), ("2", ("财务科",), "每季度末"), ("3", ("法规科",), "长期")]
    assert table.columns == {"id": "序号", "title": "事项", "units": "经办科室", "deadline": "办结期限"}


def test_a_short_first_task_is_not_taken_for_column_names() -> None:
    from reminder.importers.table import Grid, build_table

    rows = [["政策解读", "办公室", "长期"],  # no digit, no cell over 8 characters
            ["按季度公开本局财政资金使用情况，在门户网站专栏发布", "财务科", "每季度末"],
            ["办理政府信息公开申请，按法定期限答复并登记台账", "法规科", "长期"]]
    table = build_table(Grid(rows=rows))
    assert table.tasks[0].title == "政策解读"


def test_reimport_keeps_every_category_level(tmp_path: Path) -> None:
    """plan.toml's [table].columns names one section column: the deeper category columns
    beside it are found again on re-import, so the section paths do not change."""
    shape = next(s for s in SHAPES if s.name == "three-category-columns")
    source = make(shape, "html", tmp_path / "in")
    import_document(source, tmp_path / "plan")
    first = {t.id: t.section for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    report = import_document(source, tmp_path / "plan")
    again = {t.id: t.section for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert again == first and len(first["3"]) == 2
    assert not (report.added or report.removed or report.changed)


# A requirement merged over two rows that each have their own unit and deadline (task 2),
# and a row holding only one more deadline for it.
MERGED_REQUIREMENT = [
    ["序号", "具体要求", "责任单位", "完成时限"],
    ["1", "公开部门预决算和“三公”经费。", "区财政局", "6月底前"],
    ["2", "公开本级政府债务限额和余额。", "区财政局", "10月底前"],
    [UP, UP, "区审计局", "12月底前"],
    [UP, UP, UP, "次年1月底前"],
    ["3", "公开重大建设项目批准和实施信息。", "区发改局", "长期"],
]


@pytest.mark.parametrize("fmt", ["html", "xlsx", "csv", "tsv"])
def test_requirement_merged_over_rows_with_their_own_units(fmt: str, tmp_path: Path) -> None:
    """Flattened (csv, pasted), the second and third rows of task 2 have no requirement: they
    were skipped with their unit and deadlines, exit 0. Now each is task 2 again, named in
    the warnings, as the merge-aware formats have it."""
    spec = Spec(name="merged", before=["某区2026年政务公开任务分工"], rows=MERGED_REQUIREMENT,
                title="某区2026年政务公开任务分工", year=2026)
    shape = Shape(name="merged-requirement", source="", kind="table", spec=spec, expect={}, tasks=5)
    report = import_document(make(shape, fmt, tmp_path / "in"), tmp_path / "plan")
    tasks = [(t.id, t.lead, t.deadline_text) for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")]
    assert tasks == [("1", ("区财政局",), "6月底前"), ("2", ("区财政局",), "10月底前"),
                     ("2-2", ("区审计局",), "12月底前"), ("2-3", ("区审计局",), "次年1月底前"),
                     ("3", ("区发改局",), "长期")]
    if fmt in ("csv", "tsv"):
        assert any("2-2、2-3 的工作任务一栏为空" in w for w in report.warnings)


def test_units_without_a_requirement_stop_the_import() -> None:
    """In a table read cell by cell (not flattened) an empty requirement beside a unit is no
    merge: the row is named and the import stops for review."""
    from reminder.importers.table import Grid, build_table

    rows = [["序号", "具体要求", "责任单位", "完成时限"],
            ["1", "公开部门预决算和“三公”经费。", "区财政局", "6月底前"],
            ["", "", "区审计局", "12月底前"]]
    table = build_table(Grid(rows=rows))
    assert table.confidence.reasons()[0] == "责任单位为“区审计局”的一行没有任务内容，未导入"


@pytest.mark.parametrize("name", ["three-category-columns", "lead-and-responsible-columns",
                                  "quarter-columns-under-one-header"])
def test_shape_from_a_pdf_made_by_libreoffice(name: str, tmp_path: Path) -> None:
    """The same tables ruled and printed to PDF (merged cells as drawn, the quarters' row
    under 进度安排): read from the page layout, they give the same tasks."""
    from office_fixtures import office_file

    shape = next(s for s in SHAPES if s.name == name)
    source = office_file("pdf", tmp_path / "pdf", shape.spec)
    if source is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-writer-nogui)")
    import_document(source, tmp_path / "plan")
    tasks = {t.id: t for t in read_tasks_csv(tmp_path / "plan" / "tasks.csv")}
    assert len(tasks) == shape.tasks
    for task_id, (lead, support, deadline) in shape.expect.items():
        assert (tasks[task_id].lead, tasks[task_id].support) == (lead, support), task_id
        assert tasks[task_id].deadline_text.startswith(deadline), task_id
    for task_id, section in shape.sections.items():
        assert tasks[task_id].section == section, task_id
