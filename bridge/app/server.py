"""The one HTTP server: platform webhooks, ``/healthz``, and the bridge's lifecycle.

``AppState.bridge()`` opens everything (lock, store, raia client, platforms, lanes) in
one exit stack. Embedded under any ASGI server it runs as the app's lifespan; the CLI
instead enters it around ``uvicorn.Server.serve`` on a socket it bound first, so a busy
port fails before any platform is touched and a start-up failure is one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from inspect import isfunction, ismethod

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.base import Platform, running
from bridge.acks import AckFirst
from bridge.app import push, status
from bridge.app.direct import Direct, Endpoints
from bridge.app.installations import SealedInstallations
from bridge.app.limits import BodyLimit
from bridge.app.metrics import Metrics, WebhookCounter, authorized
from bridge.app.routes import Routes
from bridge.app.runtime import Runtime, open_runtime
from bridge.app.settings import Settings
from bridge.app.status import Snapshot
from bridge.app.version import package_version
from bridge.errors import DiskFull, StoreError
from bridge.routing import NamedOutbound
from store.lock import InstanceLock
from store.postgres import PostgresStore

log = logging.getLogger(__name__)

HEALTH_PROBE = 2.0  # seconds /healthz waits for the database before it reports it slow


@dataclass
class AppState:
    ready: bool = False
    runtime: Runtime | None = None
    relays: dict[str, push.Relay] = field(default_factory=dict)  # where each agent's push hints go (RAIA_PUSH)
    platforms: Sequence[Platform] = field(default_factory=tuple)
    served: bool = False
    bridge: Callable[[], AbstractAsyncContextManager[None]] | None = None


class Acknowledging:
    """Marks webhook requests in flight for the service's ``AckFirst`` (lanes about to start
    work hold back while an acknowledgement is overdue)."""

    def __init__(self, app: ASGIApp, paths: frozenset[str], gate: Callable[[], AckFirst | None]) -> None:
        self.app, self.paths, self.gate = app, paths, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self.gate() if scope["type"] == "http" and scope["path"] in self.paths else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        with gate.receiving():
            await self.app(scope, receive, send)


def build_app(
    settings: Settings,
    platforms: Sequence[Platform],
    *,
    instance_wait: float = 30.0,
    drain: float | None = None,
    lifespan: bool = True,
    routed: Routes | None = None,
) -> Starlette:
    """The server. ``drain``: how long lanes may finish at shutdown (default
    ``SHUTDOWN_TIMEOUT``; the CLI keeps a second of it for requests in flight).
    ``routed``: ROUTES_FILE's agents, each bot or app of ``platforms`` under its name."""
    state = AppState(platforms=tuple(platforms))
    webhooks = [route for platform in platforms for route in platform.routes()]
    pushed = push.pushed(settings, routed)  # RAIA_PUSH: each agent raia calls, at its own path
    webhook_paths = frozenset(r.path for r in webhooks if isinstance(r, Route)) | {push.path_of(a) for a in pushed}
    metrics = Metrics(webhook_paths)

    def states() -> tuple[dict[str, bool], dict[str, bool]]:
        services = state.runtime.services if state.runtime is not None else {}
        agents = {name: each.agent_status == "ok" for name, each in services.items()}
        return agents, {p.name: p.status().startswith("ok") for p in platforms}

    metrics.states = states

    @asynccontextmanager
    async def bridge() -> AsyncIterator[None]:
        # One stack, unwound in reverse on the way out (or from wherever a start
        # failed): ready off -> intake stops -> lanes drain -> platforms close ->
        # store and raia client close -> the instance lock is released.
        async with AsyncExitStack() as stack:
            database = settings.database
            if database.path is not None:  # SQLite: one serving process per file
                await stack.enter_async_context(InstanceLock(database.path, wait=instance_wait))
            runtime = await stack.enter_async_context(open_runtime(settings, metrics=metrics, routes=routed))
            hints = {name: each for name, (each, _) in runtime.pushes.items()}
            if hints:  # raia push: hints reach this process's pollers, or every replica's
                if isinstance(runtime.store, PostgresStore):
                    await stack.enter_async_context(push.listening(runtime.store, hints))
                    state.relays = {name: push.shared(runtime.store, name) for name in hints}
                else:
                    state.relays = {name: push.local(each) for name, each in hints.items()}
            if isinstance(runtime.store, PostgresStore):  # replicas share it: some things stay single
                for platform in platforms:
                    sole = platform.sole_consumer()
                    if sole is not None:
                        name, taken = sole
                        await stack.enter_async_context(runtime.store.exclusive(name, wait=instance_wait, taken=taken))
            state.runtime = runtime
            for platform in platforms:  # "Add to Slack": installations live in the store
                installations = getattr(platform, "installations", None)
                if isinstance(installations, SealedInstallations):
                    installations.store = runtime.store
                keep_in = getattr(platform, "keep_in", None)  # Telegram: the topics /new opened
                if keep_in is not None:
                    keep_in(runtime.store)
            service, router = runtime.service, runtime.router
            stack.push_async_callback(_stopped, runtime, state)
            for each in runtime.services.values():
                for platform in platforms:
                    each.register(NamedOutbound(platform.outbound, platform.name) if router else platform.outbound)
            for platform in platforms:
                await stack.enter_async_context(running(platform, router.inbox(platform.name) if router else service))
            for each in runtime.services.values():
                await stack.enter_async_context(each.running(settings.shutdown_timeout if drain is None else drain))
            for platform in platforms:
                stack.push_async_callback(_quietly, platform.stop_intake, f"{platform.name} stop")
            stack.callback(setattr, state, "ready", False)
            state.ready = state.served = True
            log.info(
                "ready: platforms %s, %d question(s) waiting",
                ", ".join(p.name for p in platforms) or "none",
                await service.waiting(),
            )
            # Asked after start-up, not during it: a slow raia must not keep the port
            # closed past a PaaS's boot limit. Logs a clear error if the key is refused.
            runtime.tasks.spawn(_greet(runtime, platforms, routed), name="agent-name")
            for name, (_, client) in runtime.pushes.items():
                runtime.tasks.spawn(push.register(pushed[name], client, name), name="raia-push-register")
            yield

    async def probe() -> Snapshot:
        runtime = state.runtime
        components: dict[str, str] = {}
        waiting: int | None = 0
        healthy = state.ready and runtime is not None
        agent: str | None = None
        if runtime is not None:
            try:
                async with asyncio.timeout(HEALTH_PROBE):  # a check must answer before the PaaS gives up
                    version = await runtime.store.schema_version()  # also proves the database answers
                    waiting = await runtime.service.waiting()
                components["store"] = f"ok ({runtime.store.engine}, schema {version})"
            except TimeoutError:
                # Slow (a lock, a full pool): every replica would fail alike, and restarting
                # them all would not make the database faster. Questions wait durably.
                components["store"] = f"slow: no answer within {HEALTH_PROBE:g}s"
                waiting = None
            except DiskFull:  # one line in the log says where and what to do
                components["store"] = "full: the database's disk is full; questions wait for space"
                waiting, healthy = None, False
            except StoreError as exc:
                components["store"] = f"error: {type(exc).__name__}"
                healthy = False
            if runtime.router is None:
                components["raia"] = runtime.service.agent_status
            for name, each in runtime.services.items() if runtime.router is not None else ():
                components[f"agent {name}"] = each.agent_status
            agent = runtime.service.known_agent_name
            # A refused key needs an operator (503 makes a PaaS say so); a raia outage
            # does not: a restart would not help, and questions wait for it durably.
            healthy = healthy and not any(each.agent_refused for each in runtime.services.values())
        for platform in platforms:
            components[platform.name] = platform.status()
        return Snapshot(
            version=package_version(),
            ready=state.ready,
            healthy=healthy,
            agent=agent,
            backend="raia",
            components=components,
            platforms=tuple(p.name for p in platforms),
            waiting=waiting,
        )

    async def healthz(request: Request) -> JSONResponse:
        snap = await probe()
        body = {
            "status": "ok" if snap.healthy else "unavailable",
            "ready": snap.ready,
            "components": dict(snap.components),
            "waiting": snap.waiting,
            "version": snap.version,
        }
        return JSONResponse(body, status_code=200 if snap.healthy else 503)

    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    async def status_page(request: Request) -> Response:
        if not authorized(request, token):  # METRICS_TOKEN: the page is the operators' too
            return PlainTextResponse("raia-bridge: the status page needs the METRICS_TOKEN bearer token", 401)
        return HTMLResponse(status.render(await probe()), headers=status.HEADERS)

    async def waiting() -> int:
        return await state.runtime.service.waiting() if state.runtime is not None else 0

    routes: list[BaseRoute] = [
        Route("/", status_page, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.endpoint(token, waiting), methods=["GET"]),
    ]
    routes.extend(webhooks)
    for name, agent_settings in pushed.items():
        routes.append(push.route(agent_settings, partial(_relay, state, name), name))

    @asynccontextmanager
    async def as_lifespan(app: Starlette) -> AsyncIterator[None]:
        async with bridge():
            yield

    state.bridge = bridge
    app = Starlette(routes=routes, lifespan=as_lifespan if lifespan else None)

    def gate() -> AckFirst | None:
        return state.runtime.service.acks if state.runtime else None

    app.add_middleware(BodyLimit, deadline=settings.http_timeout)
    app.add_middleware(Acknowledging, paths=webhook_paths, gate=gate)
    app.add_middleware(WebhookCounter, metrics=metrics)
    # Webhook posts skip Starlette's router (bridge/app/direct.py), through the same three.
    endpoints = {r.path: r.endpoint for r in routes if isinstance(r, Route) and _direct(r, webhook_paths)}
    lean = BodyLimit(Endpoints(endpoints), deadline=settings.http_timeout)
    direct = WebhookCounter(Acknowledging(lean, paths=webhook_paths, gate=gate), metrics=metrics)
    app.add_middleware(Direct, paths=frozenset(endpoints), direct=direct)
    app.state.bridge = state
    return app


def _direct(route: Route, webhook_paths: frozenset[str]) -> bool:
    """A webhook's exact path, POST, and a plain function endpoint (as Starlette wraps it)."""
    plain = isfunction(route.endpoint) or ismethod(route.endpoint)
    return route.path in webhook_paths and "POST" in (route.methods or ()) and plain


async def _greet(runtime: Runtime, platforms: Sequence[Platform], routes: Routes | None) -> None:
    """Each agent's name, once it answers; each bot is introduced with its own agent's."""
    names: dict[str, str | None] = {}
    for key, service in runtime.services.items():
        names[key] = name = await service.reachable_agent_name()
        log.info("agent%s: %s", f" {key}" if key else "", name or "unreachable for now")
    defaults = routes.defaults if routes is not None else {}
    for platform in platforms:
        name = names.get(defaults.get(platform.name, ""))
        if name:
            await platform.introduce(name)


def _relay(state: AppState, agent: str) -> push.Relay | None:
    """Where agent ``agent``'s push hints go; None while starting or stopping."""
    return state.relays.get(agent) if state.ready else None


async def _stopped(runtime: Runtime, state: AppState) -> None:
    if not state.served:  # a start that failed says why, and nothing else
        return
    log.info("stopped; %d question(s) kept for the next start", await runtime.service.waiting())


async def _quietly(step: Callable[[], Awaitable[object]], what: str) -> None:
    """A step of shutting down that fails is logged; the rest of the shutdown goes on."""
    try:
        await step()
    except Exception:
        log.warning("%s failed", what, exc_info=True)
