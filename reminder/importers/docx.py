"""Word .docx: every table's rows with gridSpan and vMerge expanded, plus the paragraphs.

safety.check_zip has counted the elements before python-docx builds its tree; here every
paragraph and cell counts against safety.WorkLimit, and spans are clipped to what Word can
write, so a cell claiming gridSpan="1000000000" is not a billion copies of its text."""

from __future__ import annotations

from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers.safety import MAX_SPAN, WorkLimit
from reminder.importers.table import Grid


class DocxImporter:
    name = "Word 文档"
    suffixes = (".docx", ".docm")

    def read(self, path: Path, data: bytes) -> Grid:
        import io

        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.oxml.ns import qn

        try:
            document = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, KeyError, ValueError) as exc:
            raise ImportFailed("Word 文件已损坏，无法读取", file=path,
                               hint=f"请用 Word/WPS 打开后重新保存（{type(exc).__name__}）") from None
        except Exception as exc:  # lxml errors on a broken part: still a bad file, not a bug
            if type(exc).__module__.startswith(("lxml", "zipfile")):
                raise ImportFailed("Word 文件已损坏，无法读取", file=path) from None
            raise

        limit = WorkLimit(path)
        rows: list[list[str]] = []
        context: list[str] = []
        body = document.element.body
        numbering = _Numbering(document)
        for child in body.iterchildren():
            if child.tag == qn("w:p"):
                text = _paragraph_text(child, limit)
                if text.strip():
                    context.append(numbering.marker(child) + text.strip())
            elif child.tag == qn("w:tbl"):
                rows.extend(_table_rows(child, limit))
        return Grid(rows=rows, context=context)


def _span(value: str | None, default: int) -> int:
    """A gridSpan or gridBefore count, clipped to a real table's width; garbage is the default."""
    try:
        return max(0, min(int(value or default), MAX_SPAN))
    except ValueError:
        return default


def _paragraph_text(p, limit: WorkLimit) -> str:
    from docx.oxml.ns import qn

    limit.paragraph()
    parts = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")):
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:tab"):
            parts.append(" ")
        else:
            parts.append("\n")
    return "".join(parts)


def _cell_text(tc, limit: WorkLimit) -> str:
    from docx.oxml.ns import qn

    # Only the cell's own paragraphs: a nested table is read as its own text lines.
    return "\n".join(_paragraph_text(p, limit) for p in tc.iter(qn("w:p")))


def _table_rows(tbl, limit: WorkLimit) -> list[list[str]]:
    """Expand a table: gridSpan copies a cell rightwards, vMerge="continue" copies the cell
    above at the same grid column, gridBefore leaves leading columns empty."""
    from docx.oxml.ns import qn

    rows: list[list[str]] = []
    for tr in tbl.iterchildren(qn("w:tr")):
        row: list[str] = []
        before = tr.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}")
        if before is not None:
            row.extend([""] * _span(before.get(qn("w:val")), 0))
        for tc in tr.iterchildren(qn("w:tc")):
            span = 1
            merge = None
            tc_pr = tc.find(qn("w:tcPr"))
            if tc_pr is not None:
                grid_span = tc_pr.find(qn("w:gridSpan"))
                if grid_span is not None:
                    span = max(1, _span(grid_span.get(qn("w:val")), 1))
                v_merge = tc_pr.find(qn("w:vMerge"))
                if v_merge is not None:
                    merge = v_merge.get(qn("w:val"), "continue")
            col = len(row)
            continued = merge == "continue" and rows and col < len(rows[-1])
            text = rows[-1][col] if continued else _cell_text(tc, limit)
            row.extend([text] * span)
        limit.row(len(row))
        rows.append(row)
    return rows


_CN = "一二三四五六七八九"


def _chinese(n: int) -> str:
    if n < 10:
        return _CN[n - 1] if n > 0 else "〇"
    tens, ones = divmod(n, 10)
    return (_CN[tens - 1] if tens > 1 else "") + "十" + (_CN[ones - 1] if ones else "")


_FORMATS = {
    "decimal": str, "chineseCounting": _chinese, "chineseCountingThousand": _chinese,
    "ideographTraditional": _chinese, "japaneseCounting": _chinese,
    "decimalEnclosedCircle": lambda n: chr(0x2460 + n - 1) if 0 < n <= 20 else str(n),
    "decimalEnclosedCircleChinese": lambda n: chr(0x2460 + n - 1) if 0 < n <= 20 else str(n),
}


class _Numbering:
    """Word's automatic list numbers, which are not in the paragraph's text: a notice's
    "1." "（一）" "一、" come back as the list definition writes them."""

    def __init__(self, document) -> None:
        from docx.oxml.ns import qn

        self.levels: dict[tuple[str, str], tuple[str, str]] = {}  # (numId, ilvl) -> (fmt, text)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {a.get(qn("w:abstractNumId")): a for a in root.iter(qn("w:abstractNum"))}
        for num in root.iter(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            definition = abstract.get(ref.get(qn("w:val")) if ref is not None else None)
            if definition is None:
                continue
            for lvl in definition.iter(qn("w:lvl")):
                fmt, text = lvl.find(qn("w:numFmt")), lvl.find(qn("w:lvlText"))
                self.levels[(num.get(qn("w:numId")), lvl.get(qn("w:ilvl")))] = (
                    fmt.get(qn("w:val")) if fmt is not None else "decimal",
                    text.get(qn("w:val")) if text is not None else "",
                )

    def marker(self, p) -> str:
        from docx.oxml.ns import qn

        num_pr = p.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        if num_pr is None:
            return ""
        num_id = num_pr.find(qn("w:numId"))
        ilvl = num_pr.find(qn("w:ilvl"))
        num = num_id.get(qn("w:val")) if num_id is not None else None
        level = ilvl.get(qn("w:val"), "0") if ilvl is not None else "0"
        if (num, level) not in self.levels or not level.isdigit():
            return ""
        counts = self.counters.setdefault(num, {})
        depth = int(level)
        counts[depth] = counts.get(depth, 0) + 1
        for deeper in [d for d in counts if d > depth]:
            del counts[deeper]  # a new item restarts the numbers under it
        text = self.levels[(num, level)][1]
        for d in range(depth, -1, -1):
            fmt = self.levels.get((num, str(d)), ("decimal", ""))[0]
            text = text.replace(f"%{d + 1}", _FORMATS.get(fmt, str)(counts.get(d, 1)))
        return text
