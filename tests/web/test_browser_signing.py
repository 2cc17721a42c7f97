"""签收 and 延期申请 in a real browser (headless Chromium, as test_browser.py): at 390 px a
unit signs for task 9 and asks for a new date; at 1280 px the coordinator sees the receipt
and the request on the board and approves an earlier date than asked (批准延期至…); the
unit's page then shows the approved date and the note. Screenshots go to tmp, or to docs/screenshots with REMINDER_SCREENSHOTS=1
(sign-extend-unit-390.png, board-extension-1280.png)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import KEYS
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, deploy, served

browser_module = pytest.importorskip("test_browser", reason="browser helpers")
browser = browser_module.browser
full_page, shots_dir, size = browser_module.full_page, browser_module.shots_dir, browser_module.size
click_and_wait = browser_module.click_and_wait


def _wait_text(driver, css: str, text: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # Called after click_and_wait; a stray reload still makes a found element go stale.
    WebDriverWait(driver, 10, ignored_exceptions=[WebDriverException]).until(
        lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, css)))


def test_unit_signs_and_asks_the_board_approves_and_the_page_shows_the_new_date(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.common.by import By

    monkeypatch.setenv(SECRET_ENV, "browser-secret-24-chars!")
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    shots = shots_dir(tmp_path)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, policy='sign_within = "1wd"')
        with served(config, smtp, wecom) as site:
            unit = site.unit_url("法规科")
            size(browser, 390)
            browser.get(unit)
            assert site.store.signatures("demo-2026") == []  # opening is not signing
            click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#t-9 button.sign"))
            _wait_text(browser, ".flash", "已签收任务 9")
            assert "已签收" in browser.find_element(By.CSS_SELECTOR, "#t-9 p.signed").text
            browser.find_element(By.CSS_SELECTOR, "#t-9 details.extend summary").click()
            browser.execute_script(
                "document.getElementById('ext-date-9').value = '2026-08-31';")
            browser.find_element(By.ID, "ext-reason-9").send_keys("需征求司法局意见后定稿")
            browser.find_element(By.ID, "ext-progress-9").send_keys("初稿已完成，正在征求意见")
            click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "#t-9 button.extend"))
            _wait_text(browser, ".flash", "延期申请：延至 2026-08-31")
            assert "等待" in browser.find_element(By.CSS_SELECTOR, "#t-9 .extension.pending").text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390

            size(browser, 1280)
            browser.get(site.admin_url())
            row = browser.find_element(By.ID, "t-9")
            assert "法规科 已签收" in row.text and "办公室 未签收" in row.text
            assert "延期申请" in row.text and "2026-08-31" in row.text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
            full_page(browser, shots / "board-extension-1280.png", 1280)
            request = browser.find_element(By.CSS_SELECTOR, "#t-9 form.extension-request")
            approved = request.find_element(By.NAME, "approved")
            assert approved.get_attribute("value") == "2026-08-31"  # offered as asked
            # The original date itself (the field's min lets it through) is refused, and looks
            # refused (red, not blue).
            browser.execute_script("arguments[0].value = '2026-07-08';", approved)
            click_and_wait(browser, request.find_element(By.CSS_SELECTOR, "button[value=approve_extension]"))
            _wait_text(browser, ".flash", "未能审批")
            flash = browser.find_element(By.CSS_SELECTOR, ".flash")
            assert "error" in flash.get_attribute("class").split()
            assert flash.value_of_css_property("border-left-color") == "rgba(198, 40, 40, 1)"
            full_page(browser, shots / "board-refused-approval-390.png", 390)
            size(browser, 1280)
            request = browser.find_element(By.CSS_SELECTOR, "#t-9 form.extension-request")
            approved = request.find_element(By.NAME, "approved")
            browser.execute_script("arguments[0].value = '2026-08-14';", approved)
            request.find_element(By.NAME, "note").send_keys("同意延期，请按新时限办结")
            click_and_wait(browser, request.find_element(By.CSS_SELECTOR, "button[value=approve_extension]"))
            _wait_text(browser, ".flash", "已批准任务 9 延期至 2026-08-14")
            assert "已延期（原定 2026-07-08）" in browser.find_element(By.ID, "t-9").text

            size(browser, 390)
            browser.get(unit)
            task = browser.find_element(By.ID, "t-9")
            assert task.get_attribute("data-due") == "2026-08-14"
            assert "原定 2026-07-08，延至 2026-08-14" in task.text
            assert "本单位申请延至 2026-08-31" in task.text
            assert "同意延期，请按新时限办结" in task.text
            browser.execute_script("document.getElementById('t-9').scrollIntoView();")
            full_page(browser, shots / "sign-extend-unit-390.png", 390)
