"""What an address of each kind may look like, checked where addresses enter (plan.toml
[units], the 通讯录, config.toml [admin]). Anything else could add a mail header, a second
recipient or a WeCom mention (<@all>) to the messages we send."""

from __future__ import annotations

import re

# One mailbox: no display name, no list, nothing a header would read as a separator.
_EMAIL = re.compile(r"[^\s@,;<>()\[\]\\\":]+@[^\s@,;<>()\[\]\\\":]+")
# WeCom's rule for a userid: 1–64 letters, digits and _ - @ . , the first a letter or digit.
_USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-@.]{0,63}")
# A mobile number: digits, with an optional + and country code (E.164 allows 15 digits).
_MOBILE = re.compile(r"\+?[0-9]{5,15}")

KINDS = {
    "email": (_EMAIL, "每项只写一个邮件地址，如 name@example.gov.cn（多个地址分成多项）"),
    "wecom_users": (_USERID, "企业微信成员账号只含字母、数字和 _-@.，以字母或数字开头，如 zhangsan"),
    "wecom_mobiles": (_MOBILE, "手机号只写数字，如 13800000000"),
    "dingtalk_mobiles": (_MOBILE, "钉钉手机号只写数字，如 13800000000"),
    "mobiles": (_MOBILE, "手机号只写数字，如 13800000000"),
}

# Channel names as a unit's `channels` order may give them, Chinese or not.
CHANNELS = {"email": "email", "邮件": "email", "邮箱": "email",
            "wecom": "wecom", "企业微信群": "wecom",
            "wecom_app": "wecom_app", "企业微信应用": "wecom_app", "应用消息": "wecom_app",
            "dingtalk": "dingtalk", "钉钉群": "dingtalk", "钉钉": "dingtalk",
            "sms": "sms", "短信": "sms"}


def channel_name(value: str) -> str | None:
    """The channel a unit's `channels` entry names, or None when it names none."""
    return CHANNELS.get(value.strip().lower() if value.isascii() else value.strip())


def address_problem(kind: str, value: str) -> str:
    """Why ``value`` is not one address of ``kind`` (a key of KINDS), in Chinese; "" if it is."""
    pattern, hint = KINDS[kind]
    if pattern.fullmatch(value):
        return ""
    return f"{value!r} 不是一个有效的{_NAMES[kind]}（{hint}）"


_NAMES = {"email": "邮件地址", "wecom_users": "企业微信成员账号", "wecom_mobiles": "手机号",
          "dingtalk_mobiles": "钉钉手机号", "mobiles": "手机号"}


def one_line(text: str) -> str:
    """A title folded to one line: a line break in it ends an iCalendar or header line."""
    return " ".join(text.split())
