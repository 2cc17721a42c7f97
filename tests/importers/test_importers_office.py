"""Every format an office receives gives the same tasks as the .docx: the demo plan written as
.docx, then saved by LibreOffice as .doc .wps .xls .et .rtf, and files whose name lies about
their content."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from office_fixtures import demo_spec, office_file, soffice, summary
from test_importers_common import CONGHUA, html_text, write_docx

from reminder.errors import ImportFailed
from reminder.importers import import_document, read_grid
from reminder.importers.sniff import OLE_MAGIC, sniff
from reminder.importers.writer import read_tasks_csv

NO_SOFFICE = "LibreOffice 未安装（Debian 软件包 libreoffice-writer-nogui / libreoffice-calc-nogui）"


@pytest.fixture(scope="session")
def office(tmp_path_factory) -> dict[str, Path]:
    """The demo plan in every office format LibreOffice writes, made once per run."""
    folder = tmp_path_factory.mktemp("office")
    made = {fmt: office_file(fmt, folder / fmt) for fmt in ("docx", "xlsx")}
    if soffice():
        made |= {fmt: office_file(fmt, folder / fmt) for fmt in ("doc", "wps", "xls", "et", "rtf")}
    return {k: v for k, v in made.items() if v is not None}


def imported(source: Path, out: Path):
    import_document(source, out)
    return read_tasks_csv(out / "tasks.csv")


@pytest.fixture(scope="session")
def reference(office, tmp_path_factory):
    return imported(office["docx"], tmp_path_factory.mktemp("ref") / "plan")


def _need(office: dict[str, Path], fmt: str) -> Path:
    if fmt not in office:
        pytest.skip(NO_SOFFICE)
    return office[fmt]


@pytest.mark.parametrize("fmt", ["xlsx", "doc", "wps", "xls", "et", "rtf"])
def test_same_tasks_as_docx(fmt: str, office, reference, tmp_path: Path) -> None:
    tasks = imported(_need(office, fmt), tmp_path / "plan")
    assert len(tasks) == len(reference) == 16
    assert summary(tasks) == summary(reference)
    assert [t.section for t in tasks] == [t.section for t in reference]


@pytest.mark.parametrize(("fmt", "kind"), [("doc", "doc"), ("wps", "doc"), ("xls", "xls"),
                                           ("et", "xls"), ("rtf", "rtf"), ("docx", "docx"),
                                           ("xlsx", "xlsx")])
def test_kind_is_read_from_content(fmt: str, kind: str, office) -> None:
    source = _need(office, fmt)
    assert sniff(source, source.read_bytes()) == kind


def test_names_that_lie_go_to_the_right_reader(office, tmp_path: Path) -> None:
    """A .doc that is a web page or RTF, a .wps that is Word, a .xls that is HTML, a .docx that
    is really a .doc: each is read by what it is."""
    page = html_text(CONGHUA).encode("gbk")
    (tmp_path / "page.doc").write_bytes(page)
    (tmp_path / "page.xls").write_bytes(page)
    assert len(read_grid(tmp_path / "page.doc").rows) == len(read_grid(tmp_path / "page.xls").rows) > 5
    if "doc" in office:
        for name in ("word.wps", "word.docx", "word.xls"):
            (tmp_path / name).write_bytes(office["doc"].read_bytes())
            assert len(imported(tmp_path / name, tmp_path / name.replace(".", "-"))) == 16
        (tmp_path / "rtf.doc").write_bytes(office["rtf"].read_bytes())
        assert len(imported(tmp_path / "rtf.doc", tmp_path / "rtf-plan")) == 16
    if "xls" in office:
        (tmp_path / "book.doc").write_bytes(office["xls"].read_bytes())
        assert len(imported(tmp_path / "book.doc", tmp_path / "book-plan")) == 16


@pytest.mark.parametrize(("name", "data", "words"), [
    ("broken.doc", OLE_MAGIC + b"\x00" * 504, "已损坏"),
    ("broken.xls", OLE_MAGIC + b"\xff" * 3000, "已损坏"),
    ("other.doc", None, "无法识别的 Office 复合文档"),
    ("fake.pdf", b"just text, not a pdf\n", "不是有效的PDF"),
    ("fake.png", b"just text\n", "不是有效的图片"),
    ("blob.bin", b"\x00\x01\x02binary", "不支持"),
])
def test_damaged_or_unknown_is_one_line_exit_2(name: str, data: bytes | None, words: str,
                                               tmp_path: Path) -> None:
    if data is None:  # a valid compound file holding neither Word nor Excel streams
        import olefile

        if not hasattr(olefile, "OleFileIO"):
            pytest.skip("olefile missing")
        data = _ole_with_stream("Other")
    source = tmp_path / name
    source.write_bytes(data)
    with pytest.raises(ImportFailed) as caught:
        import_document(source, tmp_path / "plan")
    assert words in str(caught.value), str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    result = subprocess.run([sys.executable, "-m", "reminder", "import", str(source), "-o",
                             str(tmp_path / "plan")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr


def _ole_with_stream(name: str) -> bytes:
    """The smallest compound file holding one stream: a header, a FAT sector, a directory."""
    import struct

    sector = 512
    header = bytearray(OLE_MAGIC + b"\x00" * 16)
    header += struct.pack("<HHHHHHIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 0, 0, 1, 1, 0, 0x1000,
                          0xFFFFFFFE, 0, 0xFFFFFFFE)
    header += struct.pack("<I", 0)  # DIFAT sectors
    header += struct.pack("<109I", 0, *([0xFFFFFFFF] * 108))
    header = header[:sector].ljust(sector, b"\x00")
    chain = [*range(3, 10), 0xFFFFFFFE]  # the stream: sectors 2..9
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *chain, *([0xFFFFFFFF] * 118))

    def entry(text: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = text.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + struct.pack("<HBBIII", len(raw), kind, 1, 0xFFFFFFFF,
                                                      0xFFFFFFFF, child)
                + b"\x00" * 36 + struct.pack("<IIHH", start, size, 0, 0)).ljust(128, b"\x00")

    directory = entry("Root Entry", 5, 1, 0xFFFFFFFE, 0) + entry(name, 2, 0xFFFFFFFF, 2, 4096)
    directory = directory.ljust(sector, b"\x00")
    return bytes(header) + fat + directory + b"\x00" * 4096


# -- the converter ------------------------------------------------------------------------


def test_missing_libreoffice_names_the_package(office, tmp_path: Path, monkeypatch) -> None:
    source = _need(office, "doc")
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice on it
    result = subprocess.run([sys.executable, "-m", "reminder", "tasks", str(source)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "libreoffice-writer-nogui" in result.stderr


def _fake_soffice(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "soffice"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return folder


def test_hanging_converter_is_killed_at_its_limit(tmp_path: Path, monkeypatch) -> None:
    """The converter and every process it started are killed at the limit; one line, exit 2."""
    from reminder.importers import convert

    pids = tmp_path / "pids"
    folder = _fake_soffice(tmp_path, f"sleep 300 & echo $! > {pids}\necho $$ >> {pids}\nwait")
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    monkeypatch.setattr(convert, "TIMEOUT", 1.5)
    source = tmp_path / "slow.doc"
    source.write_bytes(_ole_with_stream("WordDocument"))
    started = time.monotonic()
    with pytest.raises(ImportFailed, match=r"超过 1\.5 秒") as caught:
        import_document(source, tmp_path / "plan")
    assert time.monotonic() - started < 10
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    time.sleep(0.2)
    for pid in map(int, pids.read_text().split()):
        assert not _alive(pid), pid  # the sleeping grandchild too


def _alive(pid: int) -> bool:
    """Running, not just a zombie waiting for a parent (init in a container may be slow)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_converter_failure_is_one_line(tmp_path: Path, monkeypatch) -> None:
    folder = _fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'; exit 1")
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    source = tmp_path / "bad.doc"
    source.write_bytes(_ole_with_stream("WordDocument"))
    with pytest.raises(ImportFailed, match="无法转换") as caught:
        import_document(source, tmp_path / "plan")
    assert "could not be loaded" in str(caught.value)


def test_converter_runs_with_bounded_memory_and_no_network(tmp_path: Path, monkeypatch) -> None:
    """The child sees the address-space limit and a network namespace of its own (where the
    machine allows one: as root, or with user namespaces)."""
    from reminder.importers import convert

    out = tmp_path / "seen"
    folder = _fake_soffice(tmp_path, f"ulimit -v > {out}; cat /proc/net/dev >> {out}; exit 1")
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    source = tmp_path / "x.doc"
    source.write_bytes(_ole_with_stream("WordDocument"))
    with pytest.raises(ImportFailed):
        import_document(source, tmp_path / "plan")
    seen = out.read_text().splitlines()
    assert int(seen[0]) * 1024 == convert.MEMORY
    if os.geteuid() == 0:
        interfaces = [line.split(":")[0].strip() for line in seen[3:]]
        assert interfaces == ["lo"], interfaces


def test_two_conversions_at_once_do_not_collide(office, tmp_path: Path) -> None:
    source = _need(office, "doc")
    results: list[int] = []

    def run(i: int) -> None:
        results.append(len(imported(source, tmp_path / f"plan{i}")))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [16, 16]


def test_reminder_tasks_takes_a_doc_directly(office) -> None:
    source = _need(office, "doc")
    result = subprocess.run([sys.executable, "-m", "reminder", "tasks", str(source)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "财务科" in result.stdout and "数据资源科" in result.stdout


def test_excel_2003_xml_saved_as_xls(reference, tmp_path: Path) -> None:
    """Excel 2003 XML under a .xls name (a common system export) is read by its content,
    merged cells (MergeAcross/MergeDown) expanded, with no converter."""
    from office_fixtures import write_spreadsheetml

    source = write_spreadsheetml(demo_spec(), tmp_path / "导出.xls")
    assert sniff(source, source.read_bytes()) == "spreadsheetml"
    tasks = imported(source, tmp_path / "plan")
    assert summary(tasks) == summary(reference)
    assert [t.section for t in tasks] == [t.section for t in reference]


def test_excel_2003_xml_with_a_huge_merge_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "evil.xls"
    source.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:'
                      'spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
                      '<Worksheet ss:Name="a"><Table><Row><Cell ss:MergeAcross="100000" '
                      'ss:MergeDown="100000"><Data>x</Data></Cell></Row></Table></Worksheet>'
                      '</Workbook>', encoding="utf-8")
    with pytest.raises(ImportFailed, match="合并单元格数目异常") as caught:
        import_document(source, tmp_path / "plan")
    assert caught.value.exit_code == 2


def test_demo_spec_matches_the_example(tmp_path: Path) -> None:
    """The fixture plan is the example's: the same 16 tasks and units from a .docx."""
    from office_fixtures import demo_tasks

    tasks = imported(write_docx(demo_spec(), tmp_path / "a.docx"), tmp_path / "plan")
    assert [(t.lead, t.support) for t in tasks] == [(t.lead, t.support) for t in demo_tasks()]
    assert [t.deadline_text for t in tasks][:12] == [t.deadline_text for t in demo_tasks()][:12]
