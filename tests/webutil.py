"""A deployment with [web] for the web, report and browser tests: the example plan, loopback
SMTP and WeCom servers, a synced SQLite store, and the app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from clirun import KEYS, MOMENT, TZ, copy_example, reminder, write_config
from lxml import html
from servers import SmtpServer, WeComServer, free_port, fresh_postgres, smtp_server, wecom_server

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
    copy_example(tmp_path / "plans" / "demo-2026", policy)
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
def example_served(tmp_path: Path, monkeypatch: Any, *, kind: str = "sqlite", policy: str = "",
                   clock: Any = None, run_at: str | None = None, fresh_inbox: bool = False,
                   secret: str = "test-secret-of-24-chars!") -> Iterator[Deployment]:
    """The bundled example deployed on ``kind``'s store, with the web secret and robot keys
    in the environment and loopback SMTP and WeCom stand-ins, its first ``run --once`` done,
    then served. ``run_at`` runs it once more at that moment first (after emptying the
    stand-ins' inboxes when ``fresh_inbox``), so the pages show a later state."""
    monkeypatch.setenv(SECRET_ENV, secret)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with store_url(kind) as url, smtp_server() as smtp, \
            wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, database=url, policy=policy)
        if run_at:
            if fresh_inbox:
                smtp.messages.clear()
                wecom.requests.clear()
            result = reminder("run", "--once", "--now", run_at, "--config", str(config))
            assert result.returncode == 0, result.stderr
        with served(config, smtp, wecom, clock=clock) as deployment:
            yield deployment


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
    # The task's own form: not 签收's nor the folded 申请延期 one (issue 19).
    form = tree.xpath(f'//*[@id="t-{task}"]//form[@method="post"][not(ancestor::details)]'
                      '[not(contains(@class, "sign"))]')[0]
    return {i.get("name"): i.get("value") for i in form.xpath('.//input[@type="hidden"]')}


def post(url: str, page: str, task: str, action: str, **fields: str) -> requests.Response:
    data = {**form_of(page, task), "action": action, **fields}
    return requests.post(url, data=data, timeout=10)


def link_in(text: str) -> str:
    match = re.search(r"https?://127\.0\.0\.1:\d+/u/[\w.\-]+", text)
    assert match, "no unit link in the message"
    return match.group(0)


BIG_UNITS = 40
BIG_TASKS = 60


def write_big_plan(folder: Path) -> Path:
    """A plan the size of a 区's: 60 tasks over 40 units (each 镇街 and 部门 with its own
    mail box), long and short titles, one lead and up to three supporting units each."""
    folder.mkdir(parents=True, exist_ok=True)
    towns = [f"{name}街道" for name in ("东湖", "西城", "南山", "北关", "中和", "青石", "白沙", "金桥",
                                         "银河", "红旗", "长安", "新华", "和平", "建设")]
    offices = ["区政府办公室", "区发展和改革局", "区教育局", "区科技和工业信息化局", "区公安分局", "区民政局",
               "区司法局", "区财政局", "区人力资源和社会保障局", "区自然资源局", "区生态环境分局",
               "区住房和城乡建设局", "区交通运输局", "区水务局", "区农业农村局", "区商务局",
               "区文化和旅游局", "区卫生健康委员会", "区退役军人事务局", "区应急管理局", "区审计局",
               "区市场监督管理局", "区统计局", "区医疗保障局", "区城市管理局", "区数据资源管理局"]
    units = (offices + towns)[:BIG_UNITS]
    assert len(units) == BIG_UNITS
    phrases = ["围绕优化营商环境，集中公开涉企政策并开展政策解读，做到应公开尽公开",
               "更新主动公开目录", "做好重大行政决策预公开，公开征求意见并反馈采纳情况",
               "开展政务公开进基层活动，推进基层政务公开标准化规范化建设，每季度报送工作开展情况不少于1次",
               "公开部门预算决算", "规范依申请公开办理"]
    deadlines = ["2026年6月30日前", "每季度", "年底前", "2026年9月30日前", "长期", "3月31日前"]
    rows = ["序号,章节,工作任务,具体工作,牵头单位,配合单位,责任单位,完成时限"]
    for i in range(1, BIG_TASKS + 1):
        lead = units[i % BIG_UNITS]
        support = [units[(i * 7 + k) % BIG_UNITS] for k in range(i % 4) if
                   units[(i * 7 + k) % BIG_UNITS] != lead]
        title = f"{phrases[i % len(phrases)]}（第{i}项）"
        rows.append(f"{i},一、重点工作,{title},,{lead},{'；'.join(support)},,{deadlines[i % len(deadlines)]}")
    (folder / "tasks.csv").write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    contacts = "\n".join(f'[units."{u}"]\nemail = ["u{k}@example.org"]\n' for k, u in enumerate(units))
    (folder / "plan.toml").write_text(f"""
title = "某区2026年政务公开工作要点分工方案"
year = 2026
issued = 2026-03-20
reporting_cycle = "quarterly"
coordinator = "区政务公开办"
escalate_to = ["分管副区长"]

[table]
file = "tasks.csv"

[units."区政务公开办"]
email = ["gongkai@example.org"]

[units."分管副区长"]
email = ["fuquzhang@example.org"]

{contacts}
""", encoding="utf-8")
    return folder
