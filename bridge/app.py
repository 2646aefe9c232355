"""The one HTTP server: platform webhooks, ``/healthz``, and the process lifecycle.

Everything starts and stops in the lifespan: uvicorn re-raises SIGTERM after serving,
so code after ``serve()`` never runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.platform import Platform
from bridge.runtime import Runtime, open_runtime
from bridge.settings import Settings
from store.lock import InstanceLock, InstanceLockTaken

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack and Telegram payloads are far smaller


@dataclass
class AppState:
    ready: bool = False
    runtime: Runtime | None = None
    platforms: Sequence[Platform] = field(default_factory=tuple)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413 before the app sees them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
            return
        # Read the body here (bounded), then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def build_app(
    settings: Settings,
    platforms: Sequence[Platform],
    *,
    raia_transport: httpx.AsyncBaseTransport | None = None,
    instance_wait: float = 30.0,
) -> Starlette:
    state = AppState(platforms=tuple(platforms))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        lock = InstanceLock(settings.database_path)
        try:
            await lock.acquire(wait=instance_wait)
        except InstanceLockTaken as exc:
            log.error("%s", exc)
            raise
        try:
            async with _serving():
                yield
        finally:
            lock.release()

    @asynccontextmanager
    async def _serving() -> AsyncIterator[None]:
        async with open_runtime(settings, raia_transport=raia_transport) as runtime:
            state.runtime = runtime
            service = runtime.service
            for platform in platforms:
                service.register(platform.outbound)
            started: list[Platform] = []
            try:
                for platform in platforms:
                    await platform.start(service)
                    started.append(platform)
                name = await service.agent_name()  # logs a clear error if the key is refused
                await service.start()
                state.ready = True
                log.info(
                    "ready: agent %r, platforms %s, %d question(s) waiting",
                    name,
                    ", ".join(p.name for p in platforms) or "none",
                    await service.waiting(),
                )
                yield
            finally:
                state.ready = False
                for platform in started:
                    await _quietly(platform.stop_intake(), f"{platform.name} stop")
                await service.stop(settings.shutdown_timeout)
                for platform in started:
                    await _quietly(platform.close(), f"{platform.name} close")
                log.info("stopped; %d question(s) kept for the next start", await service.waiting())

    async def healthz(request: Request) -> JSONResponse:
        runtime = state.runtime
        components: dict[str, str] = {}
        waiting = 0
        healthy = state.ready and runtime is not None
        if runtime is not None:
            try:
                await runtime.store.ping()
                waiting = await runtime.service.waiting()
                components["store"] = "ok"
            except Exception as exc:
                components["store"] = f"error: {type(exc).__name__}"
                healthy = False
            components["raia"] = runtime.service.agent_status
        for platform in platforms:
            components[platform.name] = platform.status()
        body = {
            "status": "ok" if healthy else "unavailable",
            "ready": state.ready,
            "components": components,
            "waiting": waiting,
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    for platform in platforms:
        routes.extend(platform.routes())
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(BodyLimit)
    app.state.bridge = state
    return app


async def _quietly(awaitable: Awaitable[object], what: str) -> None:
    try:
        await awaitable
    except Exception:
        log.warning("%s failed", what, exc_info=True)
