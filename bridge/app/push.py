"""raia push (``RAIA_PUSH``): the ``POST /raia/webhook`` endpoint and the one-time
registration of raia's ``each_message`` webhook.

A push is only a hint: its body is not documented and never trusted for content. It is
authenticated by a header whose value only the bridge (and raia, which got it at
registration) knows; every string in the body is offered to the pollers as an id, and a
poller waiting on one of them polls ``response-on`` at once.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.base import read_json
from adapters.raia.client import RaiaClient
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


def route(settings: Settings, relay: Callable[[], Relay | None]) -> Route:
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

    return Route(PATH, webhook, methods=["POST"])


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


def shared(store: PostgresStore) -> Relay:
    """Several replicas (PostgreSQL): a hint lands on any replica, the lane may be on another;
    it goes to all of them through NOTIFY (each listens, see ``listening``)."""

    async def relay(ids: list[str]) -> int:
        payload = json.dumps(_fit(ids))
        await store.notify(CHANNEL, payload)
        return -1

    return relay


def listening(store: PostgresStore, hints: PushHints) -> AbstractAsyncContextManager[None]:
    """This replica's pollers hear the hints any replica received."""

    def heard(payload: str) -> None:
        try:
            ids = json.loads(payload)
        except ValueError:
            return
        if isinstance(ids, list):
            hints.hint(str(i) for i in ids)

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


async def register(settings: Settings, agent: RaiaClient) -> None:
    """Make sure raia calls us after each answer (and, with HANDOFF, when a person takes
    over: the ``manual`` trigger); on failure, say so and keep polling."""
    assert settings.public_url is not None
    url = settings.public_url.rstrip("/") + PATH
    for trigger in ("each_message", "manual") if settings.handoff else ("each_message",):
        try:
            created = await agent.ensure_webhook(url, {HEADER: settings.raia_push_secret}, trigger)
        except AgentError as exc:
            log.warning("raia push: the %s webhook could not be registered (%s); polling finds it", trigger, exc)
            continue
        state = "registered at" if created else "already registered at"
        log.info("raia push: %s webhook %s %s", trigger, state, url)
