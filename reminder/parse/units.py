"""Split a plan's units cell into lead and supporting units. Pure: no I/O.

Offices write the cell in free Chinese: "法规科牵头，相关科（室）配合。", "综合处会各业务处室",
"区政务公开办牵头，区有关单位落实；各镇（街、园区）", "各相关业务处室落实，局政务公开办督办".
Each clause (split at top-level ，；。 never inside parentheses) names units and ends with a role
word. A strong word (牵头, 统筹, 负责…) marks the lead; where no clause has one, the units that
"落实" lead; with no role words at all the first unit named leads.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property

_OPEN = "（(【[〔"
_CLOSE = "）)】]〕"
_CLAUSE_SEPS = "，,；;。\n"
_LIST_SEPS = "、/"
_TRAILING = " \t\r\n。.；;，,、：:"

# Role words, longest first so "牵头落实" is read as one lead marker, not "落实".
_STRONG = ("牵头负责", "牵头落实", "牵头督办", "牵头", "统筹", "主责", "负总责", "总负责", "负责")
_WEAK = ("具体落实", "负责落实", "组织落实", "抓好落实", "按要求落实", "落实", "实施", "承办")
_SUPPORT = (
    "按职责分工负责", "分工负责", "共同负责", "配合落实", "做好配合", "协助配合", "配合",
    "协助", "协办", "参与", "提供指导", "指导", "督办", "督促", "技术保障", "技术支持", "保障",
)
_PREFIXES = ("按职责", "按照职责", "结合职责", "根据职责", "分别", "共同", "按要求", "要")
_MARKERS = sorted(
    [(w, "strong") for w in _STRONG] + [(w, "weak") for w in _WEAK]
    + [(w, "support") for w in _SUPPORT],
    key=lambda item: -len(item[0]),
)
# A unit name ends with one of these (处, 科（室）, 单位, 中心…); anything else in a units cell
# is prose ("结合实际", "采取有效措施抓好") and is dropped.
_UNIT_END = set("处科室股办局委部队站所院馆厅司府心组会位门区镇街县市）)〕社行团校台园关联体业厂场署队员")
# "A及B", "A和B": two units only where A ends like an office (住房和城乡建设局 and
# 工业和信息化局 are one name each: 住房 and 工业 are no unit).
_AND = ("以及", "及", "和", "与")
_OFFICE_END = set("处科室股办局委部队站所院馆厅司府心组社校台区镇街县市门位）〕")
# 道 alone ends prose too (渠道, 轨道); 街道 names a unit ("各街道").
_UNIT_WORDS = ("街道",)
# "会" joins two units ("综合处会各业务处室") only when it follows a unit name's last character,
# so 委员会, 商会, 协会 stay whole.
_JOIN_AFTER = set("处科室办局部队站所院馆厅司府心组）)")
_LEADING_JUNK = ("及", "和", "与", "以及", "由", "请", "其他")


def _top_level_split(text: str, seps: str) -> list[str]:
    """Split at any of ``seps`` outside parentheses."""
    parts: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return [p.strip(_TRAILING) for p in parts if p.strip(_TRAILING)]


def _split_join(text: str) -> tuple[str, str] | None:
    """Split "X会Y" at a top-level 会 that follows a unit name."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        elif (
            ch == "会" and depth == 0 and 0 < i < len(text) - 1
            and (text[i - 1] in _JOIN_AFTER or text[max(0, i - 3) : i] == "委员会")
        ):
            return text[:i], text[i + 1 :]
    return None


def _strip_role(clause: str) -> tuple[str, str | None]:
    """Remove the role words a clause ends with; return (names, role of the first word)."""
    role: str | None = None
    text = clause
    changed = True
    while changed and text:
        changed = False
        for word, kind in _MARKERS:
            if text.endswith(word) and len(text) > len(word):
                text = text[: -len(word)]
                role = kind  # the leftmost role word wins: "牵头落实" is a lead
                changed = True
                break
        for prefix in _PREFIXES:
            if changed and text.endswith(prefix) and len(text) > len(prefix):
                text = text[: -len(prefix)]
    return text.strip(_TRAILING), role


_GROUP_HEADS = ("有关", "相关", "各", "其他")


def _names(text: str) -> list[str]:
    names = []
    for raw in _top_level_split(text, _LIST_SEPS):
        name = raw.strip(_TRAILING)
        for junk in _LEADING_JUNK:
            if name.startswith(junk) and len(name) > len(junk) + 1:
                name = name[len(junk) :]
        name = name.replace("(", "（").replace(")", "）").strip()
        for both in _and_split(name):
            names.extend(_names(both[0]) + _names(both[1]))
            name = ""
        head, sep, rest = name.partition("等")
        if sep and _unit_name(head) and _unit_name(rest):
            # "农业农村局等有关部门": the unit named, and the others as a group of their own
            names.append(head)
            name = rest if rest.startswith(_GROUP_HEADS) else f"有关{rest}"
        if _unit_name(name) and len(name) <= 30:
            names.append(name)
    return names


def _and_split(name: str) -> list[tuple[str, str]]:
    """["A", "B"] for "A及B" where both are unit names and A ends like an office; [] else."""
    depth = 0
    for i, ch in enumerate(name):
        depth += ch in _OPEN
        depth -= ch in _CLOSE and depth > 0
        for word in _AND:
            if depth == 0 and name.startswith(word, i) and i >= 2:
                head, tail = name[:i], name[i + len(word):]
                if head[-1] in _OFFICE_END and _unit_name(head) and _unit_name(tail):
                    return [(head, tail)]
    return []


def _unit_name(name: str) -> bool:
    return bool(name) and (name[-1] in _UNIT_END or name.endswith(_UNIT_WORDS))


def _dedupe(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def split_units(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (lead, support) unit names found in a units cell.

    >>> split_units("法规科牵头，相关科（室）配合。")
    (('法规科',), ('相关科（室）',))
    >>> split_units("区直各单位；各镇（街、园区）")
    (('区直各单位',), ('各镇（街、园区）',))
    """
    text = " ".join((text or "").split()).replace(" ", "")
    clauses: list[tuple[list[str], str | None]] = []
    for clause in _top_level_split(text, _CLAUSE_SEPS):
        names_text, role = _strip_role(clause)
        joined = _split_join(names_text)
        if joined and role in (None, "weak"):
            # "X会Y": X leads, Y works with it.
            clauses.append((_names(joined[0]), "strong"))
            clauses.append((_names(joined[1]), "support"))
        elif joined:
            # "X会Y牵头" / "X会Y配合": both share the clause's role.
            clauses.append((_names(joined[0]) + _names(joined[1]), role))
        else:
            clauses.append((_names(names_text), role))

    # "A，B负责落实": a clause naming units without a role word shares the lead role of the
    # clause right after it (both are responsible); before a 配合 clause it stays unroled,
    # so "A，B配合" still has A lead.
    for at in range(len(clauses) - 2, -1, -1):
        names, role = clauses[at]
        following = clauses[at + 1][1]
        if role is None and names and following in ("strong", "weak"):
            clauses[at] = (names, following)
    roles = {role for _, role in clauses}
    lead_role = "strong" if "strong" in roles else "weak" if "weak" in roles else None
    lead: list[str] = []
    support: list[str] = []
    for names, role in clauses:
        if lead_role is None:
            (support if role == "support" else lead).extend(names)
        else:
            (lead if role == lead_role else support).extend(names)
    if lead_role != "strong" and "support" not in roles and len(lead) > 1:
        # several units and no 牵头/配合 words: the first named leads
        lead, support = lead[:1], lead[1:] + support
    if not lead:  # "各业务处室配合" alone: whoever is named does the work
        lead, support = lead + support, []
    lead_t = _dedupe(lead)
    return lead_t, tuple(n for n in _dedupe(support) if n not in lead_t)


def split_names(text: str) -> tuple[str, ...]:
    """Unit names of a cell that holds only one role (a 牵头单位 or 配合单位 column)."""
    lead, support = split_units(text)
    return lead + support


@dataclass(frozen=True, kw_only=True)
class OrgGrammar:
    """How organisation names are built (rules/units.toml): level word + body + ending, or a
    collective name. Used where names arrive with nothing between them."""

    levels: tuple[str, ...]
    endings: tuple[str, ...]
    collective: tuple[str, ...]
    max_body: int = 12

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        def alt(words: tuple[str, ...]) -> str:
            return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))

        # A body never holds 各 or 等: they start the next name or close the list.
        body = rf"(?:(?![各等])[\u4e00-\u9fff（）()]){{1,{self.max_body}}}?"
        name = rf"(?:{alt(self.levels)}){body}(?:{alt(self.endings)})"
        stop = r"[、，,；;和及与等\s\d（(]|[一二三四五六七八九十]+、|各"  # where the next thing starts
        after = rf"(?=$|{stop}|{alt(self.levels)}|{alt(self.collective)})"
        return re.compile(rf"(?:{alt(self.collective)}|{name}){after}")

    def leading_names(self, text: str) -> tuple[tuple[str, ...], int]:
        """The unit names that ``text`` starts with, and where they end:
        "市司法局市政府各部门、各区县政府2推进…" → (("市司法局", "市政府各部门", "各区县政府"), 17)."""
        names: list[str] = []
        pos = end = 0
        while pos < len(text):
            found = self.pattern.match(text, pos)
            if found is None:
                break
            names.append(found.group(0))
            pos = end = found.end()
            while pos < len(text) and text[pos] in "、，,；;和及与 ":
                pos += 1
        return tuple(names), end


@cache
def org_grammar() -> OrgGrammar:
    """The shipped grammar of organisation names."""
    import tomllib

    from reminder.resources import data_dir

    data = tomllib.loads((data_dir("rules") / "units.toml").read_text(encoding="utf-8"))
    return OrgGrammar(
        levels=tuple(data["levels"]), endings=tuple(data["endings"]),
        collective=tuple(data["collective"]), max_body=int(data.get("max_body", 12)),
    )


def level_aliases(
    names: Iterable[str], levels: Sequence[str] = ("区", "市", "县", "镇")
) -> dict[str, str]:
    """{name as written: the unit's full name} for names written without the plan's level word:
    in a 区 plan that also names 区市场监管局, "市场监管局" is that unit, not another one. The
    plan's level is the word most of its names start with."""
    names = list(dict.fromkeys(names))
    counts = Counter(n[0] for n in names if n[:1] in levels and len(n) > 2)
    if not counts:
        return {}
    level, count = counts.most_common(1)[0]
    if count < 2:
        return {}
    present = set(names)
    return {n: level + n for n in names if level + n in present}
