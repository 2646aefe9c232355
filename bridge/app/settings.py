"""Typed settings from the environment and ``.env``; the names are the bridge's outside
contract (README, "Settings").

Read here and nowhere else: the composition root hands each part its own typed piece."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge import texts
from bridge.app import books
from bridge.app.books import read_messages
from bridge.app.database import Database, parse_database_url
from bridge.app.environment import ENV_FILE
from bridge.app.settings_files import FileSettings
from bridge.app.settings_installs import InstallSettings
from bridge.app.settings_public import PublicUrlSettings
from bridge.app.settings_routes import RoutesSettings
from bridge.app.settings_transcribe import TranscribeSettings
from bridge.errors import ConfigError

# Telegram only accepts these characters in a webhook secret token.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TELEGRAM_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_TELEGRAM_ID = re.compile(r"^(-?\d+|@[A-Za-z0-9_]{3,})$")  # a numeric id or an @username
_SLACK_ID = re.compile(r"^[CGDUW][A-Z0-9]+$")  # channels C/G/D, people U/W
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


def _split_list(raw: str) -> frozenset[str]:
    """``"1, @bob ,2"`` -> ``{"1", "@bob", "2"}`` (usernames compared case-insensitively)."""
    items = (part.strip() for part in raw.replace(";", ",").split(","))
    return frozenset(item.lower() if item.startswith("@") else item for item in items if item)


class Settings(BaseSettings, RoutesSettings, InstallSettings, FileSettings, TranscribeSettings, PublicUrlSettings):
    """Every setting of the bridge. Secrets are ``SecretStr`` so they never print. The
    groups of their own (routes, Add to Slack, files, transcription, the public address) are
    declared in their modules and checked together here."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, extra="ignore", frozen=True)

    # Which agent API answers: raia (send, then poll), or one whose chat call answers.
    agent_backend: Literal["raia", "blaigent", "slug"] = "raia"

    raia_api_key: SecretStr | None = None  # required with AGENT_BACKEND=raia
    raia_base_url: str = "https://api.raia2.com"
    raia_poll_interval: float = Field(default=1.0, gt=0, le=60)
    raia_poll_timeout: float = Field(default=600.0, gt=0, le=24 * 3600)
    # An answer long in coming is looked for at most this many seconds apart (and so is
    # never later than this): a tenth of the time waited, from about 30 s on.
    raia_poll_max_wait: float = Field(default=12.0, ge=3, le=120)
    # raia calls at once (more wait for one): looks per second x round trip, with room.
    raia_max_in_flight: int = Field(default=128, ge=1, le=1024)
    # After a send whose outcome is unknown (a timeout, a crash mid-send), keep looking for
    # the message this long before sending it again: longer than raia takes to store one.
    raia_send_settle: float = Field(default=90.0, ge=0, le=3600)
    # raia calls PUBLIC_URL/raia/webhook after each answer: poll at once (polling stays the fallback).
    raia_push: bool = False
    # user: one agent conversation per person; thread: one per Slack thread/DM, Telegram chat/topic.
    conversation_scope: Literal["user", "thread"] = "user"
    # 👍/👎 under answers, recorded in raia; the question and answer text are kept this many
    # days after delivery so a vote can name them (then erased, like every delivered answer).
    feedback: bool = True
    feedback_days: float = Field(default=7.0, gt=0, le=366)
    # Conversations and people not active for this many days are forgotten; 0 = never.
    people_days: float = Field(default=365.0, ge=0, le=36500)
    # A person takes over (raia's manual mode): staff messages reach the chat (see bridge.takeover).
    handoff: bool = True
    handoff_button: bool = False  # "Talk to a person" under answers
    handoff_watch: float = Field(default=86400.0, gt=0, le=30 * 86400)  # an idle takeover is watched this long
    handoff_scan: float = Field(default=30.0, gt=0, le=3600)  # one listing of recently updated conversations
    # A TOML or YAML file with the bridge's own texts per language ([de] timeout = "…").
    messages_file: Path | None = None

    blaigent_api_key: SecretStr | None = None  # required with AGENT_BACKEND=blaigent
    blaigent_org_id: str | None = None  # required with AGENT_BACKEND=blaigent
    blaigent_agent: str = "customer-service"  # the agent's path segment
    blaigent_base_url: str = "https://blaigent.up.railway.app/api/v1"
    blaigent_rate_limit: int = Field(default=60, ge=1, le=100_000)  # the plan's requests per minute

    slug_api_url: str | None = None  # up to and including /v1/api; required with AGENT_BACKEND=slug
    slug_api_key: SecretStr | None = None  # required with AGENT_BACKEND=slug
    slug_agent: str | None = None  # the agent's slug; required with AGENT_BACKEND=slug
    slug_stream: bool = True

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_allowed_channels: str = ""
    # Offered when someone opens the app's assistant pane (Agents & AI Apps); ";" between prompts.
    slack_suggested_prompts: str = "What can you help me with?;How do I get started?"
    # Each DM message answered in a thread under it, as Slack's agent messaging experience
    # shows them (false: DM answers go to the DM itself, as before).
    slack_dm_threads: bool = True
    slack_allowed_users: str = ""

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None
    telegram_allowed_users: str = ""
    telegram_allowed_chats: str = ""
    # Guest mode: how long (seconds) a guest question may be answered in the chat it was asked
    # in; Telegram documents no limit. A slower answer goes to the private chat (a note in place).
    telegram_guest_window: float = Field(default=8.0, gt=0, le=300)

    # SQLite file (one process) or postgres://… (a PaaS database; several replicas).
    database_url: SecretStr = SecretStr("sqlite:///bridge.db")
    database_pool_size: int = Field(default=10, ge=1, le=100)  # PostgreSQL connections per process
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_token: SecretStr | None = None  # if set, /metrics needs "Authorization: Bearer <token>"
    shutdown_timeout: float = Field(default=10.0, ge=0, le=300)
    # Seconds a client has to send a request's head (from connecting, or from the last
    # answer on a kept-alive connection), then again its body: a slower one is cut off.
    http_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "telegram_bot_token",
        "telegram_webhook_secret",
        "metrics_token",
        "raia_api_key",
        "blaigent_api_key",
        "blaigent_org_id",
        "slug_api_url",
        "slug_api_key",
        "slug_agent",
        "routes_file",
        "slack_client_id",
        "slack_client_secret",
        "slack_state_secret",
        "bridge_secret_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # An empty line such as ``SLACK_APP_TOKEN=`` in .env means "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("agent_backend", "conversation_scope", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        # LOG_FORMAT=JSON means json, as LOG_LEVEL=debug means DEBUG.
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("messages_file")
    @classmethod
    def _messages(cls, value: Path | None) -> Path | None:
        if value is not None:
            books.register_shipped()  # every platform's keys are known, configured in this run or not
            texts.merged(read_messages(value))  # a broken file fails at start, in one line
        return value

    def messages(self) -> dict[str, dict[str, str]]:
        return read_messages(self.messages_file) if self.messages_file else {}

    @field_validator("blaigent_agent", "slug_agent")
    @classmethod
    def _path_segment(cls, value: str | None) -> str | None:
        if value is not None and not _PATH_SEGMENT.match(value):
            raise ValueError("must be the agent's name as it appears in the URL (letters, digits, - and _)")
        return value

    @field_validator("raia_base_url", "slack_api_url", "telegram_api_url", "blaigent_base_url", "slug_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: SecretStr) -> SecretStr:
        parse_database_url(value.get_secret_value().strip())
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TELEGRAM_TOKEN.match(value.get_secret_value()):
            raise ValueError("does not look like a BotFather token (<digits>:<letters, digits, _ or ->)")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _slack_bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        token = value.get_secret_value() if value is not None else "xoxb-"
        if token.startswith("xapp-"):
            raise ValueError(
                "is an app-level token (xapp-…): that one goes in SLACK_APP_TOKEN; use the xoxb-… Bot Token"
            )
        if token.startswith("xoxp-"):
            raise ValueError(
                "is a user token (xoxp-…): the bridge posts as the bot; use the Bot User OAuth Token (xoxb-…)"
            )
        if not token.startswith("xoxb-"):
            raise ValueError("must be the Bot User OAuth Token, which starts with xoxb- (OAuth & Permissions)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _slack_app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().startswith(("xoxb-", "xoxp-")):
            raise ValueError("is a bot or user token: SLACK_APP_TOKEN takes the app-level xapp-… token")
        return value

    @field_validator("telegram_allowed_users", "telegram_allowed_chats")
    @classmethod
    def _telegram_ids(cls, value: str) -> str:
        wrong = [item for item in _split_list(value) if not _TELEGRAM_ID.match(item)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is neither a numeric Telegram id nor an @username")
        return value

    @field_validator("slack_allowed_users", "slack_allowed_channels")
    @classmethod
    def _slack_ids(cls, value: str) -> str:
        wrong = [item for item in _split_list(value) if not _SLACK_ID.match(item)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not a Slack id (U…/W… for people, C…/G…/D… for channels)")
        return value

    @model_validator(mode="after")
    def _backend_requirements(self) -> Settings:
        if self.routes_file is not None:  # each agent of the routes file names its own key
            return self
        needed = {
            "raia": ("raia_api_key",),
            "blaigent": ("blaigent_api_key", "blaigent_org_id"),
            "slug": ("slug_api_url", "slug_api_key", "slug_agent"),
        }[self.agent_backend]
        for name in needed:
            if getattr(self, name) is None:
                suffix = "" if self.agent_backend == "raia" else f" with AGENT_BACKEND={self.agent_backend}"
                raise _missing(name, f"is required but not set{suffix}")
        return self

    @model_validator(mode="after")
    def _push_requirements(self) -> Settings:
        if self.raia_push and self.agent_backend != "raia":
            raise _missing("raia_push", "only works with AGENT_BACKEND=raia")
        if self.raia_push and not self.public_url:
            raise _missing("public_url", "is required when RAIA_PUSH=true (raia calls PUBLIC_URL/raia/webhook)")
        return self

    @property
    def raia_push_secret(self) -> str:
        """The header value raia sends with its push. Derived from the API key, so it is the
        same at every start (a webhook is registered once) and unknown to anyone without it."""
        key = self.raia_api_key.get_secret_value() if self.raia_api_key else ""
        return hmac.new(key.encode(), b"raia-bridge push v1", hashlib.sha256).hexdigest()[:40]

    @model_validator(mode="after")
    def _install_requirements(self) -> Settings:
        problem = self.install_problem(bot_token=self.slack_bot_token, signing_secret=self.slack_signing_secret)
        if problem is not None:
            raise _missing(*problem)
        return self
        if self.slack_bot_token is not None:
            raise _missing(
                "slack_bot_token",
                "is for one workspace; with SLACK_CLIENT_ID the app is installed in many (Add to Slack): unset one",
            )
        for name in ("slack_client_secret", "slack_state_secret", "slack_signing_secret", "bridge_secret_key"):
            if getattr(self, name) is None:
                raise _missing(name, "is required with SLACK_CLIENT_ID (Add to Slack)")
        return self

    @model_validator(mode="after")
    def _platform_requirements(self) -> Settings:
        if (
            not self.slack_bot_token
            and self.slack_client_id is None
            and (self.slack_signing_secret or self.slack_app_token)
        ):
            set_one = "SLACK_SIGNING_SECRET" if self.slack_signing_secret else "SLACK_APP_TOKEN"
            raise _missing("slack_bot_token", f"is required when {set_one} is set (Slack stays off without it)")
        if self.slack_bot_token and not self.slack_app_token and not self.slack_signing_secret:
            raise _missing("slack_signing_secret", "is required in Slack HTTP mode")
        if self.telegram_bot_token and self.public_url:
            secret = self.telegram_webhook_secret
            if secret is None and self.public_url_origin == "PUBLIC_URL":
                raise _missing("telegram_webhook_secret", "is required when PUBLIC_URL is set")
            if secret is not None and not _WEBHOOK_SECRET.match(secret.get_secret_value()):
                raise _missing("telegram_webhook_secret", "may only use A-Z, a-z, 0-9, _ and - (1-256 chars)")
        return self

    @property
    def telegram_public_url(self) -> str | None:
        """Where Telegram's webhook goes: ``public_url``, unless it is only the platform's
        address and no TELEGRAM_WEBHOOK_SECRET is set (then Telegram long-polls, as before
        the platform's address was used, instead of refusing to start)."""
        if self.telegram_webhook_secret is None and self.public_url_origin != "PUBLIC_URL":
            return None
        return self.public_url

    @property
    def database(self) -> Database:
        """``sqlite:///rel.db`` -> the file ``rel.db``; ``postgres://…`` -> that database."""
        return parse_database_url(self.database_url.get_secret_value())

    @property
    def telegram_allowlist(self) -> tuple[frozenset[str], frozenset[str]]:
        return _split_list(self.telegram_allowed_users), _split_list(self.telegram_allowed_chats)

    @property
    def slack_allowlist(self) -> tuple[frozenset[str], frozenset[str]]:
        return _split_list(self.slack_allowed_users), _split_list(self.slack_allowed_channels)

    def secrets(self) -> list[str]:
        """Every secret value, so the log filter can redact them wherever they appear."""
        fields = (
            self.raia_api_key,
            self.blaigent_api_key,
            self.slug_api_key,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.metrics_token,
            self.transcribe_api_key,
            self.slack_client_secret,
            self.slack_state_secret,
            self.bridge_secret_key,
        )
        values = [f.get_secret_value() for f in fields if f is not None and f.get_secret_value()]
        if self.raia_push:
            values.append(self.raia_push_secret)
        return [*values, *self.database.password_forms()]  # the rest of DATABASE_URL is shown, masked


class _FieldProblem(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field.upper()} {problem}")


def _missing(field: str, problem: str) -> _FieldProblem:
    return _FieldProblem(field, problem)


def load_settings(**overrides: Any) -> Settings:
    """Build settings or raise ``ConfigError`` with one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = first.get("loc") or ()
    if loc:
        variable = str(loc[0]).upper()
        if first["type"] == "missing":
            return f"{variable} is required but not set"
        # Never echo the offending input: it may be a secret.
        return f"{variable} is invalid: {first['msg'].removeprefix('Value error, ')}"
    return first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
