"""Web pages saved from a government site: any encoding, rowspan/colspan expanded."""

from __future__ import annotations

from pathlib import Path

from reminder.encoding import declared_charset, decode_text
from reminder.errors import ImportFailed
from reminder.importers.safety import WorkLimit
from reminder.importers.table import Grid

_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "tr", "title")


def decode(data: bytes) -> str:
    """A saved page's text: its byte order mark, else its meta charset, else as any text."""
    return decode_text(data, declared=declared_charset(data))


class HtmlImporter:
    name = "网页"
    suffixes = (".html", ".htm", ".shtml", ".xhtml", ".mht")

    def read(self, path: Path, data: bytes) -> Grid:
        from lxml import etree, html

        text = decode(data)
        # No network, no entity expansion: a saved page is only ever read, never resolved.
        parser = html.HTMLParser(
            encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True
        )
        try:
            root = html.document_fromstring(text.encode("utf-8"), parser=parser)
        except (etree.ParserError, ValueError):
            raise ImportFailed("网页内容为空或无法解析", file=path) from None
        for junk in root.xpath("//script|//style|//noscript"):
            junk.drop_tree()

        tables = [t for t in root.iter("table") if not t.xpath(".//table")]
        rows: list[list[str]] = []
        limit = WorkLimit(path)
        for table in tables:
            rows.extend(_table_rows(table, limit))
        context = [t.text_content().strip() for t in root.iter("title", "h1", "h2", "h3")]
        for table in tables:  # layout tables stay: the title often sits in one
            table.drop_tree()
        context += _lines(root)
        return Grid(rows=rows, context=[c for c in context if c])


def _lines(root) -> list[str]:
    """The page's visible text, one block element per line."""
    for element in root.iter(*_BLOCKS, "br"):
        element.tail = "\n" + (element.tail or "")
    return [line.strip() for line in root.text_content().split("\n") if line.strip()]


def _cell_text(cell) -> str:
    for br in cell.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in cell.iter("p", "div", "li"):
        block.tail = "\n" + (block.tail or "")
    return cell.text_content()


def _span(cell, name: str) -> int:
    try:
        return max(1, min(int(cell.get(name, "1").strip() or 1), 500))
    except ValueError:
        return 1


def _table_rows(table, limit: WorkLimit) -> list[list[str]]:
    """The usual rowspan/colspan walk: cells carried down by rowspan fill their grid slots
    before the next cell of the row is placed. Every row counts against the limit: a few
    cells spanning 500 x 500 each are a quarter of a million cells apiece."""
    rows: list[list[str]] = []
    pending: dict[int, tuple[int, str]] = {}  # column -> (rows left, text)

    def carry(row: list[str]) -> None:
        while len(row) in pending:
            col = len(row)
            left, text = pending[col]
            row.append(text)
            if left <= 1:
                del pending[col]
            else:
                pending[col] = (left - 1, text)

    for tr in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
        row: list[str] = []
        for cell in tr.xpath("./td|./th"):
            carry(row)
            text = _cell_text(cell)
            rowspan, colspan = _span(cell, "rowspan"), _span(cell, "colspan")
            for _ in range(colspan):
                if rowspan > 1:
                    pending[len(row)] = (rowspan - 1, text)
                row.append(text)
        carry(row)
        while pending and max(pending) >= len(row):  # spans beyond this row's last cell
            if len(row) not in pending:
                row.append("")
            carry(row)
        limit.row(len(row))
        rows.append(row)
    return rows
