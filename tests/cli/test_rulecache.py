"""The rules cache (reminder/cli/rulecache.py): kept outside user data, keyed by content,
ignored when broken, and never the reason a command reads a rule file wrongly."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reminder.cli import rulecache
from reminder.parse.programs import Prepared

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "demo-2026"


def run(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "reminder", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def cache_files(cache: Path) -> list[Path]:
    return sorted((cache / "reminder").glob("rules-*.bin"))


def rule_file(path: Path, word: str) -> Path:
    path.write_text(f"[[rule]]\nname = '本局时限'\npattern = '{word}'\ndate = 'year_end'\n"
                    f"examples = ['{word}']\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("xdg", ["", "/srv/cache"], ids=["home", "xdg"])
def test_the_directory_is_platformdirs_user_cache_dir(monkeypatch: pytest.MonkeyPatch,
                                                      xdg: str) -> None:
    import platformdirs

    monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert rulecache.cache_dir() == Path(platformdirs.user_cache_dir("reminder", appauthor=False))


def test_a_changed_rule_file_is_read_anew(tmp_path: Path) -> None:
    """The second run finds the first run's rules for the file's old content in the cache;
    were the cache keyed by the file's name, it would still read 甲方案时点 as year end."""
    cache = tmp_path / "cache"
    rules = rule_file(tmp_path / "本局.toml", "甲方案时点")
    first = run(cache, "explain", "甲方案时点", "--year", "2026", "--rules", str(rules))
    assert first.returncode == 0, first.stderr
    assert "本局时限" in first.stdout and "2026-12-31" in first.stdout
    [stored] = cache_files(cache)
    old = hashlib.sha256(rules.read_bytes()).hexdigest()
    assert any(key.startswith(old) for key in rulecache.read(stored).files)

    rule_file(rules, "乙方案时点")
    stale = run(cache, "explain", "甲方案时点", "--year", "2026", "--rules", str(rules))
    assert stale.returncode == 1, stale.stdout
    assert "本局时限" not in stale.stdout
    fresh = run(cache, "explain", "乙方案时点", "--year", "2026", "--rules", str(rules))
    assert fresh.returncode == 0 and "本局时限" in fresh.stdout
    new = hashlib.sha256(rules.read_bytes()).hexdigest()
    assert {k.split(":")[0] for k in rulecache.read(stored).files} >= {old, new}


def test_changed_shipped_rules_name_another_cache_file(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", shipped)
    monkeypatch.setattr(rulecache, "data_dir", lambda name: shipped)
    before = rulecache.cache_key()
    assert rulecache.cache_key() == before
    with (shipped / "deadlines.toml").open("a", encoding="utf-8") as f:
        f.write("\n# 一处改动\n")
    assert rulecache.cache_key() != before


def test_the_cache_is_used_and_gives_the_same_plan(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = run(cache, "plan", str(EXAMPLE), "--format", "csv")
    [stored] = cache_files(cache)
    content = rulecache.read(stored)
    assert content.programs and content.triggers and content.files
    warm = run(cache, "plan", str(EXAMPLE), "--format", "csv")
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
    assert stored.stat().st_mtime_ns == cache_files(cache)[0].stat().st_mtime_ns


def test_plan_writes_nothing_in_the_plan_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(EXAMPLE, folder)
    before = sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))
    result = run(tmp_path / "cache", "plan", str(folder), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*")) == before
    assert cache_files(tmp_path / "cache")


def test_a_damaged_cache_is_ignored_silently_but_for_v(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = run(cache, "explain", "次年1月底前", "--year", "2026")
    [stored] = cache_files(cache)
    blob = bytearray(stored.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte: the checksum must catch it
    stored.write_bytes(bytes(blob))
    quiet = run(cache, "explain", "次年1月底前", "--year", "2026")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, good.stdout, good.stderr)
    rulecache.read(stored)  # rebuilt whole by that run
    stored.write_bytes(b"garbage")
    loud = run(cache, "explain", "次年1月底前", "--year", "2026", "-v")
    assert loud.stdout == good.stdout
    assert "规则缓存" in loud.stderr and "无法读取" in loud.stderr
    assert "Traceback" not in loud.stderr


def test_an_unwritable_cache_is_ignored_silently_but_for_v(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be", encoding="utf-8")
    quiet = run(blocked, "plan", str(EXAMPLE), "--format", "csv")
    assert quiet.returncode == 0 and "规则缓存" not in quiet.stderr
    assert quiet.stdout.count("\n") > 10
    loud = run(blocked, "plan", str(EXAMPLE), "--format", "csv", "-v")
    assert loud.stdout == quiet.stdout
    assert "规则缓存" in loud.stderr and "无法写入" in loud.stderr


def test_read_refuses_what_it_did_not_write(tmp_path: Path) -> None:
    path = tmp_path / "rules-x.bin"
    rulecache.write(path, Prepared(programs={"a": ("a", 0, [], {}, {}, 0, (), 0, 0)}))
    assert rulecache.read(path).programs == {"a": ("a", 0, [], {}, {}, 0, (), 0, 0)}
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError):
        rulecache.read(path)
    assert list(tmp_path.iterdir()) == [path]  # nothing left aside by the write
