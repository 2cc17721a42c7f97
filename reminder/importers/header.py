"""Find a task table's header row by its words and map its columns to roles.

Offices name the same column a dozen ways (工作任务 / 重点任务 / 具体要求 / 责任单位 / 落实处室
（部门）/ 完成时限 / 时间节点 …) and put a document title above the header, so position tells
nothing; the words do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ROLES = ("id", "section", "title", "detail", "units", "lead", "support", "deadline")

# Column of groups ("（一）做好各类规划主动公开"): a section path when a requirement column exists.
GROUP_WORDS = (
    "工作任务", "重点任务", "主要任务", "任务分类", "工作类别", "任务类别", "工作项目", "重点工作",
    "工作事项", "任务名称", "项目", "任务", "类别",
    # A 考核 table's indicator levels (shiquan.gov.cn): the last level is the requirement.
    "一级指标", "二级指标",
)
# Columns of requirements: the first is the task's title, a second one its detail.
REQUIREMENT_WORDS = (
    "具体要求", "贯彻举措", "具体工作", "工作要求", "任务内容", "工作内容", "具体任务", "工作措施",
    "主要内容", "落实举措", "具体措施", "具体内容", "工作举措", "目标要求", "任务要求", "措施",
    "三级指标",
)
# Columns naming people, not units (牵头领导 / 责任领导 / 责任人, gaotang.gov.cn and
# m.xwwlqbz.cn shapes): header words, so the header is found, but never a units column —
# "牵头领导" is no 牵头单位, and "常务副县长" no unit to remind.
PERSON_WORDS = ("领导", "责任人", "负责人", "联系人")
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "id": ("序号", "编号", "序"),
    # Our own tasks.csv names its section column so; with it, 工作任务 is the title.
    "section": ("章节",),
    "lead": ("牵头单位", "牵头处室", "牵头部门", "牵头科室", "主责单位", "主办单位", "牵头"),
    "support": ("配合单位", "配合处室", "配合部门", "配合科室", "协办单位", "协助单位", "配合"),
    "units": (
        "责任单位", "落实单位", "责任处室", "落实处室", "责任部门", "落实部门", "责任科室",
        "承办单位", "实施单位", "责任主体", "牵头及配合单位", "负责单位", "负责部门", "负责科室",
        "负责处室", "单位", "处室",
    ),
    "deadline": (
        "完成时限", "时间节点", "完成时间", "时限要求", "完成期限", "时间安排", "进度安排", "时限",
        "截止时间", "完成时效",
    ),
}
_PAREN = re.compile(r"[（(][^）)]*[）)]")
# Sites offer a 繁体 switch and mirrors keep it: "重點任務 / 工作內容 / 負責科室" is the same
# header. Only the characters of the words above are mapped (cell texts stay as written).
_SIMPLIFIED = str.maketrans(
    "舉務體內別辦協單號處頭實徹時標點牽稱類編節責貫進門間項負劃領導關況註備級務計臺賬",
    "举务体内别办协单号处头实彻时标点牵称类编节责贯进门间项负划领导关况注备级务计台账",
)


def simplified(text: str) -> str:
    """``text`` with the header and title words' traditional characters simplified."""
    return text.translate(_SIMPLIFIED)


def norm(text: str) -> str:
    """Header cell text without spaces, parentheticals and trailing colons, in simplified
    characters."""
    return simplified(_PAREN.sub("", "".join(text.split())).strip("：:*"))


def column_kind(cell: str) -> tuple[str, int] | None:
    """Which header word a cell is, as (kind, rank) — rank orders synonyms by preference."""
    text = norm(cell)
    if not text or len(text) > 14:
        return None
    for kind, words in (("person", PERSON_WORDS), ("group", GROUP_WORDS), ("req", REQUIREMENT_WORDS),
                        *HEADER_WORDS.items()):
        for rank, word in enumerate(words):
            if text == word or (len(word) >= 2 and word in text and len(text) <= len(word) + 4):
                return kind, rank
    return None


@dataclass(frozen=True)
class Header:
    """The header row found in a grid: where it is, and which column plays which role."""

    row: int
    cells: tuple[str, ...]
    columns: Mapping[str, int] = field(default_factory=dict)  # role -> column index
    # Further category columns after the section one, each a level deeper (工作任务 over
    # three columns: 一、 / （一） / …), left to right.
    sections: tuple[int, ...] = ()
    # A deadline header over several columns with a row of periods under it (进度安排 over
    # 一季度…四季度): (column, period) for each, the deadline cell being all of them.
    periods: tuple[tuple[int, str], ...] = ()

    def names(self) -> dict[str, str]:
        """role -> header text, as written to plan.toml's [table].columns."""
        return {role: self.cells[i] for role, i in self.columns.items()}

    def matches(self, row: Sequence[str]) -> bool:
        """A repeated header (Word repeats it on every page)."""
        marked = [norm(c) for c in row if c.strip()]
        mine = {norm(c) for c in self.cells if c.strip()}
        return bool(marked) and sum(m in mine for m in marked) >= max(2, len(marked) - 1)


def assign(cells: Sequence[str]) -> dict[str, int]:
    """Map a header row's columns to roles."""
    groups: list[int] = []
    reqs: list[tuple[int, int]] = []
    columns: dict[str, int] = {}
    for i, cell in enumerate(cells):
        found = column_kind(cell)
        if found is None or i in columns.values():
            continue
        kind, rank = found
        if kind == "person":
            continue
        if kind == "group":
            groups.append(i)
        elif kind == "req":
            reqs.append((rank, i))
        elif kind not in columns:
            columns[kind] = i
    # The most specific requirement word (具体要求 before 具体工作) is the title.
    req_cols = [i for _, i in sorted(reqs)]
    if "section" in columns and groups:
        columns["title"] = groups[0]
        if req_cols:
            columns["detail"] = req_cols[0]
    elif req_cols:
        columns["title"] = req_cols[0]
        if len(req_cols) > 1:
            columns["detail"] = req_cols[1]
        if groups:
            columns["section"] = groups[0]
    elif len(groups) >= 2:
        columns["section"], columns["title"] = groups[0], groups[1]
    elif groups:
        columns["title"] = groups[0]
    return columns


def find_header(rows: Sequence[Sequence[str]], limit: int = 40) -> Header | None:
    """The first row (within ``limit``) whose words name a title and a units or deadline column."""
    for index, row in enumerate(rows[:limit]):
        columns = assign(row)
        if "title" in columns and ({"units", "lead", "deadline"} & columns.keys()):
            return Header(row=index, cells=tuple(row), columns=columns,
                          sections=more_sections(row, columns))
    return None


def more_sections(cells: Sequence[str], columns: Mapping[str, int]) -> tuple[int, ...]:
    """Category columns right of the section column that no role took: a header cell merged
    across columns (工作任务 over 一、 and （一）; left empty where a CSV flattened the merge),
    or 一级/二级指标."""
    start = columns.get("section")
    if start is None:
        return ()
    used, title = set(columns.values()), columns.get("title", -1)
    return tuple(i for i, cell in enumerate(cells) if i > start and i not in used and (
        (column_kind(cell) or ("",))[0] == "group" or (not cell.strip() and i < title)))


def header_from_names(
    rows: Sequence[Sequence[str]], names: Mapping[str, str], limit: int = 40
) -> Header | None:
    """Use a mapping from plan.toml (role -> header text) when every named column is present."""
    wanted = {role: norm(text) for role, text in names.items() if role in ROLES and text}
    if "title" not in wanted:
        return None
    for index, row in enumerate(rows[:limit]):
        cells = [norm(c) for c in row]
        if all(w in cells for w in wanted.values()):
            columns = {role: cells.index(w) for role, w in wanted.items()}
            if "id" in columns and list(columns.values()).count(columns["id"]) > 1:
                # 工作任务 merged over the number column names both: the numbers find it again
                del columns["id"]
            return Header(row=index, cells=tuple(row), columns=columns,
                          sections=more_sections(row, columns))
    return None


def period_row(header: Header, row: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """The periods of a two-row header: under a deadline cell merged over several columns
    (进度安排 / 时间节点), the row below names each column (一季度, 二季度 … or 3月底前, 6月底前);
    elsewhere that row repeats the header (merged down) or is empty. () when it is no such row."""
    due = header.columns.get("deadline")
    if due is None or due + 1 >= len(header.cells):
        return ()
    word = header.cells[due]
    span = [due]
    for j in range(due + 1, len(header.cells)):
        if header.cells[j] not in (word, "") or j >= len(row) or not row[j]:
            break
        span.append(j)
    if len(span) < 2 or len(row) <= span[-1]:
        return ()
    labels = [row[j] for j in span]
    if len(set(labels)) < len(labels) or any(len(label) > 10 for label in labels):
        return ()
    others = [i for i in range(len(row)) if i not in span]
    if any(row[i] and norm(row[i]) != norm(header.cells[i]) for i in others if i < len(header.cells)):
        return ()
    return tuple((j, row[j]) for j in span)
