"""plan.toml skeleton and merge, with tomlkit so the user's comments and edits survive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reminder.errors import ImportFailed
from reminder.importers.table import PlanTable

_UNIT_KEYS: tuple[tuple[str, Any], ...] = (
    ("email", []), ("wecom", ""), ("wecom_users", []), ("wecom_mobiles", []), ("aliases", []),
)


def load(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(path.read_text(encoding="utf-8-sig"))
    except (ParseError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"原有 plan.toml 无法解析：{exc}", file=path,
                           hint="请先改正 plan.toml，或换一个输出文件夹") from None


def table_file(doc: Any) -> str | None:
    table = doc.get("table")
    value = table.get("file") if hasattr(table, "get") else None
    return str(value) if value else None


def old_columns(path: Path) -> dict[str, str] | None:
    """The [table].columns mapping of an existing plan folder, the user's override."""
    plan = path / "plan.toml"
    if not plan.exists():
        return None
    table = load(plan).get("table")
    columns = table.get("columns") if hasattr(table, "get") else None
    return {str(k): str(v) for k, v in columns.items()} if hasattr(columns, "items") else None


def _unit_table() -> Any:
    import tomlkit

    unit = tomlkit.table()
    for key, empty in _UNIT_KEYS:
        unit[key] = list(empty) if isinstance(empty, list) else empty
    return unit


def _date_table(plan_date) -> Any:
    import tomlkit

    entry = tomlkit.table()
    entry["name"] = plan_date.name
    entry["deadline"] = plan_date.deadline_text
    entry["units"] = list(plan_date.units)
    entry["to"] = plan_date.to
    return entry


def _known_units(doc: Any) -> set[str]:
    units = doc.get("units") or {}
    known = set(units.keys())
    for unit in units.values():
        known.update(str(a) for a in (unit.get("aliases") or []) if hasattr(unit, "get"))
    return known


def _import_section(doc: Any, table: PlanTable, accepted: tuple[str, ...], *, fresh: bool) -> None:
    """[import]: what this import could not be sure of. A guessed year stays unconfirmed until
    the user says so (`reminder check` errors on it); accepted warnings are the last import's."""
    import tomlkit

    section = doc.get("import")
    if section is None:
        if not (accepted or (fresh and table.year_from)):
            return
        section = tomlkit.table()
        doc["import"] = section
    if fresh and table.year_from:
        section["year_guessed_from"] = table.year_from
        section["year_guessed_from"].comment("year 由这些文字推测；核对无误后把下一行改为 true")
        section["year_confirmed"] = False
    if accepted:
        section["accepted_with_warnings"] = list(accepted)
        section["accepted_with_warnings"].comment("导入时可信度不足，用 --accept 接受")
    elif "accepted_with_warnings" in section:
        del section["accepted_with_warnings"]
    if not section:
        del doc["import"]


def render(
    table: PlanTable, old: Any | None, *, table_file: str, source: Path,
    accepted: tuple[str, ...] = (),
) -> str:
    import tomlkit

    doc = old if old is not None else _skeleton(table, table_file=table_file, source=source)
    # A re-import guesses the year afresh only when the old plan.toml had none of its own.
    _import_section(doc, table, accepted, fresh=old is None or "year" not in old)
    if old is not None:
        for key, value in (("title", table.title), ("year", table.year), ("issued", table.issued)):
            if key not in doc and value:
                doc[key] = value
        if "table" not in doc:
            doc["table"] = _table_section(table, table_file)
        elif dict(doc["table"].get("columns") or {}) != table.columns:
            columns = tomlkit.inline_table()  # the document's header changed: record the new one
            columns.update(table.columns)
            doc["table"]["columns"] = columns
        names = {str(d.get("name")) for d in doc.get("dates", [])}
        new_dates = [d for d in table.dates if d.name not in names]
        if new_dates:
            if "dates" not in doc:
                doc["dates"] = tomlkit.aot()
            for plan_date in new_dates:
                doc["dates"].append(_date_table(plan_date))
    known = _known_units(doc)
    missing = [u for u in table.units if u not in known]
    if missing:
        if "units" not in doc:
            units = tomlkit.table(is_super_table=True)
            doc.add(tomlkit.nl())
            doc["units"] = units
        for name in missing:
            doc["units"][name] = _unit_table()
            doc["units"][name]["aliases"] = list(table.aliases.get(name, ()))
    return tomlkit.dumps(doc)


def _table_section(table: PlanTable, table_file: str) -> Any:
    import tomlkit

    section = tomlkit.table()
    section["file"] = table_file
    columns = tomlkit.inline_table()
    columns.update(table.columns)
    section["columns"] = columns
    section["columns"].comment("导入时识别的列；表头不同时可改为文件中的列名")
    return section


def _skeleton(table: PlanTable, *, table_file: str, source: Path) -> Any:
    import tomlkit

    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"由 reminder import 从 {source.name} 生成。可以直接修改，重新导入时会保留。"))
    doc["title"] = table.title
    doc["year"] = table.year
    if table.year_from:
        doc["year"].comment("推测的年度，见 [import]")
    if table.issued:
        doc["issued"] = table.issued
    else:
        doc.add(tomlkit.comment("issued = 年-月-日  # 文件中没有找到印发日期；知道时去掉 # 填写"))
    if table.default_deadline:
        doc["default_deadline"] = table.default_deadline
        doc["default_deadline"].comment("表中没有完成时限列：默认年底前完成")
    else:
        doc.add(tomlkit.comment('default_deadline = "年底前"  # 完成时限为空的任务使用'))
    doc["reporting_cycle"] = "quarterly"
    coordinator = next((u for u in table.units if "政务公开办" in u), None)
    if coordinator:
        doc["coordinator"] = coordinator
    else:
        doc.add(tomlkit.comment('coordinator = "办公室"  # 统筹单位，填 [units] 中的名称'))
    doc["escalate_to"] = []
    doc.add(tomlkit.nl())
    doc["table"] = _table_section(table, table_file)
    policy = tomlkit.table()
    policy.add(tomlkit.comment('shift = "before"  # 逐项覆盖 rules/policy.toml'))
    doc["policy"] = policy
    if table.dates:
        dates = tomlkit.aot()
        for plan_date in table.dates:
            dates.append(_date_table(plan_date))
        doc["dates"] = dates
    doc.add(tomlkit.nl())
    doc.add(tomlkit.comment(
        '[tasks."12"] 可逐项覆盖：deadline = "2021年9月30日"、skip = true、event = 2021-05-06'
    ))
    doc.add(tomlkit.comment("[units] 下为表中出现的全部责任单位，请填写 email 或 wecom"))
    return doc
