"""Issue 19 in a real browser (headless Chromium, harness of test_browser.py): a unit uploads
a 佐证材料 with its progress report from its page and the board lists it with a link that
serves it; the 三色预警 marks with their words at 390 px and 1280 px; the statistics page
with its inline charts. Screenshots go to tmp, or to docs/screenshots with
REMINDER_SCREENSHOTS=1."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import requests
from clirun import KEYS, TZ
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, deploy, served

browser_module = pytest.importorskip("test_browser", reason="browser helpers")
browser = browser_module.browser
full_page, shots_dir, size = browser_module.full_page, browser_module.shots_dir, browser_module.size
click_and_wait = browser_module.click_and_wait

AUGUST = datetime(2026, 8, 10, 10, tzinfo=TZ)  # 黄, 红 and 绿 tasks side by side
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (320, 200), "#2f6db5").save(path)
    return path


def test_upload_colours_and_statistics_at_phone_and_desktop_widths(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv(SECRET_ENV, "browser-secret-24-chars!")
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    shots = shots_dir(tmp_path)
    photo = _png(tmp_path / "整改现场照片.png")
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom)
        with served(config, smtp, wecom, clock=lambda: AUGUST) as site:
            # Completions on time and late, so the statistics page has rates to draw.
            for task, due, day in (("5", "2026-06-30", "2026-06-29"), ("16", "2026-06-30", "2026-07-03"),
                                   ("16", "2026-07-31", "2026-07-30"), ("7", "2026-06-30", "2026-07-20")):
                site.store.mark_done("demo-2026", task, date.fromisoformat(due), by="测试",
                                     note="", now=datetime.fromisoformat(f"{day}T10:00+08:00"))
            # The unit's page at 390 px: its colour marks, then an upload with a report.
            size(browser, 390)
            browser.get(site.unit_url("财务科"))
            card = browser.find_element(By.ID, "t-13")
            mark = card.find_element(By.CSS_SELECTOR, "[data-color]")
            assert mark.get_attribute("data-color") == "yellow" and mark.text == "黄 预警"
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
            full_page(browser, shots / "colors-unit-390.png", 390)
            card.find_element(By.NAME, "text").send_keys("预算执行情况材料已起草，附现场照片")
            card.find_element(By.NAME, "files").send_keys(str(photo))
            click_and_wait(browser, card.find_element(By.CSS_SELECTOR, "button[value=progress]"))
            flash = WebDriverWait(browser, 20).until(
                lambda b: b.find_elements(By.CSS_SELECTOR, ".flash"))[0].text
            assert "已上传佐证材料 1 个：整改现场照片.png" in flash
            card = browser.find_element(By.ID, "t-13")
            assert card.find_element(By.CSS_SELECTOR, "[data-color]").text == "绿 正常"
            assert "整改现场照片.png" in card.find_element(By.CSS_SELECTOR, "ul.files").text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
            browser.execute_script("document.getElementById('t-13').scrollIntoView()")
            full_page(browser, shots / "evidence-unit-390.png", 390)
            # The board at 1280 px: the file's link serves the photo; every mark has its word.
            size(browser, 1280)
            browser.get(site.admin_url())
            row = browser.find_element(By.ID, "t-13")
            link = row.find_element(By.CSS_SELECTOR, "ul.files a")
            assert link.text == "整改现场照片.png"
            served_file = requests.get(link.get_attribute("href"), timeout=10)
            assert served_file.status_code == 200 and served_file.content.startswith(PNG_HEADER)
            assert served_file.content == photo.read_bytes()
            marks = browser.find_elements(By.CSS_SELECTOR, "[data-color]")
            words = {"green": "绿", "yellow": "黄", "orange": "橙", "red": "红"}
            assert {m.get_attribute("data-color") for m in marks} >= {"green", "yellow", "red"}
            assert all(m.text.startswith(words[m.get_attribute("data-color")]) for m in marks)
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
            full_page(browser, shots / "colors-board-1280.png", 1280)
            browser.get(link.get_attribute("href"))  # an image opens inline, as an image
            assert WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.TAG_NAME, "img"))
            # The board at 390 px: cards, each mark still with its word.
            size(browser, 390)
            browser.get(site.admin_url())
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
            assert all(m.text for m in browser.find_elements(By.CSS_SELECTOR, "[data-color]"))
            # The statistics page, from the board's link.
            size(browser, 1280)
            browser.get(site.admin_url())
            click_and_wait(browser, browser.find_element(By.LINK_TEXT, "统计与排名"))
            assert browser.find_element(By.TAG_NAME, "h1").text == "统计与排名"
            assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")) == 2
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
            full_page(browser, shots / "stats-1280.png", 1280)
            size(browser, 390)
            browser.refresh()
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
