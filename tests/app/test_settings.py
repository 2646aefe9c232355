"""Settings: exact variable names, one-line errors, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.app.advice import setting_warnings
from bridge.app.settings import load_settings
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for key in list(os.environ):
        if key.startswith(
            ("RAIA_", "SLACK_", "TELEGRAM_", "BLAIGENT_", "SLUG_", "AGENT_", "FILES", "FEEDBACK")
        ) or key in (
            "PUBLIC_URL",
            "PORT",
            "DATABASE_URL",
        ):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_defaults_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every documented variable is read under its documented name, with its default."""
    _env(monkeypatch, RAIA_API_KEY="k" * 10, TELEGRAM_BOT_TOKEN="1:abc", PORT="9000")
    settings = load_settings(_env_file=None)
    assert settings.raia_base_url == "https://api.raia2.com"
    assert settings.port == 9000
    assert settings.host == "0.0.0.0"
    assert settings.database.path == Path("bridge.db")
    assert settings.database.engine == "sqlite"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.raia_poll_timeout >= 60  # minutes, not seconds
    assert settings.raia_send_settle == 90
    assert settings.http_timeout == 10
    assert load_settings(_env_file=None, database_url="sqlite:////var/data/b.db").database.path == Path(
        "/var/data/b.db"
    )


def test_missing_key_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing required setting names the variable."""
    _env(monkeypatch)
    with pytest.raises(ConfigError, match=r"^RAIA_API_KEY is required but not set$"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "eighty", "PORT is invalid"),
        ("RAIA_POLL_TIMEOUT", "-5", "RAIA_POLL_TIMEOUT is invalid"),
        ("RAIA_BASE_URL", "api.raia2.com", "RAIA_BASE_URL is invalid"),
        ("DATABASE_URL", "mysql://u:p@h/db", "DATABASE_URL is invalid: must look like sqlite:///"),
        ("DATABASE_URL", "postgres://u:pw@/db", "DATABASE_URL is invalid: names no host"),
        ("DATABASE_URL", "postgres://u:pw@h:5432", "DATABASE_URL is invalid: names no database"),
        ("DATABASE_URL", "postgres://u:pw@h:port/db", "DATABASE_URL is invalid: is not a valid postgres"),
        ("DATABASE_URL", "postgres://u:pw@h/db?sslmode=on", "DATABASE_URL is invalid: has sslmode='on'"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL is invalid"),
        ("CONVERSATION_SCOPE", "channel", "CONVERSATION_SCOPE is invalid"),
        ("FILES_TYPES", "image/*,pdf", "FILES_TYPES is invalid"),
        ("FILES_MAX_MB", "0", "FILES_MAX_MB is invalid"),
        ("FEEDBACK_DAYS", "-1", "FEEDBACK_DAYS is invalid"),
        ("FEEDBACK", "maybe", "FEEDBACK is invalid"),
        ("HTTP_TIMEOUT", "0", "HTTP_TIMEOUT is invalid"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    """A malformed value names the variable and does not echo the value."""
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", **{variable: value})
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_platform_requirements(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack HTTP mode needs the signing secret; a Telegram webhook needs a valid secret."""
    _env(monkeypatch, RAIA_API_KEY="k", SLACK_BOT_TOKEN="xoxb-1")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings(_env_file=None)
    _env(monkeypatch, RAIA_API_KEY="k", TELEGRAM_BOT_TOKEN="1:a", PUBLIC_URL="https://bot.example.com")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET is required"):
        load_settings(_env_file=None)
    _env(
        monkeypatch,
        RAIA_API_KEY="k",
        TELEGRAM_BOT_TOKEN="1:a",
        PUBLIC_URL="https://b.example",
        TELEGRAM_WEBHOOK_SECRET="has space",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert "has space" not in str(info.value)


def test_secrets_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    """repr/str of the settings never contain a secret value."""
    _env(monkeypatch, RAIA_API_KEY="super-secret-raia", TELEGRAM_BOT_TOKEN="123:telegram-secret")
    settings = load_settings(_env_file=None)
    assert "super-secret-raia" not in repr(settings)
    assert "telegram-secret" not in str(settings)
    assert set(settings.secrets()) == {"super-secret-raia", "123:telegram-secret"}


def test_cli_reports_config_error_without_traceback(tmp_path: Path) -> None:
    """`python -m bridge` with a missing key exits non-zero with one line, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bridge"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "raia-bridge: configuration error: RAIA_API_KEY is required but not set"
    ]


def test_cli_refuses_to_serve_nothing(tmp_path: Path) -> None:
    """Serving with no platform configured says what to set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
    env["RAIA_API_KEY"] = "k"
    result = subprocess.run(
        [sys.executable, "-m", "bridge"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"PUBLIC_URL": "http://bridge.example.com"}, "PUBLIC_URL is invalid: must be the app's public https://"),
        (
            {"SLACK_BOT_TOKEN": "xapp-1-A0-123-abc", "SLACK_SIGNING_SECRET": "s"},
            "SLACK_BOT_TOKEN is invalid: is an app-level token",
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"},
            "SLACK_APP_TOKEN is invalid: is a bot or user token",
        ),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN is invalid: does not look like a BotFather token"),
        ({"TELEGRAM_ALLOWED_USERS": "42, ann"}, "TELEGRAM_ALLOWED_USERS is invalid: 'ann' is neither"),
        ({"SLACK_ALLOWED_CHANNELS": "#general"}, "SLACK_ALLOWED_CHANNELS is invalid: '#general' is not a Slack id"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL is invalid: must be a file"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN is required when SLACK_SIGNING_SECRET is set"),
    ],
)
def test_silent_traps_are_caught_at_start(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], expected: str
) -> None:
    """Values that would fail later, quietly, are refused at start with one line naming the variable."""
    _env(monkeypatch, RAIA_API_KEY="k" * 10, **values)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith(expected)
    for value in values.values():
        if len(value) > 8:
            assert value not in str(caught.value)


@pytest.mark.parametrize(
    "given",
    [
        "bridge.example.com",
        "http://bridge.example.com",
        "bridge.example.com/telegram/webhook",
        "https://bridge.example.com/slack/events/",
        "https://bridge.example.com/raia/webhook",
    ],
)
def test_a_wrong_public_url_is_fixed_in_one_round(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    """The one line about a wrong PUBLIC_URL ends with the value to use, and that value is accepted."""
    _env(monkeypatch, RAIA_API_KEY="k" * 10, PUBLIC_URL=given)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    suggested = str(caught.value).rsplit(": ", 1)[1]
    assert suggested == "https://bridge.example.com"
    _env(monkeypatch, RAIA_API_KEY="k" * 10, PUBLIC_URL=suggested)
    assert load_settings(_env_file=None).public_url == suggested


def test_plain_http_public_url_stays_allowed_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local testing with http://127.0.0.1 or http://localhost keeps working."""
    _env(monkeypatch, RAIA_API_KEY="k" * 10, PUBLIC_URL="http://localhost:8000")
    assert load_settings(_env_file=None).public_url == "http://localhost:8000"


def test_a_postgres_url_keeps_its_password_out_of_sight(monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABASE_URL=postgres://… is accepted as PaaS providers hand it out; its password is a
    secret (redacted from logs), never in the settings' repr or the displayed URL."""
    url = "postgres://app:pa55-Word@db.example.com:5432/bridge?sslmode=require"
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", DATABASE_URL=url)
    settings = load_settings(_env_file=None)
    assert settings.database.engine == "postgresql"
    assert settings.database.path is None
    assert settings.database.display == "postgres://app:***@db.example.com:5432/bridge?sslmode=require"
    assert "pa55-Word" in settings.secrets()
    assert "pa55-Word" not in repr(settings) + repr(settings.database)
    assert load_settings(_env_file=None, database_url="postgresql://h/db").database.display == "postgresql://h/db"


def test_a_shutdown_timeout_below_one_second_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    """Legal, but it cuts off work at every deploy: one warning line naming the setting."""
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", SHUTDOWN_TIMEOUT="0.5")
    (warning,) = setting_warnings(load_settings(_env_file=None))
    assert warning.startswith("SHUTDOWN_TIMEOUT=0.5 is below 1 s")
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", SHUTDOWN_TIMEOUT="10")
    assert setting_warnings(load_settings(_env_file=None)) == []


def test_files_and_feedback_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """On by default with raia; off by a word; a backend without them is warned about once each."""
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", FILES_MAX_MB="5", FILES_TYPES="image/*; application/pdf")
    settings = load_settings(_env_file=None)
    policy = settings.file_policy
    assert policy is not None
    assert (policy.max_bytes, policy.max_count, policy.types) == (5 * 1024 * 1024, 10, ("image/*", "application/pdf"))
    assert (policy.allows("image/heic"), policy.allows("application/zip")) == (True, False)
    assert (settings.feedback, settings.feedback_days) == (True, 7.0)
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", FILES="off", FEEDBACK="off")
    assert load_settings(_env_file=None).file_policy is None
    _env(monkeypatch, AGENT_BACKEND="slug", SLUG_API_URL="https://s.example/v1/api", SLUG_API_KEY="k", SLUG_AGENT="a")
    warnings = setting_warnings(load_settings(_env_file=None))
    assert [w.split(" ")[0] for w in warnings] == ["FILES", "FEEDBACK"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AGENT_BACKEND": "blaigent", "BLAIGENT_ORG_ID": "org_1"}, "BLAIGENT_API_KEY is required but not set with "),
        ({"AGENT_BACKEND": "blaigent", "BLAIGENT_API_KEY": "k"}, "BLAIGENT_ORG_ID is required but not set with "),
        ({"AGENT_BACKEND": "slug", "SLUG_API_KEY": "k", "SLUG_AGENT": "a"}, "SLUG_API_URL is required but not set"),
        ({"AGENT_BACKEND": "slug", "SLUG_API_URL": "https://x/v1/api", "SLUG_API_KEY": "k", "SLUG_AGENT": "a b"},
         "SLUG_AGENT is invalid: must be the agent's name as it appears in the URL"),
        ({"AGENT_BACKEND": "blaigent", "BLAIGENT_API_KEY": "k", "BLAIGENT_ORG_ID": "o", "BLAIGENT_BASE_URL": "x.y"},
         "BLAIGENT_BASE_URL is invalid: must start with http"),
        ({"AGENT_BACKEND": "openai"}, "AGENT_BACKEND is invalid"),
        ({"AGENT_BACKEND": "raia"}, "RAIA_API_KEY is required but not set"),
    ],
)  # fmt: skip
def test_each_backend_names_what_it_lacks(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    """Each backend's own settings are checked at start, one line per mistake."""
    _env(monkeypatch, **env)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert str(info.value).startswith(expected)


def test_a_backend_needs_no_raia_key_and_its_keys_are_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, AGENT_BACKEND="slug", SLUG_API_URL="https://agents.example.com/v1/api",
         SLUG_API_KEY="slug-Secret-1", SLUG_AGENT="support-agent")  # fmt: skip
    settings = load_settings(_env_file=None)
    assert (settings.agent_backend, settings.slug_stream, settings.raia_api_key) == ("slug", True, None)
    assert "slug-Secret-1" in settings.secrets()
    assert "slug-Secret-1" not in repr(settings)
    _env(monkeypatch, AGENT_BACKEND="blaigent", BLAIGENT_API_KEY="bl-Secret-2", BLAIGENT_ORG_ID="org_9")
    settings = load_settings(_env_file=None)
    assert (settings.blaigent_agent, settings.blaigent_rate_limit) == ("customer-service", 60)
    assert settings.blaigent_base_url == "https://blaigent.up.railway.app/api/v1"
    assert "bl-Secret-2" in settings.secrets()


def test_raia_push_needs_a_public_url_and_raia(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", RAIA_PUSH="true")
    with pytest.raises(ConfigError, match=r"^PUBLIC_URL is required when RAIA_PUSH=true"):
        load_settings(_env_file=None)
    _env(monkeypatch, RAIA_API_KEY="secret-key-123", RAIA_PUSH="true", PUBLIC_URL="https://b.example.com")
    settings = load_settings(_env_file=None)
    assert settings.raia_push_secret in settings.secrets()
    assert settings.raia_push_secret == load_settings(_env_file=None).raia_push_secret  # the same at every start
    assert "secret-key-123" not in settings.raia_push_secret


def test_a_button_that_cannot_show_says_so_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """HANDOFF_BUTTON=on is quiet when it works; with HANDOFF=off the operator hears the
    button cannot show."""
    monkeypatch.setenv("RAIA_API_KEY", "k-123456")
    monkeypatch.setenv("HANDOFF_BUTTON", "on")
    assert setting_warnings(load_settings(_env_file=None)) == []
    monkeypatch.setenv("HANDOFF", "off")
    (warning,) = setting_warnings(load_settings(_env_file=None))
    assert warning == 'HANDOFF_BUTTON=on, but HANDOFF=off: answers carry no "Talk to a person" button'


def test_add_to_slack_needs_its_secrets_and_no_bot_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """SLACK_CLIENT_ID: the client secret, the state secret, the signing secret and a Fernet
    BRIDGE_SECRET_KEY are required; a bot token as well is refused (one workspace or many)."""
    from cryptography.fernet import Fernet

    _env(monkeypatch, RAIA_API_KEY="k" * 10)
    key = Fernet.generate_key().decode()
    full = {
        "slack_client_id": "1.2", "slack_client_secret": "cs", "slack_state_secret": "ss",
        "slack_signing_secret": "sig", "bridge_secret_key": key,
    }  # fmt: skip
    assert load_settings(_env_file=None, **full).slack_client_id == "1.2"
    assert key in load_settings(_env_file=None, **full).secrets()
    with pytest.raises(ConfigError, match="SLACK_STATE_SECRET is required with SLACK_CLIENT_ID"):
        load_settings(_env_file=None, **{**full, "slack_state_secret": None})
    with pytest.raises(ConfigError, match="BRIDGE_SECRET_KEY is required with SLACK_CLIENT_ID"):
        load_settings(_env_file=None, **{**full, "bridge_secret_key": None})
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN is for one workspace"):
        load_settings(_env_file=None, **full, slack_bot_token="xoxb-1")
    with pytest.raises(ConfigError, match="must be a Fernet key"):
        load_settings(_env_file=None, **{**full, "bridge_secret_key": "not-a-key"})
