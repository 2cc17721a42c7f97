"""The importers' bounds, each at its edge (reminder/importers/safety.py).

test_importers_hostile.py throws real bombs at the importer; these pin what those cannot see:
a bound that moved by one, a refusal that became silence, the child's exit read wrongly.
Found by the mutation run of 2026-12-05 (docs/testing.md): 42 of 83 mutants of safety.py
survived the hostile and bad-file tests.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from reminder.errors import ImportFailed
from reminder.importers import safety
from reminder.importers.safety import WorkLimit, check_size, check_zip, run_bounded

# -- before reading: the file itself ---------------------------------------------------------

def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes(b"x" * 2048)
    assert check_size(path, limit=2048) == 2048
    with pytest.raises(ImportFailed, match="文件过大"):
        check_size(path, limit=2047)


def test_an_empty_file_a_folder_and_a_missing_file_are_each_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    one = tmp_path / "one.csv"
    one.write_bytes(b"x")
    assert check_size(one) == 1  # one byte is not empty
    with pytest.raises(ImportFailed, match="文件是空的"):
        check_size(empty)
    with pytest.raises(ImportFailed, match="不是文件"):
        check_size(tmp_path)
    with pytest.raises(ImportFailed, match="无法读取文件"):
        check_size(tmp_path / "missing.docx")


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_unpacked_size_at_the_limit_is_read_and_past_it_refused(tmp_path: Path,
                                                                  monkeypatch) -> None:
    data = _zip(**{"a.xml": b"<a>" + b"x" * 993 + b"</a>"})  # 1,000 bytes unpacked
    monkeypatch.setattr(safety, "MAX_UNZIPPED", 1000)
    check_zip(tmp_path / "f.docx", data)
    monkeypatch.setattr(safety, "MAX_UNZIPPED", 999)
    with pytest.raises(ImportFailed, match="解压后过大"):
        check_zip(tmp_path / "f.docx", data)


def _corrupt(data: bytes, member: str, *, crc: bool) -> bytes:
    """The zip with ``member``'s stored CRC (or its compressed bytes) changed."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = archive.getinfo(member)
    raw = bytearray(data)
    if crc:
        # The CRC sits at offset 14 of the local header and 16 of the central one.
        for offset in (info.header_offset + 14, data.rindex(b"PK\x01\x02") + 16):
            raw[offset] ^= 0xFF
    else:
        start = info.header_offset + 30 + len(info.filename.encode())
        for i in range(start, start + info.compress_size):
            raw[i] = 0xFF
    return bytes(raw)


def test_a_part_whose_checksum_fails_is_refused_by_name(tmp_path: Path) -> None:
    data = _corrupt(_zip(**{"word/document.xml": b"<w>" + b"text " * 200 + b"</w>"}),
                    "word/document.xml", crc=True)
    with pytest.raises(ImportFailed, match="文件已损坏") as caught:
        check_zip(tmp_path / "f.docx", data)
    assert caught.value.place == "word/document.xml"


def test_a_part_that_does_not_inflate_is_refused(tmp_path: Path) -> None:
    data = _corrupt(_zip(**{"word/document.xml": b"<w>" + b"text " * 200 + b"</w>"}),
                    "word/document.xml", crc=False)
    with pytest.raises(ImportFailed, match="文件已损坏"):
        check_zip(tmp_path / "f.docx", data)


def test_elements_up_to_the_cap_are_read_and_one_more_is_refused(tmp_path: Path,
                                                                 monkeypatch) -> None:
    data = _zip(**{"a.xml": b"<a>" + b"<b/>" * 9 + b"</a>",  # 10 elements
                   "b.xml": b"<c><d/></c>"})  # 2 more
    monkeypatch.setattr(safety, "MAX_XML_ELEMENTS", 12)
    check_zip(tmp_path / "f.docx", data)
    monkeypatch.setattr(safety, "MAX_XML_ELEMENTS", 11)
    with pytest.raises(ImportFailed, match="多于 11 个") as caught:
        check_zip(tmp_path / "f.docx", data)
    assert caught.value.place == "a.xml"  # the largest part is named, not the last one read


# -- while reading: rows, cells, paragraphs ----------------------------------------------------

def test_rows_cells_and_paragraphs_up_to_their_caps_are_read_and_one_more_is_refused(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(safety, "MAX_ROWS", 3)
    monkeypatch.setattr(safety, "MAX_CELLS", 6)
    monkeypatch.setattr(safety, "MAX_PARAGRAPHS", 2)
    rows = WorkLimit(tmp_path / "f.xlsx")
    for _ in range(3):
        rows.row(1)
    with pytest.raises(ImportFailed, match="行的上限"):
        rows.row(1)
    cells = WorkLimit(tmp_path / "f.xlsx")
    cells.row(2)
    cells.add_cells(4)
    with pytest.raises(ImportFailed, match="个单元格的上限"):
        cells.add_cells(1)
    paragraphs = WorkLimit(tmp_path / "f.docx")
    paragraphs.paragraph()
    paragraphs.paragraph()
    with pytest.raises(ImportFailed, match="段落的上限"):
        paragraphs.paragraph()


# -- the reading child ----------------------------------------------------------------------------

def test_a_child_that_exits_without_a_word_is_one_line_with_its_status(tmp_path: Path) -> None:
    """Else run_bounded returned None, and the caller failed on it with a traceback."""
    with pytest.raises(ImportFailed, match="子进程意外退出（状态 3）"):
        run_bounded(tmp_path / "f.csv", lambda: os._exit(3))


def test_a_child_silent_past_the_wall_limit_is_stopped_and_said_so(tmp_path: Path,
                                                                   monkeypatch) -> None:
    """Not reported as running out of memory, which the killed child would look like."""
    monkeypatch.setattr(safety, "WALL_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(ImportFailed, match=r"时间上限（1 秒）"):
        run_bounded(tmp_path / "f.csv", lambda: time.sleep(30))
    assert time.monotonic() - started < 10


def test_the_memory_ceiling_starts_from_the_address_space_the_child_has(
        monkeypatch) -> None:
    """RLIMIT_AS counts virtual memory: a ceiling counted from the resident size could sit
    below what a process with mapped libraries (OCR models, thread stacks) already has."""
    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("Linux only")
    before = next(int(line.split()[1]) for line in status.read_text().splitlines()
                  if line.startswith("VmSize:")) * 1024
    measured = safety._address_space()
    after = next(int(line.split()[1]) for line in status.read_text().splitlines()
                 if line.startswith("VmSize:")) * 1024
    assert min(before, after) * 0.95 <= measured <= max(before, after) * 1.05
