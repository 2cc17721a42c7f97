"""Several daemons on one PostgreSQL with a short lease, all feeding one WeCom robot at its
limit of 20 messages a minute; one of them killed and restarted on the way. And daemons
started together on a fresh database."""

from __future__ import annotations

from pathlib import Path

from harness import (
    count,
    load,
    max_in_window,
    notices,
    reminder,
    report,
    three_daemons_one_restarted,
    tracebacks,
    write_config,
)
from servers import fresh_postgres, wecom_server

MESSAGES = 25  # 20 in the first minute, the rest after it


def test_three_daemons_short_lease_one_robot_at_its_limit(tmp_path: Path) -> None:
    from harness import KEY

    with fresh_postgres() as url, wecom_server(keys={KEY}) as wecom:
        # Units on one robot share a post, so each task is made long enough to need a
        # message of its own: 25 messages to one robot, as before posts were shared.
        load(url, notices(MESSAGES, per_unit=1, channel="wecom", pad=1200))
        # The case: a lease far shorter than the minute the robot makes us wait.
        config = write_config(tmp_path, url, wecom=wecom, lease=4, max_wait=2)
        logs = three_daemons_one_restarted(config, url, tmp_path, lambda: len(wecom.requests))
        texts = [r.body["markdown"]["content"] for r in wecom.requests
                 if isinstance(r.body, dict) and "markdown" in r.body]
        figures = count(MESSAGES, texts)
        busiest = max_in_window([r.at for r in wecom.requests])
        errors = tracebacks(*logs)
    # Wrong: a notice lost, a copy past the one a kill may cost, a post past the robot's 20.
    report("3-daemons", f"lease 4 s, max wait 2 s, 1 kill+restart; {figures.line()}; "
           f"max per robot in any 60 s {busiest}; tracebacks {errors}", tried=MESSAGES,
           wrong=figures.lost + max(0, figures.duplicated - 1) + max(0, busiest - 20) + errors)
    # The SIGKILL may land mid-send: that one message may go out twice (at least once).
    assert figures.lost == 0 and figures.duplicated <= 1
    assert busiest <= 20
    assert errors == 0


def test_daemons_started_together_on_a_fresh_database_all_start(tmp_path: Path) -> None:
    import subprocess
    import sys

    from harness import environ

    with fresh_postgres() as url:
        config = write_config(tmp_path, url)
        procs = [subprocess.Popen([sys.executable, "-m", "reminder", "run", "--once", "--config",
                                   str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=environ()) for _ in range(3)]
        results = [p.communicate(timeout=120) for p in procs]
        codes = [p.returncode for p in procs]
        status = reminder("status", "--config", str(config))
    errors = tracebacks(*(out + err for out, err in results))
    report("fresh-database race", f"3 daemons started at once: exit codes {codes}; "
           f"tracebacks {errors}", tried=3,
           wrong=sum(1 for p, (out, err) in zip(procs, results, strict=True)
                     if p.returncode != 0 or "Traceback" in out + err))
    assert codes == [0, 0, 0], results
    assert status.returncode == 0 and errors == 0
