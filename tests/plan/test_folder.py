from pathlib import Path

import pytest

from reminder.errors import PlanError, ReminderError
from reminder.plan.folder import COLUMNS, load_plan, read_tasks

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-2026"
HEADER = ",".join(zh for _, zh in COLUMNS)


def make_plan(tmp_path: Path, toml: str, rows: str = "1,,编制目录,,办公室,,,2026年底\n") -> Path:
    folder = tmp_path / "p2026"
    folder.mkdir(exist_ok=True)
    (folder / "plan.toml").write_text(toml, encoding="utf-8")
    (folder / "tasks.csv").write_text("\ufeff" + HEADER + "\n" + rows, encoding="utf-8")
    return folder


def test_example_plan_loads() -> None:
    plan = load_plan(EXAMPLE)
    assert plan.id == "demo-2026"
    assert plan.year == 2026 and plan.issued is not None
    assert len(plan.tasks) == 16
    first = plan.tasks[0]
    assert first.section == ("一、围绕数据要素发展做好公开", "（一）规划信息公开")
    assert first.lead == ("办公室",) and first.support == ("数据资源科",)
    assert plan.contact("局办公室") is plan.units["办公室"]  # alias
    assert plan.units["数据资源科"].wecom_mobiles == ("13800000001",)
    assert plan.overrides["10"].event is not None
    assert [d.name for d in plan.dates] == ["第三季度进展报送", "第四季度进展报送"]


def test_units_cell_is_split_when_lead_and_support_are_empty(tmp_path: Path) -> None:
    folder = make_plan(tmp_path, "year = 2026\n", "1,,编制目录,,,,法规科牵头，办公室配合,2026年底\n")
    task = load_plan(folder).tasks[0]
    assert task.lead == ("法规科",)
    assert task.support == ("办公室",)
    assert task.units_text == "法规科牵头，办公室配合"


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        pytest.param("year = 2026\n[units.\"办公室\"]\nwebhook_key = \"abc\"\n", "密钥", id="secret-refused"),
        pytest.param("year = 2026\ncolour = 1\n", "colour", id="unknown-key"),
        pytest.param("title = \"x\"\n", "year", id="missing-year"),
        pytest.param("year = 2026\nissued = \"2026-13-01\"\n", "issued", id="bad-issued"),
        pytest.param("year = 2026\nreporting_cycle = \"weekly\"\n", "reporting_cycle", id="bad-cycle"),
        pytest.param("year = 2026\n[tasks.\"1\"]\nskipp = true\n", "tasks.1", id="bad-override"),
        pytest.param("year = 2026\n[units.\"办公室\"]\nemail = 3\n", "units.办公室.email", id="bad-email"),
        pytest.param("year = 2026\n[units.\"办公室\"]\nemail = [\"a@example.org\\r\\nBcc: x@example.org\"]\n",
                     "units.办公室.email", id="email-with-crlf"),
        pytest.param("year = 2026\n[units.\"办公室\"]\nemail = [\"a@x, evil@x\"]\n",
                     "units.办公室.email", id="two-emails-in-one-entry"),
        pytest.param("year = 2026\n[units.\"办公室\"]\nwecom_users = [\"chenjing>\\n<@all\"]\n",
                     "units.办公室.wecom_users", id="userid-forging-a-mention"),
        pytest.param("year = 2026\n[units.\"办公室\"]\nwecom_mobiles = [\"1380000\\r\\n0000\"]\n",
                     "units.办公室.wecom_mobiles", id="mobile-with-crlf"),
        pytest.param("year = 2026\n[units.\"办公室\"]\nwecom_users = [\"@all\"]\n",
                     "units.办公室.wecom_users", id="userid-at-all"),
        pytest.param("year = 2026\n[[dates]]\nname = \"x\"\n", "dates[0]", id="date-without-deadline"),
        pytest.param("year = 2026\n[policy]\nshift = \"up\"\n", "policy.shift", id="bad-policy"),
    ],
)
def test_plan_mistakes_are_one_line_with_place(tmp_path: Path, toml: str, fragment: str) -> None:
    folder = make_plan(tmp_path, toml)
    with pytest.raises(ReminderError) as info:
        load_plan(folder)
    message = str(info.value)
    assert fragment in message
    assert "plan.toml" in message
    assert "\n" not in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    folder = make_plan(tmp_path, "year = 2026\ntitle = \"unterminated\n")
    with pytest.raises(PlanError) as info:
        load_plan(folder)
    assert ":2" in str(info.value)


def test_duplicate_task_ids_name_both_lines(tmp_path: Path) -> None:
    folder = make_plan(tmp_path, "year = 2026\n", "1,,甲,,办公室,,,\n1,,乙,,办公室,,,\n")
    with pytest.raises(PlanError) as info:
        read_tasks(folder / "tasks.csv")
    assert "tasks.csv:3" in str(info.value) and "第 2 行" in str(info.value)


def test_missing_plan_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        load_plan(tmp_path)
    assert "reminder import" in str(info.value)


def test_table_without_title_column(tmp_path: Path) -> None:
    folder = make_plan(tmp_path, "year = 2026\n")
    (folder / "tasks.csv").write_text("序号,完成时限\n1,2026年底\n", encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(folder)
    assert "工作任务" in str(info.value)


def test_the_deployments_timezone_wins_over_the_policys(tmp_path: Path) -> None:
    """One office, one timezone: a plan loaded for a deployment sends at 09:00 of the
    config's timezone even where its [policy] names another."""
    import shutil

    from reminder.plan.cache import PlanCache

    folder = tmp_path / "demo"
    shutil.copytree(EXAMPLE, folder)
    text = (folder / "plan.toml").read_text(encoding="utf-8")
    (folder / "plan.toml").write_text(text.replace("[policy]", '[policy]\ntimezone = "Europe/Berlin"', 1),
                                      encoding="utf-8")
    assert load_plan(folder).policy.timezone == "Europe/Berlin"
    cache = PlanCache(lambda: [folder], timezone="Asia/Urumqi")
    assert cache.get("demo").policy.timezone == "Asia/Urumqi"


@pytest.mark.parametrize(("toml", "place"), [
    ('year = 2026\n[tasks."1"]\nevent = 9999-12-31\n', "tasks.1.event"),
    ('year = 2026\n[tasks."1"]\nevent = "0001-01-01"\n', "tasks.1.event"),
    ("year = 2026\nissued = 2099-01-01\n", "issued"),
])
def test_a_date_outside_the_plan_window_is_refused(tmp_path: Path, toml: str, place: str
                                                   ) -> None:
    """Issue 20 item 1: event = 9999-12-31 loaded, and planning it overflowed."""
    with pytest.raises(PlanError) as caught:
        load_plan(make_plan(tmp_path, toml))
    assert caught.value.place == place
    assert "超出计划年度 2026 的合理范围（2021-01-01 至 2056-12-31）" in str(caught.value)


KEYED = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.mark.parametrize(("toml", "place"), [
    (f'year = 2026\n[units."办公室"]\nwecom = "{KEYED}"\n', "units.办公室.wecom"),
    (f'year = 2026\nnote = "群：{KEYED}"\n', "note"),
    ('year = 2026\n[units."办公室"]\nemail = ["a@x.org"]\nnote = '
     '"https://oapi.example/robot/send?access_token=0123456789abcdef"\n', "units.办公室.note"),
])
def test_a_url_with_its_key_is_refused_without_repeating_it(tmp_path: Path, toml: str,
                                                            place: str) -> None:
    """Issue 20 item 12: the webhook URL with its key loaded; `reminder plan` printed it and
    the outbox stored it."""
    with pytest.raises(PlanError) as caught:
        load_plan(make_plan(tmp_path, toml))
    assert caught.value.place == place and "带密钥的网址" in str(caught.value)
    assert "693a91f6" not in str(caught.value) and "0123456789" not in str(caught.value)


def test_check_with_a_config_refuses_a_keyed_url(tmp_path: Path) -> None:
    from clirun import reminder

    folder = make_plan(tmp_path, f'year = 2026\n[units."办公室"]\nwecom = "{KEYED}"\n')
    config = tmp_path / "config.toml"
    config.write_text(f'plans = ["{folder}"]\n[database]\npath = "r.db"\n', encoding="utf-8")
    result = reminder("check", str(folder), "--config", str(config))
    assert result.returncode != 0 and "带密钥的网址" in result.stdout + result.stderr
    assert "693a91f6" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
