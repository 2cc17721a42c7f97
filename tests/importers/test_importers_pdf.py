"""PDF with a text layer, scanned PDF and images: the same tasks as the .docx they were made
from, and one line with an exit status for every PDF that cannot be read."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from office_fixtures import demo_spec, office_file, scan, soffice, summary, tiny_pdf

from reminder.errors import ImportDoubtful, ImportFailed
from reminder.importers import import_document, progress, read_grid
from reminder.importers.writer import read_tasks_csv

NO_SOFFICE = "LibreOffice 未安装（Debian 软件包 libreoffice-writer-nogui）"


def _has_ocr() -> bool:
    try:
        import cv2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def imported(source: Path, out: Path):
    import_document(source, out)
    return read_tasks_csv(out / "tasks.csv")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """The demo plan as .docx and PDF, and a four-times-longer one that runs over pages."""
    folder = tmp_path_factory.mktemp("pdf")
    files = {"docx": office_file("docx", folder / "one"),
             "long-docx": office_file("docx", folder / "long", demo_spec(4))}
    if soffice():
        files["pdf"] = office_file("pdf", folder / "one")
        files["long-pdf"] = office_file("pdf", folder / "long", demo_spec(4))
    return {k: v for k, v in files.items() if v is not None}


def _need(made: dict[str, Path], key: str) -> Path:
    if key not in made:
        pytest.skip(NO_SOFFICE)
    return made[key]


def test_text_pdf_gives_the_docx_tasks(made, tmp_path: Path) -> None:
    tasks = imported(_need(made, "pdf"), tmp_path / "pdf")
    reference = imported(made["docx"], tmp_path / "docx")
    assert len(tasks) == 16
    assert summary(tasks) == summary(reference)
    assert [(t.title, t.section) for t in tasks] == [(t.title, t.section) for t in reference]


def test_table_over_many_pages(made, tmp_path: Path) -> None:
    """Header repeated on every page (never a task), rows split by a page break rejoined,
    the 工作任务 cell merged across a break filled on both sides."""
    source = _need(made, "long-pdf")
    pages = int(subprocess.run(["pdfinfo", str(source)], capture_output=True, text=True).stdout
                .split("Pages:")[1].split()[0]) if shutil.which("pdfinfo") else 0
    assert pages == 0 or pages >= 5
    tasks = imported(source, tmp_path / "pdf")
    reference = imported(made["long-docx"], tmp_path / "docx")
    assert len(tasks) == len(reference) == 64
    assert summary(tasks) == summary(reference)
    assert [(t.title, t.section) for t in tasks] == [(t.title, t.section) for t in reference]
    assert not any("序号" in t.title or "具体工作" in t.title for t in tasks)


def test_reminder_plan_takes_a_pdf_directly(made) -> None:
    source = _need(made, "pdf")
    result = subprocess.run([sys.executable, "-m", "reminder", "plan", str(source)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "财务科" in result.stdout


def test_encrypted_pdf_is_one_line(made, tmp_path: Path) -> None:
    if not shutil.which("qpdf"):
        pytest.skip("qpdf 未安装（Debian 软件包 qpdf）")
    source = tmp_path / "locked.pdf"
    subprocess.run(["qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--",
                    str(_need(made, "pdf")), str(source)], check=True)
    _one_line(source, tmp_path, "已加密", 2)


def test_pdf_without_text_or_image(tmp_path: Path) -> None:
    source = tmp_path / "blank.pdf"
    source.write_bytes(tiny_pdf(["", ""]))
    _one_line(source, tmp_path, "既没有文字也没有图片", 2)


def _one_line(source: Path, tmp_path: Path, words: str, status: int) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_document(source, tmp_path / "plan")
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == status
    result = subprocess.run([sys.executable, "-m", "reminder", "import", str(source), "-o",
                             str(tmp_path / "plan")], capture_output=True, text=True, timeout=60)
    assert result.returncode == status and result.stderr.count("\n") == 1, result.stderr


def test_300_pages_bounded_with_progress(tmp_path: Path) -> None:
    """Pages are counted to the progress bar one by one; time and memory stay small."""
    source = tmp_path / "long.pdf"
    source.write_bytes(tiny_pdf([f"Page {n} of a long annex" for n in range(1, 301)]))
    ticks: list[tuple[int | None, str]] = []
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with progress.reporting(lambda total, label: ticks.append((total, label))):
        grid = read_grid(source)
    assert time.monotonic() - started < 30
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300 * 1024  # KiB
    assert ticks[0] == (300, "读取 PDF 页面") and ticks.count((0, "")) == 300
    assert len(grid.context) == 300 and grid.context[-1] == "Page 300 of a long annex"


def test_page_numbers_and_running_heads_are_dropped(tmp_path: Path) -> None:
    from reminder.importers import layout

    pages = [layout.Page(number=n, width=600, height=800, lines=[
        layout.Line(250, 20, 350, 32, "示例市数据管理局文件"),
        layout.Line(72, 300, 500, 312, f"正文第{n}段。"),
        layout.Line(280, 770, 320, 782, f"- {n} -"),
    ]) for n in (1, 2, 3)]
    assert layout.grid(pages).context == ["正文第1段。", "正文第2段。", "正文第3段。"]


def test_numbered_notice_pdf_goes_through_the_notice_parser(tmp_path: Path) -> None:
    """A notice's numbered items, wrapped over lines as a PDF lays them out, become tasks."""
    from reminder.importers import layout
    from reminder.importers.table import build_table

    wrapped = [
        (72, "关于做好2026年政务公开工作的通知"),
        (96, "1.做好规划公开工作，在门户网站集中发布发展规划及其解读材料（责任单位：办公"),
        (72, "室；完成时限：2026年6月底前）。"),
        (96, "2.持续更新主动公开目录（责任单位：法规科；完成时限：长期）。"),
    ]
    lines = [layout.Line(x, 100 + 20 * i, 520 if len(t) > 30 else 72 + 12 * len(t), 112 + 20 * i, t)
             for i, (x, t) in enumerate(wrapped)]
    table = build_table(layout.grid([layout.Page(number=1, width=600, height=800, lines=lines)]))
    assert [(t.lead, t.deadline_text) for t in table.tasks] == [
        (("办公室",), "2026年6月底前"), (("法规科",), "长期")]


# -- scans ----------------------------------------------------------------------------------


@pytest.mark.skipif(not _has_ocr(), reason="OCR 组件未安装（pip install 'reminder[ocr]'）")
def test_rotated_150_dpi_scan_gives_the_same_tasks(made, tmp_path: Path) -> None:
    """A 150 dpi scan fed one degree askew: the same tasks, units and deadlines, or exit 3
    naming only the cells OCR doubts."""
    if not (shutil.which("pdftoppm") and shutil.which("img2pdf")):
        pytest.skip("pdftoppm/img2pdf 未安装（Debian 软件包 poppler-utils、img2pdf）")
    source = scan(_need(made, "pdf"), tmp_path / "scan.pdf", dpi=150, rotate=1.0)
    reference = imported(made["docx"], tmp_path / "docx")
    try:
        tasks = imported(source, tmp_path / "scan")
    except ImportDoubtful as doubt:
        assert "第" in str(doubt) and "页" in str(doubt), str(doubt)
        return
    assert len(tasks) == 16
    assert [(t.lead, t.support) for t in tasks] == [(t.lead, t.support) for t in reference]
    assert [t.deadline_text for t in tasks] == [t.deadline_text for t in reference]


def _ruled_page(path: Path) -> list[tuple[int, int, int, int, str]]:
    """A 3-column ruled table drawn as a scan would show it; returns each cell's box and text."""
    import cv2
    import numpy as np

    image = np.full((1200, 900), 255, np.uint8)
    xs, ys = [100, 300, 600, 800], [200, 300, 420, 540]
    for x in xs:
        cv2.line(image, (x, ys[0]), (x, ys[-1]), 0, 2)
    for y in ys:
        cv2.line(image, (xs[0], y), (xs[-1], y), 0, 2)
    cv2.imwrite(str(path), image)
    texts = [["具体要求", "责任单位", "完成时限"],
             ["1.更新公开目录。", "法规科", "长期"],
             ["2.发布年度报告。", "办公室", "次年1月31日前"]]
    return [(xs[c] + 10, ys[r] + 10, xs[c + 1] - 10, ys[r] + 40, texts[r][c])
            for r in range(3) for c in range(3)]


@pytest.mark.skipif(not _has_ocr(), reason="OCR 组件未安装（pip install 'reminder[ocr]'）")
def test_doubted_cells_are_named_and_exit_3(tmp_path: Path, monkeypatch) -> None:
    """The table comes from the ruling lines; a cell the engine reads at 0.41 stops the import
    with exit 3, naming page, row, column and text; the others are not named."""
    from reminder.importers import ocr

    source = tmp_path / "page.png"
    cells = _ruled_page(source)
    boxes = [ocr.Box(x0, top, x1, bottom, text, 0.41 if text == "办公室" else 0.97)
             for x0, top, x1, bottom, text in cells]
    monkeypatch.setattr(ocr, "engine", lambda path: lambda image: boxes)
    with pytest.raises(ImportDoubtful) as caught:
        import_document(source, tmp_path / "plan")
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert "第1页表格第3行第2列“办公室”" in message
    assert "法规科" not in message and "\n" not in message
    import_document(source, tmp_path / "plan", accept=True)
    tasks = read_tasks_csv(tmp_path / "plan" / "tasks.csv")
    assert [(t.lead, t.deadline_text) for t in tasks] == [(("法规科",), "长期"), (("办公室",), "次年1月31日前")]


def test_scan_without_ocr_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    from reminder.importers import ocr

    def missing(path):
        raise ocr._missing(path)

    monkeypatch.setattr(ocr, "engine", missing)
    source = tmp_path / "scan.pdf"
    source.write_bytes(tiny_pdf([""], image=True))
    with pytest.raises(ImportFailed, match=r"reminder\[ocr\]") as caught:
        import_document(source, tmp_path / "plan")
    assert caught.value.exit_code == 2


# -- OFD ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pdf", "docx", "count"), [("pdf", "docx", 16), ("long-pdf", "long-docx", 64)])
def test_ofd_gives_the_docx_tasks(pdf: str, docx: str, count: int, made, tmp_path: Path) -> None:
    """The PDF's characters and ruling lines written as OFD text and path objects: the same
    tasks, sections and title as the .docx."""
    from office_fixtures import pdf_to_ofd

    source = pdf_to_ofd(_need(made, pdf), tmp_path / "方案.ofd")
    tasks = imported(source, tmp_path / "ofd")
    reference = imported(made[docx], tmp_path / "docx")
    assert len(tasks) == len(reference) == count
    assert summary(tasks) == summary(reference)
    assert [(t.title, t.section) for t in tasks] == [(t.title, t.section) for t in reference]
    plan = (tmp_path / "ofd" / "plan.toml").read_text(encoding="utf-8")
    assert 'title = "示例市数据管理局2026年政务公开工作要点分工方案"' in plan


@pytest.mark.parametrize(("parts", "words"), [
    ({"OFD.xml": "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody><ofd:DocRoot>"
                 "Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"}, "缺少部件"),
    ({"OFD.xml": "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'><ofd:DocBody>"}, "无法解析"),
    ({"OFD.xml": '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ofd:OFD/>'}, "DOCTYPE"),
])
def test_broken_ofd_is_one_line(parts: dict[str, str], words: str, tmp_path: Path) -> None:
    import zipfile

    source = tmp_path / "broken.ofd"
    with zipfile.ZipFile(source, "w") as package:
        for name, text in parts.items():
            package.writestr(name, text)
    _one_line(source, tmp_path, words, 2)
