"""Bad files: one clear line, exit status 2, nothing read that should not be."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_importers_common import CONGHUA, write_docx, write_xlsx

from reminder.errors import ImportFailed
from reminder.importers import import_document, read_grid
from reminder.importers.safety import OLE_MAGIC

OLE = OLE_MAGIC + b"\x00" * 504


def _docx_without_table(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("从化区2021年政务公开工作要点分工方案")
    document.add_paragraph("正文没有表格。")
    document.save(path)
    return path


def _patched_zip(source: Path, target: Path, member: str, old: bytes, new: bytes) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data.replace(old, new, 1) if item.filename == member else data)
    return target


BAD = [
    ("encrypted.docx", OLE, "已加密"),
    ("encrypted.xlsx", OLE, "已加密"),
    ("damaged.doc", OLE, "损坏"),
    ("damaged.xls", OLE, "损坏"),
    ("corrupt.docx", b"PK\x03\x04 this is not really a zip", "损坏"),
    ("corrupt.xlsx", b"not a zip at all", "损坏"),
    ("empty.docx", b"", "空"),
    ("blank.txt", b"   \n\n  ", "空"),
    ("damaged.pdf", b"%PDF-1.4 ...", "PDF 文件已损坏"),
    ("plan.odt", b"PK\x03\x04 not an office zip", "不支持"),
    ("notes.txt", "这只是一段说明文字，没有任何表格。\n第二段。".encode(), "没有"),
    ("table.html", b"<html><body><p>no table here</p></body></html>", "没有"),
]


@pytest.mark.parametrize(("name", "data", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_one_line_exit_2(name: str, data: bytes, words: str, tmp_path: Path) -> None:
    source = tmp_path / name
    source.write_bytes(data)
    with pytest.raises(ImportFailed) as caught:
        import_document(source, tmp_path / "plan")
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2
    assert not (tmp_path / "plan").exists()
    result = subprocess.run(
        [sys.executable, "-m", "reminder", "import", str(source), "-o", str(tmp_path / "plan")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("错误：")


def test_docx_without_table(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="没有找到表格"):
        import_document(_docx_without_table(tmp_path / "a.docx"), tmp_path / "plan")


def test_size_limit_is_checked_before_reading(tmp_path: Path, monkeypatch) -> None:
    source = write_docx(CONGHUA, tmp_path / "big.docx")
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("file was read"))
    with pytest.raises(ImportFailed, match="文件过大"):
        read_grid(source, max_bytes=1000)


def test_docx_with_doctype_is_refused(tmp_path: Path) -> None:
    source = write_docx(CONGHUA, tmp_path / "ok.docx")
    evil = _patched_zip(
        source, tmp_path / "evil.docx", "word/document.xml", b"?>",
        b'?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    )
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        import_document(evil, tmp_path / "plan")


def test_xlsx_with_entity_is_refused(tmp_path: Path) -> None:
    source = write_xlsx(CONGHUA, tmp_path / "ok.xlsx")
    evil = _patched_zip(
        source, tmp_path / "evil.xlsx", "xl/worksheets/sheet1.xml", b"<worksheet",
        b'<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><worksheet',
    )
    assert b"<!ENTITY" in zipfile.ZipFile(evil).read("xl/worksheets/sheet1.xml")
    with pytest.raises(ImportFailed, match="DOCTYPE"):
        import_document(evil, tmp_path / "plan")


def test_html_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    page = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY s SYSTEM "file://{secret}">]>'
        "<html><body><table><tr><td>具体要求</td><td>责任单位</td><td>完成时限</td></tr>"
        "<tr><td>1.做好工作&s;</td><td>办公室</td><td>长期</td></tr></table></body></html>"
    )
    source = tmp_path / "p.html"
    source.write_text(page, encoding="utf-8")
    import_document(source, tmp_path / "plan")
    assert "TOP-SECRET" not in (tmp_path / "plan" / "tasks.csv").read_text(encoding="utf-8-sig")


def test_zip_bomb_is_refused(tmp_path: Path, monkeypatch) -> None:
    from reminder.importers import safety

    monkeypatch.setattr(safety, "MAX_UNZIPPED", 1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<a/>" + b" " * 5000)
    source = tmp_path / "bomb.docx"
    source.write_bytes(buffer.getvalue())
    with pytest.raises(ImportFailed, match="解压后过大"):
        import_document(source, tmp_path / "plan")


def test_web_page_saved_as_xls_is_read_as_html(tmp_path: Path) -> None:
    from test_importers_common import html_text

    source = tmp_path / "site-export.xls"
    source.write_bytes(html_text(CONGHUA).encode("gbk"))
    assert import_document(source, tmp_path / "plan").tasks == CONGHUA.tasks


def test_output_folder_that_is_not_a_plan_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "report.docx").write_bytes(b"mine")
    with pytest.raises(ImportFailed, match="不是计划文件夹"):
        import_document(write_docx(CONGHUA, tmp_path / "p.docx"), out)
    assert sorted(p.name for p in out.iterdir()) == ["report.docx"]
