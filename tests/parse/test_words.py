"""Whole words only (issue 23 §1): a rule never fires inside a longer word.

The engine checks each rule's ``not_in`` words (:func:`reminder.parse.rules.inside_word`).
The lexicon test scans a large word list, jieba's dictionary (about 350,000 words), for
words in which a rule's match would start or end strictly inside the word, and requires the
rule not to fire there unless the grammar says it should: the corpus holds a phrase with
that word read through that rule, or the rule names the word among its own examples.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from reminder.parse.deadlines import Context, read
from reminder.parse.rules import Rule, RuleSet, inside_word, load_rules, normalize

jieba = pytest.importorskip("jieba")
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "phrases.tsv"
#: Longer entries of the dictionary are names and idioms (中俄总理定期会晤委员会), not words
#: a deadline cell is made of.
LONGEST = 6


def _dictionary() -> list[str]:
    path = Path(jieba.__file__).with_name("dict.txt")
    with path.open(encoding="utf-8") as f:
        words = {normalize(line.split(" ", 1)[0]) for line in f}
    return sorted(w for w in words if 2 <= len(w) <= LONGEST)


def _corpus() -> list[str]:
    with CORPUS.open(encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return [normalize(row["phrase"]) for row in rows]


def _wanted(rule: Rule, word: str, rules: RuleSet, phrases: list[str]) -> bool:
    """Whether the grammar says ``rule`` fires inside ``word``: one of its examples, or a
    corpus phrase, contains the word and the rule's match there overlaps it."""
    for phrase in [*map(normalize, rule.examples), *phrases]:
        at = phrase.find(word)
        while at >= 0:
            if any(m.rule.name == rule.name and m.start < at + len(word) and m.end > at
                   for m in rules.find(phrase)):
                return True
            at = phrase.find(word, at + 1)
    return False


def test_no_rule_fires_inside_a_word_of_the_lexicon() -> None:
    rules = load_rules()
    phrases = _corpus()
    words = _dictionary()
    assert len(words) > 200_000, "the word list is the segmenter's whole dictionary"
    inside = []
    for word in words:
        for match in rules.find(word):
            if (match.start > 0 or match.end < len(word)) and not _wanted(
                    match.rule, word, rules, phrases):
                inside.append(f"{match.rule.name}: {match.text} in {word}")
    assert not inside, inside


@pytest.mark.parametrize(("phrase", "wrong"), [
    # Each was once read wrong in silence; now through not_in, with no rule of its own.
    ("严格按照条例规定期限答复", "定期"),
    ("须在半年内整改到位", "年内"),
    ("确保信息发布的及时性", "及时"),
    ("纳入年终考评", "年终考评"),
])
def test_the_four_phrases_of_the_issue_read_through_whole_words(phrase: str, wrong: str) -> None:
    reading = read(phrase, Context(year=2026, issued=date(2026, 3, 1)))
    assert wrong not in {d.rule for d in reading.deadlines}
    assert all(d.kind != "once" and d.kind != "recurring" for d in reading.deadlines)


def test_half_a_year_is_a_six_month_limit_not_the_year_end() -> None:
    reading = read("须在半年内整改到位", Context(year=2026))
    assert [(d.kind, str(d.after)) for d in reading.deadlines] == [("event", "6m")]


@pytest.mark.parametrize(("text", "start", "end", "words", "inside"), [
    ("规定期限", 1, 3, ["规定"], True),        # 规定 crosses where 定期 starts
    ("半年内", 1, 3, ["半年"], True),
    ("今年内", 0, 3, ["今年"], False),         # the word lies wholly inside the match
    ("定期检查", 0, 2, ["规定"], False),        # no such word here
    ("纳入年终考评", 2, 6, ["纳入年终考评"], True),  # the match lies inside the longer word
    ("规定,定期", 3, 5, ["规定"], False),       # the word is elsewhere in the text
])
def test_inside_word(text: str, start: int, end: int, words: list[str], inside: bool) -> None:
    assert inside_word(text, start, end, words) is inside


def test_not_in_must_be_a_list_of_words(tmp_path: Path) -> None:
    from reminder.errors import RuleError
    from reminder.parse.rules import load_file

    path = tmp_path / "mine.toml"
    path.write_text("[[rule]]\nname = \"x\"\npattern = '定期'\nrecur = \"ongoing\"\n"
                    "not_in = \"规定\"\n", encoding="utf-8")
    with pytest.raises(RuleError, match="not_in"):
        load_file(path)


def test_a_user_rule_with_not_in_round_trips(tmp_path: Path) -> None:
    from reminder.parse.rules import load_file

    path = tmp_path / "mine.toml"
    path.write_text("[[rule]]\nname = \"x\"\npattern = '定期'\nrecur = \"ongoing\"\n"
                    "not_in = [\"规定\"]\nexamples = [\"定期\"]\n", encoding="utf-8")
    rule = load_file(path)[0]
    assert rule.not_in == ("规定",)
    again = tmp_path / "again.toml"
    again.write_text(rule.to_toml(), encoding="utf-8")
    assert load_file(again)[0] == rule
    assert load_rules([path]).find("按规定期限") == []


@pytest.mark.parametrize("phrase", ["纳入年终考评", "列入年度考评", "计入年终考评", "作为年度督查"])
def test_an_assessment_a_task_counts_towards_is_kept_out_by_not_in(phrase: str) -> None:
    # Kept out by the engine's word-boundary check, not by a lookbehind in the pattern: without
    # the not_in list the same rule reads the phrase as a yearly rhythm.
    rules = load_rules()
    rule = rules.get("年名词节奏")
    assert rule is not None
    assert "纳入" not in rule.pattern and {"纳入年终", "列入年度"} <= set(rule.not_in)
    assert not [m for m in rules.find(phrase) if m.rule.name == "年名词节奏"]
    bare = replace(rule, not_in=())
    assert [m.text for m in RuleSet((bare,)).find(phrase)] == [phrase[2:]]


def test_a_yearly_review_on_its_own_is_still_a_rhythm() -> None:
    reading = read("年终考评", Context(year=2026))
    assert [d.cycle for d in reading.deadlines] == ["yearly"]
