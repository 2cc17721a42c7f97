"""佐证材料 through the pages, end to end over uvicorn on 127.0.0.1: a unit uploads files with
a report (multipart), the board, the leader's page and the 台账 list them with signed links,
and the link serves the bytes by hash with safe headers. The refusals go through the same
form: a renamed executable, an oversized file, a body past the web layer's limit (declared
or chunked), a name with ../ and control characters, a tampered link, a zip bomb.
SQLite and PostgreSQL (skipped, saying why, when no server answers on 127.0.0.1:5432)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from clirun import KEYS, TZ
from lxml import html
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, STORES, Deployment, deploy, example_served, form_of, served

from reminder.answerback.evidence import MAX_BYTES
from reminder.web.evidence import MAX_BODY, evidence_root

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LATE = "2026-12-04T09:00"
CLOCK = datetime(2026, 12, 4, 10, tzinfo=TZ)


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """The example deployed, run in June and again in December (escalations to the leader),
    pages served as of 2026-12-04."""
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    with example_served(tmp_path, monkeypatch, kind=request.param, run_at=LATE,
                        clock=lambda: CLOCK) as deployment:
        yield deployment


def upload(url: str, task: str, action: str, files: list[tuple[str, bytes]],
           text: str = "已按要求推进") -> requests.Response:
    page = requests.get(url, timeout=10).text
    data = {**form_of(page, task), "action": action, "text": text}
    return requests.post(url, data=data, files=[("files", (n, b)) for n, b in files], timeout=60)


def flash(response: requests.Response) -> str:
    return " ".join(html.fromstring(response.text).xpath('string(//*[@role="status"])').split())


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "evidence").rglob("*") if p.is_file()) \
        if (root / "evidence").exists() else []


def test_files_go_with_a_report_and_are_listed_with_signed_links_everywhere(
        site: Deployment) -> None:
    url = site.unit_url("信息中心")
    response = upload(url, "5", "progress", [("现场照片.png", PNG), ("整改报告.pdf", PDF)])
    assert response.status_code == 200 and "已上传佐证材料 2 个" in flash(response)
    rows = site.store.evidence("demo-2026", "5")
    assert [(r.name, r.kind, r.report, r.unit) for r in rows] == [
        ("现场照片.png", "png", "progress", "信息中心"), ("整改报告.pdf", "pdf", "progress", "信息中心")]
    progress = [f for f in site.store.feedback("demo-2026", "5") if f.kind == "progress"]
    assert rows[0].feedback_id == progress[-1].id  # the report the files came with
    # The unit's page, the board and the leader's page list both names, each a /f/ link.
    leader = site.links.leader_url("分管局领导")
    for page_url in (url, site.admin_url(), leader):
        tree = html.fromstring(requests.get(page_url, timeout=10).text)
        links = {a.text: a.get("href") for a in tree.xpath('//*[@data-task="5"]//ul[@class="files"]//a')}
        assert set(links) == {"现场照片.png", "整改报告.pdf"}, page_url
        assert all("/f/" in h for h in links.values())
        if page_url == leader:  # the leader sees each task's 三色预警 too, with its word
            marks = tree.xpath("//*[@data-task]//*[@data-color]")
            assert marks and all(m.text_content().strip()[0] in "绿黄橙红" for m in marks)
            assert tree.xpath('//*[@data-task="5"]//*[@data-color]/@data-color') == ["red"]
    image = requests.get(links["现场照片.png"], timeout=10)
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    document = requests.get(links["整改报告.pdf"], timeout=10)
    assert document.content == PDF and document.headers["Content-Disposition"].startswith("attachment")
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    # The 台账 names them with their links, in its own column.
    from openpyxl import load_workbook

    ledger = requests.get(site.admin_url() + "/ledger.xlsx", timeout=10)
    sheet = load_workbook(io.BytesIO(ledger.content)).active
    headers = [c.value for c in sheet[3]]
    row = next(r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] == "5")
    cell = row[headers.index("佐证材料")]
    assert "现场照片.png http" in cell and "整改报告.pdf http" in cell and "/f/" in cell


def test_a_file_with_done_is_marked_as_such(site: Deployment) -> None:
    response = upload(site.unit_url("法规科"), "3", "done", [("办结材料.pdf", PDF)], text="")
    assert "已上传佐证材料 1 个" in flash(response)
    assert [r.report for r in site.store.evidence("demo-2026", "3")] == ["done"]
    board = requests.get(site.admin_url(), timeout=10).text
    assert "随完成" in html.fromstring(board).xpath('string(//*[@data-task="3"])')


def test_a_renamed_executable_is_refused_and_nothing_is_kept(site: Deployment) -> None:
    root = evidence_root(site.config)
    exe = b"MZ\x90\x00" + b"\x00" * 400 + b"This program cannot be run in DOS mode"
    response = upload(site.unit_url("信息中心"), "5", "progress", [("现场照片.jpg", exe)])
    assert response.status_code == 200 and "未能上传" in flash(response)
    assert "不接受这种文件" in flash(response)
    assert site.store.evidence("demo-2026") == [] and stored_files(root) == []


def test_an_oversized_file_is_refused_by_the_library_and_a_huge_body_before_reading(
        site: Deployment) -> None:
    root = evidence_root(site.config)
    url = site.unit_url("信息中心")
    big = PNG + b"\0" * (MAX_BYTES + 1 - len(PNG))  # just past one file's limit, within a body's
    response = upload(url, "5", "progress", [("大图.png", big)])
    assert "文件过大" in flash(response)
    page = requests.get(url, timeout=10).text
    data = {**form_of(page, "5"), "action": "progress", "text": "超大"}
    huge = PNG + b"\0" * (MAX_BODY + 1024)
    declared = requests.post(url, data=data, files=[("files", ("巨大.png", huge))], timeout=60)
    assert declared.status_code == 413 and "过大" in declared.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        head = "".join(f'--xyz\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                       for k, v in data.items())
        yield (head + '--xyz\r\nContent-Disposition: form-data; name="files"; '
               'filename="a.png"\r\nContent-Type: image/png\r\n\r\n').encode() + PNG
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"\0" * 65536

    chunked = requests.post(url, data=chunks(), timeout=60,
                            headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert chunked.status_code == 413
    assert site.store.evidence("demo-2026") == [] and stored_files(root) == []
    before = len(site.store.feedback("demo-2026"))
    assert len(site.store.feedback("demo-2026")) == before  # the refused posts stored nothing


@pytest.mark.parametrize("name", ["../../../../tmp/x/evil.png", "..\\..\\evil.png",
                                  "ok\x00\x07\x1b[31m\u202epng.exe", "/etc/passwd"],
                         ids=["dot-dot-slash", "backslashes", "control-chars", "absolute"])
def test_a_name_cannot_escape_storage(site: Deployment, tmp_path: Path, name: str) -> None:
    root = evidence_root(site.config)
    outside = set(Path("/tmp/x").glob("*")) | set(tmp_path.rglob("*evil*"))
    response = upload(site.unit_url("信息中心"), "5", "progress", [(name, PNG)])
    assert response.status_code == 200 and "已上传佐证材料 1 个" in flash(response)
    (row,) = site.store.evidence("demo-2026")
    assert "/" not in row.name and "\\" not in row.name and not row.name.startswith(".")
    assert all(ord(c) >= 32 and c != "\u202e" for c in row.name)
    (path,) = stored_files(root)
    assert path.parent.parent == root / "evidence" and path.name == row.sha256
    assert set(Path("/tmp/x").glob("*")) | set(tmp_path.rglob("*evil*")) == outside


def test_a_tampered_or_foreign_file_link_is_refused(site: Deployment) -> None:
    upload(site.unit_url("信息中心"), "5", "progress", [("现场照片.png", PNG)])
    tree = html.fromstring(requests.get(site.admin_url(), timeout=10).text)
    (link,) = tree.xpath('//*[@data-task="5"]//ul[@class="files"]//a/@href')
    assert requests.get(link, timeout=10).status_code == 200
    bad = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    refused = requests.get(bad, timeout=10)
    assert refused.status_code == 403 and refused.content != PNG
    # A correctly signed link to a hash no task has (or to a unit page token) is no file.
    from reminder.answerback.links import file_url

    assert requests.get(file_url(site.links, "demo-2026", "0" * 64), timeout=10).status_code == 404
    assert requests.get(file_url(site.links, "other-plan", site.store.evidence("demo-2026")[0].sha256),
                        timeout=10).status_code == 404
    unit_token = site.unit_url("信息中心").split("/u/")[1]
    assert requests.get(f"{site.base}/f/{unit_token}", timeout=10).status_code == 403


def test_a_zip_bomb_is_refused_by_its_declared_size_before_unpacking(site: Deployment) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("zeros.bin", "w", force_zip64=True) as entry:
        chunk = b"\0" * (1 << 20)
        for _ in range(210):  # 210 MB of zeros: a few hundred KB packed
            entry.write(chunk)
    bomb = out.getvalue()
    assert len(bomb) < 2 * 1024 * 1024
    response = upload(site.unit_url("信息中心"), "5", "progress", [("材料.zip", bomb)])
    assert "解压后过大" in flash(response)
    assert site.store.evidence("demo-2026") == []
    assert stored_files(evidence_root(site.config)) == []


def test_a_running_app_sweeps_orphans_periodically(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Files stored whose report never was (orphans) go once past [web] evidence_keep_days
    while the app runs, not only when it starts; a young orphan and an attached file stay."""
    import os
    import time

    from reminder.web import evidence

    monkeypatch.setattr(evidence, "SWEEP_EVERY", 0.1)
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom)
        with served(config, smtp, wecom, clock=lambda: CLOCK) as site:
            root = evidence_root(site.config)
            sent = upload(site.unit_url("信息中心"), "5", "progress", [("整改报告.pdf", PDF)])
            assert "已上传佐证材料 1 个" in flash(sent)
            [attached] = stored_files(root)
            month_ago = time.time() - 40 * 86400
            old, young = root / "evidence" / "ab" / ("ab" + "0" * 62), \
                root / "evidence" / "cd" / ("cd" + "1" * 62)
            for path in (old, young):
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(PDF)
            for path in (old, attached):
                os.utime(path, (month_ago, month_ago))
            deadline = time.monotonic() + 10
            while old.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not old.exists()
            assert attached.exists() and young.exists()
