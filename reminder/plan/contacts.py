"""The office's 通讯录: unit contacts kept in a spreadsheet (.xlsx or .csv), deployment-wide.

Columns 单位, 别名, 邮箱, 企业微信群, 企业微信成员, 手机, 钉钉群, 钉钉手机号, 短信手机号,
渠道顺序; a cell may hold several values separated by 、 ; or a new line. A sheet this module
writes has a line under the headers saying what goes in each column (skipped on reading).
A plan's own [units] override a row of the same name.
``write_book`` adds the units plans name to the sheet without touching what is filled in,
and the columns a sheet written by an older version lacks (the per-channel ones), each with
its hint.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reminder.addresses import address_problem, channel_name
from reminder.cells import FORMULA_START, csv_cell
from reminder.encoding import decode_text
from reminder.errors import ConfigError
from reminder.models import Contact

HEADERS = ("单位", "别名", "邮箱", "企业微信群", "企业微信成员", "手机", "钉钉群", "钉钉手机号",
           "短信手机号", "渠道顺序")
FIELDS = ("name", "aliases", "email", "wecom", "wecom_users", "wecom_mobiles", "dingtalk",
          "dingtalk_mobiles", "mobiles", "channels")
# Other names offices give a column.
ALIASES = {"企业微信账号": "企业微信成员", "企业微信userid": "企业微信成员", "钉钉手机": "钉钉手机号",
           "短信": "短信手机号", "渠道": "渠道顺序"}
# The line under the headers of a sheet `reminder contacts` writes: what goes in each column.
HINT_MARK = "（填写说明）"
HINTS = (HINT_MARK, "单位的其他叫法", "工作邮箱", "企业微信群机器人名（config.toml 中的名字）",
         "企业微信账号 userid：群里@他，也是应用消息的收件人", "企业微信群里要@的手机号",
         "钉钉群机器人名（config.toml 中的名字）", "钉钉群里要@的手机号", "短信平台发往的手机号",
         "依次尝试的渠道，如 企业微信应用、邮件（空：邮件和各群机器人都发）")
ADDRESS_COLUMNS = (("email", "邮箱"), ("wecom_users", "企业微信成员"), ("wecom_mobiles", "手机"),
                   ("dingtalk_mobiles", "钉钉手机号"), ("mobiles", "短信手机号"))
SPLIT = re.compile(r"[、;；,，\r\n]+")
TO_FILL = "FFF2CC"  # the pale yellow offices use for "fill this in"


@dataclass(frozen=True, kw_only=True)
class ContactBook:
    path: Path
    contacts: Mapping[str, Contact] = field(default_factory=dict)
    rows: Mapping[str, int] = field(default_factory=dict)  # unit -> sheet row (header is 1)

    @property
    def filled(self) -> int:
        return sum(1 for c in self.contacts.values() if c.reachable)

    def row_of(self, name: str) -> int | None:
        if name in self.rows:
            return self.rows[name]
        return next((self.rows[c.name] for c in self.contacts.values() if name in c.aliases), None)


def split(cell: Any) -> tuple[str, ...]:
    if cell is None:
        return ()
    return tuple(p.strip() for p in SPLIT.split(str(cell)) if p.strip())


def _read_rows(path: Path) -> list[list[Any]]:
    if path.suffix.lower() == ".csv":
        # Excel in China saves CSV as GBK, or as UTF-16 ("Unicode text"): decoded as the
        # importers decode a table.
        # A ' before = + - @ is how we keep such text out of a spreadsheet's formulas.
        return [[_unquoted(c) for c in row]
                for row in csv.reader(io.StringIO(decode_text(path.read_bytes())))]
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise ConfigError("通讯录应为 .xlsx 或 .csv", file=path)
    import zipfile

    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot read
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        return rows
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ConfigError("通讯录已损坏，无法读取", file=path,
                          hint=f"用 Excel/WPS 打开后重新保存（{type(exc).__name__}）") from None


def _unquoted(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_START) else cell


def _columns(header: Sequence[Any], path: Path) -> dict[str, int]:
    names = [str(h).strip() if h is not None else "" for h in header]
    names = [ALIASES.get(n, n) for n in names]
    index = {f: names.index(h) for f, h in zip(FIELDS, HEADERS, strict=True) if h in names}
    if "name" not in index:
        raise ConfigError("通讯录缺少“单位”列", file=path, line=1,
                          hint="第一行应为 " + "、".join(HEADERS))
    return index


def read_book(path: Path) -> ContactBook:
    """Read the sheet; every mistake names its line."""
    try:
        rows = _read_rows(path)
    except FileNotFoundError:
        raise ConfigError("通讯录文件不存在", file=path, place="contacts",
                          hint=f"用 reminder contacts 计划文件夹 -o {path.name} 生成") from None
    if not rows:
        raise ConfigError("通讯录是空的", file=path, hint="第一行应为 " + "、".join(HEADERS))
    index = _columns(rows[0], path)
    contacts: dict[str, Contact] = {}
    lines: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        values = {f: split(row[i]) if i < len(row) else () for f, i in index.items()}
        if not values["name"]:
            continue
        name = str(row[index["name"]]).strip()
        if name == HINT_MARK:
            continue
        if name in lines:
            raise ConfigError(f"单位“{name}”重复（第 {lines[name]} 行已有）", file=path, line=line,
                              hint="每个单位一行，多个地址写在同一格，用、分隔")
        for kind, column in ADDRESS_COLUMNS:
            for address in values.get(kind, ()):
                # A stray > or space in a userid or number would forge a mention (<@all>).
                problem = address_problem(kind, address)
                if problem:
                    raise ConfigError(problem, file=path, line=line, place=column,
                                      hint="多个值用、分隔")
        robots = values.get("wecom", ())
        if len(robots) > 1:
            raise ConfigError("企业微信群只能填一个机器人名", file=path, line=line, place="企业微信群",
                              hint="其他群另起一行并用别名区分")
        dingtalk = values.get("dingtalk", ())
        if len(dingtalk) > 1:
            raise ConfigError("钉钉群只能填一个机器人名", file=path, line=line, place="钉钉群",
                              hint="其他群另起一行并用别名区分")
        order = []
        for entry in values.get("channels", ()):
            channel = channel_name(entry)
            if channel is None:
                raise ConfigError(f"不认识的渠道“{entry}”", file=path, line=line, place="渠道顺序",
                                  hint="可写 邮件、企业微信群、企业微信应用、钉钉群、短信，用、分隔")
            order.append(channel)
        contacts[name] = Contact(
            name=name, aliases=values.get("aliases", ()), email=values.get("email", ()),
            wecom=robots[0] if robots else None, wecom_users=values.get("wecom_users", ()),
            wecom_mobiles=values.get("wecom_mobiles", ()),
            dingtalk=dingtalk[0] if dingtalk else None,
            dingtalk_mobiles=values.get("dingtalk_mobiles", ()),
            mobiles=values.get("mobiles", ()), channels=tuple(order),
        )
        lines[name] = line
    return ContactBook(path=path, contacts=contacts, rows=lines)


def _cells(contact: Contact) -> list[str]:
    return ["、".join(contact.aliases), "、".join(contact.email), contact.wecom or "",
            "、".join(contact.wecom_users), "、".join(contact.wecom_mobiles),
            contact.dingtalk or "", "、".join(contact.dingtalk_mobiles),
            "、".join(contact.mobiles), "、".join(CHANNEL_LABELS.get(c, c) for c in contact.channels)]


CHANNEL_LABELS = {"email": "邮件", "wecom": "企业微信群", "wecom_app": "企业微信应用",
                  "dingtalk": "钉钉群", "sms": "短信"}


def write_book(path: Path, units: Iterable[str], known: Mapping[str, Contact]) -> list[str]:
    """Add every unit not yet in the sheet (filled from ``known`` when it is known), fill
    empty rows that ``known`` can fill, and mark the rows still to fill. Rows and columns
    already there are kept as they are. Returns the units still without a contact."""
    book = read_book(path) if path.exists() else ContactBook(path=path)
    wanted = [u for u in dict.fromkeys(units) if book.row_of(u) is None]
    if path.suffix.lower() == ".csv":
        return _write_csv(path, book, wanted, known)
    return _write_xlsx(path, book, wanted, known)


def _merged(name: str, book: ContactBook, known: Mapping[str, Contact]) -> Contact | None:
    have = book.contacts.get(name)
    if have is not None and have.reachable:
        return None  # filled in by hand: never overwritten
    return known.get(name)


def _new_columns(header: Sequence[Any], path: Path) -> tuple[dict[str, int], list[str]]:
    """The sheet's columns, with those it lacks placed after its last header (a 通讯录 made
    before DingTalk and SMS existed has six): (field -> column index, fields added)."""
    index = _columns(header, path)
    used = max((i for i, h in enumerate(header) if h is not None and str(h).strip()), default=0)
    added = [f for f in FIELDS if f not in index]
    for offset, f in enumerate(added, 1):
        index[f] = used + offset
    return index, added


def _hint(f: str) -> str:
    return HINTS[FIELDS.index(f)]


def _write_csv(path: Path, book: ContactBook, wanted: list[str],
               known: Mapping[str, Contact]) -> list[str]:
    rows = _read_rows(path) if path.exists() else [list(HEADERS), list(HINTS)]
    index, added = _new_columns(rows[0], path)
    width = max(max(index.values()) + 1, max(len(r) for r in rows))
    rows = [row + [""] * (width - len(row)) for row in rows]
    if added:
        for f in added:
            rows[0][index[f]] = HEADERS[FIELDS.index(f)]
        if len(rows) > 1 and str(rows[1][index["name"]]).strip() == HINT_MARK:
            for f in added:
                rows[1][index[f]] = _hint(f)
        else:  # the hint line goes under the headers; every unit moves down one line
            hints = [""] * width
            for f, i in index.items():
                hints[i] = _hint(f)
            rows.insert(1, hints)
            book = replace(book, rows={name: line + 1 for name, line in book.rows.items()})
    for name, line in book.rows.items():
        fill = _merged(name, book, known)
        if fill is not None:
            row = rows[line - 1] + [""] * (width - len(rows[line - 1]))
            for f, value in zip(FIELDS[1:], _cells(fill), strict=True):
                if f in index and not str(row[index[f]] or "").strip():
                    row[index[f]] = value
            rows[line - 1] = row
    for name in wanted:
        row = [""] * width
        row[index["name"]] = name
        for f, value in zip(FIELDS[1:], _cells(known.get(name, Contact(name=name))), strict=True):
            if f in index:
                row[index[f]] = value
        rows.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([[csv_cell(c) for c in r] for r in rows])
    _replace(path, buffer.getvalue().encode("utf-8-sig"))
    return _missing(path)


def _write_xlsx(path: Path, book: ContactBook, wanted: list[str],
                known: Mapping[str, Contact]) -> list[str]:
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    if path.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path)
        sheet = workbook.worksheets[0]
    else:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "通讯录"
        sheet.append(list(HEADERS))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.append(list(HINTS))
        for cell in sheet[2]:
            cell.font = Font(italic=True, color="808080")
        for letter, width in zip("ABCDEFGHIJ", (18, 14, 30, 14, 20, 16, 14, 16, 16, 22),
                                 strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A3"
    index, added = _new_columns([c.value for c in sheet[1]], path)
    if added:
        for f in added:
            sheet.cell(row=1, column=index[f] + 1, value=HEADERS[FIELDS.index(f)]).font = Font(bold=True)
        if str(sheet.cell(row=2, column=index["name"] + 1).value or "").strip() != HINT_MARK:
            # the hint line goes under the headers; every unit moves down one line
            sheet.insert_rows(2)
            book = replace(book, rows={name: line + 1 for name, line in book.rows.items()})
            added = list(index)
        for f in added:
            cell = sheet.cell(row=2, column=index[f] + 1, value=_hint(f))
            cell.font = Font(italic=True, color="808080")
    for name, line in book.rows.items():
        fill = _merged(name, book, known)
        if fill is not None:
            for f, value in zip(FIELDS[1:], _cells(fill), strict=True):
                cell = sheet.cell(row=line, column=index[f] + 1) if f in index else None
                if cell is not None and not str(cell.value or "").strip():
                    cell.value = value or None
    for name in wanted:
        line = sheet.max_row + 1
        sheet.cell(row=line, column=index["name"] + 1, value=name)
        for f, value in zip(FIELDS[1:], _cells(known.get(name, Contact(name=name))), strict=True):
            if f in index and value:
                sheet.cell(row=line, column=index[f] + 1, value=value)
    todo = PatternFill(fill_type="solid", start_color=TO_FILL, end_color=TO_FILL)
    plain = PatternFill(fill_type=None)
    for line in range(2, sheet.max_row + 1):
        def value(f: str, line: int = line) -> str:
            return str(sheet.cell(row=line, column=index[f] + 1).value or "").strip() if f in index else ""

        if not value("name") or value("name") == HINT_MARK:
            continue
        empty = not any(value(f) for f in ("email", "wecom", "dingtalk", "mobiles"))
        for column in (index[f] + 1 for f in FIELDS if f in index):
            sheet.cell(row=line, column=column).fill = todo if empty else plain
    for row in sheet.iter_rows():
        for cell in row:  # a unit named "=HYPERLINK(…)" by a document stays text
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    _replace(path, buffer.getvalue())
    return _missing(path)


def _replace(path: Path, data: bytes) -> None:
    """Write beside and rename: an interrupted run never leaves half a sheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _missing(path: Path) -> list[str]:
    return [c.name for c in read_book(path).contacts.values() if not c.reachable]
