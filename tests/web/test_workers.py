"""Several `reminder serve` workers behind one reverse proxy, over one PostgreSQL database
(docs/performance.md, "Pages under load"): what one worker records, the other shows at once.
Not timed; the load figures are bench/bench_web.py's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from clirun import KEYS
from servers import free_port, fresh_postgres, smtp_server, wecom_server
from webutil import SECRET_ENV, deploy, post, served, tasks_of


def test_two_workers_agree_on_a_done_and_a_progress_note(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with fresh_postgres("reminder_workers") as url, smtp_server() as smtp, \
            wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, database=url)
        # The second worker: the same deployment, its own port, as a proxy's second upstream.
        second = tmp_path / "config-worker2.toml"
        text = config.read_text(encoding="utf-8")
        second.write_text(re.sub(r'listen = "127\.0\.0\.1:\d+"',
                                 f'listen = "127.0.0.1:{free_port()}"', text), encoding="utf-8")
        with served(config, smtp, wecom) as one, served(second, smtp, wecom) as two:
            assert one.base != two.base
            assert one.store.engine.dialect.name == "postgresql"
            # The same signed link, answered by either worker.
            assert one.unit_url("法规科").split("/u/")[1] == two.unit_url("法规科").split("/u/")[1]
            before = requests.get(two.unit_url("法规科"), timeout=10).text
            assert tasks_of(before)["9"] == "open"
            assert tasks_of(requests.get(two.admin_url(), timeout=10).text)["9"] != "done"

            # One link for the GET and the POST: the page's CSRF token is bound to the link it
            # was opened with, and two unit_url() calls a second apart are two links.
            link = one.unit_url("法规科")
            page = requests.get(link, timeout=10).text
            done = post(link, page, "9", "done", text="已在门户网站公开")
            assert done.status_code == 200 and tasks_of(done.text)["9"] == "done"

            assert tasks_of(requests.get(two.unit_url("法规科"), timeout=10).text)["9"] == "done"
            board = requests.get(two.admin_url(), timeout=10).text
            assert tasks_of(board)["9"] == "done"

            # And back the other way: a progress note sent through the second worker.
            link = two.unit_url("法规科")
            page = requests.get(link, timeout=10).text
            noted = post(link, page, "3", "progress", text="已完成初稿，正在审核")
            assert noted.status_code == 200
            assert "已完成初稿，正在审核" in requests.get(one.admin_url(), timeout=10).text
