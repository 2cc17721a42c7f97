"""The reminder policy: shipped defaults in rules/policy.toml, overridden per plan."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reminder.errors import PolicyError
from reminder.models import Offset, Policy
from reminder.parse.programs import parsed_toml
from reminder.resources import data_dir

_OFFSET_KEYS = ("overdue_after", "escalate_after", "escalate_every")
_OFFSET_LIST_KEYS = ("remind_before", "ongoing_remind_before", "report_remind_before")
_BOOL_KEYS = ("on_due_day", "remind_support", "confirm_done", "colors")
_SHARE_KEYS = ("yellow_left", "orange_left")
_AUDIENCE_KEYS = ("yellow_to", "orange_to", "red_to")
# 签收 and 延期申请 (issue 19): their own keys, read by _workflow below.
_WORKFLOW_KEYS = ("sign_within", "allow_extension")
KNOWN_KEYS = frozenset(
    {"send_time", "timezone", "shift", "limit_shift", "term_ends", *_OFFSET_KEYS, *_OFFSET_LIST_KEYS,
     *_BOOL_KEYS, *_SHARE_KEYS, *_AUDIENCE_KEYS, *_WORKFLOW_KEYS}
)


def default_policy_file() -> Path:
    return data_dir("rules") / "policy.toml"


@cache
def _defaults() -> dict[str, Any]:
    path = default_policy_file()
    try:  # through the rules cache, which keeps the parsed file (parse/programs.py)
        return parsed_toml(path.read_text(encoding="utf-8"))
    except ValueError as exc:  # tomllib.TOMLDecodeError: tomllib is imported only to parse
        raise PolicyError(f"TOML 格式错误：{exc}", file=path) from None


def _offset(value: Any, file: Path, key: str) -> Offset:
    try:
        offset = Offset.parse(str(value))
    except ValueError as exc:
        raise PolicyError(str(exc), file=file, place=key) from None
    if offset.n < 0:
        raise PolicyError("间隔不能为负数", file=file, place=key)
    return offset


def _term_ends(value: Any, file: Path) -> tuple[tuple[int, int], ...]:
    """``term_ends = ["01-15", "07-15"]``: the last day of each school term (每学期)."""
    hint = "写作 term_ends = [\"01-15\", \"07-15\"]（月-日，每学期一个）"
    if not isinstance(value, list) or not value:
        raise PolicyError("term_ends 应为月-日的列表", file=file, place="policy.term_ends",
                          hint=hint)
    ends = []
    for item in value:
        try:
            month, day = (int(x) for x in str(item).split("-"))
            date(2024, month, day)  # a leap year: 02-29 is a real term end
        except ValueError:
            raise PolicyError(f"term_ends 中的 {item!r} 不是月-日", file=file,
                              place="policy.term_ends", hint=hint) from None
        ends.append((month, day))
    return tuple(sorted(set(ends)))


def build_policy(overrides: Mapping[str, Any] | None = None, *, file: Path | None = None,
                 timezone: str | None = None) -> Policy:
    """Merge ``overrides`` (a plan's [policy] table, read from ``file``) over the defaults."""
    source = file or default_policy_file()
    merged = dict(_defaults())
    for key, value in (overrides or {}).items():
        if key not in KNOWN_KEYS:
            raise PolicyError(
                f"未知的提醒策略项 {key}", file=source, place=f"policy.{key}",
                hint="可用项：" + "、".join(sorted(KNOWN_KEYS)),
            )
        merged[key] = value
    try:
        hour, minute = (int(x) for x in str(merged["send_time"]).split(":"))
        send_time = time(hour, minute)
    except ValueError:
        raise PolicyError(
            f"send_time 应写作 09:00，而不是 {merged['send_time']!r}", file=source,
            place="policy.send_time",
        ) from None
    try:
        ZoneInfo(str(merged["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(
            f"未知时区 {merged['timezone']!r}", file=source, place="policy.timezone",
            hint="例如 Asia/Shanghai",
        ) from None
    for key in ("shift", "limit_shift"):
        if merged[key] not in ("before", "after", "none"):
            raise PolicyError(
                f"{key} 只能是 before、after 或 none，而不是 {merged[key]!r}",
                file=source, place=f"policy.{key}",
            )
    for key in _BOOL_KEYS:
        if not isinstance(merged[key], bool):
            raise PolicyError(f"{key} 应为 true 或 false", file=source, place=f"policy.{key}")
    lists: dict[str, tuple[Offset, ...]] = {}
    for key in _OFFSET_LIST_KEYS:
        if not isinstance(merged[key], list):
            raise PolicyError(f"{key} 应为列表，如 [\"7d\", \"1wd\"]", file=source, place=key)
        lists[key] = tuple(_offset(v, source, f"policy.{key}") for v in merged[key])
    singles = {key: _offset(merged[key], source, f"policy.{key}") for key in _OFFSET_KEYS}
    if singles["escalate_every"].n == 0:
        raise PolicyError("escalate_every 不能为 0", file=source, place="policy.escalate_every")
    shares = {key: _share(merged[key], source, key) for key in _SHARE_KEYS}
    if shares["orange_left"] > shares["yellow_left"]:
        raise PolicyError("orange_left 不能大于 yellow_left（橙色预警应晚于黄色预警）", file=source,
                          place="policy.orange_left", hint='例如 yellow_left = "30%"，orange_left = "15%"')
    audiences = {key: _audience(merged[key], source, key) for key in _AUDIENCE_KEYS}
    return Policy(
        **_workflow(merged, source),
        send_time=send_time,
        timezone=timezone or str(merged["timezone"]),
        shift=merged["shift"],
        limit_shift=merged["limit_shift"],
        on_due_day=merged["on_due_day"],
        remind_support=merged["remind_support"],
        confirm_done=merged["confirm_done"],
        term_ends=_term_ends(merged["term_ends"], source),
        colors=merged["colors"],
        **lists,
        **singles,
        **shares,
        **audiences,
    )


def _share(value: Any, file: Path, key: str) -> float:
    """"30%" (or 30) as 0.30: a share of the period left, between 0 and 100 %."""
    text = str(value).strip().removesuffix("%").strip()
    try:
        share = float(text) / 100
    except ValueError:
        share = -1.0
    if isinstance(value, bool) or not 0 <= share < 1:
        raise PolicyError(f"{key} 应为 0% 到 99% 之间的比例，而不是 {value!r}", file=file,
                          place=f"policy.{key}", hint='例如 "30%"')
    return share


def _audience(value: Any, file: Path, key: str) -> tuple[str, ...]:
    from reminder.plan.colors import AUDIENCES

    if not isinstance(value, list) or any(v not in AUDIENCES for v in value):
        raise PolicyError(f"{key} 应为列表，取值 units（责任单位）、coordinator（牵头处室）、"
                          f"leaders（督办领导），而不是 {value!r}", file=file, place=f"policy.{key}",
                          hint='例如 ["units", "coordinator"]；[] 表示不发送')
    return tuple(dict.fromkeys(value))


def _workflow(merged: Mapping[str, Any], source: Path) -> dict[str, Any]:
    """sign_within: an offset such as "1wd", or "" / false for no 签收 at all (a plan turns it
    off over the shipped default). allow_extension: true or false."""
    raw = merged.get("sign_within", "")
    if raw is False or raw == "" or raw is None:
        sign_within = None
    elif isinstance(raw, str):
        sign_within = _offset(raw, source, "policy.sign_within")
        if sign_within.n == 0:
            raise PolicyError("sign_within 不能为 0；不需要签收请写 \"\" 或 false", file=source,
                              place="policy.sign_within")
    else:
        raise PolicyError("sign_within 应写作 \"1wd\" 这样的间隔，不需要签收写 \"\" 或 false",
                          file=source, place="policy.sign_within")
    allow = merged.get("allow_extension", True)
    if not isinstance(allow, bool):
        raise PolicyError("allow_extension 应为 true 或 false", file=source,
                          place="policy.allow_extension")
    return {"sign_within": sign_within, "allow_extension": allow}
