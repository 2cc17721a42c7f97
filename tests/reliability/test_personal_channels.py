"""Three daemons on one PostgreSQL feeding one DingTalk robot that blocks for 10 minutes past
20 messages a minute (the stand-in checks each signature and keeps that rule), one daemon
killed and restarted on the way: nothing lost, at most one duplicate, the limit never hit."""

from __future__ import annotations

from pathlib import Path

from channelservers import dingtalk_server
from harness import (
    count,
    load,
    max_in_window,
    notices,
    outbox,
    report,
    three_daemons_one_restarted,
    tracebacks,
    write_config,
)
from servers import fresh_postgres

MESSAGES = 25  # 20 in the first minute, the rest after it
TOKEN, SECRET = "trialdingtalk0123456789", "SECtrial0123456789abcdef"


def test_three_daemons_one_dingtalk_robot_never_over_its_limit(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[dingtalk."钉钉群"]\ntoken = "{TOKEN}"\nsecret = "{SECRET}"\n',
                       encoding="utf-8")
    secrets.chmod(0o600)
    with fresh_postgres() as url, dingtalk_server({TOKEN: SECRET}) as dt:
        load(url, notices(MESSAGES, per_unit=1, channel="dingtalk", robot="钉钉群"))
        extra = (f'[channels.dingtalk]\nbase_url = "{dt.url}"\ntimeout = 5\n'
                 f'[channels.dingtalk.robots."钉钉群"]\n')
        config = write_config(tmp_path, url, lease=4, max_wait=2, extra=extra)
        # secrets_file is a top-level key: it must come before the first table.
        config.write_text(f'secrets_file = "{secrets}"\n' + config.read_text(encoding="utf-8"),
                          encoding="utf-8")
        logs = three_daemons_one_restarted(config, url, tmp_path, lambda: len(dt.accepted))
        texts = [r.json["markdown"]["text"] for r in dt.accepted]
        figures = count(MESSAGES, texts)
        busiest = max_in_window([r.at for r in dt.accepted])
        refused = len(dt.requests) - len(dt.accepted)
        errors = tracebacks(*logs)
        final = outbox(url)
    report("3-daemons-dingtalk", f"lease 4 s, max wait 2 s, 1 kill+restart; {figures.line()}; "
           f"max per robot in any 60 s {busiest}; blocked {dt.over_limit}; refused {refused}; "
           f"tracebacks {errors}", tried=MESSAGES,
           # Wrong: a notice lost, a copy past the one a kill may cost, a post past the robot's
           # 20, a block, a refused signature, a traceback.
           wrong=figures.lost + max(0, figures.duplicated - 1) + max(0, busiest - 20)
           + dt.over_limit + refused + errors)
    assert figures.lost == 0 and figures.duplicated <= 1, (figures, final)
    assert dt.over_limit == 0 and busiest <= 20
    assert refused == 0  # every signature checked out
    assert errors == 0
