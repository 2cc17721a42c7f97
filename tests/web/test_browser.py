"""End to end in a real browser: `reminder run --once` mails a digest to aiosmtpd, headless
Chromium (Debian's chromium + chromium-driver, driven by Selenium) opens the link from that
mail, clicks 已完成, sees the task green; `reminder status` shows it done and
`reminder plan --config` no longer lists its notices. Once at desktop width, once at 390 px
(the WeCom in-app browser). Screenshots go to tmp, or to docs/screenshots with
REMINDER_SCREENSHOTS=1."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import KEYS, MOMENT, reminder
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, deploy, served

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")

if not (CHROMIUM.exists() and DRIVER.exists()):
    pytest.skip("需要 Debian 的 chromium 与 chromium-driver（apt-get install chromium chromium-driver）；"
                "未安装，跳过浏览器端到端测试", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium 未安装（pip install -e '.[test]'）")


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="reminder-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shots_dir(tmp_path: Path) -> Path:
    folder = ROOT / "docs" / "screenshots" if os.environ.get("REMINDER_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def size(driver, width: int) -> None:  # type: ignore[no-untyped-def]
    # The viewport itself (not the window) at this width, as a phone reports it.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})


def full_page(driver, path: Path, width: int) -> None:  # type: ignore[no-untyped-def]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(int(height), 4000), "deviceScaleFactor": 1,
        "mobile": width < 600})
    driver.save_screenshot(str(path))
    size(driver, width)


def click_and_wait(driver, element) -> None:  # type: ignore[no-untyped-def]
    """Click something that navigates, and wait for the new document.

    Watching the old element go stale races the navigation: mid-swap Chromium answers with
    "Node with given id does not belong to the document", a plain WebDriverException. A
    mark set on the old window's script state is gone exactly when the new page is there."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__reminderOldPage = true")
    element.click()

    def arrived(d) -> bool:  # type: ignore[no-untyped-def]
        try:
            return d.execute_script(
                "return document.readyState === 'complete' && !window.__reminderOldPage")
        except WebDriverException:
            return False

    WebDriverWait(driver, 20).until(arrived)


@pytest.mark.parametrize("width, name", [(1280, "desktop"), (390, "phone")], ids=["desktop", "390px"])
def test_unit_marks_done_from_the_link_in_its_mail(browser, tmp_path: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                   width: int, name: str) -> None:
    from selenium.webdriver.common.by import By

    monkeypatch.setenv(SECRET_ENV, "browser-secret-of-24-chars")
    for key, value in KEYS.items():
        monkeypatch.setenv(key, value)
    shots = shots_dir(tmp_path)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom)  # runs `reminder run --once --now MOMENT`
        # 办公室's digest: tasks 10 (one-off, due 06-24), 5 and 16.
        mail = next(m for m in smtp.messages if m.rcpt_tos == ("bangongshi@example.org",))
        text = mail.message.get_body(("plain",)).get_content()
        link = re.search(r"查看与反馈：(http://127\.0\.0\.1:\d+/u/[\w.\-]+)\s*$", text, re.M)
        assert link, text
        with served(config, smtp, wecom) as site:
            size(browser, width)
            browser.get(link.group(1))
            assert "办公室" in browser.find_element(By.TAG_NAME, "h1").text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= width
            full_page(browser, shots / f"unit-page-{name}.png", width)
            # The first one-off task still open, as the mail listed it.
            section = next(s for s in browser.find_elements(By.CSS_SELECTOR, "section[data-task]")
                           if s.get_attribute("data-recurring") == "0"
                           and s.get_attribute("data-state") != "done")
            task = section.get_attribute("data-task")
            assert f"#t-{task}" in text  # the mail's own per-task link points at it
            section.find_element(By.CSS_SELECTOR, "textarea").send_keys("已完成，见门户网站")
            click_and_wait(browser, section.find_element(
                By.CSS_SELECTOR, "button[name=action][value=done]"))
            from selenium.webdriver.support.ui import WebDriverWait

            done = WebDriverWait(browser, 20).until(
                lambda b: b.find_element(By.ID, f"t-{task}"))
            assert done.get_attribute("data-state") == "done"
            assert done.value_of_css_property("border-left-color") == "rgba(26, 127, 55, 1)"
            assert "撤销" in browser.find_element(By.CSS_SELECTOR, ".flash").text
            full_page(browser, shots / f"unit-page-done-{name}.png", width)
            if name == "desktop":
                size(browser, 1280)
                browser.get(site.admin_url())
                assert browser.find_element(By.ID, f"t-{task}").get_attribute("data-state") == "done"
                full_page(browser, shots / "board-desktop.png", 1280)

        status = json.loads(reminder("status", "--json", "--config", str(config)).stdout)
        row = next(t for t in status["tasks"] if t["task"] == task)
        assert row["done"] is True and row["pending"] == 0
        listed = reminder("plan", str(config.parent / "plans" / "demo-2026"), "--now", MOMENT,
                          "--format", "json", "--config", str(config))
        assert listed.returncode == 0, listed.stderr
        assert not [n for n in json.loads(listed.stdout) if n["task"] == task]
        without = reminder("plan", str(config.parent / "plans" / "demo-2026"), "--now", MOMENT,
                           "--format", "json")
        assert [n for n in json.loads(without.stdout) if n["task"] == task]  # it was there before


def test_coordinator_logs_in_with_the_board_password_on_a_phone(  # type: ignore[no-untyped-def]
        browser, tmp_path: Path, monkeypatch) -> None:
    """The password path to the board, at 390 px: a wrong password is refused in Chinese,
    the right one opens the plan list and the board (the session cookie set by the app)."""
    from click.testing import CliRunner
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from reminder.cli.main import cli

    monkeypatch.setenv(SECRET_ENV, "browser-secret-of-24-chars")
    shots = shots_dir(tmp_path)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, run_once=False)
        config.write_text('secrets_file = "secrets.toml"\n' + config.read_text("utf-8"), "utf-8")
        typed = CliRunner().invoke(cli, ["web-password", "--config", str(config)],
                                   input="看板密码-2026\n看板密码-2026\n")
        assert typed.exit_code == 0, typed.output
        with served(config, smtp, wecom) as site:
            size(browser, 390)
            browser.get(site.base + "/board")

            def submit(password: str, expect: str) -> None:
                field = browser.find_element(By.NAME, "password")
                field.send_keys(password)
                # Wait for the new page itself: the wrong password's .flash is still on screen
                # while the right one's answer loads, so waiting for ".flash, ul.plans" could
                # return before the plan list arrived.
                click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=login]"))
                WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, expect))

            submit("不对的密码", ".flash")
            assert "密码不正确" in browser.find_element(By.CSS_SELECTOR, ".flash").text
            assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
            full_page(browser, shots / "board-login-phone.png", 390)
            submit("看板密码-2026", "ul.plans")
            click_and_wait(browser, browser.find_element(By.LINK_TEXT, "示例市数据管理局2026年政务公开工作要点分工方案"))
            WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR,
                                                                       "tr[data-task]"))
            assert browser.find_element(By.TAG_NAME, "h1").text == "督办看板"
