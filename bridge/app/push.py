"""raia push (``RAIA_PUSH``): the ``POST /raia/webhook`` endpoint and the one-time
registration of raia's ``each_message`` webhook.

With ``ROUTES_FILE`` each raia agent has its own endpoint, ``POST /raia/<name>/webhook``,
registered with a secret derived from that agent's key: raia's body does not say which
agent answered (it is not documented), so the path does, and the secret proves it.

A push is only a hint: its body is not documented and never trusted for content. It is
authenticated by a header whose value only the bridge (and raia, which got it at
registration) knows; every string in the body is offered to the pollers as an id, and a
poller waiting on one of them polls ``response-on`` at once.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.base import read_json
from adapters.raia.client import RaiaClient
from bridge.app.routes import Routes
from bridge.app.settings import Settings
from bridge.errors import AgentError
from bridge.push import PushHints
from store.postgres import PostgresStore

log = logging.getLogger(__name__)

PATH = "/raia/webhook"
CHANNEL = "raia_bridge_push"  # PostgreSQL NOTIFY channel between replicas
HEADER = "X-Raia-Bridge-Secret"
_MAX_IDS = 64  # strings taken from one body; ids are short and few


Relay = Callable[[list[str]], Awaitable[int]]  # hand ids to the pollers; returns how many woke (-1: relayed)


def path_of(agent: str) -> str:
    """Where raia calls about agent ``agent`` ("": the one agent without a routes file)."""
    return f"/raia/{agent}/webhook" if agent else PATH


def pushed(settings: Settings, routes: Routes | None) -> dict[str, Settings]:
    """The agents whose answers raia pushes, by name, each with its own settings (its key)."""
    if routes is None:
        return {"": settings} if settings.raia_push else {}
    return {name: spec.settings for name, spec in routes.agents.items() if spec.settings.raia_push}


def route(settings: Settings, relay: Callable[[], Relay | None], agent: str = "") -> Route:
    """Agent ``agent``'s endpoint: only its own secret is taken (another agent's is refused)."""
    secret = settings.raia_push_secret.encode()

    async def webhook(request: Request) -> Response:
        given = request.headers.get(HEADER)
        if given is None:
            return PlainTextResponse("missing secret header", status_code=401)
        if not hmac.compare_digest(given.encode(), secret):
            return PlainTextResponse("wrong secret", status_code=403)
        try:
            body = read_json(await request.body())
        except ValueError:  # not JSON, not UTF-8, or nested beyond reason
            return PlainTextResponse("body is not JSON", status_code=400)
        current = relay()
        if current is None:  # starting or stopping: polling finds the answer anyway
            return PlainTextResponse("not ready", status_code=503)
        woken = await current(list(_strings(body)))
        return JSONResponse({"ok": True, "woken": woken} if woken >= 0 else {"ok": True, "relayed": True})

    return Route(path_of(agent), webhook, methods=["POST"])


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every short string in the body, at most ``_MAX_IDS`` of them."""
    found = 0
    stack: list[tuple[Any, int]] = [(value, depth)]
    while stack and found < _MAX_IDS:
        item, level = stack.pop()
        if isinstance(item, str):
            if 0 < len(item) <= 200:
                found += 1
                yield item
        elif level < 5 and isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif level < 5 and isinstance(item, list):
            stack.extend((v, level + 1) for v in item[:50])


def local(hints: PushHints) -> Relay:
    """One process (SQLite): the hint goes straight to this process's pollers."""

    async def relay(ids: list[str]) -> int:
        return hints.hint(ids)

    return relay


def shared(store: PostgresStore, agent: str = "") -> Relay:
    """Several replicas (PostgreSQL): a hint lands on any replica, the lane may be on another;
    it goes to all of them through NOTIFY (each listens, see ``listening``), naming its
    agent with a routes file (the single agent's stays a bare list, as before)."""

    async def relay(ids: list[str]) -> int:
        payload = json.dumps({"agent": agent, "ids": _fit(ids)} if agent else _fit(ids))
        await store.notify(CHANNEL, payload)
        return -1

    return relay


def listening(store: PostgresStore, hints: Mapping[str, PushHints]) -> AbstractAsyncContextManager[None]:
    """This replica's pollers hear the hints any replica received, each agent's its own."""

    def heard(payload: str) -> None:
        try:
            ids = json.loads(payload)
        except ValueError:
            return
        agent = ""
        if isinstance(ids, dict):
            agent, ids = str(ids.get("agent", "")), ids.get("ids")
        if isinstance(ids, list) and agent in hints:
            hints[agent].hint(str(i) for i in ids)

    return store.listen(CHANNEL, heard)


def _fit(ids: list[str]) -> list[str]:
    """NOTIFY payloads stay under 8,000 bytes: ids are short, keep as many as fit."""
    kept: list[str] = []
    size = 2
    for ident in ids:
        size += len(ident.encode()) + 4
        if size > 7000:
            break
        kept.append(ident)
    return kept


async def register(settings: Settings, agent: RaiaClient, name: str = "") -> None:
    """Make sure raia calls us after each answer (and, with HANDOFF, when a person takes
    over: the ``manual`` trigger) of agent ``name``; on failure, say so and keep polling."""
    assert settings.public_url is not None
    url = settings.public_url.rstrip("/") + path_of(name)
    for trigger in ("each_message", "manual") if settings.handoff else ("each_message",):
        try:
            created = await agent.ensure_webhook(url, {HEADER: settings.raia_push_secret}, trigger)
        except AgentError as exc:
            log.warning("raia push: the %s webhook could not be registered (%s); polling finds it", trigger, exc)
            continue
        state = "registered at" if created else "already registered at"
        log.info("raia push: %s webhook %s %s", trigger, state, url)
