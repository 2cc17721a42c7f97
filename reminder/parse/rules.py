"""Declarative deadline rules: TOML files of ``[[rule]]`` tables, each a regex and one result.

Users add a phrase by dropping a TOML file into the plan folder's ``rules/`` (or a directory
named in config); no Python is needed. Those files come before the shipped
``rules/deadlines.toml`` and win over it, rule by rule. Every mistake in a file is reported as
file, rule name and what to do, because the people who write these files are clerks, not
programmers.

Rules run on *normalized* text (NFKC, no whitespace), so full-width digits and stray spaces
never reach a pattern. A user's patterns run under the ``regex`` module with a timeout; a
rule that backtracks exponentially on short probe strings is rejected when it is loaded,
one that is slow on long text by ``reminder check`` (:func:`probe_rules`), so that
``explain`` and ``plan`` do not pay for those probes on every start.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reminder.errors import RuleError
from reminder.models import CYCLES
from reminder.parse import programs
from reminder.parse.numerals import NUMERAL_CHARS
from reminder.parse.programs import Prepared
from reminder.resources import data_dir

if TYPE_CHECKING:
    import regex  # the package is imported only to compile (parse/engine.py)

#: Longest text a rule scans; a task cell or requirement is far shorter, and the cap bounds
#: the work a hostile document can cause.
MAX_TEXT = 4000
#: Seconds one search may take; a linear pattern needs microseconds on MAX_TEXT characters.
TIMEOUT = 0.25
#: Distinct texts a rule set remembers its matches for (a plan has a few hundred).
MEMO_SIZE = 4096

_NUM = NUMERAL_CHARS.replace("两", "")  # 两 is a count word, never part of a date
# Lookbehinds keep a placeholder from starting inside a longer number: 十二月 is not 二月.
_YEAR = (rf"(?<!\d)\d{{4}}(?!\d)|(?<![{_NUM}])[〇零○一二三四五六七八九]{{4}}(?![{_NUM}])"
         r"|今|当|本|次|明|下一|第二|上一?|去")
_MONTH = rf"(?<!\d)\d{{1,2}}(?!\d)|(?<![{_NUM}])[{_NUM}]{{1,3}}"
_DAY = rf"(?<!\d)\d{{1,2}}(?!\d)|(?<![{_NUM}])[{_NUM}]{{1,4}}"
PLACEHOLDERS: dict[str, str] = {
    "year": _YEAR,
    "month": _MONTH,
    "day": _DAY,
    # Where a range opens (2024年4月—6月): the deadline is its end, the start is kept.
    "from_year": _YEAR,
    "from_month": _MONTH,
    "from_day": _DAY,
    # A range by dekads (9月上旬至10月中旬): where it opens (上 1, 中 11, 下 21) and ends
    # (上 the 10th, 中 the 20th, 下 the month's end).
    "from_dekad": r"[上中下](?=旬)",
    # A range that opens at a month's end (2025年10月底-2025年12月底).
    "from_end": r"[底末]",
    "dekad": r"[上中下](?=旬)",
    "quarter": r"(?<!\d)[1-4](?!\d)|(?<![" + _NUM + r"])[一二三四](?![" + _NUM + r"])",
    "count": rf"(?<!\d)\d{{1,3}}(?!\d)|(?<![{NUMERAL_CHARS}])[{NUMERAL_CHARS}]{{1,5}}",
    # Hours (24小时内) become days when read: the calendar and the reminders count days.
    # A day of the week (每周二前): 日/天 is Sunday, read as 7 like the digit.
    # A digit after a Chinese weekday is a clock time (每周五17:00前); after a digit, a number.
    "weekday": r"[一二三四五六日天]|[1-7](?!\d)",
    "unit": r"个?工作日|个?自然日|天|日|个月|个?(?:周|星期|礼拜)|个?(?:小时|钟头)",
}
# 今年 is the plan year, 次年 the next, 上年 the one before; the year placeholder stops
# before 年 so that rules read naturally: {year}年{month}月{day}日.
RELATIVE_YEARS: dict[str, int] = {
    "今": 0, "当": 0, "本": 0,
    "次": 1, "明": 1, "下一": 1, "第二": 1,
    "上": -1, "上一": -1, "去": -1,
}

#: ``lunar_eve``: the day before a festival of the Chinese calendar (春节前: month 1, day 1).
DATE_RESULTS = ("day", "month_end", "quarter_end", "half_end", "year_end", "years_end",
                "lunar_eve")
AFTER_RESULTS = ("day", "workday", "month", "week", "unit")
#: ``per_year`` turns a count (每年不少于4次) into the cycle that spreads it evenly.
RECUR_RESULTS = (*CYCLES, "per_year", "per_month")
#: ``start`` marks where work begins (从3月25日开始): no deadline of its own, it opens the
#: other deadlines of the same phrase; "day" is that day, "month" the month's first.
START_RESULTS = ("day", "month", "quarter")
RESULT_KEYS = ("date", "recur", "after", "none", "ambiguous", "start")
# lag: months after each period (次月5日前 is day 5 of the month after each month).
FIXED_KEYS = ("month", "day", "quarter", "half", "count", "lag")
_FIXED_RANGES = {"month": (1, 12), "day": (1, 31), "quarter": (1, 4), "half": (1, 2),
                 "count": (0, 999), "lag": (1, 12)}
_NEEDS: dict[str, tuple[str, ...]] = {
    "day": ("month", "day"), "month_end": ("month",), "quarter_end": ("quarter",),
    "half_end": ("half",), "year_end": (), "years_end": ("count",), "lunar_eve": ("month", "day"),
}
_KEYS = ("name", "pattern", *RESULT_KEYS, *FIXED_KEYS, "reason", "not_in", "examples")

# Traditional forms of the characters the grammar keys on (個 內 當 報 …): plans copied from
# Hong Kong, Macao or Taiwan sources, or converted by an editor, are read like any other.
_SIMPLIFIED = str.maketrans(
    "個內當為會請報實時後節週開於務辦結終來隨應從號兩雙場盡長續態級據頭禮鐘調總進發屆間"
    "過遲滿復計劃彙則堅餘數幾評講點導",
    "个内当为会请报实时后节周开于务办结终来随应从号两双场尽长续态级据头礼钟调总进发届间"
    "过迟满复计划汇则坚余数几评讲点导")

# A {name} that is not a quantifier ({2}, {1,3}) nor part of \p{Han}, \N{...}, \x{...}.
_PLACEHOLDER_TEXT = r"(?<!\\[pPNxgu])(?<!\\)\{([A-Za-z_]\w*)\}"


@cache
def _placeholder() -> regex.Pattern[str]:
    # Compiled when first needed, through the rules cache: at import it cost every start.
    return programs.compiled(_PLACEHOLDER_TEXT)


def normalize(text: str) -> str:
    """The form rules see: NFKC (２０２１ → 2021, ，→ ,) without any whitespace, the
    traditional characters the grammar keys on made simplified, capped."""
    return "".join(unicodedata.normalize("NFKC", text).split())[:MAX_TEXT].translate(_SIMPLIFIED)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One phrase and what it means. ``source`` and ``tier`` say where it came from and do
    not take part in equality, so a rule written out with :meth:`to_toml` and loaded back
    from another file is equal to the original."""

    name: str
    pattern: str
    date: str | None = None
    recur: str | None = None
    after: str | None = None
    none: bool = False
    #: Why the phrase gives no date (ambiguous: 12月前 is 12-01 or 12-31), shown to the user.
    ambiguous: str | None = None
    #: Why a ``none`` rule has no date of its own (按上级要求: 由上级确定).
    reason: str = ""
    start: str | None = None
    month: int | None = None
    day: int | None = None
    quarter: int | None = None
    half: int | None = None
    count: int | None = None
    lag: int | None = None
    #: Longer words the rule must not fire inside (定期 in 规定期限, 年内 in 半年内): a match
    #: that one of them overlaps without lying wholly inside the match is no match. This is
    #: the one word-boundary mechanism; patterns need no lookarounds for it.
    not_in: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    source: str = field(default="", compare=False)
    tier: int = field(default=0, compare=False)
    #: Shipped rules: probed for backtracking by the test suite, so they run without the
    #: per-search timeout (which costs more than most searches).
    trusted: bool = field(default=False, compare=False)

    @property
    def compiled(self) -> regex.Pattern[str]:
        return _compile(self.pattern)

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_placeholder().findall(self.pattern))

    def fixed(self, key: str) -> int | None:
        return getattr(self, key) if key in FIXED_KEYS else None

    def to_toml(self) -> str:
        """The rule as a ``[[rule]]`` table that :func:`load_rules` reads back equal."""
        lines = ["[[rule]]", f"name = {_toml_str(self.name)}",
                 f"pattern = {_toml_str(self.pattern)}"]
        for key in ("date", "recur", "after", "ambiguous", "start"):
            if getattr(self, key) is not None:
                lines.append(f"{key} = {_toml_str(getattr(self, key))}")
        if self.none:
            lines.append("none = true")
        if self.reason:
            lines.append(f"reason = {_toml_str(self.reason)}")
        lines += [f"{key} = {getattr(self, key)}" for key in FIXED_KEYS
                  if getattr(self, key) is not None]
        if self.not_in:
            lines.append(f"not_in = [{', '.join(_toml_str(w) for w in self.not_in)}]")
        if self.examples:
            lines.append(f"examples = [{', '.join(_toml_str(e) for e in self.examples)}]")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_toml()


@dataclass(frozen=True)
class Match:
    """Where a rule matched in normalized text, with its placeholders' captured text."""

    rule: Rule
    start: int
    end: int
    text: str
    groups: dict[str, str | None]


@dataclass(frozen=True)
class RuleSet:
    """Rules in precedence order (user files first, shipped defaults last)."""

    rules: tuple[Rule, ...]
    # A plan repeats its cells (长期, 年底前) and every stage asks again: matches by text.
    _memo: dict[str, list[Match]] = field(default_factory=dict, compare=False, repr=False)

    _filter: list[Any] = field(default_factory=list, compare=False, repr=False)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def _prefilter(self) -> tuple[dict[str, int], list[tuple[int, Rule, list[int] | None]]]:
        """Each rule's requirements (:func:`_triggers`) as bits: a character maps to the
        bits of the requirements it meets, an alternative to the bits it needs. A text
        then costs one OR per distinct character and one AND per alternative."""
        if not self._filter:
            masks: dict[str, int] = {}
            plan: list[tuple[int, Rule, list[int] | None]] = []
            bit = 1
            for index, rule in enumerate(self.rules):
                needs = _triggers(rule.pattern)
                if needs is None:
                    plan.append((index, rule, None))
                    continue
                alternatives = []
                for alternative in needs:
                    need = 0
                    for chars in alternative:
                        for char in chars:
                            masks[char] = masks.get(char, 0) | bit
                        need |= bit
                        bit <<= 1
                    alternatives.append(need)
                plan.append((index, rule, alternatives))
            self._filter.extend((masks, plan))
        return self._filter[0], self._filter[1]

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def find(self, text: str) -> list[Match]:
        """Non-overlapping matches in ``text`` (already normalized), in text order.

        Every rule is tried everywhere; where matches overlap, the one from the
        higher-precedence file wins, then the longer one (12月10日内 is a date, not a 10-day
        offset), then the earlier one, then the rule listed first.
        """
        known = self._memo.get(text)
        if known is not None:
            return list(known)
        found: list[tuple[tuple[int, int, int, int], Match]] = []
        masks, plan = self._prefilter()
        met = 0  # one bit per requirement (see _prefilter) that a character of text meets
        for char in set(text):
            met |= masks.get(char, 0)
        for index, rule, alternatives in plan:
            if alternatives is not None:
                for need in alternatives:
                    if met & need == need:
                        break
                else:
                    continue  # characters every match contains are missing: no need to scan
            try:
                matches = (rule.compiled.finditer(text) if rule.trusted
                           else rule.compiled.finditer(text, timeout=TIMEOUT))
                for m in matches:
                    if m.end() > m.start() and not (
                            rule.not_in and inside_word(text, m.start(), m.end(), rule.not_in)):
                        groups = {k: v for k, v in m.groupdict().items() if k in PLACEHOLDERS}
                        match = Match(rule, m.start(), m.end(), m.group(), groups)
                        found.append(((rule.tier, m.start() - m.end(), m.start(), index), match))
            except TimeoutError:
                continue  # load-time probes make this rare; a slow rule just finds nothing
        taken: list[Match] = []
        used = bytearray(len(text))
        for _key, match in sorted(found, key=lambda item: item[0]):
            if not any(used[match.start:match.end]):
                used[match.start:match.end] = b"\x01" * (match.end - match.start)
                taken.append(match)
        taken.sort(key=lambda m: m.start)
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[text] = taken
        return list(taken)


def inside_word(text: str, start: int, end: int, words: Sequence[str]) -> bool:
    """Whether one of ``words`` occurs in ``text`` across the match ``text[start:end]``:
    overlapping it without lying wholly inside it, so that the match would start or end in
    the middle of that word (规定 across 定期 in 规定期限; 纳入年度考核 around 年度考核)."""
    for word in words:
        size = len(word)
        low = max(0, start - size + 1)
        at = text.find(word, low, end + size - 1)
        while at >= 0 and at < end:
            if at + size > start and (at < start or at + size > end):
                return True
            at = text.find(word, at + 1, end + size - 1)
    return False


@cache
def _triggers(pattern: str) -> tuple[tuple[frozenset[str], ...], ...] | None:
    """:func:`_read_triggers`, or what an earlier run found (see :func:`use_prepared`)."""
    prepared = programs.current()
    if prepared is None:
        return _read_triggers(pattern)
    known = prepared.triggers.get(pattern, False)
    if known is not False:
        return None if known is None else tuple(tuple(frozenset(chars) for chars in alt)
                                                for alt in known)
    needs = _read_triggers(pattern)
    if not prepared.full():
        prepared.triggers[pattern] = None if needs is None else tuple(
            tuple("".join(sorted(chars)) for chars in alt) for alt in needs)
        prepared.changed = True
    return needs


def _read_triggers(pattern: str) -> tuple[tuple[frozenset[str], ...], ...] | None:
    """For each top-level alternative of ``pattern``, sets of characters of which every
    match of that alternative contains one each; None when some alternative has none.
    Read from literals and plain character classes that no ``?``, ``*`` or ``{0`` makes
    optional, placeholders as their bodies: 年月 needs 年 and 月, {year}-{month}-{day} one
    of -./.
    A text that meets no alternative's sets cannot match, so the rule is neither compiled
    nor run on it (compiling is most of a short run's parsing)."""
    text = unicodedata.normalize("NFKC", pattern)
    # Case-insensitive or fuzzy ({e<=1}) matching: no literal is sure to be in a match.
    import regex  # here: with the rules cache a run reads no pattern's requirements

    if regex.search(r"\(\?[a-zA-Z]*[if]|(?<!\\[pPNxgu])\{[^}]*[eids]",
                    _placeholder().sub("", text)):
        return None
    alternatives, _ = _requirements(text, 0)
    if not all(alternatives):
        return None
    return tuple(tuple(dict.fromkeys(reqs)) for reqs in alternatives)


@cache
def _placeholder_need(name: str) -> frozenset[str] | None:
    body = PLACEHOLDERS.get(name)
    if body is None:
        return None
    inner, _ = _requirements(unicodedata.normalize("NFKC", body), 0)
    chosen = [min(reqs, key=len) for reqs in inner if reqs]
    return frozenset().union(*chosen) if len(chosen) == len(inner) else None


def _optional(text: str, i: int) -> bool:
    return text[i:i + 1] in ("?", "*") or text[i:i + 2] in ("{0", "{,")


def _class(text: str, i: int) -> tuple[frozenset[str] | None, int]:
    """The characters of a plain class at ``text[i] == "["`` (None for a negated class or
    one with ranges or escapes) and the index after it."""
    end = text.find("]", i + 2)
    if end < 0:
        return None, len(text)
    body = text[i + 1:end]
    if body.startswith("^") or "\\" in body or "-" in body[1:-1] or "[" in body:
        return None, end + 1
    return frozenset(body), end + 1


def _requirements(text: str, i: int) -> tuple[list[list[frozenset[str]]], int]:
    """For each alternative from ``i`` to the closing parenthesis: sets of characters of
    which a match must contain one each. Returns them and the index after the group."""
    alternatives: list[list[frozenset[str]]] = [[]]
    while i < len(text):
        char = text[i]
        if char == "\\":
            # An escaped punctuation mark is itself (\.); \d, \p{…} and the like are not.
            if i + 1 < len(text) and not text[i + 1].isalnum() and not _optional(text, i + 2):
                alternatives[-1].append(frozenset(text[i + 1]))
            i += 2
        elif char == "{" and (placeholder := _placeholder().match(text, i)) is not None:
            # As the group it becomes when compiled, read once per placeholder.
            need = _placeholder_need(placeholder.group(1))
            i = placeholder.end()
            if need and not _optional(text, i):
                alternatives[-1].append(need)
        elif char == "[":
            chars, i = _class(text, i)
            if chars and not _optional(text, i):
                alternatives[-1].append(chars)
        elif char == "(":
            import regex

            look = regex.match(r"\(\?(?:<?[=!]|[a-z]+[:)]|P?<\w+>|:)?", text[i:])
            prefix = look.group() if look else "("
            inner, i = _requirements(text, i + len(prefix))
            lookaround = prefix.startswith(("(?=", "(?!", "(?<=", "(?<!"))
            chosen = [min(reqs, key=len) for reqs in inner if reqs]
            if not lookaround and not _optional(text, i) and len(chosen) == len(inner):
                alternatives[-1].append(frozenset().union(*chosen))
        elif char == ")":
            return alternatives, i + 1
        elif char == "|":
            alternatives.append([])
            i += 1
        else:
            if not char.isascii() and not _optional(text, i + 1):
                alternatives[-1].append(frozenset(char))
            i += 1
    return alternatives, i


def load_rules(extra: Sequence[Path | str] = ()) -> RuleSet:
    """The shipped rules with ``extra`` files or directories (of ``*.toml``) before them.

    Earlier items in ``extra`` take precedence over later ones and all of them over the
    defaults; a rule named like one already loaded replaces it.
    """
    if not extra:
        return _default_set()
    rules: list[Rule] = []
    names: set[str] = set()
    for tier, item in enumerate(extra):
        path = Path(item)
        if path.is_dir():
            paths = sorted(path.glob("*.toml"))
        elif path.is_file():
            paths = [path]
        else:
            raise RuleError("找不到规则文件或目录", file=path,
                            hint="检查配置中的规则路径是否写对")
        for file in paths:
            for rule in load_file(file, tier=tier):
                if rule.name not in names:
                    names.add(rule.name)
                    rules.append(rule)
    rules += [replace(r, tier=len(extra)) for r in _defaults() if r.name not in names]
    return RuleSet(tuple(rules))


@cache
def _defaults() -> tuple[Rule, ...]:
    # The test suite compiles, probes and tries the examples of the shipped rules; at run
    # time a pattern compiles when a text first holds a character it needs.
    return tuple(load_file(data_dir("rules") / "deadlines.toml", verify=False, trusted=True))


@cache
def _default_set() -> RuleSet:
    # parse() without rules asks for this on every call; build it once.
    return RuleSet(_defaults())


def load_file(path: Path, *, tier: int = 0, verify: bool = True,
              trusted: bool = False) -> list[Rule]:
    """Read and check one rule file; any mistake raises :class:`RuleError`.

    ``verify`` compiles each pattern, tries its examples and short strings that make an
    exponentially backtracking pattern hang; the slower probes for polynomial blow-up are
    :func:`probe_rules`, which ``check`` runs. ``trusted`` marks the rules as the shipped
    ones (searched without a timeout).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RuleError(f"无法读取规则文件：{exc.strerror}", file=path) from exc
    prepared = programs.current()
    digest = ""
    if prepared is not None:
        # By content: the same bytes were read, checked and (with verify) probed before.
        digest = f"{hashlib.sha256(data).hexdigest()}:{int(verify)}"
        known = prepared.files.get(digest)
        if known is not None:
            try:
                return [Rule(**values, source=str(path), tier=tier, trusted=trusted)
                        for values in known]
            except TypeError:  # written by another version of Rule: read the file again
                pass
    rules = _read_file(path, data, tier, verify)
    if trusted:
        rules = [replace(r, trusted=True) for r in rules]
    if prepared is not None and not prepared.full():
        prepared.files[digest] = [{f.name: getattr(r, f.name) for f in fields(Rule) if f.compare}
                                  for r in rules]
        prepared.changed = True
    return rules


def _read_file(path: Path, content: bytes, tier: int, verify: bool) -> list[Rule]:
    try:
        raw = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleError("规则文件不是 UTF-8 编码", file=path, hint="请另存为 UTF-8") from exc
    import tomllib  # here: a file found in the rules cache is never parsed

    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        import regex

        found = regex.search(r"at line (\d+)", str(exc))
        raise RuleError(f"TOML 语法错误：{str(exc).split(' (at line')[0]}", file=path,
                        line=int(found.group(1)) if found else None,
                        hint="检查引号、等号和方括号是否成对") from exc
    unknown = sorted(set(data) - {"rule"})
    if unknown:
        raise RuleError(f"未知的顶层键：{'、'.join(unknown)}", file=path,
                        hint="每条规则写在 [[rule]] 表中")
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RuleError("rule 必须是表数组", file=path, hint="每条规则以 [[rule]] 开头")
    rules: list[Rule] = []
    for number, table in enumerate(tables, start=1):
        rule = _build(table, path, number, raw, tier, verify)
        if any(r.name == rule.name for r in rules):
            raise RuleError("规则名称重复", file=path, line=_line_of(raw, rule.name),
                            place=rule.name, hint="同一文件中每条规则的 name 必须不同")
        rules.append(rule)
    return rules


def _build(table: dict[str, Any], path: Path, number: int, raw: str, tier: int,
           verify: bool) -> Rule:
    name = table.get("name")
    place = name if isinstance(name, str) and name.strip() else f"第{number}条规则"

    def fail(message: str, hint: str | None = None) -> RuleError:
        # The line is looked up only for an error: scanning the file per rule cost more
        # than reading the rules.
        line = _line_of(raw, name) if isinstance(name, str) else None
        return RuleError(message, file=path, line=line, place=place, hint=hint)

    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise fail(f"未知的键：{'、'.join(unknown)}", f"可用的键：{'、'.join(_KEYS)}")
    if not (isinstance(name, str) and name.strip()):
        raise fail("缺少规则名称 name", '例如 name = "年底"')
    pattern = table.get("pattern")
    if not (isinstance(pattern, str) and pattern):
        raise fail("缺少正则表达式 pattern", "例如 pattern = '{year}年底'")
    given = [k for k in RESULT_KEYS if k in table]
    if len(given) != 1:
        have = f"，现有 {'、'.join(given)}" if given else ""
        raise fail(f"每条规则必须且只能有一个结果键{have}",
                   "从 date、recur、after、none、ambiguous、start 中选一个")
    key = given[0]
    value = table[key]
    choices = {"date": DATE_RESULTS, "recur": RECUR_RESULTS, "after": AFTER_RESULTS,
               "start": START_RESULTS}.get(key)
    if key == "none":
        if value is not True:
            raise fail("none 只能写作 none = true")
    elif key == "ambiguous":
        if not (isinstance(value, str) and value.strip()):
            raise fail("ambiguous 应写明为什么有歧义", 'ambiguous = "可能指1日前，也可能指月底前"')
    elif value not in choices:
        raise fail(f"{key} 的值 {value!r} 无效", f"可选：{'、'.join(choices)}")
    fixed: dict[str, int] = {}
    for k in FIXED_KEYS:
        if k in table:
            low, high = _FIXED_RANGES[k]
            v = table[k]
            if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
                raise fail(f"{k} 必须是 {low} 到 {high} 的整数，现为 {v!r}")
            fixed[k] = v
    reason = table.get("reason", "")
    if "reason" in table and (key not in ("none", "date") or not isinstance(reason, str)):
        raise fail("reason 只用于 none = true 或 date 规则，且须是文字", 'reason = "由上级确定"')
    not_in = table.get("not_in", [])
    if not isinstance(not_in, list) or not all(isinstance(w, str) and w.strip() for w in not_in):
        raise fail("not_in 必须是非空字符串的数组：规则不能在其中匹配的较长词语",
                   'not_in = ["规定期限", "半年内"]')
    examples = table.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise fail("examples 必须是字符串数组", 'examples = ["2021年底前"]')
    rule = Rule(name=name, pattern=pattern, examples=tuple(examples), source=str(path),
                tier=tier, reason=reason, not_in=tuple(normalize(w) for w in not_in),
                **{key: value}, **fixed)
    _check(rule, fail, verify)
    return rule


def probe_rules(rules: RuleSet, *, trusted: bool = False) -> list[RuleError]:
    """Rules that backtrack badly on long text (shipped rules too when ``trusted``)."""
    errors = []
    for rule in rules:
        if rule.trusted and not trusted:
            continue
        try:
            _backtracking(rule, lambda message, hint=None, r=rule: RuleError(
                message, file=r.source or None, place=r.name, hint=hint),
                _probes(rule.pattern, long=True))
        except RuleError as error:
            errors.append(error)
    return errors


def _backtracking(rule: Rule, fail: Any, probes: list[str]) -> None:
    for probe in probes:
        try:
            rule.compiled.search(probe, timeout=TIMEOUT)
        except TimeoutError:
            raise fail("正则表达式可能灾难性回溯，匹配长文本时会卡住",
                       "避免嵌套的重复，如 (a|aa)+、(a+)+；改用有上限的量词") from None


def _check(rule: Rule, fail: Any, verify: bool) -> None:
    """Placeholders, regex syntax, backtracking and examples of one rule."""
    unknown = sorted(rule.placeholders - set(PLACEHOLDERS))
    if unknown:
        raise fail(f"未知的占位符：{'、'.join('{' + u + '}' for u in unknown)}",
                   f"可用：{'、'.join('{' + p + '}' for p in PLACEHOLDERS)}")
    needs: tuple[str, ...] = ()
    if rule.date is not None:
        needs = _NEEDS[rule.date]
    elif rule.after is not None:
        needs = ("count", "unit") if rule.after == "unit" else ("count",)
    elif rule.recur in ("per_year", "per_month"):
        needs = ("count",)
    elif rule.start is not None:
        needs = {"day": ("month", "day"), "month": ("month",), "quarter": ("quarter",)}[rule.start]
    for need in needs:
        if need not in rule.placeholders and rule.fixed(need) is None:
            if need in ("half", "unit"):
                hint = "请写 half = 1 或 2" if need == "half" else "请在 pattern 中写 {unit}"
            else:
                hint = f"请在 pattern 中写 {{{need}}}，或写固定值 {need} = …"
            raise fail(f"结果需要“{need}”，但规则没有提供", hint)
    if not verify:
        return
    import regex

    try:
        compiled = rule.compiled
    except regex.error as exc:
        raise fail(f"正则表达式有误：{exc}", "检查括号、转义和量词") from exc
    if compiled.search("") is not None:
        raise fail("正则表达式会匹配空文本", "至少要求一个字符，例如把 * 改为 +")
    _backtracking(rule, fail, _probes(rule.pattern, long=False))
    for example in rule.examples:
        if compiled.search(normalize(example)) is None:
            raise fail(f"示例“{example}”不能被该规则识别", "修改 pattern 或示例")


def _probes(pattern: str, *, long: bool) -> list[str]:
    """Strings that make a backtracking pattern explode: runs of a character the pattern
    mentions, ending in a character it cannot match; short runs catch exponential blow-up,
    ``long`` runs of the maximal text length catch polynomial blow-up."""
    chars = [c for c in dict.fromkeys(_placeholder().sub("", pattern)) if c.isalnum()]
    chars = [*chars, "1", "一", "a"][:12]
    if long:
        return [c * MAX_TEXT + "\x00" for c in chars[:4]]
    return [c * 48 + "\x00" for c in chars]


@cache
def _compile(pattern: str) -> regex.Pattern[str]:
    """Placeholders become named groups; the pattern is NFKC'd like the text it meets."""
    text = unicodedata.normalize("NFKC", pattern)

    def group(m: regex.Match[str]) -> str:
        body = PLACEHOLDERS.get(m.group(1))
        return f"(?P<{m.group(1)}>{body})" if body else m.group()

    return programs.compiled(_placeholder().sub(group, text))


def use_prepared(prepared: Prepared | None) -> None:
    """Read rule files and compile patterns through what earlier runs worked out (rule
    files, prefilter requirements, compiled programs), which the command line keeps in the
    user's cache directory; None: work everything out, as the daemon and the tests do."""
    programs.use_prepared(prepared)


def _toml_str(value: str) -> str:
    # A literal string keeps regex backslashes readable; JSON escapes are valid TOML otherwise.
    if "'" not in value and all(c.isprintable() for c in value):
        return f"'{value}'"
    import json  # only to write a rule out

    return json.dumps(value, ensure_ascii=False)


def _line_of(raw: str, name: str | None) -> int | None:
    """Line of ``name = "…"`` in the file, so an error points at the rule (tomllib cannot)."""
    if not name:
        return None
    for number, text in enumerate(raw.splitlines(), start=1):
        if text.strip().startswith("name") and name in text:
            return number
    return None

