"""The personal channels under the daemons' trials (issue 22), on SQLite and PostgreSQL.

Racing daemons: three daemons feeding one DingTalk robot that blocks for 10 minutes past 20
messages a minute (the stand-in checks each signature and keeps that rule), one killed on
the way: nothing lost, at most one duplicate, the limit never hit. On PostgreSQL all three
send; on SQLite the file's lock lets one send and the others refuse in one line, and the
limit must survive the killed one's successor.

Kill loop: daemons SIGKILLed mid-dispatch while they send WeCom application messages, the
app's token expiring half-way: nothing lost, at most the digest in flight per kill, and the
token shared through the database instead of fetched by every process."""

from __future__ import annotations

from pathlib import Path

from channelservers import dingtalk_server, wecom_app_server
from harness import (
    count,
    kill_while_sending,
    load,
    max_in_window,
    notices,
    outbox,
    report,
    send_the_rest,
    three_daemons_on_one_file,
    three_daemons_one_restarted,
    tracebacks,
    write_config,
)

MESSAGES = 25  # 20 in the first minute, the rest after it
TOKEN, SECRET = "trialdingtalk0123456789", "SECtrial0123456789abcdef"
CORP, APP_SECRET = "wwtrial0123456789", "trial-app-secret-0123456789abcdef"


def with_secrets(config: Path, secrets: Path, text: str) -> None:
    secrets.write_text(text, encoding="utf-8")
    secrets.chmod(0o600)
    # secrets_file is a top-level key: it must come before the first table.
    config.write_text(f'secrets_file = "{secrets}"\n' + config.read_text(encoding="utf-8"),
                      encoding="utf-8")


def test_three_daemons_one_dingtalk_robot_never_over_its_limit(db_url: str,
                                                               tmp_path: Path) -> None:
    dialect = db_url.split(":")[0].split("+")[0]
    with dingtalk_server({TOKEN: SECRET}) as dt:
        load(db_url, notices(MESSAGES, per_unit=1, channel="dingtalk", robot="钉钉群"))
        extra = (f'[channels.dingtalk]\nbase_url = "{dt.url}"\ntimeout = 5\n'
                 f'[channels.dingtalk.robots."钉钉群"]\n')
        config = write_config(tmp_path, db_url, lease=4, max_wait=2, extra=extra)
        with_secrets(config, tmp_path / "secrets.toml",
                     f'[dingtalk."钉钉群"]\ntoken = "{TOKEN}"\nsecret = "{SECRET}"\n')
        race = None
        if dialect == "sqlite":
            race = three_daemons_on_one_file(config, db_url, tmp_path, lambda: len(dt.accepted))
            logs = race.logs
        else:
            logs = three_daemons_one_restarted(config, db_url, tmp_path, lambda: len(dt.accepted))
        texts = [r.json["markdown"]["text"] for r in dt.accepted]
        figures = count(MESSAGES, texts)
        busiest = max_in_window([r.at for r in dt.accepted])
        refused = len(dt.requests) - len(dt.accepted)
        errors = tracebacks(*logs)
        final = outbox(db_url)
    # SQLite: 3 started, the lock holder killed, 2 more raced for the lock; every daemon
    # but the one holding the lock refused in one line, and never two sent at once.
    locked = (f"; {race.started} started, {race.refused} refused the held lock, "
              f"most sending at once {race.most_at_once}") if race else ""
    report(f"3-daemons-dingtalk {dialect}",
           f"lease 4 s, max wait 2 s, 1 kill+restart{locked}; {figures.line()}; "
           f"max per robot in any 60 s {busiest}; blocked {dt.over_limit}; "
           f"signatures refused {refused}; tracebacks {errors}", tried=MESSAGES,
           # Wrong: a notice lost, a copy past the one a kill may cost, a post past the robot's
           # 20, a block, a refused signature, a traceback; on SQLite two senders at once.
           wrong=figures.lost + max(0, figures.duplicated - 1) + max(0, busiest - 20)
           + dt.over_limit + refused + errors
           + (max(0, race.most_at_once - 1) if race else 0))
    assert figures.lost == 0 and figures.duplicated <= 1, (figures, final)
    assert dt.over_limit == 0 and busiest <= 20
    assert refused == 0  # every signature checked out
    assert errors == 0
    if race is not None:
        assert race.most_at_once == 1 and race.refused == race.started - 2, race


NOTICES = 200
PER_UNIT = 2  # 100 digests, one app message each, to 100 members
KILLS = 8


def test_sigkill_mid_dispatch_of_app_messages_loses_nothing(db_url: str, tmp_path: Path) -> None:
    dialect = db_url.split(":")[0].split("+")[0]
    load(db_url, notices(NOTICES, per_unit=PER_UNIT, channel="wecom_app"))
    log = tmp_path / "daemon.log"
    with wecom_app_server(corpid=CORP, secret=APP_SECRET, delay=0.05) as wx:
        extra = (f'[channels.wecom_app]\ncorpid = "{CORP}"\nagentid = 1000002\n'
                 f'base_url = "{wx.url}"\ntimeout = 5\n'
                 # the trial runs at any hour: personal channels default to working hours
                 'quiet_hours = { start = "00:00", end = "00:00" }\n')
        config = write_config(tmp_path, db_url, lease=3, max_wait=1, extra=extra)
        with_secrets(config, tmp_path / "secrets.toml", f'[wecom_app]\nsecret = "{APP_SECRET}"\n')

        def expire(kill: int) -> None:
            if kill == KILLS // 2:
                wx.expire_all()  # WeCom's two hours ran out: the next process gets 42001

        mid_send = kill_while_sending(config, log, lambda: len(wx.sends), kills=KILLS, seed=22,
                                      after_kill=expire)
        assert len(wx.accepted) < NOTICES // PER_UNIT, "the kills came too late to matter"
        send_the_rest(config, log, db_url, timeout=300)
        figures = count(NOTICES, [r.json["markdown"]["content"] for r in wx.accepted])
        token_calls = len(wx.tokens)
    errors = tracebacks(log)
    report(f"kill-loop wecom_app {dialect}",
           f"{KILLS} SIGKILLs ({mid_send} while sending), token expired after {KILLS // 2}; "
           f"{figures.line()}; tokens fetched {token_calls} by {KILLS + 1} processes; "
           f"tracebacks {errors}", tried=NOTICES,
           wrong=figures.lost + max(0, figures.duplicated - KILLS * PER_UNIT) + errors)
    assert figures.lost == 0
    assert figures.duplicated <= KILLS * PER_UNIT  # at most the digest in flight per kill
    assert errors == 0
    # One token before the expiry and one after, each shared through the database; a kill
    # between gettoken and storing the token may cost one more.
    assert token_calls <= 4, token_calls
