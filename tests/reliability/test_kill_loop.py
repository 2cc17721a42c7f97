"""The kill loop: daemons SIGKILLed mid-dispatch, again and again, then one left to finish.
At-least-once: nothing may be lost; a duplicate is possible only when a kill lands between the
server's acceptance and the outbox update, so there can be at most one per kill."""

from __future__ import annotations

import random
import time
from pathlib import Path

from harness import (
    count,
    daemon,
    load,
    notices,
    outbox,
    report,
    tracebacks,
    wait_for,
    write_config,
)
from servers import smtp_server

NOTICES = 1000
PER_UNIT = 4  # 250 digests
KILLS = 20


def test_sigkill_mid_dispatch_loses_nothing(db_url: str, tmp_path: Path) -> None:
    load(db_url, notices(NOTICES, per_unit=PER_UNIT))
    rng = random.Random(20)
    log = tmp_path / "daemon.log"
    with smtp_server(delay=0.01) as smtp:
        config = write_config(tmp_path, db_url, smtp=smtp, lease=3, max_wait=1)
        kills = mid_send = 0
        while kills < KILLS:
            before = len(smtp.messages)
            proc = daemon(config, log)
            # Kill only once it is sending, at a random moment of the pass.
            started = wait_for(lambda b=before, p=proc: len(smtp.messages) > b or
                               p.poll() is not None, 60)
            time.sleep(rng.uniform(0, 0.25))
            if proc.poll() is None:
                proc.kill()
                kills += 1
                mid_send += started
            proc.wait(10)
        assert len(smtp.messages) < NOTICES // PER_UNIT, "the kills came too late to matter"
        final = daemon(config, log)
        try:
            assert wait_for(lambda: set(outbox(db_url)) == {"sent"}, 600, step=0.5), outbox(db_url)
        finally:
            final.terminate()
            final.wait(30)
        figures = count(NOTICES, [m.message.get_body(("plain",)).get_content()
                                  for m in smtp.messages])
    errors = tracebacks(log)
    dialect = db_url.split(":")[0].split("+")[0]
    report(f"kill-loop {dialect}", f"{kills} SIGKILLs ({mid_send} while sending); "
           f"{figures.line()}; tracebacks {errors}", tried=NOTICES,
           wrong=figures.lost + max(0, figures.duplicated - kills * PER_UNIT) + errors)
    assert figures.lost == 0
    assert figures.duplicated <= kills * PER_UNIT  # at most the digest in flight per kill
    assert errors == 0
