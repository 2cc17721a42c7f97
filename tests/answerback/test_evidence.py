"""佐证材料: accepted by content, limited, stored by hash where no name can reach; zip bombs
refused before unpacking; links signed; metadata on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reportdata import store_url

from reminder.answerback.evidence import (
    EvidenceRefused,
    Limits,
    accept,
    clean_name,
    path_of,
    response_headers,
    sniff,
    sweep,
)
from reminder.answerback.links import LinkError, Links, file_url, verify_file
from reminder.store import open_store

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
NOW = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)


def zipped(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(("data", "kind"), [
    (PNG, "png"), (b"\xff\xd8\xff\xe0" + b"\0" * 20, "jpeg"), (b"GIF89a" + b"\0" * 9, "gif"),
    (b"RIFF\0\0\0\0WEBPVP8 ", "webp"), (b"%PDF-1.7\n", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 8, "ole"),
    (zipped({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<w/>"}), "docx"),
    (zipped({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<w/>"}), "xlsx"),
    (zipped({"[Content_Types].xml": b"<x/>", "ppt/presentation.xml": b"<w/>"}), "pptx"),
    (zipped({"照片/1.jpg": b"x"}), "zip"),
], ids=["png", "jpeg", "gif", "webp", "pdf", "doc", "docx", "xlsx", "pptx", "zip"])
def test_kinds_by_content(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize("data", [b"MZ\x90\0" + b"\0" * 60, b"\x7fELF\x02\x01", b"#!/bin/sh\nrm -rf /\n",
                                  b"<html><script>", b"PK\x03\x04broken"],
                         ids=["exe", "elf", "script", "html", "broken-zip"])
def test_a_renamed_executable_or_unknown_content_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(EvidenceRefused):
        accept(tmp_path, data, "现场照片.jpg")
    assert not (tmp_path / "evidence").exists() or not list((tmp_path / "evidence").rglob("*"))


def test_size_and_count_limits(tmp_path: Path) -> None:
    limits = Limits(max_bytes=1000, max_files=2)
    with pytest.raises(EvidenceRefused, match="文件过大"):
        accept(tmp_path, PNG + b"\0" * 1000, "a.png", limits=limits)
    accept(tmp_path, PNG, "a.png", attached=1, limits=limits)
    with pytest.raises(EvidenceRefused, match="上限 2"):
        accept(tmp_path, PNG, "a.png", attached=2, limits=limits)


def test_a_zip_bomb_is_rejected_by_declared_size_before_unpacking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zipped({f"{i}.txt": b"\0" * (30 * 1024 * 1024) for i in range(8)})  # 240 MB unpacked
    assert len(bomb) < 1024 * 1024  # small on the wire
    many = zipped({f"{i}.txt": b"" for i in range(30)})
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("an entry was read")
    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", never)
    with pytest.raises(EvidenceRefused, match="解压后过大"):
        accept(tmp_path, bomb, "材料.zip")
    with pytest.raises(EvidenceRefused, match="文件过多"):
        accept(tmp_path, many, "材料.zip", limits=Limits(zip_entries=20))


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\boot.ini", "a\x00b.png", "报告\r\n.png",
                                  "/abs/path.png", "\u202egnp.exe", "...", ""])
def test_a_name_cannot_escape_storage(tmp_path: Path, name: str) -> None:
    stored = accept(tmp_path / "state", PNG, name)
    assert stored.path.resolve().is_relative_to((tmp_path / "state" / "evidence").resolve())
    assert stored.path.name == stored.sha256
    assert not any(c in stored.name for c in "/\\\x00\r\n\u202e") and not stored.name.startswith(".")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]  # nothing written elsewhere


def test_names_keep_what_people_read() -> None:
    assert clean_name("C:\\材料\\第三季度进展.pdf") == "第三季度进展.pdf"
    assert clean_name("x" * 300 + ".docx").endswith("….docx") and len(clean_name("x" * 300 + ".docx")) <= 120
    with pytest.raises(ValueError):
        path_of(Path("/s"), "../../etc/passwd".ljust(64, "a"))


def test_same_bytes_stored_once_and_never_executable(tmp_path: Path) -> None:
    first, second = accept(tmp_path, PNG, "a.png"), accept(tmp_path, PNG, "b.png")
    assert first.path == second.path and len(list((tmp_path / "evidence").rglob("*"))) == 2
    assert not os.stat(first.path).st_mode & 0o111


def test_retention_deletes_only_old_unreferenced_files(tmp_path: Path) -> None:
    kept, old, young = (accept(tmp_path, PNG + bytes([i]), f"{i}.png") for i in range(3))
    ancient = (NOW - timedelta(days=400)).timestamp()
    for stored in (kept, old):
        os.utime(stored.path, (ancient, ancient))
    os.utime(young.path, (NOW.timestamp(), NOW.timestamp()))
    assert sweep(tmp_path, {kept.sha256}, older_than_days=365, now=NOW) == [old.sha256]
    assert kept.path.exists() and young.path.exists() and not old.path.exists()


def test_only_images_are_served_inline() -> None:
    assert response_headers("png", "照片.png")["Content-Disposition"].startswith("inline")
    pdf = response_headers("pdf", '报告"x.pdf')
    assert pdf["Content-Disposition"].startswith("attachment") and pdf["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A" in pdf["Content-Disposition"]


def test_a_tampered_file_link_is_refused() -> None:
    links = Links("a-long-enough-test-secret", base_url="https://duban.example")
    digest = "ab" * 32
    url = file_url(links, "demo-2026", digest)
    token = url.rsplit("/", 1)[1]
    assert verify_file(links, token, now=datetime.now(UTC)) == ("demo-2026", digest)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(LinkError) as caught:
        verify_file(links, tampered)
    assert caught.value.reason == "invalid"
    unit_token = links.token("unit", "demo-2026", "法规科")
    with pytest.raises(LinkError):  # a unit's page link is not a file link
        verify_file(links, unit_token)
    with pytest.raises(LinkError):  # expired
        verify_file(links, token, now=datetime.now(UTC) + timedelta(days=61))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_metadata_in_the_store(kind: str, tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    with store_url(kind, tmp_path) as url:
        store = open_store(url)
        try:
            stored = accept(tmp_path, PNG, "现场照片.png")
            ident = store.add_evidence("demo-2026", "9", unit="法规科", sha256=stored.sha256,
                                       name=stored.name, kind=stored.kind, size=stored.size, now=NOW)
            store.add_evidence("demo-2026", "8", unit="数据资源科", sha256="cd" * 32, name="x.pdf",
                               kind="pdf", size=9, now=NOW)
            assert [(r.name, r.kind) for r in store.evidence("demo-2026", "9")] == [("现场照片.png", "png")]
            assert store.evidence_count("demo-2026", "9") == 1
            assert store.evidence_known("demo-2026", [stored.sha256, "ef" * 32]) == {stored.sha256}
            assert store.evidence_known("other-plan", [stored.sha256]) == set()
            assert store.remove_evidence(ident, now=NOW) and not store.remove_evidence(ident, now=NOW)
            assert store.referenced_hashes() == {"cd" * 32}
        finally:
            store.dispose()
