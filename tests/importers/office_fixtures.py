"""The example plan (examples/demo-2026) as a Word table, and the same document in the formats
offices receive it in, made with the tools an office's files come from: LibreOffice for .doc,
.xls and PDF, pdftoppm and img2pdf for a scan. Each maker returns None when its tool is missing
(the tests then skip, naming the Debian package).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from test_importers_common import LEFT, UP, Spec, write_docx, write_xlsx

from reminder.importers.writer import read_tasks_csv
from reminder.models import Task

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-2026"
TITLE = "示例市数据管理局2026年政务公开工作要点分工方案"
HEADER = ["序号", "工作任务", "具体工作", "牵头单位", "配合单位", "完成时限"]


def demo_tasks() -> list[Task]:
    return read_tasks_csv(DEMO / "tasks.csv")


def demo_spec(repeat: int = 1) -> Spec:
    """The demo plan's table as an office writes it: top sections as rows spanning the table,
    the sub-section cell merged down over its tasks. ``repeat`` > 1 appends copies of the
    tasks (numbered on) to make a table that runs over many pages."""
    rows: list[list[str]] = [HEADER]
    number = 0
    for copy in range(repeat):
        top = sub = ""
        for task in demo_tasks():
            number += 1
            first, second = task.section
            if first != top:
                label = first if copy == 0 else f"{first}（续{copy}）"
                rows.append([label, *[LEFT] * (len(HEADER) - 1)])
                top, sub = first, ""
            detail = task.title + (f"\n{task.detail}" if task.detail else "")
            rows.append([
                str(number), UP if second == sub else second, detail,
                "、".join(task.lead), "、".join(task.support), task.deadline_text,
            ])
            sub = second
    return Spec(name="demo-2026", before=[TITLE, "2026年3月20日"], rows=rows,
                tasks=len(demo_tasks()) * repeat, title=TITLE, year=2026)


def ruled_docx(spec: Spec, path: Path) -> Path:
    """The table as offices draw it: every cell ruled, A4 pages, the header row repeated at
    the top of each page."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    write_docx(spec, path)
    document = docx.Document(str(path))
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for table in document.tables:
        table.style = "Table Grid"
        tr_pr = table.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:tblHeader"))
        assert tr_pr.find(qn("w:tblHeader")) is not None
    document.save(str(path))
    return path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, target_ext: str, out_dir: Path) -> Path | None:
    """LibreOffice's own conversion (as a clerk's "另存为" does), with a throwaway profile."""
    binary = soffice()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="reminder-fixture-") as profile:
        subprocess.run(
            [binary, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
             "--convert-to", target_ext, "--outdir", str(out_dir), str(source)],
            check=True, capture_output=True, timeout=180,
            env={**os.environ, "HOME": profile},
        )
    made = out_dir / f"{source.stem}.{target_ext.split(':')[0]}"
    return made if made.exists() else None


def office_file(fmt: str, tmp: Path, spec: Spec | None = None) -> Path | None:
    """The demo plan as .docx .xlsx .doc .wps .xls .et .pdf .rtf; None without LibreOffice."""
    spec = spec or demo_spec()
    tmp.mkdir(parents=True, exist_ok=True)
    if fmt == "docx":
        return ruled_docx(spec, tmp / "方案.docx")
    if fmt == "xlsx":
        return write_xlsx(spec, tmp / "方案.xlsx")
    word = fmt in ("doc", "wps", "pdf", "rtf")
    source = ruled_docx(spec, tmp / "src.docx") if word else write_xlsx(spec, tmp / "src.xlsx")
    target = {"wps": "doc", "et": "xls"}.get(fmt, fmt)
    if target in ("doc", "rtf"):
        # LibreOffice 7.4 drops python-docx's tables when it writes .doc straight from .docx;
        # through its own format (as a clerk's open-and-save does) they survive.
        source = convert(source, "odt", tmp / "odt") or source
    made = convert(source, target, tmp)
    if made is None:
        return None
    final = tmp / f"方案.{fmt}"  # WPS's .wps/.et are the OLE Word/Excel formats under its own names
    made.rename(final)
    return final


def scan(pdf: Path, out: Path, *, dpi: int = 150, rotate: float = 0.0) -> Path | None:
    """A scan of the PDF: pages rasterised (pdftoppm), optionally turned a little as a sheet
    fed askew, wrapped into a PDF of images (img2pdf)."""
    if not (shutil.which("pdftoppm") and shutil.which("img2pdf")):
        return None
    from PIL import Image

    pages_dir = out.parent / f"{out.stem}-pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(pages_dir / "p")],
                   check=True, timeout=120)
    pages = sorted(pages_dir.glob("p*.png"))
    if rotate:
        for page in pages:
            with Image.open(page) as image:
                turned = image.rotate(rotate, resample=Image.Resampling.BICUBIC, expand=False,
                                      fillcolor="white")
            turned.save(page)
    subprocess.run(["img2pdf", "--output", str(out), *map(str, pages)], check=True, timeout=120)
    return out


def summary(tasks: list[Task]) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
    """What every format must agree on: each task's units and deadline, in order."""
    return [(t.lead, t.support, t.deadline_text) for t in tasks]




def tiny_pdf(pages: list[str], *, image: bool = False) -> bytes:
    """A PDF written by hand: one line of ASCII text per page (an empty string: a blank
    page), or one small grey image on each page."""
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        if image:
            objects.append(b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace "
                           b"/DeviceGray /BitsPerComponent 8 /Length 4 >>\nstream\n\x80\x80\x80\x80"
                           b"\nendstream")
            stream = b"q 100 0 0 100 100 600 cm /Im0 Do Q"
            resources = f"<< /XObject << /Im0 {len(objects)} 0 R >> >>".encode()
        else:
            safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode() if text else b""
            resources = b"<< /Font << /F1 3 0 R >> >>"
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources %s >>" % (len(objects), resources))
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_to_ofd(pdf: Path, out: Path) -> Path:
    """The PDF's pages as OFD (GB/T 33190) the way a converter writes them: each character a
    TextObject at its place, each ruling line a PathObject, in millimetres from the top left."""
    import zipfile

    import pdfplumber

    mm = 25.4 / 72
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    with pdfplumber.open(pdf) as document, zipfile.ZipFile(out, "w") as package:
        package.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} '
                         'DocType="OFD" Version="1.0"><ofd:DocBody><ofd:DocInfo><ofd:DocID>demo'
                         '</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
                         '</ofd:DocBody></ofd:OFD>')
        pages = []
        for n, page in enumerate(document.pages):
            objects, ident = [], 10
            for char in page.chars:
                if not char["text"].strip():
                    continue
                ident += 1
                size = char["size"] * mm
                text = char["text"].replace("&", "&amp;").replace("<", "&lt;")
                objects.append(
                    f'<ofd:TextObject ID="{ident}" Font="1" Size="{size:.3f}" Boundary="'
                    f'{char["x0"] * mm:.3f} {char["top"] * mm:.3f} {size:.3f} {size:.3f}">'
                    f'<ofd:TextCode X="0" Y="{size * 0.88:.3f}">{text}</ofd:TextCode></ofd:TextObject>')
            for edge in page.edges:
                ident += 1
                w, h = (edge["x1"] - edge["x0"]) * mm, (edge["bottom"] - edge["top"]) * mm
                objects.append(
                    f'<ofd:PathObject ID="{ident}" LineWidth="0.25" Boundary="{edge["x0"] * mm:.3f} '
                    f'{edge["top"] * mm:.3f} {max(w, 0.25):.3f} {max(h, 0.25):.3f}"><ofd:AbbreviatedData>'
                    f'M 0 0 L {w:.3f} {h:.3f}</ofd:AbbreviatedData></ofd:PathObject>')
            package.writestr(f"Doc_0/Pages/Page_{n}/Content.xml",
                             f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content>'
                             f'<ofd:Layer ID="{n + 2}">{"".join(objects)}</ofd:Layer></ofd:Content>'
                             '</ofd:Page>')
            pages.append(f'<ofd:Page ID="{n + 1}" BaseLoc="Pages/Page_{n}/Content.xml"/>')
        package.writestr("Doc_0/Document.xml",
                         f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData>'
                         '<ofd:MaxUnitID>100000</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297'
                         '</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>'
                         f'{"".join(pages)}</ofd:Pages></ofd:Document>')
    return out


def write_spreadsheetml(spec: Spec, path: Path) -> Path:
    """The table as Excel 2003 XML, the way systems export it under a .xls name: merged cells
    as MergeAcross/MergeDown on the first cell, the cells they cover left out (Index skips)."""
    from xml.sax.saxutils import escape

    rows = [[text, *[LEFT] * (len(spec.rows[-1]) - 1)] for text in spec.before] + spec.rows
    out = ['<?xml version="1.0"?>', '<?mso-application progid="Excel.Sheet"?>',
           '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">',
           '<Worksheet ss:Name="分工方案"><Table>']
    for r, row in enumerate(rows):
        out.append("<Row>")
        skipped = False
        for c, text in enumerate(row):
            if text in (UP, LEFT):
                skipped = True
                continue
            across = 0
            while c + across + 1 < len(row) and row[c + across + 1] == LEFT:
                across += 1
            down = 0
            while r + down + 1 < len(rows) and rows[r + down + 1][c] == UP:
                down += 1
            attrs = (f' ss:Index="{c + 1}"' if skipped else "") + (
                f' ss:MergeAcross="{across}"' if across else "") + (
                f' ss:MergeDown="{down}"' if down else "")
            skipped = False
            out.append(f'<Cell{attrs}><Data ss:Type="String">{escape(text)}</Data></Cell>')
        out.append("</Row>")
    out.append("</Table></Worksheet></Workbook>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path
