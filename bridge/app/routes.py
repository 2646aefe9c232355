"""``ROUTES_FILE``: one deployment for several agents, Telegram bots and Slack apps.

The TOML file declares agents (``[agents.NAME]``), bots (``[telegram.NAME]``), Slack apps
(``[slack.NAME]``) and routes (``[[route]]``, first match wins); secrets stay in the
environment and the file names them (``key_env = "RAIA_HR_KEY"``). Every agent, bot and
app becomes a ``Settings`` of its own, derived from the deployment's and validated like
it, so each is built (and checked) by the same code as the single-agent deployment.

With ``SLACK_CLIENT_ID`` ("Add to Slack") the environment's app is served at
``/slack/events`` beside the file's, under its single-agent name ``slack``: routes name it
``slack = "slack"`` (``team = "T…"`` gives an installed workspace its own agent) and
where none matches the file's first agent answers.

A mistake stops the start with one line naming the file and what is wrong in it
(``RoutesError``, exit status 8). Without ``ROUTES_FILE`` nothing here runs.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from bridge.app.environment import env_file
from bridge.app.settings import Settings, describe_validation_error
from bridge.errors import RoutesError
from bridge.routing import POLICIES, Route

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # a URL path segment
BACKENDS = ("raia", "blaigent", "slug")

AGENT_KEYS = frozenset(
    {"backend", "key_env", "base_url", "org_id_env", "agent", "slug", "stream", "rate_limit", "poll_interval"}
)
TELEGRAM_KEYS = frozenset({"token_env", "secret_env", "agent", "allowed_users", "allowed_chats"})
SLACK_KEYS = frozenset(
    {"bot_token_env", "signing_secret_env", "app_token_env", "agent", "allowed_users", "allowed_channels"}
)
ROUTE_KEYS = frozenset({"slack", "telegram", "channel", "team", "user", "chat", "agent", "reply"})
TOP_KEYS = frozenset({"agents", "telegram", "slack", "route"})

# Each kind of bot: the keys of its table, its webhook path and the settings its keys fill
# (setting, key, how: an environment variable's value that must be set, one that may be,
# or the text itself). Telegram's first: a bot's mistakes are reported in this order.
_BOTS: dict[str, tuple[frozenset[str], str, tuple[tuple[str, str, str], ...]]] = {
    "telegram": (
        TELEGRAM_KEYS,
        "/telegram/{name}/webhook",
        (
            ("telegram_bot_token", "token_env", "required secret"),
            ("telegram_webhook_secret", "secret_env", "secret"),
            ("telegram_allowed_users", "allowed_users", "text"),
            ("telegram_allowed_chats", "allowed_chats", "text"),
        ),
    ),
    "slack": (
        SLACK_KEYS,
        "/slack/{name}/events",
        (
            ("slack_bot_token", "bot_token_env", "required secret"),
            ("slack_signing_secret", "signing_secret_env", "secret"),
            ("slack_app_token", "app_token_env", "secret"),
            ("slack_allowed_users", "allowed_users", "text"),
            ("slack_allowed_channels", "allowed_channels", "text"),
        ),
    ),
}

# Single-agent, single-bot variables: with a routes file the file says all of it.
_PLATFORM_FIELDS = {
    "slack_bot_token": None,
    "slack_signing_secret": None,
    "slack_app_token": None,
    "telegram_bot_token": None,
    "telegram_webhook_secret": None,
    "telegram_allowed_users": "",
    "telegram_allowed_chats": "",
    "slack_allowed_users": "",
    "slack_allowed_channels": "",
    "slack_client_id": None,  # "Add to Slack" stays the environment's app (INSTALLED)
    "slack_client_secret": None,
    "slack_state_secret": None,
}

# The environment's "Add to Slack" app (SLACK_CLIENT_ID): its name in routes and in the
# core, the same as without a routes file.
INSTALLED = "slack"


@dataclass(frozen=True)
class AgentSpec:
    """One agent: its name in the file and the settings its client is built from."""

    name: str
    settings: Settings


@dataclass(frozen=True)
class BotSpec:
    """One Telegram bot or Slack app: ``platform`` is its name in the core
    (``telegram/<name>``, ``slack/<name>``), ``path`` its webhook, ``agent`` its default."""

    kind: str  # "telegram" | "slack"
    name: str
    agent: str
    path: str
    settings: Settings

    @property
    def platform(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Routes:
    path: Path
    agents: dict[str, AgentSpec]
    bots: tuple[BotSpec, ...]
    routes: tuple[Route, ...]
    installed: str | None = None  # the default agent of the "Add to Slack" app, if it is served

    @property
    def defaults(self) -> dict[str, str]:
        """Each bot's and app's agent where no route matches, by platform name."""
        defaults = {bot.platform: bot.agent for bot in self.bots}
        if self.installed is not None:
            defaults[INSTALLED] = self.installed
        return defaults

    def secrets(self) -> list[str]:
        """Every secret the file names, for the log filter."""
        values: list[str] = []
        for settings in [*(a.settings for a in self.agents.values()), *(b.settings for b in self.bots)]:
            values.extend(settings.secrets())
        return sorted(set(values))


def load_routes(settings: Settings, environ: Mapping[str, str] | None = None) -> Routes:
    """Read and check ``ROUTES_FILE``; ``RoutesError`` (one line) on any mistake."""
    assert settings.routes_file is not None
    path = settings.routes_file
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutesError(f"ROUTES_FILE {path} cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RoutesError(f"ROUTES_FILE {path} is not valid TOML: {exc}") from None
    return _Reader(path, settings, _environment(environ)).read(data)


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    """The variables the file may name: the environment, then the ``.env`` file's."""
    if environ is not None:
        return dict(environ)
    from dotenv import dotenv_values

    values: dict[str, str] = {}
    dotenv = env_file()
    if dotenv is not None:
        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(os.environ)
    return values


class _Reader:
    def __init__(self, path: Path, settings: Settings, environ: dict[str, str]) -> None:
        self.path, self.base, self.environ = path, settings, environ

    def fail(self, where: str, problem: str) -> RoutesError:
        return RoutesError(
            f"ROUTES_FILE {self.path}: {where}: {problem}" if where else f"ROUTES_FILE {self.path}: {problem}"
        )

    def read(self, data: dict[str, Any]) -> Routes:
        self.keys("", data, TOP_KEYS)
        agents = {name: self.agent(name, table) for name, table in self.tables("agents", data).items()}
        if not agents:
            raise self.fail("", "declares no agent: add an [agents.NAME] table")
        bots = [
            self.bot(kind, name, table, agents) for kind in _BOTS for name, table in self.tables(kind, data).items()
        ]
        installed = next(iter(agents)) if self.base.slack_client_id is not None else None
        if installed is not None and any(bot.kind == "slack" and bot.name == INSTALLED for bot in bots):
            raise self.fail(
                f"[slack.{INSTALLED}]", f"{INSTALLED} is the name of the SLACK_CLIENT_ID app (Add to Slack): rename it"
            )
        if not bots and installed is None:
            raise self.fail(
                "", "declares no Telegram bot and no Slack app: add a [telegram.NAME] or [slack.NAME] table"
            )
        polling = [bot.name for bot in bots if bot.kind == "telegram" and bot.settings.telegram_public_url is None]
        if len(polling) > 1:
            raise self.fail(
                f"[telegram.{polling[1]}]",
                f"only one Telegram bot can long-poll ({polling[0]} does): set PUBLIC_URL and secret_env for each bot",
            )
        routes = data.get("route", [])
        if not isinstance(routes, list):
            raise self.fail("route", "must be an array of tables: [[route]]")
        known = {(bot.kind, bot.name): bot.platform for bot in bots}
        if installed is not None:
            known[("slack", INSTALLED)] = INSTALLED
        return Routes(
            self.path,
            agents,
            tuple(bots),
            tuple(self.route(index, table, agents, known) for index, table in enumerate(routes, start=1)),
            installed,
        )

    def tables(self, section: str, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        tables = data.get(section, {})
        if not isinstance(tables, dict):
            raise self.fail(f"[{section}]", "must be tables such as [" + section + ".NAME]")
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise self.fail(f"[{section}.{name}]", "must be a table")
            if not _NAME.match(name):
                raise self.fail(f"[{section}.{name}]", "the name may only use letters, digits, - and _")
        return tables

    def keys(self, where: str, table: dict[str, Any], allowed: frozenset[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(where or "top level", f"unknown key {key!r} (known: {', '.join(sorted(allowed))})")

    def text(self, where: str, table: dict[str, Any], key: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"{key} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(where, f"{key} must be a string")
        return str(value)

    def secret(self, where: str, table: dict[str, Any], key: str, *, required: bool = False) -> SecretStr | None:
        """The value of the environment variable that ``key`` names."""
        variable = self.text(where, table, key, required=required)
        if variable is None:
            return None
        value = self.environ.get(variable, "").strip()
        if not value:
            raise self.fail(where, f"{key} names {variable}, which is not set")
        return SecretStr(value)

    def agent_of(self, where: str, table: dict[str, Any], agents: Mapping[str, AgentSpec]) -> str:
        name = self.text(where, table, "agent", required=True)
        assert name is not None
        if name not in agents:
            raise self.fail(where, f'agent = "{name}" is not defined: add [agents.{name}]')
        return name

    def settings(self, where: str, update: dict[str, Any]) -> Settings:
        values = {**self.base.model_dump(), **_PLATFORM_FIELDS, **update}
        try:
            return Settings.model_validate(values)
        except ValidationError as exc:
            raise self.fail(where, describe_validation_error(exc)) from None

    def agent(self, name: str, table: dict[str, Any]) -> AgentSpec:
        where = f"[agents.{name}]"
        self.keys(where, table, AGENT_KEYS)
        backend = self.text(where, table, "backend") or "raia"
        if backend not in BACKENDS:
            raise self.fail(where, f"backend = {backend!r}: use one of {', '.join(BACKENDS)}")
        key = self.secret(where, table, "key_env", required=True)
        base_url = self.text(where, table, "base_url")
        # RAIA_PUSH: each raia agent's own webhook, at /raia/<name>/webhook with its key's secret.
        push = self.base.raia_push and backend == "raia"
        update: dict[str, Any] = {"agent_backend": backend, "routes_file": None, "raia_push": push}
        if "poll_interval" in table:
            update["raia_poll_interval"] = table["poll_interval"]
        if backend == "raia":
            update |= {"raia_api_key": key, **({"raia_base_url": base_url} if base_url else {})}
        elif backend == "blaigent":
            org = self.secret(where, table, "org_id_env", required=True)
            update |= {"blaigent_api_key": key, "blaigent_org_id": org.get_secret_value() if org else None}
            update |= {"blaigent_base_url": base_url} if base_url else {}
            update |= {"blaigent_agent": table["agent"]} if "agent" in table else {}
            update |= {"blaigent_rate_limit": table["rate_limit"]} if "rate_limit" in table else {}
        else:
            update |= {"slug_api_key": key, "slug_agent": self.text(where, table, "slug", required=True)}
            update |= {"slug_api_url": base_url} if base_url else {}
            update |= {"slug_stream": table["stream"]} if "stream" in table else {}
        return AgentSpec(name, self.settings(where, update))

    def bot(self, kind: str, name: str, table: dict[str, Any], agents: Mapping[str, AgentSpec]) -> BotSpec:
        """A ``[telegram.NAME]`` or ``[slack.NAME]`` table: its settings are the deployment's
        with the bot's own token, secrets and allowlists (``_BOTS``)."""
        where = f"[{kind}.{name}]"
        allowed, path, fields = _BOTS[kind]
        self.keys(where, table, allowed)
        agent = self.agent_of(where, table, agents)
        update: dict[str, Any] = {}
        for setting, key, how in fields:
            if how == "text":
                update[setting] = self.text(where, table, key) or ""
            else:
                update[setting] = self.secret(where, table, key, required=how == "required secret")
        return BotSpec(kind, name, agent, path.format(name=name), self.settings(where, update))

    def route(
        self, index: int, table: Any, agents: Mapping[str, AgentSpec], platforms: Mapping[tuple[str, str], str]
    ) -> Route:
        where = f"[[route]] #{index}"
        if not isinstance(table, dict):
            raise self.fail(where, "must be a table")
        self.keys(where, table, ROUTE_KEYS)
        kinds = [kind for kind in ("slack", "telegram") if kind in table]
        if len(kinds) != 1:
            raise self.fail(where, 'names its app or bot with exactly one of slack = "NAME" or telegram = "NAME"')
        kind = kinds[0]
        bot = self.text(where, table, kind, required=True)
        platform = platforms.get((kind, bot or ""))
        if platform is None:
            raise self.fail(where, f'{kind} = "{bot}" is not defined: add [{kind}.{bot}]')
        wrong = {"slack": ("chat",), "telegram": ("channel", "team")}[kind]
        for key in wrong:
            if key in table:
                raise self.fail(where, f"{key} is not a {kind} key (slack: channel, team, user; telegram: chat, user)")
        reply = self.text(where, table, "reply") or "mention"
        if reply not in POLICIES:
            raise self.fail(where, f"reply = {reply!r}: use one of {', '.join(POLICIES)}")
        return Route(
            platform=platform,
            agent=self.agent_of(where, table, agents),
            chat=self.text(where, table, "channel" if kind == "slack" else "chat"),
            team=self.text(where, table, "team"),
            user=self.text(where, table, "user"),
            reply=reply,
        )
