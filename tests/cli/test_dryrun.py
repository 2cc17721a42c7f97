"""The dry run as people read it: messages, the width of every line, the summary."""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from reminder.cli.dryrun import Summary, messages, show
from reminder.cli.main import cli
from reminder.models import Notice
from reminder.plan.wording import STAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "demo-2026"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "demo-2026-plan.csv"
ZONE = ZoneInfo("Asia/Shanghai")


def _notice(day: int, task: str, recipient: str, stage: str = "remind", channel: str = "email",
            hour: int = 9) -> Notice:
    return Notice(send_at=datetime(2026, 3, day, hour, tzinfo=ZONE), stage=stage, step="1wd",
                  plan="p", plan_title="P", task=task, title=f"任务{task}", due=date(2026, 3, 31),
                  recipient=recipient, channel=channel, addresses=(f"{recipient}@example.org",))


def _once(items: list[Notice]) -> Iterator[Notice]:
    """A stream that can be read only once, as the planner's output may be."""
    yield from items


def test_messages_group_one_send_time_by_recipient_and_channel() -> None:
    stream = _once([
        _notice(24, "1", "a"), _notice(24, "2", "b"), _notice(24, "3", "a", stage="due"),
        _notice(24, "3", "a", channel="wecom"), _notice(25, "1", "a"), _notice(25, "1", "a", hour=14),
    ])
    got = [(m.send_at.day, m.send_at.hour, m.recipient, m.channel, m.tasks, dict(m.stages))
           for m in messages(stream)]
    assert got == [
        (24, 9, "a", "email", 2, {"remind": 1, "due": 1}),
        (24, 9, "b", "email", 1, {"remind": 1}),
        (24, 9, "a", "wecom", 1, {"remind": 1}),
        (25, 9, "a", "email", 1, {"remind": 1}),
        (25, 14, "a", "email", 1, {"remind": 1}),
    ]


def test_summary_counts_per_stage_unit_and_span() -> None:
    summary = Summary()
    for message in messages([_notice(24, "1", "a"), _notice(24, "2", "a", stage="escalate"),
                             _notice(26, "1", "b")]):
        summary.add(message)
    assert (summary.messages, summary.notices) == (2, 3)
    assert dict(summary.stages) == {"remind": 2, "escalate": 1}
    assert summary.units["a"][:2] == [1, 2] and summary.units["b"][:2] == [1, 1]
    assert (summary.first.day, summary.last.day) == (24, 26)


def _golden_notices() -> int:
    with GOLDEN.open(encoding="utf-8") as f:
        return sum(1 for _ in f) - 1  # the header


def _golden_messages() -> int:
    """Messages counted straight from the golden CSV (one row per notice)."""
    with GOLDEN.open(encoding="utf-8") as f:
        return len({(r["发送时间"], r["收件单位"], r["渠道"], r["收件地址"]) for r in csv.DictReader(f)})


def _plan(*args: str, columns: str | None = "80") -> str:
    env = {"COLUMNS": columns} if columns else {"COLUMNS": ""}
    result = CliRunner(env=env).invoke(cli, ["plan", str(EXAMPLE), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _by_cell(line: str) -> list[str]:
    """One entry per terminal cell: a wide character fills two."""
    return [part for ch in line for part in ([ch] if cell_len(ch) == 1 else [ch, ch])]


def _table_rows(text: str) -> list[str]:
    """Lines of the first table: after its rule, up to the first blank line."""
    lines = text.splitlines()
    return lines[2:lines.index("")]


@pytest.mark.parametrize("args", [(), ("--detail",)], ids=["messages", "detail"])
@pytest.mark.parametrize("columns", ["80", "100", "160"])
def test_no_line_is_wider_than_the_terminal(args: tuple, columns: str) -> None:
    text = _plan(*args, columns=columns)
    assert max(cell_len(line) for line in text.splitlines()) <= int(columns)


@pytest.mark.parametrize("args", [(), ("--detail",)], ids=["messages", "detail"])
def test_at_80_columns_no_column_is_empty_and_addresses_are_whole(args: tuple) -> None:
    text = _plan(*args)
    header, rule, *_ = text.splitlines()
    rows = _table_rows(text)
    starts = [i for i, ch in enumerate(rule) if ch == "─" and (i == 0 or rule[i - 1] == " ")]
    grid = [_by_cell(row) for row in rows]
    for start, end in zip(starts, [*starts[1:], 10**6], strict=True):
        assert any("".join(g[start:end]).strip() for g in grid), header  # never an empty column
    if not args:
        for address in ("keshi-all@example.org", "bangongshi@example.org", "fenguan@example.org"):
            assert address in text


def test_default_view_is_one_row_per_message_with_a_summary() -> None:
    text = _plan(columns=None)
    rows = _table_rows(text)
    expected = _golden_messages()
    notices = _golden_notices()
    assert len(rows) == expected < notices
    with GOLDEN.open(encoding="utf-8") as f:
        stages = [row["类型"].split("（")[0] for row in csv.DictReader(f)]  # 催签收（法规科未签收）
    breakdown = "，".join(f"{n} {stages.count(n)}" for n in STAGE_NAMES.values() if n in stages)
    assert f"共 {expected} 条消息（{notices} 条通知：{breakdown}）" in text
    assert "首次发送 2026-03-24 09:00" in text and "最后一次 2027-02-26 09:00" in text
    assert "分管局领导" in text.split("首次发送    最后发送")[1]


def test_detail_is_one_row_per_notice() -> None:
    assert len(_table_rows(_plan("--detail", columns=None))) == _golden_notices()


def test_piped_output_is_plain_unwrapped_lines() -> None:
    text = "\n".join(_table_rows(_plan("--detail", columns=None)))
    with GOLDEN.open(encoding="utf-8") as f:
        titles = {r["工作任务"] for r in csv.DictReader(f)}
    assert all(title in text for title in titles)
    assert "持续更新主动公开目录，做到应公开尽公开" in text


def test_filters_still_apply_to_the_table() -> None:
    rows = _table_rows(_plan("--unit", "法规科", "--stage", "due", "--from", "2026-12-01"))
    assert rows and all("法规科" in row and "到期" in row for row in rows)
    assert all(row[:10] >= "2026-12-01" for row in rows)


def test_show_reads_a_stream_once() -> None:
    out = io.StringIO()
    summary = show(_once([_notice(24, "1", "a"), _notice(25, "2", "b")]), detail=True, plans=1,
                   out=out, width=80)
    assert summary.notices == 2 and "任务1" in out.getvalue() and "任务2" in out.getvalue()


@pytest.mark.parametrize("detail", [False, True], ids=["messages", "detail"])
def test_a_send_day_on_a_make_up_workday_says_so(detail: bool) -> None:
    # 2026-10-10 is a Saturday worked in exchange for the National Day holiday.
    def on(day: int) -> Notice:
        return Notice(send_at=datetime(2026, 10, day, 9, tzinfo=ZONE), stage="remind",
                      step="1wd", plan="p", plan_title="P", task="1", title="任务1",
                      due=date(2026, 10, 12), recipient="a", channel="email",
                      addresses=("a@example.org",))

    out = io.StringIO()
    show([on(9), on(10)], detail=detail, plans=1, out=out, width=None)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("2026-10-10 周六（调休上班）") for line in lines)
    friday = next(line for line in lines if line.startswith("2026-10-09"))
    assert "调休" not in friday


def test_closing_summary_says_only_what_the_policy_does(tmp_path: Path) -> None:
    """Issue 17 §7: with escalate_to = [] and no coordinator nobody is chased, so the dry
    run must not promise escalations; with them it names who is chased."""
    import shutil

    folder = tmp_path / "demo"
    shutil.copytree(EXAMPLE, folder)
    shown = CliRunner().invoke(cli, ["plan", str(folder)])
    assert "逾期未办结的任务每 5 个工作日向分管局领导督办一次，直到完成。" in shown.output
    text = (folder / "plan.toml").read_text(encoding="utf-8")
    text = text.replace('coordinator = "局政务公开办"\n', "").replace(
        'escalate_to = ["分管局领导"]', "escalate_to = []").replace('to = "局政务公开办"\n', "")
    (folder / "plan.toml").write_text(text, encoding="utf-8")
    bare = CliRunner().invoke(cli, ["plan", str(folder)])
    assert bare.exit_code == 0, bare.output
    assert "督办一次" not in bare.output
