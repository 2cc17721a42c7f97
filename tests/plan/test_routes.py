"""Which channel reaches a unit: its own order (`channels`), the deployment's channels, and
the addresses it has; read from plan.toml [units] and from the 通讯录's new columns."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from reminder.errors import ConfigError, PlanError
from reminder.models import Contact
from reminder.plan.contacts import HEADERS, HINTS, read_book
from reminder.plan.folder import load_plan
from reminder.plan.planner import _channels, plan_notices

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "demo-2026"
PERSON = Contact(name="法规科", email=("fg@x.org",), wecom="科室群", wecom_users=("zhangsan",),
                 dingtalk="钉钉群", dingtalk_mobiles=("13800000001",), mobiles=("13800000002",))


@pytest.mark.parametrize(("order", "usable", "expected"), [
    ((), None, ["email", "wecom", "dingtalk"]),  # no order: email and every group robot
    (("wecom_app", "email"), None, ["wecom_app"]),
    (("wecom_app", "email"), {"email", "wecom"}, ["email"]),  # no app configured: next
    (("sms", "wecom_app"), {"sms", "wecom_app"}, ["sms"]),
    (("sms",), {"email"}, ["none"]),  # nothing in its order can reach it
], ids=["default", "first", "skip-unconfigured", "sms", "none"])
def test_the_first_channel_in_the_units_order_that_reaches_it(
        order: tuple[str, ...], usable: set[str] | None, expected: list[str]) -> None:
    contact = Contact(**{**PERSON.__dict__, "channels": order})
    assert [r[0] for r in _channels(contact, usable)] == expected


def test_routes_carry_each_channels_addresses() -> None:
    routes = {r[0]: r for r in _channels(Contact(**{**PERSON.__dict__, "channels": ()}))}
    assert routes["dingtalk"] == ("dingtalk", ("钉钉群",), (), ("13800000001",))
    only_app = _channels(Contact(**{**PERSON.__dict__, "channels": ("wecom_app",)}))
    assert only_app == [("wecom_app", ("zhangsan",), (), ())]
    only_sms = _channels(Contact(**{**PERSON.__dict__, "channels": ("sms",)}))
    assert only_sms == [("sms", ("13800000002",), (), ())]


def test_plan_units_take_an_order_and_the_dry_run_follows_it(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(EXAMPLE, folder)
    toml = folder / "plan.toml"
    text = toml.read_text(encoding="utf-8").replace(
        '[units."法规科"]\nemail = ["fagui@example.org"]\n',
        '[units."法规科"]\nemail = ["fagui@example.org"]\nwecom_users = ["fagui01"]\n'
        'mobiles = ["13800000009"]\nchannels = ["企业微信应用", "email"]\n')
    toml.write_text(text, encoding="utf-8")
    plan = load_plan(folder)
    assert plan.contact("法规科").channels == ("wecom_app", "email")  # type: ignore[union-attr]
    window = {"start": date(2026, 1, 1), "end": date(2027, 1, 31)}
    app = {n.channel for n in plan_notices([plan], **window) if n.recipient == "法规科"}
    reached = [n for n in plan_notices([plan], usable={"email"}, **window)
               if n.recipient == "法规科"]
    assert (app, {n.channel for n in reached}) == ({"wecom_app"}, {"email"})
    assert "sign" in {n.stage for n in reached}  # the 签收 chase follows the order too


def test_a_channel_nobody_knows_is_a_plan_error(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(EXAMPLE, folder)
    toml = folder / "plan.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[units."财务科"]\n', '[units."财务科"]\nchannels = ["微信"]\n'), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(folder)
    assert "units.财务科.channels" in str(info.value) and "微信" in str(info.value)


def test_book_reads_the_new_columns_and_skips_the_hint_line(tmp_path: Path) -> None:
    sheet = tmp_path / "通讯录.csv"
    rows = [",".join(HEADERS), ",".join(HINTS),
            "法规科,,fg@x.org,,zhangsan,,法规钉钉群,13800000001,13800000002,企业微信应用、短信"]
    sheet.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig")
    book = read_book(sheet)
    assert set(book.contacts) == {"法规科"}
    contact = book.contacts["法规科"]
    assert (contact.dingtalk, contact.dingtalk_mobiles, contact.mobiles, contact.channels) == (
        "法规钉钉群", ("13800000001",), ("13800000002",), ("wecom_app", "sms"))


@pytest.mark.parametrize(("cells", "column"), [
    ("法规科,,,,,,,,138-0000,", "短信手机号"),
    ("法规科,,,,,,,,,飞书", "渠道顺序"),
    ("法规科,,,,,,甲群、乙群,,,", "钉钉群"),
], ids=["mobile", "channel", "two-robots"])
def test_book_mistakes_name_line_and_column(tmp_path: Path, cells: str, column: str) -> None:
    sheet = tmp_path / "通讯录.csv"
    sheet.write_text(",".join(HEADERS) + "\r\n" + cells + "\r\n", encoding="utf-8-sig")
    with pytest.raises(ConfigError) as info:
        read_book(sheet)
    assert column in str(info.value) and "2" in str(info.value)


@pytest.mark.parametrize(("contact", "reachable"), [
    (Contact(name="a", mobiles=("13800000000",)), False),  # SMS only by order
    (Contact(name="a", mobiles=("13800000000",), channels=("sms",)), True),
    (Contact(name="a", email=("a@x.org",), channels=("sms",)), False),  # its order reaches none
    (Contact(name="a", dingtalk="群"), True),
], ids=["mobile-no-order", "sms-order", "order-without-address", "dingtalk"])
def test_reachable_means_the_planner_finds_a_route(contact: Contact, reachable: bool) -> None:
    assert contact.reachable is reachable
    assert (_channels(contact)[0][0] != "none") is reachable
