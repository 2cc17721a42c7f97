"""Word .docx: every table's rows with gridSpan and vMerge expanded, plus the paragraphs."""

from __future__ import annotations

from pathlib import Path

from reminder.errors import ImportFailed
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

        rows: list[list[str]] = []
        context: list[str] = []
        body = document.element.body
        for child in body.iterchildren():
            if child.tag == qn("w:p"):
                text = _paragraph_text(child)
                if text.strip():
                    context.append(text.strip())
            elif child.tag == qn("w:tbl"):
                rows.extend(_table_rows(child))
        return Grid(rows=rows, context=context)


def _paragraph_text(p) -> str:
    from docx.oxml.ns import qn

    parts = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")):
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        elif node.tag == qn("w:tab"):
            parts.append(" ")
        else:
            parts.append("\n")
    return "".join(parts)


def _cell_text(tc) -> str:
    from docx.oxml.ns import qn

    # Only the cell's own paragraphs: a nested table is read as its own text lines.
    return "\n".join(_paragraph_text(p) for p in tc.iter(qn("w:p")))


def _table_rows(tbl) -> list[list[str]]:
    """Expand a table: gridSpan copies a cell rightwards, vMerge="continue" copies the cell
    above at the same grid column, gridBefore leaves leading columns empty."""
    from docx.oxml.ns import qn

    rows: list[list[str]] = []
    for tr in tbl.iterchildren(qn("w:tr")):
        row: list[str] = []
        before = tr.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}")
        if before is not None:
            row.extend([""] * int(before.get(qn("w:val"), "0") or 0))
        for tc in tr.iterchildren(qn("w:tc")):
            span = 1
            merge = None
            tc_pr = tc.find(qn("w:tcPr"))
            if tc_pr is not None:
                grid_span = tc_pr.find(qn("w:gridSpan"))
                if grid_span is not None:
                    span = max(1, int(grid_span.get(qn("w:val"), "1") or 1))
                v_merge = tc_pr.find(qn("w:vMerge"))
                if v_merge is not None:
                    merge = v_merge.get(qn("w:val"), "continue")
            col = len(row)
            continued = merge == "continue" and rows and col < len(rows[-1])
            text = rows[-1][col] if continued else _cell_text(tc)
            row.extend([text] * span)
        rows.append(row)
    return rows
