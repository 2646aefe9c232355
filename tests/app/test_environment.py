"""Settings in the first hour: the platform's public URL as PUBLIC_URL's default, values
in any case, tokens of the wrong kind, passwords as pasted, misspelled names, the version."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.app.environment import PLATFORM_URLS, env_file, unknown_variables
from bridge.app.settings import Settings, load_settings
from bridge.app.version import package_version
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
KNOWN = [name.upper() for name in Settings.model_fields]


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    platform = {name for name, _ in PLATFORM_URLS}
    for key in list(os.environ):
        if key.startswith(("RAIA_", "SLACK_", "TELEGRAM_", "LOG_", "DATABASE_")) or key in {"PUBLIC_URL", *platform}:
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAIA_API_KEY", "secret-key-123")
    for key, value in values.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("RENDER_EXTERNAL_URL", "https://raia-bridge.onrender.com", "https://raia-bridge.onrender.com"),
        (
            "RAILWAY_PUBLIC_DOMAIN",
            "raia-bridge-production.up.railway.app",
            "https://raia-bridge-production.up.railway.app",
        ),
        ("FLY_APP_NAME", "raia-bridge", "https://raia-bridge.fly.dev"),
        ("HEROKU_APP_DEFAULT_DOMAIN_NAME", "raia-1234.herokuapp.com", "https://raia-1234.herokuapp.com"),
    ],
)
def test_the_platforms_public_url_is_public_urls_default(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    """Where the platform tells the app its address, PUBLIC_URL need not be set (nor may be
    empty); a PUBLIC_URL that is set wins."""
    _env(monkeypatch, **{variable: value})
    settings = load_settings(_env_file=None)
    assert (settings.public_url, settings.public_url_origin) == (expected, variable)
    _env(monkeypatch, **{variable: value, "PUBLIC_URL": ""})
    assert load_settings(_env_file=None).public_url == expected
    _env(monkeypatch, **{variable: value, "PUBLIC_URL": "https://bot.example.com"})
    settings = load_settings(_env_file=None)
    assert (settings.public_url, settings.public_url_origin) == ("https://bot.example.com", "PUBLIC_URL")
    _env(monkeypatch)
    assert load_settings(_env_file=None).public_url is None


def test_without_a_webhook_secret_the_platforms_address_leaves_telegram_polling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The platform's own address needs a TELEGRAM_WEBHOOK_SECRET before Telegram uses a
    webhook there; without one Telegram long-polls as it did before (a deploy that worked
    keeps working). A PUBLIC_URL the operator set asks for the secret in one line."""
    _env(monkeypatch, TELEGRAM_BOT_TOKEN="1:abc", RENDER_EXTERNAL_URL="https://rb.onrender.com")
    settings = load_settings(_env_file=None)
    assert (settings.public_url, settings.telegram_public_url) == ("https://rb.onrender.com", None)
    _env(monkeypatch, TELEGRAM_BOT_TOKEN="1:abc", RENDER_EXTERNAL_URL="https://rb.onrender.com",
         TELEGRAM_WEBHOOK_SECRET="s3cret")  # fmt: skip
    assert load_settings(_env_file=None).telegram_public_url == "https://rb.onrender.com"
    _env(monkeypatch, TELEGRAM_BOT_TOKEN="1:abc", PUBLIC_URL="https://bot.example.com")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value) == "TELEGRAM_WEBHOOK_SECRET is required when PUBLIC_URL is set"


def test_choices_are_taken_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """LOG_FORMAT=JSON is json, as LOG_LEVEL=debug is DEBUG."""
    _env(monkeypatch, LOG_FORMAT="JSON", LOG_LEVEL="debug", CONVERSATION_SCOPE="Thread", AGENT_BACKEND="RAIA")
    settings = load_settings(_env_file=None)
    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")
    assert (settings.conversation_scope, settings.agent_backend) == ("thread", "raia")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("xoxp-1234-5678-abcdef", "SLACK_BOT_TOKEN is invalid: is a user token (xoxp-…)"),
        ("1234-5678-abcdef-token", "SLACK_BOT_TOKEN is invalid: must be the Bot User OAuth Token, which starts with"),
    ],
)
def test_the_bot_token_must_be_a_bot_token(monkeypatch: pytest.MonkeyPatch, token: str, expected: str) -> None:
    _env(monkeypatch, SLACK_BOT_TOKEN=token, SLACK_SIGNING_SECRET="s")
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    assert str(caught.value).startswith(expected)
    assert token not in str(caught.value)


def test_a_password_as_pasted(monkeypatch: pytest.MonkeyPatch) -> None:
    """'#', '/', '?' and '@' in a password end it in a URL: they are taken as part of it."""
    _env(monkeypatch, DATABASE_URL="postgres://app:pa#s/s?w@rd@db.example.com:5432/bridge?sslmode=require")
    settings = load_settings(_env_file=None)
    assert settings.database.display == "postgres://app:***@db.example.com:5432/bridge?sslmode=require"
    assert settings.database.password == "pa#s/s?w@rd"
    assert {"pa#s/s?w@rd", "pa%23s%2Fs%3Fw%40rd"} <= set(settings.secrets())
    _env(monkeypatch, DATABASE_URL="postgres://app:p%40ss-word@db.example.com/bridge")
    assert load_settings(_env_file=None).database.password == "p@ss-word"


def test_unknown_variables_name_the_nearest_setting() -> None:
    given = ["TELEGRAM_ALLOWED_USER", "RAIA_APIKEY", "SLACK_CLIENT_ID", "RAIA_API_KEY", "HOME", "FILES_MAXMB",
             "DATABASE_CONNECTION_POOL_URL", "SLUG_ZZZZZZZZZZZZ"]  # fmt: skip
    assert unknown_variables(given, KNOWN) == [
        "FILES_MAXMB is not a setting of the bridge and is ignored: did you mean FILES_MAX_MB?",
        "RAIA_APIKEY is not a setting of the bridge and is ignored: did you mean RAIA_API_KEY?",
        "SLUG_ZZZZZZZZZZZZ is not a setting of the bridge and is ignored: see docs/settings.md for the names",
        "TELEGRAM_ALLOWED_USER is not a setting of the bridge and is ignored: did you mean TELEGRAM_ALLOWED_USERS?",
    ]


def test_the_env_file_is_the_working_directorys(tmp_path: Path) -> None:
    assert env_file(tmp_path) is None
    (tmp_path / ".env").write_text("RAIA_API_KEY=k\n")
    assert env_file(tmp_path) == tmp_path / ".env"


def test_the_version_without_an_installed_package(tmp_path: Path) -> None:
    """Run from a checkout that was never installed, the version is pyproject.toml's."""
    assert package_version("no-such-distribution-installed", ROOT).endswith(" (from source, not installed)")
    assert package_version("no-such-distribution-installed", ROOT)[0].isdigit()
    assert package_version("no-such-distribution-installed", tmp_path).startswith("(version unknown")
