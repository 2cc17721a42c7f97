"""A deployment with [web] for the web, report and browser tests: the example plan, loopback
SMTP and WeCom servers, a synced SQLite store, and the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from clirun import EXAMPLE, MOMENT, TZ, reminder, write_config
from lxml import html
from servers import SmtpServer, WeComServer, free_port, fresh_postgres

SECRET_ENV = "REMINDER_WEB_SECRET"
NOW = datetime.fromisoformat(MOMENT).replace(tzinfo=TZ)


@dataclass
class Deployment:
    config_path: Path
    config: Any
    store: Any
    links: Any
    base: str
    smtp: SmtpServer
    wecom: WeComServer
    plan_folder: Path

    def unit_url(self, unit: str) -> str:
        return self.links.unit_url("demo-2026", unit)

    def admin_url(self) -> str:
        return self.links.url("admin", "demo-2026")


def deploy(tmp_path: Path, smtp: SmtpServer, wecom: WeComServer, *, policy: str = "",
           run_once: bool = True, database: str | None = None) -> tuple[Path, str]:
    """The example plan deployed with [web]; ``database`` is a store URL (PostgreSQL) in
    place of the SQLite file under ``state/``."""
    folder = tmp_path / "plans" / "demo-2026"
    shutil.copytree(EXAMPLE, folder)
    if policy:
        text = (folder / "plan.toml").read_text(encoding="utf-8")
        (folder / "plan.toml").write_text(text.replace('shift = "before"',
                                                       f'shift = "before"\n{policy}'), "utf-8")
    port = free_port()
    config = write_config(tmp_path, smtp, wecom, extra=(
        f'[web]\nlisten = "127.0.0.1:{port}"\nsecret_env = "{SECRET_ENV}"\n'))
    if database:
        text = config.read_text(encoding="utf-8")
        assert 'path = "state/reminder.db"' in text
        config.write_text(text.replace('path = "state/reminder.db"', f'url = "{database}"'),
                          encoding="utf-8")
    if run_once:
        result = reminder("run", "--once", "--now", MOMENT, "--config", str(config))
        assert result.returncode == 0, result.stderr
    return config, f"http://127.0.0.1:{port}"


@contextmanager
def served(config_path: Path, smtp: SmtpServer, wecom: WeComServer, *,
           clock: Any = None, rate: Any = None, login_rate: Any = None
           ) -> Iterator[Deployment]:
    """The app of that config in a uvicorn thread; ``clock`` fixes "now" for the pages."""
    import uvicorn

    from reminder import wiring
    from reminder.cli.web import server_config, web_app

    config = wiring.load(config_path)
    store = wiring.open_store(config)
    links = wiring.build_links(config)
    app = web_app(config, store, clock=clock or (lambda: NOW), rate=rate, login_rate=login_rate)
    server = uvicorn.Server(server_config(config, app))  # as `reminder serve` runs it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield Deployment(config_path=config_path, config=config, store=store, links=links,
                         base=config.web.url, smtp=smtp, wecom=wecom,
                         plan_folder=config_path.parent / "plans" / "demo-2026")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.dispose()


STORES = ["sqlite", "postgresql"]


@contextmanager
def store_url(kind: str) -> Iterator[str | None]:
    """None for the SQLite file; a fresh PostgreSQL database (skipped, saying why, when no
    server answers on 127.0.0.1:5432) for "postgresql"."""
    if kind == "sqlite":
        yield None
    else:
        with fresh_postgres("reminder_web") as url:
            yield url


def tasks_of(page: str) -> dict[str, str]:
    """task id -> state, from the page's sections/rows (data-task, data-state)."""
    tree = html.fromstring(page)
    return {e.get("data-task"): e.get("data-state") for e in tree.xpath("//*[@data-task]")}


def form_of(page: str, task: str) -> dict[str, str]:
    """The hidden fields of a task's form (csrf, task, period)."""
    tree = html.fromstring(page)
    form = tree.xpath(f'//*[@id="t-{task}"]//form[@method="post"]')[0]
    return {i.get("name"): i.get("value") for i in form.xpath('.//input[@type="hidden"]')}


def post(url: str, page: str, task: str, action: str, **fields: str) -> requests.Response:
    data = {**form_of(page, task), "action": action, **fields}
    return requests.post(url, data=data, timeout=10)


def link_in(text: str) -> str:
    match = re.search(r"https?://127\.0\.0\.1:\d+/u/[\w.\-]+", text)
    assert match, "no unit link in the message"
    return match.group(0)
