"""Issue 17 in a real browser (headless Chromium, as test_browser.py): every link of one
`run --once` with escalations opens its reader's view (unit page, board, leader's page) and
finds there every task its message named, with the responsible unit for the coordinator and
the leader; the board holds a 60-task, 40-unit plan at 1280 px without sideways scrolling and
as one card per task at 390 px. Screenshots go to tmp, or to docs/screenshots with
REMINDER_SCREENSHOTS=1."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from clirun import KEYS, TZ, reminder
from servers import smtp_server, wecom_server
from webutil import BIG_TASKS, SECRET_ENV, deploy, served, write_big_plan

browser_module = pytest.importorskip("test_browser", reason="browser helpers")
browser = browser_module.browser
full_page, shots_dir, size = browser_module.full_page, browser_module.shots_dir, browser_module.size

LATE = "2026-12-04T09:00"
CLOCK = datetime(2026, 12, 4, 10, tzinfo=TZ)


def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "browser-secret-24-chars!")
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)


def test_every_link_of_one_run_opens_its_readers_view_at_every_task_it_named(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    from reminder import wiring

    _env(monkeypatch)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom)  # a run in June, then one in December
        smtp.messages.clear()
        result = reminder("run", "--once", "--now", LATE, "--config", str(config))
        assert result.returncode == 0, result.stderr
        plan = wiring.plan_cache(wiring.load(config)).get("demo-2026")
        kinds: set[str] = set()
        with served(config, smtp, wecom, clock=lambda: CLOCK):
            size(browser, 1280)
            for mail in smtp.messages:
                text = mail.message.get_body(("plain",)).get_content()
                named = set(re.findall(r"〔(\d+)〕", text))
                urls = set(re.findall(r"http://127\.0\.0\.1:\d+/\S+", text))
                assert named and urls, text
                for url in urls:
                    kind = url.split("/")[3]
                    kinds.add(kind)
                    browser.get(url)
                    assert browser.execute_script(
                        "return document.documentElement.scrollWidth") <= 1280
                    cards = {e.get_attribute("data-task"): e for e in
                             browser.find_elements(By.CSS_SELECTOR, "[data-task]")}
                    assert named <= set(cards), (mail.rcpt_tos, kind, named - set(cards))
                    if "#" in url:
                        assert browser.find_elements(By.ID, url.split("#", 1)[1])
                    if kind in ("admin", "l"):  # a copy: whose task each is, on the page too
                        for task in named:
                            lead = plan.task(task).lead[0]
                            assert lead in cards[task].text, (kind, task, lead)
        assert kinds == {"u", "admin", "l"}


def test_leader_and_unit_pages_at_desktop_and_phone_widths(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    _env(monkeypatch)
    shots = shots_dir(tmp_path)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom)
        assert reminder("run", "--once", "--now", LATE, "--config", str(config)).returncode == 0
        with served(config, smtp, wecom, clock=lambda: CLOCK) as site:
            site.store.add_feedback("demo-2026", "5", unit="信息中心", kind="progress",
                                    text="已完成12个账号的清理，剩余3个待主管部门确认",
                                    now=CLOCK, period="2026Q4")
            site.store.add_instruction("demo-2026", "5", leader="分管局领导",
                                       text="请信息中心本周内办结，并书面说明逾期原因", now=CLOCK)
            for width, name in ((1280, "1280"), (390, "390")):
                size(browser, width)
                browser.get(site.links.leader_url("分管局领导"))
                assert browser.execute_script("return document.documentElement.scrollWidth") <= width
                assert not browser.find_elements(By.CSS_SELECTOR, "button[value=done]")
                full_page(browser, shots / f"leader-{name}.png", width)
                browser.get(site.unit_url("信息中心"))
                assert browser.execute_script("return document.documentElement.scrollWidth") <= width
                assert "请信息中心本周内办结" in browser.find_element(By.ID, "t-5").text
                full_page(browser, shots / f"unit-{name}.png", width)


def test_a_board_of_sixty_tasks_and_forty_units_fits_1280_and_is_cards_at_390(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    _env(monkeypatch)
    shots = shots_dir(tmp_path)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, run_once=False)
        write_big_plan(tmp_path / "plans" / "big-2026")
        assert reminder("run", "--once", "--now", LATE, "--config", str(config)).returncode == 0
        with served(config, smtp, wecom, clock=lambda: CLOCK) as site:
            # Some notes and a 批示, as a real board carries them.
            for task in ("5", "6", "12", "23"):
                site.store.add_feedback("big-2026", task, unit="区政府办公室", kind="progress",
                                        text="已完成初稿，正在征求相关部门意见，预计下周报送",
                                        now=CLOCK, period="2026Q4")
            site.store.add_feedback("big-2026", "11", unit="区住房和城乡建设局", kind="blocked",
                                    text="涉及跨部门数据，需区数据资源管理局协调", now=CLOCK,
                                    period="2026Q4")
            site.store.add_instruction("big-2026", "5", leader="分管副区长",
                                       text="请于本周内办结并报告原因", now=CLOCK)
            url = site.links.url("admin", "big-2026")
            size(browser, 1280)
            browser.get(url)
            rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-task]")
            assert len(rows) == BIG_TASKS
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
            headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "thead th")]
            assert headers.count("责任单位") == 1 and len(headers) == 8
            assert all(h.rect["x"] + h.rect["width"] <= 1280
                       for h in browser.find_elements(By.CSS_SELECTOR, "thead th"))
            full_page(browser, shots / "board-1280.png", 1280)
            size(browser, 390)
            browser.get(url)
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
            cards = browser.find_elements(By.CSS_SELECTOR, "tr[data-task]")
            assert len(cards) == BIG_TASKS
            assert all(c.value_of_css_property("display") == "block" for c in cards[:10])
            assert all(c.rect["width"] <= 390 for c in cards[:10])
            full_page(browser, shots / "board-390.png", 390)
