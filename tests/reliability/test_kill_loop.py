"""The kill loop: daemons SIGKILLed mid-dispatch, again and again, then one left to finish.
At-least-once: nothing may be lost; a duplicate is possible only when a kill lands between the
server's acceptance and the outbox update, so there can be at most one per kill."""

from __future__ import annotations

from pathlib import Path

from harness import (
    count,
    kill_while_sending,
    load,
    notices,
    report,
    send_the_rest,
    tracebacks,
    write_config,
)
from servers import smtp_server

NOTICES = 1000
PER_UNIT = 4  # 250 digests
KILLS = 20


def test_sigkill_mid_dispatch_loses_nothing(db_url: str, tmp_path: Path) -> None:
    load(db_url, notices(NOTICES, per_unit=PER_UNIT))
    log = tmp_path / "daemon.log"
    with smtp_server(delay=0.01) as smtp:
        config = write_config(tmp_path, db_url, smtp=smtp, lease=3, max_wait=1)
        mid_send = kill_while_sending(config, log, lambda: len(smtp.messages), kills=KILLS,
                                      seed=20)
        assert len(smtp.messages) < NOTICES // PER_UNIT, "the kills came too late to matter"
        send_the_rest(config, log, db_url)
        figures = count(NOTICES, [m.message.get_body(("plain",)).get_content()
                                  for m in smtp.messages])
    errors = tracebacks(log)
    dialect = db_url.split(":")[0].split("+")[0]
    report(f"kill-loop {dialect}", f"{KILLS} SIGKILLs ({mid_send} while sending); "
           f"{figures.line()}; tracebacks {errors}", tried=NOTICES,
           wrong=figures.lost + max(0, figures.duplicated - KILLS * PER_UNIT) + errors)
    assert figures.lost == 0
    assert figures.duplicated <= KILLS * PER_UNIT  # at most the digest in flight per kill
    assert errors == 0
