"""The rule prefilter skips a rule only when its pattern cannot match: checked against
every phrase of the corpus and random texts built from the patterns' own characters."""

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminder.parse.rules import RuleSet, _defaults, _triggers, load_rules, normalize

CORPUS = Path(__file__).parent.parent / "corpus"


def passes(pattern: str, text: str) -> bool:
    needs = _triggers(pattern)
    chars = set(text)
    return needs is None or any(all(not chars.isdisjoint(n) for n in alt) for alt in needs)


def corpus_texts() -> list[str]:
    texts = [e for rule in _defaults() for e in rule.examples]
    for name in ("phrases.tsv", "gaps.tsv"):
        with (CORPUS / name).open(encoding="utf-8") as f:
            rows = csv.reader((line for line in f if not line.startswith("#")), delimiter="\t", quoting=csv.QUOTE_NONE)
            texts += [row[0] for row in rows if row and row[0] != "phrase"]
    return [normalize(t) for t in texts]


def test_no_shipped_rule_is_skipped_on_a_text_it_matches() -> None:
    texts = corpus_texts()
    assert len(texts) > 250
    skipped_wrongly = [(rule.name, text) for rule in _defaults() for text in texts
                       if rule.compiled.search(text) and not passes(rule.pattern, text)]
    assert skipped_wrongly == []


def test_the_prefilter_does_skip_rules() -> None:
    """The check above could pass with a prefilter that skips nothing."""
    rules = _defaults()
    assert all(_triggers(rule.pattern) is not None for rule in rules)
    assert sum(passes(rule.pattern, normalize("2021年底")) for rule in rules) <= 4


ALPHABET = sorted({c for rule in _defaults() for c in normalize(rule.pattern) if not c.isascii()}
                  | set("0123456789-./年月日"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=12))
def test_random_texts_never_lose_a_match(text: str) -> None:
    for rule in _defaults():
        if rule.compiled.search(text):
            assert passes(rule.pattern, text), (rule.name, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        pytest.param("[^年]底", "x底", True, id="negated-class-is-no-requirement"),
        pytest.param("[一-九]月", "五月", True, id="range-class-is-no-requirement"),
        pytest.param("[甲乙]月", "丙月", False, id="plain-class-is-a-requirement"),
        pytest.param("[甲乙]?月", "丙月", True, id="optional-class-is-none"),
        pytest.param("(?i)年", "x", True, id="flags-disable-the-filter"),
        pytest.param("(?:年底){e<=1}", "年低", True, id="fuzzy-disables-the-filter"),
        pytest.param(r"\d+\.\d+", "12 3", False, id="escaped-dot-is-required"),
        pytest.param("年{,2}底", "底", True, id="brace-zero-quantifier-is-optional"),
        pytest.param("甲乙|丙", "丙", True, id="any-alternative-suffices"),
        pytest.param("甲乙|丙", "甲", False, id="an-alternative-needs-all-its-literals"),
    ],
)
def test_user_patterns(pattern: str, text: str, expected: bool, tmp_path: Path) -> None:
    assert passes(pattern, text) is expected
    rule_file = tmp_path / "r.toml"
    rule_file.write_text(f"[[rule]]\nname = 'x'\npattern = '{pattern}'\nnone = true\n",
                         encoding="utf-8")
    ruleset: RuleSet = load_rules([rule_file])
    matched = any(m.rule.name == "x" for m in ruleset.find(text))
    assert not matched or expected  # a skipped rule is one that could not match
