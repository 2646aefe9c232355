"""``raia-bridge check`` (``python -m bridge check``): where the settings come from, every
configured credential tried against its service once (twice at most), the database, and
who may use each bot. One verdict per line and nothing else; exit status 0 only if none
failed (a warning does not fail it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from adapters.base import CheckResult
from adapters.raia.client import RaiaClient, RetryPolicy
from bridge.app.database import Database
from bridge.app.environment import env_file, given_names, unknown_variables
from bridge.app.logs import Redactor
from bridge.app.platforms import configured_platforms
from bridge.app.push import path_of
from bridge.app.routes import Routes
from bridge.app.runtime import AgentClient, open_agent, open_transcriber
from bridge.app.settings import Settings
from bridge.errors import (
    AgentAuthError,
    AgentError,
    AgentNotFoundError,
    AgentTransportError,
    DatabaseUnavailable,
)
from bridge.texts import AGENT_FALLBACK_NAME
from store.postgres import PostgresStore
from store.sqlite import SqliteStore

# One try, and one more after a short pause (a blip), never the serving retries' minute.
CHECK_RETRY = RetryPolicy(attempts=2, total=10.0, wait_initial=0.3, wait_max=0.5, max_server_delay=1.0)


async def check(settings: Settings, routes: Routes | None = None) -> int:
    """Print one verdict line per check; exit status 0 only if none failed. With
    ``routes``: every agent's key and every bot's and app's token."""
    results = settings_results(settings)
    if routes is not None:
        results.append(CheckResult("routes", True, routes_summary(routes)))
    # Only the agent client: checking credentials must not create or touch the database.
    for name, agent_settings in _agents(settings, routes):
        async with open_agent(agent_settings, retry=CHECK_RETRY) as agent:
            result = await check_agent(agent_settings, agent)
            results.append(replace(result, name=f"agent {name} ({result.name})") if name else result)
            if agent_settings.raia_push and isinstance(agent, RaiaClient) and results[-1].ok:
                pushed = await check_push(agent_settings, agent, name)
                results.append(replace(pushed, name=f"agent {name} ({pushed.name})") if name else pushed)
    async with open_transcriber(settings) as transcriber:
        if transcriber is not None:  # TRANSCRIBE_URL: does the endpoint take the key?
            ok, detail = await transcriber.check()
            results.append(CheckResult("transcription", ok, detail))
    results.append(await check_database(settings.database))
    platforms = configured_platforms(settings, routes)
    for platform in platforms:
        try:
            results.extend(await platform.check())
        except Exception as exc:
            results.append(CheckResult(platform.name, False, f"check failed: {type(exc).__name__}: {exc}"))
        finally:
            await platform.close()
    if not platforms:
        results.append(CheckResult("platforms", False, "neither TELEGRAM_BOT_TOKEN nor SLACK_BOT_TOKEN is set"))
    for bot_settings in [bot.settings for bot in routes.bots] if routes else [settings]:
        results.extend(access_results(bot_settings))
    # Libraries put tokens in their messages ("The token `123:AA…` was rejected").
    redact = Redactor([*settings.secrets(), *(routes.secrets() if routes else ())])
    for result in results:
        tag = "FAIL" if not result.ok else "WARN" if result.warn else "OK  "
        print(f"{tag} {result.name}: {redact(result.detail)}")
    failed = sum(not r.ok for r in results)
    warned = sum(r.ok and r.warn for r in results)
    if failed:
        print(f"{failed} check(s) failed.")
    else:
        print("All checks passed." if not warned else f"All checks passed, with {warned} warning(s).")
    return 0 if not failed else 1


def _agents(settings: Settings, routes: Routes | None) -> list[tuple[str, Settings]]:
    if routes is None:
        return [("", settings)]
    return [(name, spec.settings) for name, spec in routes.agents.items()]


def routes_summary(routes: Routes) -> str:
    bots = ", ".join(f"{platform} -> {agent}" for platform, agent in routes.defaults.items())
    return f"{routes.path}: {len(routes.agents)} agent(s), {bots}, {len(routes.routes)} route(s)"


def settings_results(settings: Settings) -> list[CheckResult]:
    """Which .env file was read, where PUBLIC_URL comes from, and variables that look like
    settings but are none (each a warning, naming the nearest setting)."""
    dotenv = env_file()
    source = (
        f"read from the environment and {dotenv}"
        if dotenv is not None
        else f"read from the environment only (no .env file in the working directory, {Path.cwd()})"
    )
    results = [CheckResult("settings", True, source)]
    if settings.public_url is not None and settings.public_url_origin != "PUBLIC_URL":
        results.append(CheckResult("public URL", True, f"{settings.public_url} (from {settings.public_url_origin})"))
    for line in unknown_settings(settings):
        results.append(CheckResult("settings", True, line, warn=True))
    return results


def unknown_settings(settings: Settings) -> list[str]:
    """The variables given, in the environment or the .env file, that look like settings of
    the bridge but are none (also logged at start, one line each)."""
    return unknown_variables(given_names(dotenv=env_file()), (name.upper() for name in type(settings).model_fields))


def access_results(settings: Settings) -> list[CheckResult]:
    """Who may use each configured bot: the allowlists in force."""
    results = []
    if settings.telegram_bot_token is not None:
        users, chats = settings.telegram_allowlist
        detail = _access(users, "TELEGRAM_ALLOWED_USERS", chats, "TELEGRAM_ALLOWED_CHATS", "chats")
        results.append(CheckResult("telegram access", True, detail))
    if settings.slack_bot_token is not None:
        users, channels = settings.slack_allowlist
        detail = _access(users, "SLACK_ALLOWED_USERS", channels, "SLACK_ALLOWED_CHANNELS", "channels")
        results.append(CheckResult("slack access", True, detail))
    return results


def _access(users: Iterable[str], users_name: str, places: Iterable[str], places_name: str, where: str) -> str:
    users, places = sorted(users), sorted(places)
    if not users and not places:
        return f"everyone, everywhere ({users_name} and {places_name} are empty)"
    who = f"only {', '.join(users)} ({users_name})" if users else "everyone"
    at = f"only in {', '.join(places)} ({places_name})" if places else f"in any of the bot's {where}"
    return f"{who}, {at}"


async def check_agent(settings: Settings, agent: AgentClient) -> CheckResult:
    """The configured backend's credentials, by the cheapest call it offers."""
    backend = settings.agent_backend
    where = {
        "raia": settings.raia_base_url,
        "blaigent": settings.blaigent_base_url,
        "slug": settings.slug_api_url or "",
    }[backend]
    key = f"{backend.upper()}_API_KEY"
    try:
        if isinstance(agent, RaiaClient):
            name = await agent.agent_name() or AGENT_FALLBACK_NAME
            return CheckResult("raia", True, f"agent {name!r} at {where}")
        return CheckResult(backend, True, await agent.check())
    except AgentAuthError as exc:
        return CheckResult(backend, False, f"{key} was refused ({exc.status}): copy the key again")
    except AgentNotFoundError as exc:
        return CheckResult(backend, False, f"{exc} (check BLAIGENT_AGENT / SLUG_AGENT and the base URL)")
    except AgentTransportError as exc:
        return CheckResult(backend, False, f"could not reach {where}: {exc}")
    except AgentError as exc:
        return CheckResult(backend, False, f"{where} answered with an error: {exc}")


async def check_push(settings: Settings, agent: RaiaClient, name: str = "") -> CheckResult:
    """RAIA_PUSH: is raia's webhook pointing at this bridge (at agent ``name``'s path)?"""
    assert settings.public_url is not None
    url = settings.public_url.rstrip("/") + path_of(name)
    try:
        registered = url in await agent.webhook_urls()
    except AgentError as exc:
        return CheckResult("raia push", False, f"could not read the agent's webhooks: {exc}")
    detail = (
        f"webhook registered at {url}" if registered else f"not registered yet: the bridge registers {url} at start"
    )
    return CheckResult("raia push", True, detail)


async def check_database(database: Database) -> CheckResult:
    """Reachable, which engine, which schema version; read-only."""
    try:
        if database.path is not None:
            detail = await asyncio.to_thread(SqliteStore.inspect, database.path)
        else:
            detail = await PostgresStore.inspect(database.url)
    except DatabaseUnavailable as exc:
        return CheckResult("database", False, f"{database.display}: {exc}")
    return CheckResult("database", True, detail if database.path is not None else f"{detail} at {database.display}")
