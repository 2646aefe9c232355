"""Builds the core and its driven adapters from settings, for the server and the
terminal chat alike."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import httpx

from adapters.blaigent.client import BlaigentClient
from adapters.raia.client import RaiaClient, RetryPolicy
from adapters.slug.client import SlugClient
from adapters.transcribe.client import TranscriptionClient
from bridge.acks import AckFirst
from bridge.app.database import Database, Store, parse_database_url
from bridge.app.metrics import Metrics
from bridge.app.routes import Routes
from bridge.app.settings import Settings
from bridge.asking import Agent
from bridge.asking.direct import direct
from bridge.asking.polled import polled
from bridge.config import HandoverConfig, ServiceConfig
from bridge.poller import AnswerTimes, PollSchedule
from bridge.ports.hearing import Transcriber
from bridge.push import PushHints
from bridge.routing import Router
from bridge.service import ConversationService
from bridge.tasks import TaskSet

AgentClient = RaiaClient | BlaigentClient | SlugClient

# One connection per call the client lets be in flight (none waits for a connection);
# idle ones go after 4 s, before a server with a 5 s idle timeout closes them (a request
# on a just-closed connection fails; raia's sends are then looked up, slower).
RAIA_KEEPALIVE = 4.0


@dataclass
class Runtime:
    """The core and its driven adapters, open for the duration of a run."""

    settings: Settings
    store: Store
    agent: AgentClient
    service: ConversationService
    tasks: TaskSet
    hints: PushHints | None = None  # raia push (RAIA_PUSH): the webhook wakes the pollers through them
    # Every agent's service by its name ("": the one agent without ROUTES_FILE), and with
    # routes the router that picks one for each message.
    services: dict[str, ConversationService] = field(default_factory=dict)
    router: Router | None = None
    # RAIA_PUSH: each pushed agent's hints and client by its name (with routes, one per raia agent).
    pushes: dict[str, tuple[PushHints, RaiaClient]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.services:
            self.services = {"": self.service}
        if self.hints is not None and not self.pushes and isinstance(self.agent, RaiaClient):
            self.pushes = {"": (self.hints, self.agent)}


def service_config(settings: Settings) -> ServiceConfig:
    return ServiceConfig(
        poll=PollSchedule(first=settings.raia_poll_interval, max_wait=settings.raia_poll_max_wait),
        poll_timeout=settings.raia_poll_timeout,
        send_settle=settings.raia_send_settle,
        scope=settings.conversation_scope,
        feedback_keep=settings.feedback_days * 86400 if settings.feedback else None,
        keep_people=settings.people_days * 86400 if settings.people_days else None,
        files=settings.file_policy,
        handover=handover_config(settings),
    )


def handover_config(settings: Settings) -> HandoverConfig | None:
    """HANDOFF_*: how takeovers are watched; None = ignored. A shorter HANDOFF_SCAN also
    shortens the looks at watched and waiting conversations (they never wait longer)."""
    if not settings.handoff:
        return None
    scan = settings.handoff_scan
    return HandoverConfig(
        watch=settings.handoff_watch,
        button=settings.handoff_button,
        scan_every=scan,
        look_first=min(1.0, scan / 4),
        look_cap=min(8.0, scan),
        check_waiting=min(5.0, scan),
    )


@asynccontextmanager
async def open_agent(
    settings: Settings, *, observe: Callable[[str, str], None] | None = None, retry: RetryPolicy | None = None
) -> AsyncIterator[AgentClient]:
    """The configured agent API's client alone (``check`` needs nothing else), its HTTP
    client closed on exit. Each is reached at its URL in the settings (the demo and the
    tests serve a simulator on loopback). ``retry``: raia's safe calls (``check`` tries twice)."""
    if settings.agent_backend != "raia":
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=30)
        async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(limits=limits)) as http:
            yield _direct_agent(settings, http, observe)
        return
    assert settings.raia_api_key is not None  # the settings require it for this backend
    key = settings.raia_api_key.get_secret_value()
    # aiohttp directly: a fraction of httpx's CPU per request, which decides how many
    # conversations one process can poll (see bench/).
    connector = aiohttp.TCPConnector(limit=settings.raia_max_in_flight, keepalive_timeout=RAIA_KEEPALIVE)
    # HTTPS_PROXY / NO_PROXY are read once here: aiohttp's trust_env reads them (and
    # ~/.netrc) in a thread on every request, which cost more than the request itself.
    proxy = proxy_for(settings.raia_base_url)
    async with aiohttp.ClientSession(connector=connector) as session:
        raia = RaiaClient(
            session,
            base_url=settings.raia_base_url,
            api_key=key,
            observe=observe,
            proxy=proxy,
            retry=retry,
            keepalive=RAIA_KEEPALIVE,
            max_in_flight=settings.raia_max_in_flight,
        )
        try:
            yield raia
        finally:
            await raia.aclose()


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
    None for a loopback address: a proxy's loopback is not ours (the demo's simulator)."""
    host = urlsplit(url).hostname or ""
    if _loopback(host) or proxy_bypass(host):
        return None
    return getproxies().get(urlsplit(url).scheme)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ip_address(host).is_loopback
    except ValueError:  # a name
        return False


def _direct_agent(
    settings: Settings, http: httpx.AsyncClient, observe: Callable[[str, str], None] | None
) -> BlaigentClient | SlugClient:
    if settings.agent_backend == "blaigent":
        assert settings.blaigent_api_key is not None  # the settings require both for this backend
        assert settings.blaigent_org_id is not None
        return BlaigentClient(
            http,
            base_url=settings.blaigent_base_url,
            api_key=settings.blaigent_api_key.get_secret_value(),
            organization=settings.blaigent_org_id,
            agent=settings.blaigent_agent,
            per_minute=settings.blaigent_rate_limit,
            observe=observe,
        )
    assert settings.slug_api_url is not None  # the settings require all three for this backend
    assert settings.slug_api_key is not None
    assert settings.slug_agent is not None
    return SlugClient(
        http,
        base_url=settings.slug_api_url,
        api_key=settings.slug_api_key.get_secret_value(),
        slug=settings.slug_agent,
        stream=settings.slug_stream,
        observe=observe,
    )


def database_of(settings: Settings, override: Path | str | None = None) -> Database:
    if override is None:
        return settings.database
    if isinstance(override, Path):
        return Database("sqlite", f"sqlite:///{override}", override)
    return parse_database_url(override)


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    database: Path | str | None = None,
    config: ServiceConfig | None = None,
    metrics: Metrics | None = None,
    local_clock: Callable[[], float] = time.time,
    routes: Routes | None = None,
) -> AsyncIterator[Runtime]:
    """Store, agent client and service, closed in reverse order on exit. ``database``
    (a SQLite path or a ``DATABASE_URL``) replaces the settings' one. ``local_clock`` is
    this host's clock; the service keeps time by the store's (with PostgreSQL the
    database server's, shared by all replicas)."""
    async with AsyncExitStack() as stack:
        store: Store = database_of(settings, database).store(
            local_clock=local_clock, pool_size=settings.database_pool_size
        )
        await stack.enter_async_context(store)
        observe = metrics.agent_call if metrics is not None else None
        if routes is not None:
            yield await _routed(stack, settings, store, routes, config=config, metrics=metrics)
            return
        agent = await stack.enter_async_context(open_agent(settings, observe=observe))
        tasks = TaskSet()
        hints = PushHints() if settings.raia_push and isinstance(agent, RaiaClient) else None
        transcriber = await stack.enter_async_context(open_transcriber(settings))
        service = ConversationService(
            store,
            agent_of(agent, hints, transcriber, settings.transcribe_max_seconds),
            config or service_config(settings),
            tasks=tasks,
            clock=store.clock,
            observer=metrics,
        )
        _hear_takeovers(service, hints)
        yield Runtime(settings=settings, store=store, agent=agent, service=service, tasks=tasks, hints=hints)


async def _routed(
    stack: AsyncExitStack,
    settings: Settings,
    store: Store,
    routes: Routes,
    *,
    config: ServiceConfig | None,
    metrics: Metrics | None,
) -> Runtime:
    """ROUTES_FILE: a client and a service for every agent (its own lanes, health and
    limits) over its view of the one store, and the router between them."""
    observe = metrics.agent_call if metrics is not None else None
    acks = AckFirst()  # webhooks in flight hold back every agent's lanes alike
    transcriber = await stack.enter_async_context(open_transcriber(settings))  # one for every agent
    services: dict[str, ConversationService] = {}
    clients: dict[str, AgentClient] = {}
    pushes: dict[str, tuple[PushHints, RaiaClient]] = {}
    for name, spec in routes.agents.items():
        client = clients[name] = await stack.enter_async_context(open_agent(spec.settings, observe=observe))
        hints = None
        if spec.settings.raia_push and isinstance(client, RaiaClient):  # its own webhook, its own hints
            hints = PushHints()
            pushes[name] = (hints, client)
        services[name] = ConversationService(
            store.for_agent(name),
            agent_of(client, hints, transcriber, settings.transcribe_max_seconds),
            config or service_config(spec.settings),
            tasks=TaskSet(),
            clock=store.clock,
            observer=metrics,
            key=name,
            acks=acks,
        )
        _hear_takeovers(services[name], hints)
    first = next(iter(routes.agents))
    router = Router(store, services, routes.routes, routes.defaults)
    return Runtime(
        settings=settings,
        store=store,
        agent=clients[first],
        service=services[first],
        tasks=TaskSet(),
        services=services,
        router=router,
        pushes=pushes,
    )


def _hear_takeovers(service: ConversationService, hints: PushHints | None) -> None:
    """A push may name a takeover (raia's ``manual`` trigger): the agent's desk hears it."""
    if hints is not None and service.handover is not None:
        hints.listeners.append(service.handover.hinted)


@asynccontextmanager
async def open_transcriber(settings: Settings) -> AsyncIterator[TranscriptionClient | None]:
    """The transcription client (TRANSCRIBE_URL), or None when recordings are not transcribed."""
    if not settings.transcribe_url:
        yield None
        return
    key = settings.transcribe_api_key.get_secret_value() if settings.transcribe_api_key else None
    async with httpx.AsyncClient(follow_redirects=False) as http:
        yield TranscriptionClient(http, url=settings.transcribe_url, api_key=key, model=settings.transcribe_model)


def agent_of(
    client: AgentClient,
    hints: PushHints | None = None,
    transcriber: Transcriber | None = None,
    max_seconds: float = 300.0,
) -> Agent:
    """The one place that knows which way each agent API is asked: raia is sent to and
    looked at (and records 👍/👎, takes files, lets staff take over); Blaigent and slug
    answer in the call."""
    if isinstance(client, RaiaClient):
        return Agent(
            backend="raia",
            name=client.agent_name,
            way=polled(
                client,
                files=client,
                hints=hints,
                answer_times=(times := AnswerTimes()),
                transcriber=transcriber,
                max_seconds=max_seconds,
            ),
            ratings=client,
            takes_files=True,
            answer_times=times,
            hands_over=client,
            gives_files=client,
            hears=transcriber is not None,
        )
    return Agent(backend=client.backend, name=client.agent_name, way=direct(client))
