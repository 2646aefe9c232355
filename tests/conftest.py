"""Shared fixtures: the raia simulator served on loopback, a temporary store, fast settings."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import stamina

from adapters.raia.simulator import RaiaSimulator
from bridge.app.runtime import Runtime, open_runtime
from bridge.app.settings import Settings
from bridge.backoff import Backoff
from bridge.config import ServiceConfig
from bridge.models import InboundMessage, Origin, PlatformUser
from bridge.poller import PollSchedule
from tests.fakes.outbound import RecordingOutbound
from tests.fakes.server import serving
from tests.pgserver import PgServer

API_KEY = "sk-test-0123456789abcdef"

# slack_sdk, httpx and the runtime (for raia) read proxies from the environment; tests only talk to loopback.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    """Retries still happen (and are counted) but without waiting."""
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


@pytest.fixture
def sim() -> RaiaSimulator:
    return RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)


@pytest.fixture
async def raia_url(sim: RaiaSimulator) -> AsyncIterator[str]:
    """``sim`` served on loopback for the test: its base URL, for RAIA_BASE_URL."""
    async with serving(sim) as base:
        yield base


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "raia_api_key": API_KEY,
        "raia_base_url": "http://raia.test",
        "raia_poll_interval": 0.01,
        "raia_poll_timeout": 5.0,
        "shutdown_timeout": 2.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


AGENT_URL = {"raia": "raia_base_url", "blaigent": "blaigent_base_url", "slug": "slug_api_url"}


def pointed_at(settings: Settings, base: str) -> Settings:
    """``settings`` with the configured agent API's URL moved to ``base`` (its path kept)."""
    name = AGENT_URL[settings.agent_backend]
    path = urlsplit(getattr(settings, name) or "").path
    return settings.model_copy(update={name: base + path})


FAST = ServiceConfig(
    poll=PollSchedule(first=0.01, growth=0.3, cap=0.05),
    poll_timeout=5.0,
    delivery_backoff=Backoff(0.01, 0.05),
    reach_backoff=Backoff(0.01, 0.05),
    lane_backoff=Backoff(0.01, 0.05),
    send_settle=0.5,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bridge.db"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server for the whole run (never skipped: CI installs it)."""
    server = PgServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database of the parametrised engine, as a ``DATABASE_URL``."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'bridge.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return await server.new_database()


@pytest.fixture
def outbound() -> RecordingOutbound:
    return RecordingOutbound()


@asynccontextmanager
async def started(
    sim: Any,
    db_path: Path | str,
    outbound: RecordingOutbound,
    *,
    settings: Settings | None = None,
    drain: float = 2.0,
    local_clock: Callable[[], float] = time.time,
    **config: Any,
) -> AsyncIterator[Runtime]:
    """A running service on ``db_path`` (a SQLite file, or a ``DATABASE_URL``) with the
    simulator (any agent API's ASGI app, or a ``Tamper`` in front of raia's) served on
    loopback; stopped on exit, giving work in hand ``drain`` seconds. ``local_clock``:
    the host's clock, as this replica sees it."""
    async with (
        serving(sim) as base,
        open_runtime(
            pointed_at(settings or make_settings(), base),
            database=db_path,
            config=dataclasses.replace(FAST, **config),
            local_clock=local_clock,
        ) as rt,
    ):
        rt.service.register(outbound)
        await rt.service.start()
        try:
            yield rt
        finally:
            await rt.service.stop(drain)


@pytest.fixture
async def runtime(sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound) -> AsyncIterator[Runtime]:
    async with started(sim, db_path, outbound) as rt:
        yield rt


def message(
    text: str,
    *,
    user: str = "u1",
    first: str = "Ann",
    last: str | None = "Lee",
    keys: tuple[str, ...] | None = None,
    chat: str = "c1",
    platform: str = "test",
) -> InboundMessage:
    return InboundMessage(
        platform=platform,
        user=PlatformUser(fk_id=f"{platform}:{user}", first_name=first, last_name=last, custom_data={"lang": "en"}),
        origin=Origin(chat=chat, message=text[:10]),
        text=text,
        dedupe_keys=keys if keys is not None else (f"{platform}:{user}:{text}",),
    )
