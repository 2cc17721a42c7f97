"""The 通讯录: read from a sheet, written for the clerk, and reaching check, plan and run."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from servers import smtp_server

from reminder.errors import ConfigError
from reminder.models import Contact
from reminder.plan.contacts import HINT_MARK, TO_FILL, read_book, write_book
from reminder.plan.folder import load_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "demo-2026"
HEADER = "单位,别名,邮箱,企业微信群,企业微信成员,手机\n"


def reminder(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REMINDER_CONFIG"}
    return subprocess.run([sys.executable, "-m", "reminder", *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd=cwd)


def _sheet(tmp_path: Path, body: str, name: str = "通讯录.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8-sig")
    return path


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param("a@x.org、b@x.org", ("a@x.org", "b@x.org"), id="dunhao"),
        pytest.param("a@x.org; b@x.org；c@x.org", ("a@x.org", "b@x.org", "c@x.org"), id="semicolons"),
        pytest.param("\"a@x.org\nb@x.org\"", ("a@x.org", "b@x.org"), id="newline"),
        pytest.param("", (), id="empty"),
    ],
)
def test_an_email_cell_may_hold_several_addresses(tmp_path: Path, cell: str, expected: tuple) -> None:
    book = read_book(_sheet(tmp_path, f"法规科,法规处,{cell},,,\n"))
    assert book.contacts["法规科"].email == expected
    assert book.row_of("法规处") == 2 and book.row_of("法规科") == 2


@pytest.mark.parametrize(("row", "column"), [
    pytest.param("法规科,,a@x.org <evil@x.org>,,,\n", "邮箱", id="display-name"),
    pytest.param("法规科,,,,\"chenjing>\n<@all\",\n", "企业微信成员", id="userid-mention"),
    pytest.param("法规科,,,,,13800000000<@all>\n", "手机", id="mobile-mention"),
])
def test_a_cell_that_is_no_address_of_its_kind_is_refused(tmp_path: Path, row: str,
                                                          column: str) -> None:
    """Issue 20 item 11: one address per entry, userid and mobile syntax."""
    with pytest.raises(ConfigError) as caught:
        read_book(_sheet(tmp_path, row))
    assert caught.value.line == 2 and caught.value.place == column
    assert "\n" not in str(caught.value)


def test_every_column_reaches_the_contact(tmp_path: Path) -> None:
    book = read_book(_sheet(tmp_path, "信息中心,中心、网信中心,,业务科室群,zhaolei、wangfang,13800000001\n"))
    assert book.contacts["信息中心"] == Contact(
        name="信息中心", aliases=("中心", "网信中心"), wecom="业务科室群",
        wecom_users=("zhaolei", "wangfang"), wecom_mobiles=("13800000001",))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param("法规科,,a@x.org,,,\n法规科,,b@x.org,,,\n", ":3: 单位“法规科”重复（第 2 行已有）", id="duplicate"),
        pytest.param("法规科,,fagui.x.org,,,\n", ":2 [邮箱]: 'fagui.x.org' 不是一个有效的邮件地址", id="bad-email"),
        pytest.param("法规科,,,群一、群二,,\n", ":2 [企业微信群]: 企业微信群只能填一个", id="two-robots"),
    ],
)
def test_a_mistake_names_its_line(tmp_path: Path, body: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_book(_sheet(tmp_path, body))
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_sheet_without_the_unit_column_says_what_the_header_should_be(tmp_path: Path) -> None:
    path = tmp_path / "通讯录.csv"
    path.write_text("名称,邮箱\n法规科,a@x.org\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"缺少“单位”列.*单位、别名、邮箱"):
        read_book(path)


def test_gbk_csv_from_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "通讯录.csv"
    path.write_bytes((HEADER + "法规科,,a@x.org,,,\n").encode("gbk"))
    assert read_book(path).contacts["法规科"].email == ("a@x.org",)


def _xlsx_rows(path: Path) -> list[tuple[list, bool]]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    # The hint line under the headers (what goes in each column) is not a unit.
    return [([c.value for c in row], row[0].fill.fgColor.rgb.endswith(TO_FILL))
            for row in sheet.iter_rows(min_row=2) if row[0].value != HINT_MARK]


def test_writing_fills_what_is_known_marks_the_rest_and_keeps_what_was_filled(tmp_path: Path) -> None:
    out = tmp_path / "通讯录.xlsx"
    known = {"办公室": Contact(name="办公室", email=("bgs@x.org",), aliases=("局办公室",))}
    missing = write_book(out, ["办公室", "法规科", "财务科"], known)
    assert missing == ["法规科", "财务科"]
    rows = _xlsx_rows(out)
    assert [(r[:3], marked) for r, marked in rows] == [
        (["办公室", "局办公室", "bgs@x.org"], False), (["法规科", None, None], True), (["财务科", None, None], True)]

    sheet_book = openpyxl.load_workbook(out)
    sheet = sheet_book.worksheets[0]
    assert sheet["A2"].value == HINT_MARK and sheet["J2"].value.startswith("依次尝试的渠道")
    sheet["C4"] = "fagui@x.org"  # row 2 is the hint line, row 3 办公室
    sheet["K1"], sheet["K4"] = "备注", "王科长"
    sheet_book.save(out)
    missing = write_book(out, ["局办公室", "法规科", "信息中心"], {"办公室": Contact(name="办公室", email=("other@x.org",))})
    assert missing == ["财务科", "信息中心"]
    rows = _xlsx_rows(out)
    assert [r[0] for r, _ in rows] == ["办公室", "法规科", "财务科", "信息中心"]  # alias not added twice
    assert rows[0][0][2] == "bgs@x.org"  # never overwritten
    assert rows[1] == (["法规科", None, "fagui@x.org", *[None] * 7, "王科长"], False)
    assert rows[2][1] and rows[3][1]


def test_csv_is_written_the_same_way(tmp_path: Path) -> None:
    out = _sheet(tmp_path, "法规科,,fagui@x.org,,,\n")
    assert write_book(out, ["法规科", "财务科"], {"财务科": Contact(name="财务科", email=("cw@x.org",))}) == []
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    # rows[1]: the hint line, put under the six old headers with the columns they lacked
    assert rows[2][:3] == ["法规科", "", "fagui@x.org"] and rows[3][:3] == ["财务科", "", "cw@x.org"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_sheet_from_before_the_channel_columns_gets_them_with_their_hints(
        tmp_path: Path, suffix: str) -> None:
    # A 通讯录 written before issue 22: six columns, no hint line, one unit filled in and a
    # column of the office's own (备注) at the end.
    out = tmp_path / f"通讯录{suffix}"
    old = [["单位", "别名", "邮箱", "企业微信群", "企业微信成员", "手机", "备注"],
           ["法规科", "", "fagui@x.org", "", "zhangsan", "", "王科长"]]
    if suffix == ".csv":
        out.write_text("".join(",".join(r) + "\r\n" for r in old), encoding="utf-8-sig")
    else:
        workbook = openpyxl.Workbook()
        for r in old:
            workbook.active.append([v or None for v in r])
        workbook.save(out)
    assert write_book(out, ["法规科", "财务科"], {}) == ["财务科"]
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    else:
        rows = [[c if c is not None else "" for c in r]
                for r in openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True)]
    assert rows[0] == ["单位", "别名", "邮箱", "企业微信群", "企业微信成员", "手机", "备注",
                       "钉钉群", "钉钉手机号", "短信手机号", "渠道顺序"]
    hints = dict(zip(rows[0], rows[1], strict=True))
    assert hints["单位"] == HINT_MARK and hints["备注"] == ""
    assert "钉钉群里要@的手机号" in hints["钉钉手机号"] and "短信" in hints["短信手机号"]
    assert "依次尝试的渠道" in hints["渠道顺序"] and "userid" in hints["企业微信成员"]
    assert rows[2][:7] == ["法规科", "", "fagui@x.org", "", "zhangsan", "", "王科长"]
    assert rows[3][0] == "财务科"
    # What the clerk then fills in the new columns is read back.
    if suffix == ".csv":
        rows[3][rows[0].index("钉钉手机号")] = "13800000001"
        rows[3][rows[0].index("渠道顺序")] = "钉钉群、邮件"
        out.write_text("".join(",".join(r) + "\r\n" for r in rows), encoding="utf-8-sig")
    else:
        workbook = openpyxl.load_workbook(out)
        workbook.worksheets[0]["I4"], workbook.worksheets[0]["K4"] = "13800000001", "钉钉群、邮件"
        workbook.save(out)
    contact = read_book(out).contacts["财务科"]
    assert (contact.dingtalk_mobiles, contact.channels) == (("13800000001",), ("dingtalk", "email"))
    # A second run finds nothing to add: no second hint line, no column twice.
    write_book(out, ["法规科", "财务科"], {})
    assert set(read_book(out).contacts) == {"法规科", "财务科"}
    if suffix == ".xlsx":
        again = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
        assert len(again[0]) == 11 and [r[0] for r in again].count(HINT_MARK) == 1


def _demo_without(tmp_path: Path, *units: str) -> Path:
    """The example plan with some [units] tables removed, to be found in the sheet instead."""
    folder = tmp_path / "plans" / "demo-2026"
    shutil.copytree(EXAMPLE, folder)
    text = (folder / "plan.toml").read_text(encoding="utf-8")
    for unit in units:
        start = text.index(f'[units."{unit}"]')
        end = text.find("\n[", start + 1)
        text = text[:start] + (text[end + 1:] if end != -1 else "")
    (folder / "plan.toml").write_text(text, encoding="utf-8")
    return folder


def test_the_plans_own_units_override_the_sheet_but_an_empty_entry_does_not(tmp_path: Path) -> None:
    folder = _demo_without(tmp_path, "财务科")
    with (folder / "plan.toml").open("a", encoding="utf-8") as f:
        f.write('\n[units."财务科"]\nemail = []\n')
    book = read_book(_sheet(tmp_path, "法规科,,sheet@x.org,,,\n财务科,,cw-sheet@x.org,,,\n"))
    plan = load_plan(folder, contacts=book)
    assert plan.contact("法规科").email == ("fagui@example.org",)  # the plan's wins
    assert plan.contact("财务科").email == ("cw-sheet@x.org",)  # the empty entry does not blank it


def _config(tmp_path: Path, sheet: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'plans = ["plans"]\ncontacts = "{sheet.name}"\n[database]\npath = "state/db.sqlite"\n{extra}',
                    encoding="utf-8")
    return path


def test_check_names_the_line_of_the_sheet_to_fill(tmp_path: Path) -> None:
    folder = _demo_without(tmp_path, "法规科", "财务科")
    sheet = _sheet(tmp_path, "法规科,,,,,\n")
    result = reminder("check", str(folder), "--config", str(_config(tmp_path, sheet)))
    assert result.returncode == 1  # other units are filled in, so a gap is an error
    assert f"错误 {sheet} [第 2 行]：单位“法规科”没有联系方式" in result.stdout
    assert "添加一行“财务科”" in result.stdout


def test_before_any_contact_is_filled_a_gap_is_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "plan.toml").write_text("year = 2026\n", encoding="utf-8")
    (folder / "tasks.csv").write_text("序号,工作任务,牵头单位,完成时限\n1,编目录,法规科,2026年底\n", encoding="utf-8")
    result = reminder("check", str(folder))
    assert result.returncode == 0
    assert "警告" in result.stdout and "reminder contacts" in result.stdout


def test_contacts_command_lists_every_unit_the_plans_name(tmp_path: Path) -> None:
    folder = _demo_without(tmp_path, "法规科")
    out = tmp_path / "通讯录.xlsx"
    result = reminder("contacts", str(folder), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "1 个待填写" in result.stdout and "法规科" in result.stdout
    rows = {r[0]: marked for r, marked in _xlsx_rows(out)}
    assert set(rows) == {"办公室", "数据资源科", "法规科", "各科室", "信息中心", "财务科", "局政务公开办", "分管局领导"}
    assert [u for u, marked in rows.items() if marked] == ["法规科"]


def test_contacts_command_refuses_other_formats_in_one_line(tmp_path: Path) -> None:
    result = reminder("contacts", str(EXAMPLE), "-o", str(tmp_path / "通讯录.txt"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "应为 .xlsx 或 .csv" in result.stderr


def test_contacts_from_the_sheet_reach_plan_and_the_daemon(tmp_path: Path) -> None:
    folder = _demo_without(tmp_path, "法规科")
    sheet = _sheet(tmp_path, "法规科,,fagui-sheet@x.org,,,\n")
    with smtp_server() as smtp:
        config = _config(tmp_path, sheet, f'[channels.email]\nhost = "127.0.0.1"\nport = {smtp.port}\n'
                                          'security = "none"\nsender = "r@x.org"\ntimeout = 5\n')
        listed = json.loads(reminder("plan", str(folder), "--config", str(config), "--format", "json",
                                     "--unit", "法规科").stdout)
        assert listed and all(n["recipients"] == ["fagui-sheet@x.org"] for n in listed)
        result = reminder("run", "--once", "--now", "2026-06-23T09:00", "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert ("fagui-sheet@x.org",) in [m.rcpt_tos for m in smtp.messages]


def test_run_logs_each_unit_without_contact_as_an_error(tmp_path: Path) -> None:
    _demo_without(tmp_path, "法规科")
    sheet = _sheet(tmp_path, "法规科,,,,,\n")
    result = reminder("run", "--once", "--now", "2026-06-23T09:00", "--config", str(_config(tmp_path, sheet)))
    assert result.returncode == 0, result.stderr
    assert f"错误：计划 demo-2026：{sheet} [第 2 行]：单位“法规科”没有联系方式" in result.stderr
    assert "reminder.daemon" not in result.stderr and "ERROR" not in result.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "gb18030"])
def test_a_csv_sheet_reads_in_every_encoding_excel_saves(tmp_path: Path, encoding: str) -> None:
    """The 通讯录 is decoded as the importers decode a table: Excel's "Unicode text" is
    UTF-16 with a BOM, which the old utf-8-sig/gb18030 pair refused."""
    from reminder.plan.contacts import read_book

    path = tmp_path / "通讯录.csv"
    path.write_bytes("单位,别名,邮箱\n法规科,,fagui@example.org\n".encode(encoding))
    book = read_book(path)
    assert book.contacts["法规科"].email == ("fagui@example.org",)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_unit_a_spreadsheet_would_take_for_a_formula_is_written_as_text(
        tmp_path: Path, suffix: str) -> None:
    """A document may name a unit "=HYPERLINK(…)": the 通讯录 the clerk opens in Excel must
    show it as text, not a live link, and reading the sheet back gives the same name."""
    out = tmp_path / f"通讯录{suffix}"
    name = '=HYPERLINK("http://evil.example/","点此")'
    write_book(out, ["法规科", name], {})
    if suffix == ".xlsx":
        cells = [c for row in openpyxl.load_workbook(out).worksheets[0].iter_rows() for c in row
                 if c.value == name]
        assert cells and all(c.data_type == "s" for c in cells)
        assert b"<f>" not in zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    else:
        assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")
    assert name in read_book(out).rows
