"""The board by password: `reminder web-password` writes only a salted hash into the secrets
file; /board logs in with it (rate-limited, 403 and a Chinese message when wrong, never
logged), and the session opens the same board as the signed admin link."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from clirun import KEYS, reminder
from lxml import html
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, Deployment, deploy, served, tasks_of

from reminder.answerback.passwords import check_password, hash_password
from reminder.cli.main import cli
from reminder.web.site import RateLimit

PASSWORD = "督办看板-2026"


def with_secrets_file(config: Path, text: str = "") -> Path:
    secrets = config.parent / "secrets.toml"
    if text:
        secrets.write_text(text, encoding="utf-8")
        secrets.chmod(0o600)
    body = config.read_text(encoding="utf-8")
    config.write_text('secrets_file = "secrets.toml"\n' + body, encoding="utf-8")
    return secrets


def set_password(config: Path, *typed: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["web-password", "--config", str(config)],
                                input="".join(f"{t}\n" for t in typed))
    return result.exit_code, result.output


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom:
        config, _ = deploy(tmp_path, smtp, wecom)
        with_secrets_file(config, '[smtp]\npassword = "keep-me"\n')
        assert set_password(config, PASSWORD, PASSWORD)[0] == 0
        with served(config, smtp, wecom, login_rate=RateLimit(limit=4, window=300)) as s:
            yield s


def login(site: Deployment, password: str, session: requests.Session | None = None
          ) -> requests.Response:
    client = session or requests.Session()
    return client.post(site.base + "/board", data={"action": "login", "password": password},
                       timeout=10, allow_redirects=False)


def test_web_password_writes_only_a_salted_hash_and_keeps_the_other_secrets(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    with smtp_server() as smtp, wecom_server() as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, run_once=False)
    secrets = with_secrets_file(config, '# 密钥\n[smtp]\npassword = "keep-me"\n')
    code, output = set_password(config, "short", PASSWORD, "different!", PASSWORD, PASSWORD)
    assert code == 0, output
    assert "至少 8 个字符" in output and "两次输入不一致" in output and "password_hash" in output
    text = secrets.read_text(encoding="utf-8")
    assert PASSWORD not in text and PASSWORD not in output
    assert text.startswith('# 密钥\n[smtp]\npassword = "keep-me"\n')  # kept as written
    stored = text.split('password_hash = "')[1].split('"')[0]
    assert stored.startswith("scrypt$") and check_password(PASSWORD, stored)
    assert not check_password(PASSWORD + "x", stored)
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    # Three failed tries change nothing and say so; no secrets_file is one clear line.
    code, output = set_password(config, "a", "b", "c")
    assert code == 1 and "未更改" in output and secrets.read_text(encoding="utf-8") == text
    config.write_text(config.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    result = reminder("web-password", "--config", str(config))
    assert result.returncode == 2 and "secrets_file" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_password_opens_the_board_and_its_actions(board: Deployment,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    form = html.fromstring(requests.get(board.base + "/board", timeout=10).text)
    assert form.xpath("//input[@type='password' and @name='password']")
    before = len(board.store.completions())
    with caplog.at_level(logging.DEBUG):
        wrong = login(board, "guess-1234")
        assert wrong.status_code == 403 and "密码不正确" in wrong.text
        assert "set-cookie" not in wrong.headers
        session = requests.Session()
        ok = login(board, PASSWORD, session)
        assert ok.status_code == 303 and ok.headers["location"] == "board"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and PASSWORD not in cookie
        plans = html.fromstring(session.get(board.base + "/board", timeout=10).text)
        assert plans.xpath("//a/@href") == ["board/demo-2026"]
        url = board.base + "/board/demo-2026"
        page = session.get(url, timeout=10)
        assert page.status_code == 200 and tasks_of(page.text)
        csrf = html.fromstring(page.text).xpath('//*[@id="t-13"]//input[@name="csrf"]/@value')[0]
        done = session.post(url, data={"csrf": csrf, "task": "13", "action": "done"}, timeout=10)
        assert done.status_code == 200 and tasks_of(done.text)["13"] == "done"
        ledger = session.get(url + "/ledger.xlsx", timeout=10)
        assert ledger.status_code == 200 and ledger.content[:2] == b"PK"
    assert len(board.store.completions()) == before + 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "看板登录失败" in logged and PASSWORD not in logged and "guess-1234" not in logged

    # Without the session: refused, nothing changes; a forged CSRF with it: refused too.
    stranger = requests.Session()
    assert stranger.get(url, timeout=10).status_code == 403
    assert stranger.post(url, data={"csrf": csrf, "task": "3", "action": "done"},
                         timeout=10).status_code == 403
    assert session.post(url, data={"csrf": "forged", "task": "3", "action": "done"},
                        timeout=10).status_code == 403
    assert len(board.store.completions()) == before + 1

    # A new password ends the sessions opened with the old one; logout ends this one.
    assert set_password(board.config_path, PASSWORD + "2", PASSWORD + "2")[0] == 0
    assert session.get(url, timeout=10).status_code == 403
    assert login(board, PASSWORD + "2", session).status_code == 303
    assert session.get(url, timeout=10).status_code == 200
    session.post(board.base + "/board", data={"action": "logout"}, timeout=10)
    assert session.get(url, timeout=10).status_code == 403


def test_login_attempts_are_rate_limited(board: Deployment) -> None:
    codes = [login(board, f"guess-{i:04}").status_code for i in range(4)]
    assert codes == [403] * 4
    blocked = login(board, PASSWORD)  # even the right one, until the window passes
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.text
    assert "set-cookie" not in blocked.headers


def test_without_a_password_the_board_says_how_to_get_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    with smtp_server() as smtp, wecom_server() as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, run_once=False)
        with served(config, smtp, wecom) as s:
            page = requests.get(s.base + "/board", timeout=10)
            assert page.status_code == 200 and "未设置看板密码" in page.text
            # Said to a coordinator, not an administrator: no commands to type (issue 17).
            assert "“督办看板”链接" in page.text and "系统管理员" in page.text
            assert "reminder link" not in page.text and "<code>" not in page.text
            assert login(s, "anything-at-all").status_code == 403
            assert requests.get(s.base + "/board/demo-2026", timeout=10).status_code == 403


def test_logout_ends_a_copied_session_too(board: Deployment) -> None:
    """Issue 20 §7: a cookie copied before the logout (another browser, a stolen one) is
    refused after it, for pages and for actions alike."""
    url = board.base + "/board/demo-2026"
    session = requests.Session()
    assert login(board, PASSWORD, session).status_code == 303
    page = session.get(url, timeout=10)
    assert page.status_code == 200
    csrf = html.fromstring(page.text).xpath('//*[@id="t-13"]//input[@name="csrf"]/@value')[0]
    copied = requests.Session()
    copied.cookies.update(session.cookies)
    assert copied.get(url, timeout=10).status_code == 200  # the copy works while logged in
    before = len(board.store.completions())
    session.post(board.base + "/board", data={"action": "logout"}, timeout=10)
    assert copied.get(url, timeout=10).status_code == 403
    assert copied.post(url, data={"csrf": csrf, "task": "13", "action": "done"},
                       timeout=10).status_code == 403
    assert len(board.store.completions()) == before
    # A stale cookie cannot log the others out: only a live session moves the generation.
    again = requests.Session()
    assert login(board, PASSWORD, again).status_code == 303
    copied.post(board.base + "/board", data={"action": "logout"}, timeout=10)
    assert again.get(url, timeout=10).status_code == 200


def test_a_rotating_forwarded_for_does_not_reset_the_login_limit(board: Deployment) -> None:
    """Issue 20 §5: without [web] trusted_proxies the header is nobody's word: every guess
    from this address counts against it, whatever X-Forwarded-For says."""
    codes = [requests.post(board.base + "/board", data={"action": "login", "password": "guess"},
                           headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"},
                           timeout=10).status_code for i in range(6)]
    assert codes == [403] * 4 + [429] * 2


def test_behind_a_trusted_proxy_each_client_counts_and_all_together_meet_a_ceiling(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    with smtp_server() as smtp, wecom_server() as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, run_once=False)
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[web]\n", '[web]\ntrusted_proxies = ["127.0.0.1"]\n'),
                          encoding="utf-8")
        with_secrets_file(config)
        assert set_password(config, PASSWORD, PASSWORD)[0] == 0
        with served(config, smtp, wecom,
                    login_rate=RateLimit(limit=2, window=300, total=5)) as s:
            def guess(client: str) -> int:
                return requests.post(s.base + "/board", data={"action": "login", "password": "x"},
                                     headers={"X-Forwarded-For": client},
                                     timeout=10).status_code

            # Two guesses per client, then that client waits; other clients go on...
            assert [guess("10.0.0.1"), guess("10.0.0.1"), guess("10.0.0.1")] == [403, 403, 429]
            # ...until five guesses from all of them together: then everyone waits.
            assert [guess(f"10.0.1.{i}") for i in range(4)] == [403, 403, 403, 429]
            assert guess("10.0.2.1") == 429


def test_a_file_the_board_does_not_read_is_not_called_a_login(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17 §7: `web-password --file secrets.toml` without secrets_file in config.toml
    said "在 …/board 登录" while the board kept saying 未设置看板密码."""
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")
    with smtp_server() as smtp, wecom_server() as wecom:
        config, _ = deploy(tmp_path, smtp, wecom, run_once=False)
    elsewhere = tmp_path / "secrets.toml"
    result = CliRunner().invoke(cli, ["web-password", "--file", str(elsewhere), "--config",
                                      str(config)], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "/board 登录" not in result.output
    assert "看板读不到这个文件" in result.output and "secrets_file" in result.output
    with_secrets_file(config)  # now config.toml points at it: the login is real
    result = CliRunner().invoke(cli, ["web-password", "--file", str(elsewhere), "--config",
                                      str(config)], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0 and "/board 登录" in result.output
