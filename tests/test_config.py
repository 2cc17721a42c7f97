"""config.toml: every key of the example, mistakes named by place, secrets kept out."""

from __future__ import annotations

from pathlib import Path

import pytest

from reminder.config import default_database_url, find_config, load_config
from reminder.errors import ConfigError
from reminder.wiring import build_channels

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
SECRET = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_every_key() -> None:
    config = load_config(EXAMPLE)
    assert config.timezone == "Asia/Shanghai"
    assert config.plans == (Path("/srv/reminder/plans"),)
    assert config.email is not None and (config.email.port, config.email.security) == (465, "ssl")
    assert config.wecom is not None and dict(config.wecom.robots) == {
        "公开办群": "REMINDER_WECOM_GONGKAI", "业务科室群": "REMINDER_WECOM_YEWU"}
    assert config.quiet is not None and str(config.quiet.start) == "21:00:00"
    assert config.admin.email == ("admin@example.gov.cn",)
    assert (config.retry.max_attempts, config.retry.base, config.retry.cap) == (8, 60, 3600)
    assert (config.tick_seconds, config.lease_seconds, config.window_days) == (300, 300, 60)
    assert config.web is not None and config.web.evidence_keep_days == 30


@pytest.mark.parametrize("table", ["", "database", "quiet_hours", "retry", "admin", "daemon",
                                   "web", "channels.email", "channels.wecom", "channels.wecom_app",
                                   "channels.dingtalk", "channels.sms"])
def test_the_example_names_every_setting_of_each_table(tmp_path: Path, table: str) -> None:
    """An operator learns the settings from config.example.toml: each key the reader takes
    is there, set or in a comment (issue 20: [daemon] alert_after_seconds, which tells the
    admin of a database out of reach, and [retry] uncertain_seconds were in the code only)."""
    import re

    head = f"[{table}]\n" if table else ""
    with pytest.raises(ConfigError, match="未知配置项") as caught:
        load_config(write(tmp_path, f'{head}zz_unknown = 1\n'))
    taken = str(caught.value).split("可用：", 1)[1].rstrip("）").split("、")
    text = EXAMPLE.read_text("utf-8")
    missing = [key for key in taken
               if not re.search(rf"(?<![\w.]){re.escape(key)}\s*=", text)
               and not re.search(rf"^[#\s]*\[(?:[\w.]+\.)?{re.escape(key)}[\].]", text, re.M)]
    assert missing == []


def test_example_config_builds_channels_from_the_environment() -> None:
    env = {"REMINDER_SMTP_PASSWORD": "smtp-secret", "REMINDER_WECOM_GONGKAI": SECRET,
           "REMINDER_WECOM_YEWU": SECRET + "2"}
    channels = build_channels(load_config(EXAMPLE), env)
    assert set(channels) == {"email", "wecom"}
    assert sorted(channels["wecom"].robots) == ["业务科室群", "公开办群"]
    assert SECRET not in repr(channels["wecom"]) and "smtp-secret" not in repr(channels["email"])


def test_missing_secret_names_the_variable_and_place() -> None:
    with pytest.raises(ConfigError) as info:
        build_channels(load_config(EXAMPLE), {"REMINDER_WECOM_GONGKAI": SECRET})
    message = str(info.value)
    assert "REMINDER_SMTP_PASSWORD" in message and "channels.email.password_env" in message
    assert "\n" not in message


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    config = load_config(None)
    assert config.database_url == f"sqlite:///{tmp_path / 'state' / 'reminder.db'}"
    assert (config.email, config.wecom, config.quiet, config.plans) == (None, None, None, ())
    assert default_database_url() == config.database_url


def test_find_config_prefers_the_option_then_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REMINDER_CONFIG", str(tmp_path / "env.toml"))
    assert find_config(tmp_path / "given.toml") == tmp_path / "given.toml"
    assert find_config(None) == tmp_path / "env.toml"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "plans" / "a").mkdir(parents=True)
    (tmp_path / "plans" / "a" / "plan.toml").write_text("", encoding="utf-8")
    (tmp_path / "plans" / "b").mkdir()
    (tmp_path / "plans" / "b" / "plan.toml").write_text("", encoding="utf-8")
    config = load_config(write(tmp_path, 'plans = ["plans"]\n[database]\npath = "db/r.db"\n'))
    assert config.database_url == f"sqlite:///{tmp_path / 'db' / 'r.db'}"
    assert config.plan_folders() == [tmp_path / "plans" / "a", tmp_path / "plans" / "b"]


@pytest.mark.parametrize("text, place", [
    ('timezone = "Mars/Olympus"', "timezone"),
    ('tiemzone = "Asia/Shanghai"', "顶层"),
    ('[channels.email]\nhost = "h"\nsender = "s"\npassword = "hunter2"', "channels.email.password"),
    ('[channels.wecom.robots."公开办群"]\nkey = "abc"', "channels.wecom.robots.公开办群.key"),
    ('[channels.email]\nhost = "h"\nsender = "s"\nsecurity = "tls"', "channels.email.security"),
    ('[channels.email]\nsender = "s"', "channels.email"),
    ('[channels.wecom]\nformat = "html"', "channels.wecom.format"),
    ('[quiet_hours]\nstart = "晚上九点"\nend = "08:00"', "quiet_hours"),
    ('[retry]\nbase_seconds = 600\ncap_seconds = 60', "retry"),
    ('[daemon]\ntick_seconds = 0', "daemon"),
    ('[daemon]\nwindow_days = true', "daemon.window_days"),
    ('[daemon]\nlease_seconds = 20', "daemon.lease_seconds"),
    ('[daemon]\nlease_seconds = 100\nmax_wait_seconds = 60', "daemon.lease_seconds"),
    ('plans = "x"\nplans2 = 1', "顶层"),
    ("title = ", None),
    ('[web]\ntrusted_proxies = ["nginx.local"]', "web.trusted_proxies"),
    ('[web]\ntrusted_proxies = "127.0.0.1"', "web.trusted_proxies"),
    ('[web]\nevidence_keep_days = 0', "web.evidence_keep_days"),
    ('[admin]\nemail = ["admin@example.org\\r\\nBcc: x@example.org"]', "admin.email"),
    ('[admin]\nemail = ["a@x.org, evil@x.org"]', "admin.email"),
    ('[admin]\nwecom_users = ["chenjing>\\n<@all"]', "admin.wecom_users"),
], ids=["timezone", "typo", "inline-password", "inline-key", "security", "missing-host",
        "wecom-format", "quiet", "retry", "tick", "bool-for-int", "lease-under-2x-default-wait",
        "lease-under-2x-wait", "unknown", "toml-syntax", "proxy-not-an-address",
        "proxies-not-a-list", "evidence-keep-days-zero", "admin-email-crlf", "admin-two-emails", "admin-userid-mention"])
def test_mistakes_are_one_line_errors_with_their_place(tmp_path: Path, text: str,
                                                       place: str | None) -> None:
    path = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    if place:
        assert f"[{place}]" in message
    assert "hunter2" not in message and "abc" not in message.replace(str(path), "")


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="配置文件不存在"):
        load_config(tmp_path / "nope.toml")


def test_missing_plan_folder_is_named(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'plans = ["gone"]\n'))
    with pytest.raises(ConfigError, match="方案目录不存在"):
        config.plan_folders()


WECOM_ONLY = """
secrets_file = "secrets.toml"
[channels.wecom]
base_url = "http://127.0.0.1:9"
[channels.wecom.robots."公开办群"]
key_env = "REMINDER_WECOM_GONGKAI"
"""


# Any group or other bit is refused, not just world-readable: a group-readable file still
# shows the keys to every member of the group.
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o660, 0o604, 0o620, 0o602, 0o610, 0o601],
                         ids=lambda m: f"{m:04o}")
def test_secrets_file_with_group_or_other_bits_is_refused(tmp_path: Path, mode: int) -> None:
    write(tmp_path, f'[wecom]\n"公开办群" = "{SECRET}"\n', "secrets.toml").chmod(mode)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        build_channels(load_config(write(tmp_path, WECOM_ONLY)), {})
    assert "权限过宽" in str(info.value) and SECRET not in str(info.value)


@pytest.mark.parametrize("mode", [0o600, 0o400], ids=lambda m: f"{m:04o}")
def test_secrets_file_only_its_owner_can_read_is_accepted(tmp_path: Path, mode: int) -> None:
    secrets = write(tmp_path, f'[wecom]\n"公开办群" = "{SECRET}"\n', "secrets.toml")
    config = load_config(write(tmp_path, WECOM_ONLY))
    secrets.chmod(mode)
    channels = build_channels(config, {})
    assert channels["wecom"].robots == ("公开办群",)
    assert channels["wecom"].base_url == "http://127.0.0.1:9"
    assert channels["wecom"]._robots["公开办群"] == SECRET  # read from the file


def test_environment_wins_over_the_secrets_file(tmp_path: Path) -> None:
    write(tmp_path, '[wecom]\n"公开办群" = "from-file"\n', "secrets.toml").chmod(0o600)
    config = load_config(write(tmp_path, WECOM_ONLY))
    channel = build_channels(config, {"REMINDER_WECOM_GONGKAI": "from-env"})["wecom"]
    assert channel._robots["公开办群"] == "from-env"


def test_broken_secrets_file_does_not_echo_its_content(tmp_path: Path) -> None:
    write(tmp_path, f'[wecom]\n"公开办群" = "{SECRET}\n', "secrets.toml").chmod(0o600)
    with pytest.raises(ConfigError) as info:
        build_channels(load_config(write(tmp_path, WECOM_ONLY)), {})
    assert SECRET not in str(info.value)


def test_config_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('timezone = "Asia/Shanghai"\n# 局政务公开办\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="不是 UTF-8") as info:
        load_config(path)
    assert info.value.exit_code == 2 and "\n" not in str(info.value)


def gbk_secrets(path: Path) -> None:
    path.write_bytes('[wecom]\n"公开办群" = "键"\n'.encode("gbk"))
    path.chmod(0o600)


@pytest.mark.parametrize("make, words", [
    (Path.mkdir, "是一个目录"),
    (gbk_secrets, "不是 UTF-8"),
], ids=["directory", "not-utf8"])
def test_unreadable_secrets_file_is_one_line(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    make(tmp_path / "secrets.toml")
    with pytest.raises(ConfigError, match=words) as info:
        build_channels(load_config(write(tmp_path, WECOM_ONLY)), {})
    assert "secrets_file" in str(info.value)


# -- systemd credentials: the service files and the reader agree --------------------------

def unit(name: str) -> list[tuple[str, str]]:
    """(key, value) of every setting of a unit file, in order (keys may repeat)."""
    pairs = []
    for line in (ROOT / "systemd" / name).read_text("utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


@pytest.mark.parametrize("service", ["reminder.service", "reminder-once.service"])
def test_service_files_pass_the_secrets_as_the_credential_the_reader_reads(
        tmp_path: Path, service: str) -> None:
    from reminder.config import CREDENTIAL

    settings = unit(service)
    assert ("DynamicUser", "yes") in settings
    [credential] = [v for k, v in settings if k == "LoadCredential"]
    name, _, source = credential.partition(":")
    assert name == CREDENTIAL and source == "/etc/reminder/secrets.toml"
    # As systemd sets it up: a private directory, the file 0400, the path in the environment.
    folder = tmp_path / "credentials"
    folder.mkdir()
    write(folder, f'[wecom]\n"公开办群" = "{SECRET}"\n', name).chmod(0o400)
    config = load_config(write(tmp_path, WECOM_ONLY.replace('secrets_file = "secrets.toml"', "")))
    channel = build_channels(config, {"CREDENTIALS_DIRECTORY": str(folder)})["wecom"]
    assert channel._robots["公开办群"] == SECRET


def test_credential_wins_over_secrets_file_and_environment_over_both(tmp_path: Path) -> None:
    folder = tmp_path / "credentials"
    folder.mkdir()
    write(folder, '[wecom]\n"公开办群" = "from-credential"\n', "secrets.toml").chmod(0o400)
    write(tmp_path, '[wecom]\n"公开办群" = "from-file"\n', "secrets.toml").chmod(0o600)
    config = load_config(write(tmp_path, WECOM_ONLY))
    env = {"CREDENTIALS_DIRECTORY": str(folder)}
    assert build_channels(config, env)["wecom"]._robots["公开办群"] == "from-credential"
    env["REMINDER_WECOM_GONGKAI"] = "from-env"
    assert build_channels(config, env)["wecom"]._robots["公开办群"] == "from-env"


def test_trusted_proxies_take_addresses_and_networks(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[web]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]\n'))
    assert config.web is not None and config.web.trusted_proxies == ("127.0.0.1", "10.0.0.0/8", "::1")
    assert load_config(write(tmp_path, "[web]\n")).web.trusted_proxies == ()  # type: ignore[union-attr]
