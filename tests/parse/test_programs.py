"""Compiled programs kept for the next run (reminder/parse/programs.py) and the rules engine
reading through what an earlier run prepared."""

from __future__ import annotations

import marshal
from pathlib import Path

import regex

from reminder.parse import rules
from reminder.parse.deadlines import Context, read
from reminder.parse.programs import Prepared, compile_recording, from_program

SAMPLES = ["2021年底前", "次年1月31日前", "每季度末", "5个工作日内", "2024年4月—6月",
           "9月上旬至10月中旬", "长期坚持", "每年不少于4次", "十二月底", "春节前"]


def test_every_shipped_pattern_rebuilt_from_its_stored_program_matches_alike() -> None:
    for rule in rules._defaults():
        final = rule.compiled.pattern
        compiled, program = compile_recording(final)
        assert program is not None, rule.name
        # What the cache stores, as it comes back from the file.
        rebuilt = from_program(final, marshal.loads(marshal.dumps(program)))
        assert rebuilt is not None, rule.name
        for text in [*map(rules.normalize, rule.examples), *SAMPLES]:
            expect = [(m.span(), m.groupdict()) for m in compiled.finditer(text)]
            assert [(m.span(), m.groupdict()) for m in rebuilt.finditer(text)] == expect
            assert [(m.span(), m.groupdict()) for m in rebuilt.finditer(text, timeout=1)] == expect


def test_a_program_for_another_text_or_engine_is_refused() -> None:
    _, program = compile_recording("(?P<n>\\d+)年")
    assert program is not None
    assert from_program("(?P<n>\\d+)月", program) is None
    assert from_program("(?P<n>\\d+)年", program[:-1]) is None
    assert from_program("(?P<n>\\d+)年", (program[0], "x", *program[2:])) is None


def rule_file(path: Path, pattern: str) -> Path:
    path.write_text(f"[[rule]]\nname = '本局'\npattern = '{pattern}'\ndate = 'year_end'\n",
                    encoding="utf-8")
    return path


def test_rule_files_are_found_by_content(tmp_path: Path) -> None:
    prepared = Prepared()
    rules.use_prepared(prepared)
    try:
        path = rule_file(tmp_path / "a.toml", "甲时点")
        first = rules.load_file(path)
        assert prepared.changed and len(prepared.files) == 1
        # A hit is served from the prepared data, not the file: planted, it shows.
        [entry] = prepared.files.values()
        entry[0]["pattern"] = "丙时点"
        assert rules.load_file(path)[0].pattern == "丙时点"
        entry[0]["pattern"] = "甲时点"
        assert rules.load_file(path) == first
        assert rules.load_file(path, tier=2)[0].tier == 2
        # The same file with other content is another entry.
        rule_file(path, "乙时点")
        assert rules.load_file(path)[0].pattern == "乙时点"
        assert len(prepared.files) == 2
    finally:
        rules.use_prepared(None)


def test_reading_through_prepared_data_gives_the_same_deadlines() -> None:
    plain = [read(t, Context(year=2026)) for t in SAMPLES]
    prepared = Prepared()
    rules.use_prepared(prepared)
    try:
        rules._compile.cache_clear()
        rules._triggers.cache_clear()
        ruleset = rules.RuleSet(rules._defaults())
        assert [read(t, Context(year=2026), ruleset) for t in SAMPLES] == plain
        assert prepared.programs and prepared.triggers
        # A second process: only what was stored, nothing this one compiled.
        rules._compile.cache_clear()
        rules._triggers.cache_clear()
        again = Prepared(programs=dict(prepared.programs), triggers=dict(prepared.triggers))
        rules.use_prepared(again)
        ruleset = rules.RuleSet(rules._defaults())
        assert [read(t, Context(year=2026), ruleset) for t in SAMPLES] == plain
        assert not again.changed
    finally:
        rules.use_prepared(None)
        rules._compile.cache_clear()
        rules._triggers.cache_clear()


def test_the_recorder_leaves_the_engine_in_place() -> None:
    engine = regex._main._regex  # type: ignore[attr-defined]
    compile_recording("年底")
    assert regex._main._regex is engine  # type: ignore[attr-defined]
