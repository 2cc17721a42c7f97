"""OFD (GB/T 33190, China's fixed-layout format): a zip of XML pages whose text objects carry
their positions and whose path objects draw the table's ruling lines.

Read directly with lxml: OFD.xml names the document, the document lists its pages, each page's
TextObjects become positioned text and its straight PathObject strokes become edges, from which
pdfplumber's own cell finder (the one the PDF reader uses) builds the cells. No OFD library
on PyPI is both maintained and light (easyofd renders through PyMuPDF and reportlab).
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import zipfile
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers import layout, progress
from reminder.importers.table import Grid

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MAX_PAGES = 1000


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _children(element, name: str):
    return [c for c in element.iter() if _local(c.tag) == name]


def _floats(text: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


def _deltas(text: str | None) -> list[float]:
    """DeltaX/DeltaY: numbers, where "g N d" stands for N copies of d."""
    tokens = (text or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            out.extend([float(tokens[i + 2])] * int(float(tokens[i + 1])))
            i += 3
        else:
            with contextlib.suppress(ValueError):  # a stray token: skipped, not fatal
                out.append(float(tokens[i]))
            i += 1
    return out


class _Package:
    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = {n.lstrip("/").lower(): n for n in self.zip.namelist()}

    def xml(self, name: str):
        from lxml import etree

        real = self.names.get(name.lstrip("/").lower())
        if real is None:
            raise ImportFailed("OFD 文件不完整，缺少部件", file=self.path, place=name,
                               hint="请用 OFD 阅读器打开确认后重新导出")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
        try:
            return etree.fromstring(self.zip.read(real), parser=parser)
        except etree.XMLSyntaxError:
            raise ImportFailed("OFD 文件已损坏，部件无法解析", file=self.path, place=name) from None


def _join(base: str, location: str) -> str:
    if location.startswith("/"):
        return location.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), location))


def _page(package: _Package, name: str, number: int, box: list[float]) -> layout.Page:
    root = package.xml(name)
    area = _children(root, "PhysicalBox")
    if area:
        box = _floats(area[0].text) or box
    width, height = (box[2], box[3]) if len(box) == 4 else (210.0, 297.0)
    pieces: list[layout.Line] = []
    edges: list[dict] = []
    for obj in root.iter():
        kind = _local(obj.tag)
        if kind == "TextObject":
            pieces.extend(_text(obj))
        elif kind == "PathObject":
            edges.extend(_edges(obj))
    page = layout.Page(number=number, width=width, height=height)
    boxes = []
    for cells in _cells(edges):
        table_cells = []
        for x0, top, x1, bottom in cells:
            inside = [p for p in pieces
                      if x0 <= (p.x0 + p.x1) / 2 <= x1 and top <= (p.top + p.bottom) / 2 <= bottom]
            text = layout.join_wrapped([line.text for line in layout.reading_order(inside)])
            table_cells.append(layout.Cell(x0, top, x1, bottom, text))
        built = layout.build_table(table_cells, tolerance=1.0)
        if built is not None and len(built.columns) >= 3:
            page.tables.append(built)
            boxes.append((min(c[0] for c in cells), min(c[1] for c in cells),
                          max(c[2] for c in cells), max(c[3] for c in cells)))
    page.lines = [p for p in pieces if not any(
        b[0] <= (p.x0 + p.x1) / 2 <= b[2] and b[1] <= (p.top + p.bottom) / 2 <= b[3] for b in boxes)]
    return page


def _text(obj) -> list[layout.Line]:
    """Each TextCode as one positioned piece (in mm from the page's top left)."""
    bx, by, _, _ = ([*_floats(obj.get("Boundary")), 0, 0, 0, 0])[:4]
    size = float(obj.get("Size") or 3.5)
    out = []
    for code in _children(obj, "TextCode"):
        text = code.text or ""
        if not text:
            continue
        x = bx + float(code.get("X") or 0)
        baseline = by + float(code.get("Y") or size)
        advance = sum(_deltas(code.get("DeltaX"))[: len(text) - 1]) + size
        out.append(layout.Line(x, baseline - size, x + advance, baseline, text))
    return out


def _edges(obj) -> list[dict]:
    """Straight horizontal and vertical strokes of a path (M/L commands), as pdfplumber edges."""
    bx, by = ([*_floats(obj.get("Boundary")), 0, 0])[:2]
    data = next((c.text for c in obj if _local(c.tag) == "AbbreviatedData"), "") or ""
    tokens = re.findall(r"[A-Za-z]|" + _NUMBER.pattern, data)
    points: list[tuple[float, float]] = []
    edges = []
    start: tuple[float, float] | None = None
    i = 0
    while i < len(tokens):
        op = tokens[i]
        if op in ("M", "L") and i + 2 < len(tokens):
            point = (bx + float(tokens[i + 1]), by + float(tokens[i + 2]))
            if op == "L" and points:
                edges.append(_edge(points[-1], point))
            if op == "M":
                start = point
            points.append(point)
            i += 3
        elif op in ("C", "Z"):
            if op == "Z" and points and start is not None:
                edges.append(_edge(points[-1], start))
            i += 1
        else:
            i += 1
    return [e for e in edges if e is not None]


def _edge(a: tuple[float, float], b: tuple[float, float]) -> dict | None:
    (x0, y0), (x1, y1) = a, b
    if abs(y0 - y1) < 0.3 and abs(x1 - x0) > 1:
        left, right = sorted((x0, x1))
        return {"x0": left, "x1": right, "top": y0, "bottom": y0, "width": right - left,
                "height": 0, "orientation": "h", "object_type": "line"}
    if abs(x0 - x1) < 0.3 and abs(y1 - y0) > 1:
        top, bottom = sorted((y0, y1))
        return {"x0": x0, "x1": x0, "top": top, "bottom": bottom, "width": 0,
                "height": bottom - top, "orientation": "v", "object_type": "line"}
    return None


def _cells(edges: list[dict]) -> list[list[tuple[float, float, float, float]]]:
    from pdfplumber import table

    if not edges:
        return []
    merged = table.merge_edges(edges, 1, 1, 1, 1)
    points = table.edges_to_intersections(merged, 0.5, 0.5)
    return table.cells_to_tables(table.intersections_to_cells(points))


class OfdImporter:
    name = "OFD 版式文件"
    suffixes = (".ofd",)

    def read(self, path: Path, data: bytes) -> Grid:
        package = _Package(path, data)
        root = package.xml("OFD.xml")
        doc_roots = _children(root, "DocRoot")
        if not doc_roots or not (doc_roots[0].text or "").strip():
            raise ImportFailed("OFD 文件没有文档", file=path, hint="请用 OFD 阅读器打开确认后重新导出")
        document_name = doc_roots[0].text.strip().lstrip("/")
        document = package.xml(document_name)
        box = next((_floats(b.text) for b in _children(document, "PhysicalBox")), [0, 0, 210, 297])
        pages = [p.get("BaseLoc") for p in _children(document, "Page") if p.get("BaseLoc")]
        if not pages:
            raise ImportFailed("OFD 文件没有页面", file=path)
        if len(pages) > MAX_PAGES:
            raise ImportFailed(f"OFD 页数过多（{len(pages)} 页，上限 {MAX_PAGES} 页）", file=path)
        progress.start(len(pages), "读取 OFD 页面")
        read = []
        for number, location in enumerate(pages, start=1):
            read.append(_page(package, _join(document_name, location), number, box))
            progress.step()
        return layout.grid(read)
