from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from reminder.errors import RuleError
from reminder.parse.deadlines import Context, parse
from reminder.parse.rules import (
    MAX_TEXT,
    Rule,
    RuleSet,
    load_file,
    load_rules,
    normalize,
    probe_rules,
)

CTX = Context(year=2021)


def write(tmp_path: Path, body: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


# -- the shipped file ---------------------------------------------------------------------


def test_default_rules_load_with_their_source() -> None:
    rules = load_rules()
    names = [r.name for r in rules]
    assert {"年月日", "月底", "年底", "上半年", "下半年", "季度末", "每季度", "长期", "期限内",
            "及时"} <= set(names)
    assert len(names) == len(set(names))
    assert all(r.source.endswith("deadlines.toml") for r in rules)
    assert all(r.examples for r in rules), "every shipped rule documents itself with examples"


@pytest.mark.parametrize("rule", load_rules().rules, ids=lambda r: r.name)
def test_rule_round_trips_through_toml(rule: Rule, tmp_path: Path) -> None:
    back = load_file(write(tmp_path, rule.to_toml()))
    assert back == [rule]
    assert str(rule) == rule.to_toml()


def test_round_trip_of_awkward_strings(tmp_path: Path) -> None:
    rule = Rule(name="引号'与\"反斜杠", pattern="截至'{month}'月\\s?{day}日", date="day",
                examples=("截至'3'月5日",))
    (back,) = load_file(write(tmp_path, rule.to_toml()))
    assert back == rule
    assert back.compiled.search(normalize("截至'3'月5日"))


def test_round_trip_keeps_fixed_values(tmp_path: Path) -> None:
    rule = Rule(name="国庆前", pattern="国庆(?:节)?前", date="day", month=9, day=30)
    (back,) = load_file(write(tmp_path, rule.to_toml()))
    assert (back.month, back.day, back.date) == (9, 30, "day")


# -- normalization and placeholders ----------------------------------------------------------


def test_normalize_folds_width_and_drops_spaces() -> None:
    assert normalize("２０２３年 1月\u300031日，前") == "2023年1月31日,前"
    assert len(normalize("年" * (MAX_TEXT + 50))) == MAX_TEXT
    # Traditional forms of the characters the grammar keys on; others stay as written.
    assert normalize("3個工作日內辦結並答覆") == "3个工作日内办结並答覆"


def test_quantifiers_and_property_escapes_are_not_placeholders(tmp_path: Path) -> None:
    body = """
[[rule]]
name = "文号日"
pattern = '\\d{3}号文\\p{Han}{2}{count}天内'
after = "day"
"""
    rules = load_rules([write(tmp_path, body)])
    (d,) = parse("按123号文要求7天内", CTX, rules)
    assert (d.rule, d.after.n if d.after else None) == ("文号日", 7)


# -- mistakes in rule files -----------------------------------------------------------------

MISTAKES = {
    "unknown key": ('name = "x"\npattern = "月底"\ndate = "year_end"\ncolour = 1', "colour"),
    "two results": ('name = "x"\npattern = "长期"\nrecur = "ongoing"\nnone = true', "只能有一个"),
    "no result": ('name = "x"\npattern = "长期"', "只能有一个"),
    "bad regex": ('name = "x"\npattern = "(年底"\ndate = "year_end"', "正则表达式有误"),
    "unknown placeholder": ('name = "x"\npattern = "{yaer}年底"\ndate = "year_end"', "{yaer}"),
    "date needs day": ('name = "x"\npattern = "{month}月中"\ndate = "day"', "day"),
    "half needs half": ('name = "x"\npattern = "半年"\ndate = "half_end"', "half"),
    "unit needs placeholder": ('name = "x"\npattern = "{count}内"\nafter = "unit"', "unit"),
    "after needs count": ('name = "x"\npattern = "数日内"\nafter = "day"', "count"),
    "bad date value": ('name = "x"\npattern = "月中"\ndate = "mid_month"', "mid_month"),
    "bad cycle": ('name = "x"\npattern = "每两周"\nrecur = "fortnightly"', "fortnightly"),
    "none false": ('name = "x"\npattern = "及时"\nnone = false', "none = true"),
    "month out of range": (
        'name = "x"\npattern = "年中"\ndate = "month_end"\nmonth = 13', "1 到 12"),
    "empty match": ('name = "x"\npattern = "(?:年底)?"\ndate = "year_end"', "空文本"),
    "catastrophic": ('name = "x"\npattern = "(a|aa)+$"\ndate = "year_end"', "灾难性回溯"),
    "catastrophic cjk": ('name = "x"\npattern = "(年|年年)+底$"\ndate = "year_end"', "灾难性回溯"),
    "example not matched": (
        'name = "x"\npattern = "年底"\ndate = "year_end"\nexamples = ["年末"]', "年末"),
    "examples not strings": (
        'name = "x"\npattern = "年底"\ndate = "year_end"\nexamples = "年底"', "examples"),
}


@pytest.mark.parametrize(("body", "needle"), MISTAKES.values(), ids=MISTAKES.keys())
def test_mistake_names_file_rule_and_problem(tmp_path: Path, body: str, needle: str) -> None:
    path = write(tmp_path, "# 我的规则\n[[rule]]\n" + body + "\n")
    with pytest.raises(RuleError) as caught:
        load_rules([path])
    message = str(caught.value)
    assert str(path) in message
    assert "[x]" in message
    assert needle in message
    assert caught.value.line == 3  # the rule's name line
    assert "\n" not in message


def test_slow_on_long_text_is_found_by_probe_rules_not_at_load(tmp_path: Path) -> None:
    # Polynomial, not exponential: fine on short text, a hang on a whole document.
    body = '[[rule]]\nname = "慢"\npattern = "(?:年+)+$|(?:年*)*底"\ndate = "year_end"\n'
    rules = load_rules([write(tmp_path, body)])
    (error,) = probe_rules(rules)
    assert error.place == "慢" and "灾难性回溯" in str(error)


def test_shipped_rules_pass_every_probe() -> None:
    assert probe_rules(load_rules(), trusted=True) == []
    assert all(r.trusted for r in load_rules())


def test_missing_name_is_reported_by_position(tmp_path: Path) -> None:
    body = '[[rule]]\nname = "a"\npattern = "年底"\ndate = "year_end"\n[[rule]]\npattern = "x"\n'
    with pytest.raises(RuleError, match=r"\[第2条规则\].*name"):
        load_file(write(tmp_path, body))


def test_duplicate_name_in_one_file(tmp_path: Path) -> None:
    rule = '[[rule]]\nname = "a"\npattern = "年底"\ndate = "year_end"\n'
    with pytest.raises(RuleError, match=r"\[a\].*重复"):
        load_file(write(tmp_path, rule + rule))


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[rule]]\nname = "a"\npattern = "年底\ndate = "year_end"\n')
    with pytest.raises(RuleError) as caught:
        load_rules([path])
    assert caught.value.line == 3
    assert f"{path}:3" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "needle"),
    [('[[rules]]\nname = "a"\n', "rules"), ('rule = "年底"\n', "表数组")],
    ids=["misspelt table", "not a table"],
)
def test_file_level_mistakes(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(RuleError, match=needle):
        load_file(write(tmp_path, body))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes('[[rule]]\nname = "年底"\n'.encode("gbk"))
    with pytest.raises(RuleError, match="UTF-8"):
        load_file(path)


def test_missing_extra_path(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="找不到") as caught:
        load_rules([tmp_path / "nope"])
    assert "nope" in str(caught.value)


# -- user rules take precedence --------------------------------------------------------------

USER_RULES = """
[[rule]]
name = "年底"            # replaces the shipped rule of that name
pattern = '年底'
date = "half_end"
half = 1

[[rule]]
name = "汛前"            # a phrase the defaults do not know (the flood season is local)
pattern = '汛(?:期)?(?:之前|前)'
date = "day"
month = 5
day = 31
examples = ["汛前"]

[[rule]]
name = "N日内按工作日"    # same span as the shipped 期限内, but a user rule wins
pattern = '{count}日内'
after = "workday"
"""


def test_user_rules_override_and_add(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    write(tmp_path / "rules", USER_RULES, "plan.toml")
    rules = load_rules([tmp_path / "rules"])
    assert rules.get("年底") is not None and rules.get("年底").date == "half_end"
    assert sum(r.name == "年底" for r in rules) == 1
    assert rules.rules[0].tier == 0 and rules.rules[-1].tier == 1
    found = parse("年底前", CTX, rules)
    assert [d.dates for d in found] == [(date(2021, 6, 30),)]
    assert found[0].source.endswith("plan.toml")
    assert [d.dates for d in parse("汛前完成", CTX, rules)] == [(date(2021, 5, 31),)]
    (event,) = parse("十日内", CTX, rules)
    assert (event.rule, event.after and event.after.unit) == ("N日内按工作日", "workday")
    # precedence comes before length: the user's shorter match beats the default 12月10日内
    assert [d.rule for d in parse("12月10日内", CTX, rules)] == ["N日内按工作日"]
    assert [d.rule for d in parse("12月10日内", CTX)] == ["年月日"]
    # the defaults themselves are untouched
    assert parse("年底前", CTX)[0].dates == (date(2021, 12, 31),)
    assert parse("汛前", CTX) == []


def test_earlier_extra_wins_over_later(tmp_path: Path) -> None:
    first = write(tmp_path, '[[rule]]\nname = "年中"\npattern = "年中"\ndate = "half_end"\n'
                            'half = 1\n', "a.toml")
    second = write(tmp_path, '[[rule]]\nname = "年中"\npattern = "年中"\ndate = "year_end"\n',
                   "b.toml")
    assert load_rules([first, second]).get("年中").date == "half_end"
    assert load_rules([second, first]).get("年中").date == "year_end"


# -- matching --------------------------------------------------------------------------------


def test_find_prefers_longer_and_returns_text_order() -> None:
    matches = load_rules().find(normalize("2022年1月5日前及12月10日内，10日内"))
    assert [(m.rule.name, m.text) for m in matches] == [
        ("年月日", "2022年1月5日前"), ("年月日", "12月10日内"), ("期限内", "10日内")]
    assert matches[0].groups["year"] == "2022"


def test_slow_rule_times_out_instead_of_hanging() -> None:
    # Built directly, skipping the load-time probe that would have rejected it.
    slow = Rule(name="slow", pattern="(a|aa)+$", date="year_end")
    rules = RuleSet((slow, *load_rules().rules))
    start = time.perf_counter()
    found = rules.find("a" * 60 + "!2021年底")
    assert time.perf_counter() - start < 5
    assert [m.rule.name for m in found] == ["年底"]


def test_shipped_file_passes_every_load_check() -> None:
    # At run time the shipped rules load without compiling; here they get every check.
    from reminder.resources import data_dir

    rules = load_file(data_dir("rules") / "deadlines.toml")
    assert [r.name for r in rules] == [r.name for r in load_rules()]
