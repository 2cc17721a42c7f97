"""[channels.wecom_app], [channels.dingtalk] and [channels.sms] in config.toml, and the
channels wiring builds from them with their secrets."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from reminder.config import WORKING_HOURS_ONLY, load_config
from reminder.errors import ConfigError
from reminder.wiring import build_channels

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
CHANNELS = '''
[channels.wecom_app]
corpid = "ww0123456789abcdef"
agentid = 1000002
secret_env = "APP_SECRET"
format = "textcard"

[channels.dingtalk.robots."法规科钉钉群"]
token_env = "DT_TOKEN"
secret_env = "DT_SECRET"

[channels.dingtalk.robots."关键词群"]
token_env = "DT_TOKEN2"
keyword = "督办"

[channels.sms]
url = "https://sms.example.gov.cn/api/send"
headers = { Authorization = "secret:SMS_TOKEN", X-App = "reminder" }
body = '{"phone": {{ mobile | tojson }}, "content": {{ text | tojson }}}'
success_path = "code"
success_value = 0
quiet_hours = { start = "17:30", end = "09:00" }
'''
ENV = {"APP_SECRET": "app-secret-value-123", "DT_TOKEN": "abc123", "DT_SECRET": "SECxyz",
       "DT_TOKEN2": "def456", "SMS_TOKEN": "sms-token-value-789"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_three_channels_load_with_their_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CHANNELS))
    assert config.wecom_app is not None
    assert (config.wecom_app.agentid, config.wecom_app.fmt) == (1000002, "textcard")
    assert config.wecom_app.quiet == WORKING_HOURS_ONLY  # personal: working hours only
    assert config.dingtalk is not None and config.dingtalk.quiet is None  # a group: no default
    assert config.dingtalk.robots["关键词群"].keyword == "督办"
    assert config.sms is not None and config.sms.success_value == "0"
    assert config.sms.quiet is not None and config.sms.quiet.start == time(17, 30)


def test_channels_are_built_with_secrets_resolved_and_never_shown(tmp_path: Path) -> None:
    channels = build_channels(load_config(write(tmp_path, CHANNELS)), ENV)
    assert {"wecom_app", "dingtalk", "sms"} <= set(channels)
    assert channels["sms"]._headers == {"Authorization": "sms-token-value-789", "X-App": "reminder"}
    assert channels["dingtalk"].form_problems() == {}
    assert channels["wecom_app"].quiet == WORKING_HOURS_ONLY
    for channel in channels.values():
        for secret in ENV.values():
            assert secret not in repr(channel)


def test_secrets_can_come_from_the_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[wecom_app]\nsecret = "from-file-secret"\n'
                       '[dingtalk."法规科钉钉群"]\ntoken = "tok1"\nsecret = "SECfile"\n'
                       '[dingtalk."关键词群"]\ntoken = "tok2"\n[sms]\nSMS_TOKEN = "file-token"\n',
                       encoding="utf-8")
    secrets.chmod(0o600)
    text = CHANNELS.replace('secret_env = "APP_SECRET"\n', "").replace(
        'secret_env = "DT_SECRET"\n', "")
    config = load_config(write(tmp_path, f'secrets_file = "{secrets}"\n' + text))
    channels = build_channels(config, {})
    assert channels["sms"]._headers["Authorization"] == "file-token"
    robot = channels["dingtalk"]._robots["法规科钉钉群"]
    assert (robot.access_token, robot.secret) == ("tok1", "SECfile")


@pytest.mark.parametrize(("text", "place"), [
    ("[channels.wecom_app]\ncorpid = \"ww1\"\n", "channels.wecom_app"),
    ("[channels.wecom_app]\ncorpid = \"ww1\"\nagentid = 1\nsecret = \"x\"\n", "secret"),
    ("[channels.wecom_app]\ncorpid = \"ww1\"\nagentid = 1\nformat = \"card\"\n", "format"),
    ("[channels.dingtalk.robots.a]\ntoken = \"x\"\n", "token"),
    ("[channels.sms]\nurl = \"sms.example\"\n", "channels.sms.url"),
    ("[channels.sms]\nurl = \"http://x\"\nsuccess_path = \"code\"\n", "channels.sms"),
    ("[channels.sms]\nurl = \"http://x\"\nbody = \"{{ text \"\n", "channels.sms.body"),
    ("[channels.sms]\nurl = \"http://x\"\nquiet_hours = { start = \"9\" }\n",
     "channels.sms.quiet_hours"),
], ids=["no-agentid", "inline-secret", "format", "dingtalk-inline", "url", "path-alone",
        "template", "quiet"])
def test_mistakes_name_their_place(tmp_path: Path, text: str, place: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert place in str(info.value) and "\n" not in str(info.value)


def test_a_missing_secret_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_channels(load_config(write(tmp_path, CHANNELS)), {**ENV, "SMS_TOKEN": ""})
    assert "SMS_TOKEN" in str(info.value) and "channels.sms.headers.Authorization" in str(info.value)


def test_quiet_hours_equal_ends_mean_any_time(tmp_path: Path) -> None:
    text = CHANNELS.replace('quiet_hours = { start = "17:30", end = "09:00" }',
                            'quiet_hours = { start = "00:00", end = "00:00" }')
    config = load_config(write(tmp_path, text))
    assert config.sms is not None and config.sms.quiet is None


def test_example_config_documents_the_three_channels(tmp_path: Path) -> None:
    # The example keeps them commented out (an office turns on what it has): uncommented,
    # they must load as written.
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# -- personal channels (uncomment what the office has) --")
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("#"):
            break
        block.append(line[2:] if line.startswith("# ") else line[1:])
    config = load_config(EXAMPLE)
    assert config.wecom_app is None
    text = EXAMPLE.read_text(encoding="utf-8") + "\n" + "\n".join(block)
    loaded = load_config(write(tmp_path, text))
    assert loaded.wecom_app is not None and loaded.dingtalk is not None and loaded.sms is not None


def test_personal_hours_keep_days_off_unless_told_and_others_may_ask(tmp_path: Path) -> None:
    # The SMS gateway's own hours keep its days off (the personal default); workdays_only =
    # false turns that off; the global [quiet_hours] may ask for it too.
    config = load_config(write(tmp_path, CHANNELS))
    assert config.sms is not None and config.sms.quiet is not None
    assert config.sms.quiet.workdays_only and config.sms.quiet.end == time(9, 0)
    text = CHANNELS.replace('quiet_hours = { start = "17:30", end = "09:00" }',
                            'quiet_hours = { start = "17:30", end = "09:00", '
                            'workdays_only = false }')
    config = load_config(write(tmp_path, text))
    assert config.sms is not None and config.sms.quiet is not None
    assert not config.sms.quiet.workdays_only
    text = CHANNELS + '\n[quiet_hours]\nstart = "21:00"\nend = "08:00"\nworkdays_only = true\n'
    quiet = load_config(write(tmp_path, text)).quiet
    assert quiet is not None and quiet.workdays_only
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text.replace("workdays_only = true", 'workdays_only = "是"')))
    assert "quiet_hours.workdays_only" in str(info.value)


def test_body_secrets_are_named_here_and_read_from_the_environment(tmp_path: Path) -> None:
    text = CHANNELS.replace('success_value = 0\n', 'success_value = 0\n'
                            'secrets = { account = "SMS_ACCOUNT", key = "SMS_KEY" }\n')
    config = load_config(write(tmp_path, text))
    assert config.sms is not None and dict(config.sms.secrets) == {
        "account": "SMS_ACCOUNT", "key": "SMS_KEY"}
    env = {**ENV, "SMS_ACCOUNT": "jubangongshi", "SMS_KEY": "mas-key-5f3a9c2e71"}
    sms = build_channels(config, env)["sms"]
    assert sms.render({"mobile": "1", "to": "1", "title": "", "text": "", "link": ""})
    assert "mas-key-5f3a9c2e71" not in repr(sms)
    with pytest.raises(ConfigError) as info:  # named but not set: one line naming both
        build_channels(config, {**env, "SMS_KEY": ""})
    assert "SMS_KEY" in str(info.value) and "channels.sms.secrets.key" in str(info.value)
    # The value itself written here (a password with its punctuation) is refused at load.
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text.replace('"SMS_KEY"', '"mas-key-5f3a!9c2e71"')))
    assert "channels.sms.secrets.key" in str(info.value) and "mas-key" not in str(info.value)
