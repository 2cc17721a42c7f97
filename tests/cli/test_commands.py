"""The core commands, through the real entry point (errors) and click's runner (output)."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reminder.cli.main import cli
from reminder.plan.wording import STAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "demo-2026"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "demo-2026-plan.csv"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reminder", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_explain_json_shape_and_shift() -> None:
    data = json.loads(invoke("explain", "次年1月底前", "--year", "2021", "--json"))
    assert data["phrase"] == "次年1月底前"
    (deadline,) = data["deadlines"]
    assert deadline["kind"] == "once"
    assert deadline["dates"] == ["2022-01-31"]
    assert deadline["due"] == ["2022-01-30"]
    assert deadline["cycle"] is None and deadline["after"] is None
    assert deadline["source"] == "rules/deadlines.toml" and deadline["rule"]


@pytest.mark.parametrize(
    ("phrase", "year", "key", "shift", "due"),
    [
        # 2021-01-31 is a Sunday: a calendar deadline moves back (shift = before) ...
        pytest.param("1月31日前", "2021", "shift", "before", ["2021-01-29"], id="calendar"),
        # ... a limit after a quarter's end moves past the National Day holiday (民法典 203).
        pytest.param("每个季度结束后5日内报送", "2026", "limit_shift", "after",
                     ["2026-04-07", "2026-07-06", "2026-10-08", "2027-01-05"], id="limit"),
    ],
)
def test_explain_json_says_which_holiday_policy_moved_the_date(
        phrase: str, year: str, key: str, shift: str, due: list[str]) -> None:
    (deadline,) = json.loads(invoke("explain", phrase, "--year", year, "--json"))["deadlines"]
    assert deadline["due"] == due
    assert deadline["holiday"]["policy"] == key and deadline["holiday"]["shift"] == shift
    # the same line the text output prints under 节假日
    text = invoke("explain", phrase, "--year", year)
    assert f"节假日：{deadline['holiday']['note']}" in text


def test_explain_names_the_holiday_week_that_has_no_weekly_deadline() -> None:
    (deadline,) = json.loads(invoke("explain", "每周五前", "--year", "2026", "--json"))["deadlines"]
    assert deadline["skipped"] == ["2026-02-20"]  # 春节: 02-16 to 02-22 has no workday
    assert "2026-02-20" not in deadline["due"] and "2026-02-14" not in deadline["due"]
    assert "不设时限：2026-02-20 所在的一周整周放假" in invoke("explain", "每周五前", "--year", "2026")
    (monthly,) = json.loads(invoke("explain", "每月10日前", "--year", "2026", "--json"))["deadlines"]
    assert monthly["skipped"] == []


def test_explain_json_has_no_holiday_policy_for_a_dateless_phrase() -> None:
    (deadline,) = json.loads(invoke("explain", "及时", "--year", "2021", "--json"))["deadlines"]
    assert deadline["holiday"] is None


@pytest.mark.parametrize(
    ("phrase", "kind", "extra"),
    [
        pytest.param("5个工作日内", "event", {"after": {"n": 5, "unit": "workday"}, "dates": []}, id="event"),
        pytest.param("每季度", "recurring", {"cycle": "quarterly", "due": ["2021-03-31", "2021-06-30", "2021-09-30", "2021-12-31"]}, id="quarterly"),
        pytest.param("长期", "recurring", {"cycle": "ongoing"}, id="ongoing"),
        pytest.param("及时", "none", {"dates": [], "due": []}, id="none"),
    ],
)
def test_explain_kinds(phrase: str, kind: str, extra: dict) -> None:
    (deadline,) = json.loads(invoke("explain", phrase, "--year", "2021", "--json"))["deadlines"]
    assert deadline["kind"] == kind
    for key, value in extra.items():
        assert deadline[key] == value


@pytest.mark.parametrize("command", ["plan", "tasks", "check", "explain", "import", "run", "done", "contacts", "doctor"])
def test_every_command_takes_short_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "-h"])
    assert result.exit_code == 0 and "用法：" in result.output and "选项" in result.output
    assert "Usage" not in result.output and "Show this message" not in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(("plan", "--nope"), "没有选项 '--nope'", id="no-such-option"),
        pytest.param(("nope",), "没有命令 'nope'", id="no-such-command"),
        pytest.param(("plan",), "缺少参数", id="missing-argument"),
        pytest.param(("plan", "x", "--stage", "later"), "不在可选值", id="bad-choice"),
    ],
)
def test_click_errors_are_chinese_and_one_line(args: tuple, fragment: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Error" not in result.stderr and "Usage" not in result.stderr


def test_explain_unknown_phrase_exits_1() -> None:
    result = run("explain", "看情况再说")
    assert result.returncode == 1
    assert "没有规则能识别" in result.stdout


@pytest.mark.parametrize(
    ("phrase", "understood", "leftover"),
    [
        pytest.param("次年1月底前", True, [], id="whole"),
        pytest.param("6月底前完成初稿，9月定稿", False, ["9月定稿"], id="partly"),
        pytest.param("看情况再说", False, [], id="nothing"),
    ],
)
def test_explain_json_says_what_it_did_not_understand(phrase: str, understood: bool,
                                                      leftover: list[str]) -> None:
    result = CliRunner().invoke(cli, ["explain", phrase, "--year", "2021", "--json"])
    data = json.loads(result.stdout)
    assert (data["understood"], data["leftover"]) == (understood, leftover)
    assert result.exit_code == (0 if understood else 1)


def test_explain_text_names_the_leftover() -> None:
    result = run("explain", "6月底前完成初稿，9月定稿", "--year", "2021")
    assert result.returncode == 1
    assert "2021-06-30" in result.stdout and "未能识别：“9月定稿”" in result.stdout


def test_explain_issue_date_decides_the_year() -> None:
    data = json.loads(invoke("explain", "1月31日前", "--issued", "2022-04-15", "--json"))
    assert data["deadlines"][0]["dates"] == ["2023-01-31"]


def test_tasks_json() -> None:
    tasks = json.loads(invoke("tasks", str(EXAMPLE), "--json"))
    assert len(tasks) == 16
    first = tasks[0]
    assert set(first) == {"id", "section", "title", "lead", "support", "deadline_text", "deadlines"}
    assert first["section"] == ["一、围绕数据要素发展做好公开", "（一）规划信息公开"]
    assert first["lead"] == ["办公室"] and first["support"] == ["数据资源科"]
    by_id = {t["id"]: t for t in tasks}
    assert by_id["13"]["deadlines"][0]["dates"] == ["2026-09-30"]  # from the requirement text
    assert [d["dates"] for d in by_id["12"]["deadlines"]] == [["2026-10-10"], ["2027-01-05"]]


def test_plan_matches_golden_output() -> None:
    """The example's whole dry run. After an intended change only, regenerate with
    REMINDER_UPDATE_GOLDEN=1 and review the diff row by row as tests/golden/README.md says."""
    out = invoke("plan", str(EXAMPLE), "--format", "csv")
    if os.environ.get("REMINDER_UPDATE_GOLDEN"):
        GOLDEN.write_text(out, encoding="utf-8")
    assert out == GOLDEN.read_text(encoding="utf-8")


def test_plan_table_and_year_warning() -> None:
    result = run("plan", str(EXAMPLE), "--unit", "法规科", "--stage", "due")
    assert result.returncode == 0, result.stderr
    assert "发送日期" in result.stdout and "法规科" in result.stdout
    assert "2027 年的节假日安排尚无数据" in result.stderr


def test_plan_now_lists_what_is_still_to_send() -> None:
    rows = list(csv.DictReader(io.StringIO(invoke(
        "plan", str(EXAMPLE), "--format", "csv", "--now", "2026-10-09T09:30"))))
    assert rows and min(r["发送时间"] for r in rows) >= "2026-10-10T09:00+08:00"


def test_plan_csv_is_chinese_for_excel_while_json_keeps_its_keys() -> None:
    rows = list(csv.DictReader(io.StringIO(invoke("plan", str(EXAMPLE), "--format", "csv"))))
    assert list(rows[0]) == ["发送时间", "类型", "计划", "序号", "工作任务", "完成时限", "收件单位",
                             "收件地址", "渠道"]
    # Every stage shows in the example; the coordinator's 签收 copy names the unit it is about.
    kinds = {r["类型"] for r in rows}
    assert {k.split("（")[0] for k in kinds} == set(STAGE_NAMES.values())
    told = {r["类型"] for r in rows if r["类型"].startswith("催签收（")}
    assert told and all(k.endswith("未签收）") for k in told)
    assert {r["收件单位"] for r in rows if r["类型"] in told} == {"局政务公开办"}
    assert {r["渠道"] for r in rows} <= {"邮件", "企业微信", "无"}


def test_plan_json_fields() -> None:
    (first, *_) = json.loads(invoke("plan", str(EXAMPLE), "--format", "json"))
    assert set(first) >= {"send_at", "stage", "plan", "task", "title", "deadline", "unit",
                          "recipients", "channel", "key"}


def test_check_example_has_warnings_only() -> None:
    result = run("check", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "警告" in result.stdout and "错误" not in result.stdout


def _plan_with(tmp_path: Path, deadline: str, toml: str = "",
               row: str = "7,,编制目录,,办公室,,,") -> Path:
    """A one-task plan: ``row`` (序号 to 责任单位) and its 完成时限 ``deadline``."""
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "plan.toml").write_text('year = 2026\ncoordinator = "办公室"\n'
                                      '[units."办公室"]\nemail = ["a@example.org"]\n' + toml,
                                      encoding="utf-8")
    (folder / "tasks.csv").write_text(
        "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限\n"
        f"{row}{deadline}\n", encoding="utf-8")
    return folder


def test_check_names_a_phrase_nobody_understands(tmp_path: Path) -> None:
    result = run("check", str(_plan_with(tmp_path, "等上级通知")))
    assert result.returncode == 1
    assert "任务 7" in result.stdout and "等上级通知" in result.stdout


def test_check_refuses_a_cell_only_partly_understood(tmp_path: Path) -> None:
    result = run("check", str(_plan_with(tmp_path, "6月底前完成初稿，9月定稿")))
    assert result.returncode == 1
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("错误")]
    assert "任务 7" in line and "6月底前完成初稿，9月定稿" in line
    assert "只识别了“6月底前”" in line and "未识别“9月定稿”" in line
    assert '[tasks."7"] 写 deadline = "2026年' in line  # the plan's year, not today's


def test_check_accepts_the_override_it_suggests(tmp_path: Path) -> None:
    folder = _plan_with(tmp_path, "6月底前完成初稿，9月定稿",
                        '[tasks."7"]\ndeadline = "2026年9月30日前"\n')
    result = run("check", str(folder))
    assert result.returncode == 0, result.stdout


def test_leftover_in_a_requirement_is_only_a_warning(tmp_path: Path) -> None:
    folder = _plan_with(tmp_path, "2026年底", row="7,,编制目录,6月底前完成初稿并于9月定稿,办公室,,,")
    result = run("check", str(folder))
    assert result.returncode == 0, result.stdout
    assert any(x.startswith("警告") and "9月定稿" in x for x in result.stdout.splitlines())


def test_check_override_of_unknown_task_is_an_error(tmp_path: Path) -> None:
    result = run("check", str(_plan_with(tmp_path, "2026年底", '[tasks."99"]\nskip = true\n')))
    assert result.returncode == 1
    assert "tasks.99" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(("plan", "{bad}"), "TOML", id="broken-toml"),
        pytest.param(("plan", "{bad}", "--now", "someday"), "--now", id="bad-now"),
        pytest.param(("tasks", "{missing}"), "不存在", id="missing-folder"),
    ],
)
def test_bad_input_is_one_line_without_traceback(tmp_path: Path, args: tuple, fragment: str) -> None:
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "plan.toml").write_text("year = 2026\ntitle = \"unterminated\n", encoding="utf-8")
    (bad / "tasks.csv").write_text("序号,工作任务\n", encoding="utf-8")
    result = run(*(a.format(bad=bad, missing=tmp_path / "nope") for a in args))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def _two_plans(tmp_path: Path) -> list[str]:
    folders = []
    for name, deadline in (("b-plan", "2026年6月30日"), ("a-plan", "2026年9月30日")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "plan.toml").write_text('year = 2026\nissued = 2026-03-01\ncoordinator = "办公室"\n'
                                          '[units."办公室"]\nemail = ["o@example.org"]\n', encoding="utf-8")
        (folder / "tasks.csv").write_text("序号,工作任务,牵头单位,完成时限\n"
                                          f"1,任务,办公室,{deadline}\n", encoding="utf-8")
        folders.append(str(folder))
    return folders


def test_machine_formats_stream_plan_by_plan_each_in_time_order(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(invoke("plan", *_two_plans(tmp_path), "--format", "csv"))))
    plans = [r["计划"] for r in rows]
    assert plans == sorted(plans, key=["b-plan", "a-plan"].index)  # one block per plan
    for name in ("a-plan", "b-plan"):
        times = [r["发送时间"] for r in rows if r["计划"] == name]
        assert times == sorted(times) and len(times) > 3


def test_plan_jsonl_is_the_json_array_line_by_line(tmp_path: Path) -> None:
    folders = _two_plans(tmp_path)
    lines = invoke("plan", *folders, "--format", "jsonl", "--unit", "办公室", "--stage", "escalate").splitlines()
    array = json.loads(invoke("plan", *folders, "--format", "json", "--unit", "办公室", "--stage", "escalate"))
    assert [json.loads(line) for line in lines] == array
    assert array and {r["stage"] for r in array} == {"escalate"}


def test_a_2027_plan_sends_nothing_on_new_year_or_national_day(tmp_path: Path) -> None:
    folder = tmp_path / "p2027"
    folder.mkdir()
    (folder / "plan.toml").write_text('year = 2027\nissued = 2026-12-01\ncoordinator = "办公室"\n'
                                      '[units."办公室"]\nemail = ["a@example.org"]\n',
                                      encoding="utf-8")
    rows = [f"{i},,任务{i},,办公室,,,{text}" for i, text in enumerate(
        ["2027年1月4日前", "2027年10月8日前", "2027年1月1日", "2027年10月1日前", "每月",
         "2027年10月11日前"], start=1)]
    (folder / "tasks.csv").write_text(
        "序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限\n" + "\n".join(rows) + "\n",
        encoding="utf-8")
    result = run("plan", str(folder), "--detail", "--format", "json")
    assert result.returncode == 0, result.stderr
    notices = json.loads(result.stdout)
    days = {n["send_at"][:10] for n in notices} | {n["deadline"] for n in notices}
    assert len(notices) > 20
    assert not days & {"2027-01-01", "2027-10-01", "2027-10-04", "2027-02-08"}
    assert "临时" in result.stderr  # and the user is told the calendar is provisional


def test_explain_names_a_makeup_workday() -> None:
    result = run("explain", "10月11日前", "--year", "2026")
    assert "2026-10-10 周六（调休上班）" in result.stdout


def test_explain_batch_reads_stdin_one_json_object_a_line() -> None:
    result = CliRunner().invoke(cli, ["explain", "--year", "2024", "--json"],
                                input="每月10日前\n\n8月3日至12日\n看情况\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["phrase"] for x in lines] == ["每月10日前", "8月3日至12日", "看情况"]
    assert [x["understood"] for x in lines] == [True, True, False]
    assert lines[1]["deadlines"][0]["start"] == "2024-08-03"
    assert len(lines[0]["deadlines"][0]["dates"]) == 12


def test_explain_names_the_holiday_policy_of_each_kind_of_deadline() -> None:
    """Issue 23 §3: a limit counted from a moment follows limit_shift (after, 民法典 第二百零三条),
    a calendar deadline follows shift (before); explain says which."""
    limit = invoke("explain", "每个季度结束后5日内报送", "--year", "2026")
    assert "limit_shift = after" in limit and "民法典第二百零三条" in limit
    assert "2026-10-08" in limit and "2026-09-30" not in limit
    calendar = invoke("explain", "10月3日前", "--year", "2026")
    assert "shift = before" in calendar and "2026-09-30" in calendar


def test_check_warns_when_a_task_has_more_than_one_series(tmp_path: Path) -> None:
    """Issue 23 §2: two rhythms in one task are named with the column each came from."""
    folder = _plan_with(tmp_path, "每月10日前", row="7,,编制目录,按季度报送进展,办公室,,,")
    result = run("check", str(folder))
    (line,) = [x for x in result.stdout.splitlines() if "周期提醒系列" in x]
    assert "任务 7" in line and "每月（完成时限“每月10日前”）" in line
    assert "每季度（具体工作“按季度”）" in line


def test_one_rhythm_in_cell_and_title_is_one_series(tmp_path: Path) -> None:
    folder = _plan_with(tmp_path, "每月10日前", row="7,,每月报送自查结果,,办公室,,,")
    result = run("check", str(folder))
    assert "周期提醒系列" not in result.stdout
    rows = json.loads(invoke("tasks", str(folder), "--json"))
    assert [d["dates"][:2] for d in rows[0]["deadlines"]] == [["2026-01-10", "2026-02-10"]]


def test_check_reports_an_empty_title_and_a_task_without_a_lead(tmp_path: Path) -> None:
    """Issue 23 §4: a notice imported with title = "" made every message say 所属方案：notice,
    and a task with only 配合 filled chased the supporting unit alone; check said nothing."""
    folder = _plan_with(tmp_path, "12月31日前", row="7,,编制目录,,,办公室,法规科,")
    result = run("check", str(folder))
    lines = result.stdout.splitlines()
    assert any("title" in x and "方案没有标题" in x for x in lines), result.stdout
    assert any("任务 7" in x and "没有牵头单位" in x and "法规科" in x for x in lines)
    (folder / "plan.toml").write_text('title = "测试方案"\n' + (folder / "plan.toml").read_text(
        encoding="utf-8"), encoding="utf-8")
    assert "方案没有标题" not in run("check", str(folder)).stdout
