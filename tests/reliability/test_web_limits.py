"""Issue 20 §5 and §6 as the audit ran them, against `reminder serve` in its own process on
127.0.0.1: password guesses with a rotating X-Forwarded-For, 600 of them at concurrency 50
(the server's memory sampled from /proc), and 40 有困难 from one link to the coordinator's
robot. Bounded loops, loopback only."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from clirun import KEYS
from harness import max_in_window, report, tracebacks
from servers import smtp_server, wecom_server
from webutil import SECRET_ENV, deploy, form_of

from reminder.answerback.passwords import hash_password

PASSWORD = "督办看板-2026"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The link signing secret, for `run --once`, `serve` and the links signed here."""
    monkeypatch.setenv(SECRET_ENV, "test-secret-of-24-chars!")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def serving(tmp_path: Path, smtp, wecom, *, web: str = "") -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:  # type: ignore[no-untyped-def]
    """`reminder serve` over the example plan (filled by `run --once`), with a board
    password; ``web`` lines are added to [web]."""
    config, base = deploy(tmp_path, smtp, wecom)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[web]\npassword_hash = "{hash_password(PASSWORD)}"\n', encoding="utf-8")
    secrets.chmod(0o600)
    text = config.read_text(encoding="utf-8").replace("[web]\n", f"[web]\n{web}")
    config.write_text(f'secrets_file = "{secrets}"\n' + text, encoding="utf-8")
    log = tmp_path / "serve.log"
    env = {**os.environ, **KEYS, SECRET_ENV: "test-secret-of-24-chars!", "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "reminder", "serve", "--config",
                                    str(config)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("reminder serve did not start: " + log.read_text("utf-8", "replace"))
        yield base, process, log
    finally:
        process.terminate()
        process.wait(timeout=20)


def guess(base: str, client: str) -> int:
    return requests.post(base + "/board", data={"action": "login", "password": "guess-1234"},
                         headers={"X-Forwarded-For": client}, timeout=120).status_code


def test_rotating_forwarded_for_does_not_dodge_the_login_limit(tmp_path: Path) -> None:
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom, \
            serving(tmp_path, smtp, wecom) as (base, _, log):
        codes = [guess(base, f"10.{i // 65536}.{i // 256 % 256}.{i % 256}") for i in range(200)]
    wrong, limited = codes.count(403), codes.count(429)
    report("login, rotating X-Forwarded-For",
           f"200 guesses: {wrong} x 403, {limited} x 429 (issue 20 audit before the fix: 200 x 403, 0 x 429)",
           tried=200, wrong=max(0, wrong - 5))  # a password checked past the 5 allowed
    assert (wrong, limited) == (5, 195) and tracebacks(log) == 0


def test_600_guesses_at_concurrency_50_behind_a_trusted_proxy_stay_bounded(tmp_path: Path) -> None:
    """The worst case for memory: the proxy is trusted, so every guess names a new client
    and only the ceiling (60 in 5 minutes) and two checks at a time bound the work."""
    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom, \
            serving(tmp_path, smtp, wecom, web='trusted_proxies = ["127.0.0.1"]\n') as (
                base, process, log):
        before = rss_mb(process.pid)
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb(process.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(50) as pool:
                codes = list(pool.map(lambda i: guess(base, f"10.1.{i // 256}.{i % 256}"),
                                      range(600)))
        finally:
            done.set()
            sampler.join()
        took = time.monotonic() - started
    report("login, 600 guesses at concurrency 50 (trusted proxy)",
           f"{codes.count(403)} x 403, {codes.count(429)} x 429 in {took:.1f} s; server RSS "
           f"{before:.0f} MB -> peak {peak[0]:.0f} MB (issue 20 audit before the fix: 135 MB -> 752 MB)",
           tried=600, wrong=max(0, codes.count(403) - 60))  # checked past the ceiling
    assert codes.count(403) == 60 and codes.count(429) == 540
    assert peak[0] - before < 350 and tracebacks(log) == 0


def test_forty_difficulties_from_one_link_stay_within_the_robots_minute(tmp_path: Path) -> None:
    from reminder import wiring

    with smtp_server() as smtp, wecom_server(keys=set(KEYS.values())) as wecom, \
            serving(tmp_path, smtp, wecom) as (_, _, log):
        config = wiring.load(tmp_path / "config.toml")
        url = wiring.build_links(config).unit_url("demo-2026", "法规科")
        page = requests.get(url, timeout=10).text
        robot = KEYS["REMINDER_WECOM_GONGKAI"]
        daemon_posts = sum(r.key == robot for r in wecom.requests)
        mails = len(smtp.messages)
        started = time.monotonic()
        codes = [requests.post(url, data={**form_of(page, "9"), "action": "blocked",
                                          "text": f"困难{i}"},
                               headers={"X-Forwarded-For": f"10.2.0.{i}"}, timeout=30).status_code
                 for i in range(40)]
        took = time.monotonic() - started
        times = [r.at for r in wecom.requests if r.key == robot]
    web_posts = len(times) - daemon_posts
    report("有困难 flood, one link",
           f"40 POSTs in {took:.1f} s: {codes.count(200)} x 200, {codes.count(429)} x 429; "
           f"{web_posts} robot posts from the web ({daemon_posts} from the daemon's run before), "
           f"max {max_in_window(times)} in any 60 s; {len(smtp.messages) - mails} e-mails "
           "(issue 20 audit before the fix: 70 posts in 6.2 s)",
           tried=40, wrong=max(0, max_in_window(times) - 20))  # posts past the robot's 20
    assert codes.count(200) == 30 and codes.count(429) == 10  # 30 a minute per link
    assert max_in_window(times) <= 20 and web_posts >= 1 and tracebacks(log) == 0
