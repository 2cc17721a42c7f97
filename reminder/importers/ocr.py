"""Scanned PDF pages and images (.png .jpg .tif): OCR, with the table rebuilt from its ruling
lines.

Each page is straightened (a sheet fed askew is turned back by the angle of its long lines),
its ruling lines found with OpenCV (morphological opening keeps only long strokes), the cells
taken as the regions those lines enclose, and every text box the OCR engine returns put in the
cell holding its centre. The engine is RapidOCR (PaddleOCR's Chinese models run by ONNX
Runtime, the models inside the wheel, so it works offline); Tesseract with chi_sim is the
alternative where it is installed (``REMINDER_OCR=tesseract``; docs/performance.md compares
them). A cell read with low confidence is named (page, row, column, text), so the import stops
with exit 3 and a clerk checks only those.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reminder.errors import ImportFailed
from reminder.importers import layout, progress
from reminder.importers.table import Grid

DPI = 200  # rendering of a scanned PDF page; scans are usually 150–300 dpi
THRESHOLD = 0.80  # below this a cell's text is doubted (the engines' own per-line scores)
MAX_PAGES = 100  # about 3 s a page: a longer scan is not a plan, and the wait is bounded
MAX_PIXELS = 40_000_000  # a page image larger than A3 at 600 dpi is refused, not decoded
EXTRA = "pip install 'reminder[ocr]'"
# Characters the engines confuse with the punctuation a plan uses (丶 is the enumeration comma).
_FIXES = str.maketrans({"丶": "、"})
_SNAP = 6.0  # pixels: cell boxes are grown by this to meet on the line between them
# What OCR adds to the reading child's ceilings (safety.run_bounded): ONNX Runtime maps about
# 2 GB of address space for its arenas and threads, and a page takes up to ~20 s of CPU on 2
# cores under load. The child raises its own soft limits by this much, never past the hard ones.
OCR_ADDRESS_SPACE = 3 * 1024**3
OCR_CPU_PER_PAGE = 60


def _grant(pages: int) -> None:
    import resource

    for kind, extra in ((resource.RLIMIT_AS, OCR_ADDRESS_SPACE),
                        (resource.RLIMIT_CPU, OCR_CPU_PER_PAGE * pages)):
        soft, hard = resource.getrlimit(kind)
        if soft == resource.RLIM_INFINITY:
            continue
        wanted = soft + extra if hard == resource.RLIM_INFINITY else min(hard, soft + extra)
        resource.setrlimit(kind, (wanted, hard))


@dataclass
class Box:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    score: float


Engine = Callable[[object], list[Box]]


def _missing(path: Path) -> ImportFailed:
    return ImportFailed("这是扫描件或图片，需要 OCR 组件才能识别，本机没有安装", file=path,
                        hint=f"安装命令：{EXTRA}；或向发文单位索取 Word/Excel 原件")


def engine(path: Path) -> Engine:
    """The OCR engine: RapidOCR by default, Tesseract when asked for (or when it is the only
    one installed)."""
    wanted = os.environ.get("REMINDER_OCR", "").strip().lower()
    if wanted != "tesseract":
        try:
            return _rapid()
        except ImportError:
            if wanted == "rapidocr":
                raise _missing(path) from None
    if shutil.which("tesseract"):
        try:
            import cv2  # noqa: F401
            import numpy  # noqa: F401
        except ImportError:
            raise _missing(path) from None
        return _tesseract
    raise _missing(path)


_RAPID: list[object] = []


def _rapid() -> Engine:
    from rapidocr_onnxruntime import RapidOCR

    if not _RAPID:
        _RAPID.append(RapidOCR())
    reader = _RAPID[0]

    def run(image) -> list[Box]:
        try:
            result, _ = reader(image)
        except Exception as exc:  # ONNX Runtime's errors (out of memory mostly) are not bugs here
            raise ImportFailed("OCR 识别失败（内存或计算资源不足）",
                               hint=f"请把扫描件拆成较少的页后再导入（{type(exc).__name__}）") from None
        boxes = []
        for points, text, score in result or []:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            boxes.append(Box(min(xs), min(ys), max(xs), max(ys), text.translate(_FIXES), float(score)))
        return boxes

    return run


def _tesseract(image) -> list[Box]:
    """Tesseract's words grouped into its lines; a line's score is its weakest word's."""
    import cv2

    with tempfile.TemporaryDirectory(prefix="reminder-ocr-") as tmp:
        source = Path(tmp) / "page.png"
        cv2.imwrite(str(source), image)
        out = subprocess.run(
            ["tesseract", str(source), "-", "-l", "chi_sim", "--psm", "11", "tsv"],
            capture_output=True, text=True, timeout=300, check=False,
        )
    lines: dict[tuple[str, ...], list[list[str]]] = {}
    for row in out.stdout.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) == 12 and cols[11].strip() and float(cols[10]) >= 0:
            lines.setdefault(tuple(cols[1:5]), []).append(cols)
    boxes = []
    for words in lines.values():
        x0 = min(int(w[6]) for w in words)
        top = min(int(w[7]) for w in words)
        x1 = max(int(w[6]) + int(w[8]) for w in words)
        bottom = max(int(w[7]) + int(w[9]) for w in words)
        text = "".join(w[11].strip() for w in words).translate(_FIXES)
        boxes.append(Box(x0, top, x1, bottom, text, min(float(w[10]) for w in words) / 100))
    return boxes


# -- the page -------------------------------------------------------------------------------


def deskew(gray):
    """The page turned back by the median angle of its long near-horizontal lines."""
    import cv2
    import numpy as np

    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    width = gray.shape[1]
    found = cv2.HoughLinesP(binary, 1, np.pi / 1800, threshold=200, minLineLength=width // 4,
                            maxLineGap=10)
    if found is None:
        return gray
    angles = [np.degrees(np.arctan2(y2 - y1, x2 - x1)) for x1, y1, x2, y2 in found.reshape(-1, 4)]
    angles = [a for a in angles if abs(a) < 5]
    if not angles:
        return gray
    angle = float(np.median(angles))
    if abs(angle) < 0.05:
        return gray
    h, w = gray.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def table_cells(gray) -> list[list[layout.Cell]]:
    """Each ruled table's cells: the regions its horizontal and vertical strokes enclose."""
    import cv2

    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    h, w = binary.shape
    horizontal = cv2.morphologyEx(binary, cv2.MORPH_OPEN,
                                  cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    vertical = cv2.morphologyEx(binary, cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(20, h // 60))))
    ruling = cv2.dilate(horizontal | vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    tables = []
    count, _, stats, _ = cv2.connectedComponentsWithStats(ruling, connectivity=8)
    regions = cv2.connectedComponentsWithStats(255 - ruling, connectivity=4)
    for i in range(1, count):
        x, y, tw, th, _ = stats[i]
        if tw < w / 4 or th < h / 20:
            continue  # a rule under a title, not a table
        cells = []
        _, _, cell_stats, _ = regions
        for cx, cy, cw, ch, _ in cell_stats[1:]:
            if cx > x and cy > y and cx + cw < x + tw and cy + ch < y + th and cw > 8 and ch > 8:
                cells.append(layout.Cell(cx - _SNAP, cy - _SNAP, cx + cw + _SNAP, cy + ch + _SNAP))
        if len(cells) >= 3:
            tables.append(cells)
    return tables


def ocr_page(gray, number: int, run: Engine) -> tuple[layout.Page, list[str]]:
    """One page image → its tables and lines, and the cells read with low confidence."""
    gray = deskew(gray)
    boxes = run(gray)
    h, w = gray.shape
    page = layout.Page(number=number, width=float(w), height=float(h))
    used: set[int] = set()
    doubts: list[str] = []
    for cells in table_cells(gray):
        for cell in cells:
            inside = [n for n, b in enumerate(boxes) if n not in used and _centre_in(b, cell)]
            used.update(inside)
            pieces = [layout.Line(boxes[n].x0, boxes[n].top, boxes[n].x1, boxes[n].bottom,
                                  boxes[n].text) for n in inside]
            cell.text = layout.join_wrapped([line.text for line in layout.reading_order(pieces)])
            cell.score = min((boxes[n].score for n in inside), default=1.0)
        table = layout.build_table(cells, tolerance=2 * _SNAP)
        if table is None:
            continue
        page.tables.append(table)
        for r, row in enumerate(table.cell_of):
            for c, owner in enumerate(row):
                cell = cells[owner] if owner >= 0 else None
                first = cell is not None and (r == 0 or table.cell_of[r - 1][c] != owner) and (
                    c == 0 or row[c - 1] != owner)
                if first and cell.score < THRESHOLD:
                    doubts.append(f"第{number}页表格第{r + 1}行第{c + 1}列“{cell.text[:12]}”")
    page.lines = [layout.Line(b.x0, b.top, b.x1, b.bottom, b.text)
                  for n, b in enumerate(boxes) if n not in used]
    doubts += [f"第{number}页“{b.text[:12]}”" for n, b in enumerate(boxes)
               if n not in used and b.score < THRESHOLD]
    return page, doubts


def _centre_in(box: Box, cell: layout.Cell) -> bool:
    x, y = (box.x0 + box.x1) / 2, (box.top + box.bottom) / 2
    return cell.x0 <= x <= cell.x1 and cell.top <= y <= cell.bottom


def _note(doubts: Sequence[str]) -> list[str]:
    if not doubts:
        return []
    shown = "、".join(doubts[:8]) + (f" 等 {len(doubts)} 处" if len(doubts) > 8 else "")
    return [f"OCR 识别可信度低于 {THRESHOLD:.0%} 的内容：{shown}，请对照原件核对"]


def read_pdf_pages(path: Path, data: bytes, numbers: Sequence[int]) -> tuple[list[layout.Page], list[str]]:
    """The scanned pages of a PDF (1-based numbers), rendered and read."""
    run = engine(path)
    import pypdfium2

    if len(numbers) > MAX_PAGES:
        raise ImportFailed(f"扫描页过多（{len(numbers)} 页，上限 {MAX_PAGES} 页）", file=path,
                           hint="请只保留任务分工表所在的页面后再导入")
    _grant(len(numbers))
    document = pypdfium2.PdfDocument(data)
    pages, doubts = [], []
    try:
        progress.start(len(numbers), "OCR 识别扫描页")
        for number in numbers:
            page = document[number - 1]
            bitmap = page.render(scale=DPI / 72, grayscale=True)
            image = bitmap.to_numpy().copy()
            bitmap.close()
            page.close()
            found, doubted = ocr_page(_gray(image), number, run)
            pages.append(found)
            doubts += doubted
            progress.step()
    finally:
        document.close()
    return pages, _note(doubts)


def _gray(image):
    import cv2

    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return image


class ImageImporter:
    name = "图片"
    suffixes = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")

    def read(self, path: Path, data: bytes) -> Grid:
        import io

        run = engine(path)
        import numpy as np
        from PIL import Image, ImageSequence, UnidentifiedImageError

        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            image = Image.open(io.BytesIO(data))
            frames = [np.array(frame.convert("L")) for frame in ImageSequence.Iterator(image)]
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
                Image.DecompressionBombError) as exc:
            raise ImportFailed("图片已损坏或过大，无法读取", file=path,
                               hint=f"请重新扫描或另存为 PNG/JPEG（{type(exc).__name__}）") from None
        if len(frames) > MAX_PAGES:
            raise ImportFailed(f"图片页数过多（{len(frames)} 页，上限 {MAX_PAGES} 页）", file=path)
        _grant(len(frames))
        pages, doubts = [], []
        progress.start(len(frames), "OCR 识别图片")
        for number, frame in enumerate(frames, start=1):
            page, doubted = ocr_page(frame, number, run)
            pages.append(page)
            doubts += doubted
            progress.step()
        return layout.grid(pages, _note(doubts))
