"""Plan title, plan year and issue date from the text around a task table, and a thin
adapter over the deadline engine (used to tell deadline phrases from prose)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any

from reminder.importers.header import simplified
from reminder.parse.numerals import to_int

_TITLE_WORDS = re.compile(r"(方案|任务分工|要点|清单|工作计划|台账|分解表|一览表|责任分解|任务分解)")
_YEAR = re.compile(r"(20\d{2})\s*年")
_TITLE_ENDS = ("方案", "要点", "清单", "计划", "台账", "分解表", "一览表", "分解")
_NOTICE_TITLE = re.compile(r"^关于.{2,70}的(?:通知|方案|实施意见|意见|安排|函)$")
_HEADING_END = re.compile(r"(通知|方案|要点|清单|计划|台账|分解表|任务表)$")
_LABELLED_DATE = re.compile(
    r"(?:发布日期|成文日期|印发日期|发文日期|日期)[:：\s]*"
    r"(20\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_LINE_DATE = re.compile(r"^\s*(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
_CN_NUM = "[一二三四五六七八九十]{1,3}"
_CN_DATE = re.compile(rf"^\s*([〇○零一二三四五六七八九]{{4}})年({_CN_NUM})月({_CN_NUM})日\s*$")


def detect_title(lines: Iterable[str]) -> str:
    """The plan's own title: a line with a year and 方案/要点…, not the covering 通知."""
    best: tuple[int, str] | None = None
    for raw in lines:
        line = " ".join(raw.split()).strip("《》 ")
        probe = simplified(line)  # a page in traditional characters: 工作要點
        if not line or len(line) > 80 or not _TITLE_WORDS.search(probe):
            continue
        score = 0
        score += 4 if _YEAR.search(line) else 0
        score += 2 if probe.endswith(_TITLE_ENDS) else 0
        score -= 3 if ("关于印发" in line or line.endswith("通知")) else 0
        score -= 2 if ("当前位置" in line or ">" in line) else 0
        if best is None or score > best[0]:
            best = (score, line)
    if best is None:
        # A pasted notice with no plan title of its own: its 关于…的通知 line names it
        # (else every message would say 所属方案：notice).
        best = next(((0, line) for raw in lines
                     if _NOTICE_TITLE.match(line := " ".join(raw.split()).strip("《》 "))), None)
    return best[1] if best else ""


def detect_year(title: str, lines: Iterable[str]) -> int | None:
    """The title's year; else the year most often named in the given text."""
    found = _YEAR.search(title or "")
    if found:
        return int(found.group(1))
    counts = Counter(int(y) for line in lines for y in _YEAR.findall(line))
    return counts.most_common(1)[0][0] if counts else None


def year_evidence(
    title: str, lines: Iterable[str], issued: date | None, titles: Iterable[str]
) -> tuple[int | None, str]:
    """(plan year, the words it was guessed from). The title's own year is no guess ("");
    otherwise the year most often named around the table, the issue date's year, or the
    year most named in the tasks, each quoted so the user can judge it."""
    if (found := _YEAR.search(title or "")) is not None:
        return int(found.group(1)), ""
    lines = list(lines)
    for line in lines:  # the document's own heading ("关于做好2026年…工作的通知") states it too
        heading = " ".join(line.split()).strip("《》 ")
        if len(heading) <= 60 and _HEADING_END.search(heading) and (m := _YEAR.search(heading)):
            return int(m.group(1)), ""
    for source in (lines, None, list(titles)):
        if source is None:
            if issued:
                return issued.year, f"印发日期 {issued.isoformat()}"
            continue
        year = detect_year("", source)
        if year is not None:
            line, at = next((x, m.start()) for x in source
                            if (m := re.search(rf"{year}\s*年", x)) is not None)
            words = " ".join(line[max(0, at - 6) : at + 24].split())
            return year, words
    return None, ""


def detect_issued(lines: Iterable[str]) -> date | None:
    """A labelled date (发布日期 2021-07-23) first, else a date standing alone on a line
    (the signature date under the covering letter)."""
    alone: date | None = None
    for line in lines:
        found = _LABELLED_DATE.search(line)
        if found:
            try:
                return date(*map(int, found.groups()))
            except ValueError:
                continue
        if alone is None:
            m = _LINE_DATE.match(line)
            try:
                if m:
                    alone = date(*map(int, m.groups()))
                elif (c := _CN_DATE.match(line)) is not None:
                    alone = date(*(to_int(g) for g in c.groups()))
            except ValueError:
                pass
    return alone


@cache
def _engine() -> Any:
    """The deadline engine's parse() and Context, or None while it is not installed."""
    try:
        from reminder.parse.deadlines import Context, parse
    except ImportError:
        return None
    return Context, parse


def engine_available() -> bool:
    return _engine() is not None


def find_deadlines(text: str, year: int, issued: date | None = None) -> list[Any]:
    """Every deadline the engine finds in ``text`` (kind != "none"); [] without the engine."""
    engine = _engine()
    if engine is None or not text.strip():
        return []
    context, parse = engine
    try:
        found = parse(text, context(year=year, issued=issued), None)
    except ValueError:  # a phrase the engine rejects is simply not a deadline here
        return []
    return [d for d in found if d.kind != "none"]


# Used only to classify flattened text cells (is this cell a deadline column value?) when
# rows must be rebuilt; the dates themselves always come from the engine.
_DEADLINE_HINT = re.compile(
    r"(\d{4}\s*年|\d{1,2}\s*月|年底|年末|月底|季度|半年|长期|持续|常态|工作日|每月|每年|每周|前完成)"
)


def looks_like_deadline(text: str, year: int | None = None) -> bool:
    text = text.strip()
    if not text or len(text) > 120:
        return False
    if _DEADLINE_HINT.search(text):
        return True
    return bool(year and engine_available() and find_deadlines(text, year))


_REPORT_VERB = re.compile(r"(报送|上报|报告|提交|反馈)")
_REPORT_TO = re.compile(r"向([^，,。；;（(]{2,20}?)(?:[（(][^）)]*[）)])?(?:报送|上报|报告|提交|反馈)")
# "…将…情况报送区政务公开办": the recipient after the verb
_REPORT_TO_AFTER = re.compile(
    r"(?:报送|上报|提交|反馈)(?:至|给|到)?([^，,。；;、（(]{2,20}?(?:办公室|办|局|室|处|科|委|组|中心))"
    r"(?=[，,。；;（(]|$)"
)
_QUARTERS = re.compile(r"第([一二三四1-4])(?:季度)?(?=[、和及与]|季度)")
_HALVES = re.compile(r"(上半年|下半年|全年)")
# A stated date: a sentence that names none is no report date ("按季度报送…")
_DAY_STATED = re.compile(r"\d{1,2}\s*(?:个工作日|日|天)")
_STATED = re.compile(r"(\d{1,2}\s*月\s*\d{1,2}\s*日|\d{1,2}\s*月底|月底前|年底前|日前)")


def is_report_sentence(text: str) -> bool:
    """Prose that asks for a report by a stated date ("请于6月25日前…报送…")."""
    return bool(_REPORT_VERB.search(text) and _STATED.search(text)) and len(text) >= 12


def _when_part(sentence: str) -> str:
    """The words before what is reported: "于6月25日前、12月20日前将上半年和全年…报送" →
    "于6月25日前、12月20日前". Periods named as the report's subject are not dates."""
    cut = min((m.start() for m in re.finditer(r"将|报送|上报|报告|提交|反馈", sentence)),
              default=len(sentence))
    return sentence[:cut]


def report_dates(lines: Iterable[str], year: int, issued: date | None) -> list[Any]:
    """Plan-level dates from the prose around the table: "请于今年10月10日前及2022年1月5日前，
    向局政务公开办报送第三、第四季度推进落实情况" gives two dates for every unit, reported
    to 局政务公开办."""
    from reminder.models import PlanDate

    found: dict[str, PlanDate] = {}
    for line in lines:
        for sentence in re.split(r"[。；;]", line):
            if not _REPORT_VERB.search(sentence):
                continue
            when = _when_part(sentence)
            # A recurring report with its day stated ("每季度结束后5日内…报送", "每月28日前")
            # is a plan date as much as a dated one; a bare "每季度…报送" states none.
            deadlines = [d for d in find_deadlines(when, year, issued)
                         if d.kind == "once" or (d.kind == "recurring" and _DAY_STATED.search(d.text))]
            if not deadlines:
                continue
            to = _REPORT_TO.search(sentence) or _REPORT_TO_AFTER.search(sentence)
            rest = sentence[len(when) :]
            periods = [f"第{q}季度" for q in _QUARTERS.findall(rest)]
            if not periods and len(deadlines) > 1:  # one date with 全年 is just "the report"
                periods = _HALVES.findall(rest)
            for i, deadline in enumerate(deadlines):
                what = (f"{periods[i]}进展报送" if len(periods) == len(deadlines)
                        else f"报送（{deadline.text}）")
                found.setdefault(what, PlanDate(name=what, deadline_text=deadline.text,
                                                to=to.group(1) if to else ""))
    return list(found.values())
