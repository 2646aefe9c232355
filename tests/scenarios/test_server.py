"""The one HTTP server over real loopback HTTP: health, 404, body cap, lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge.app.server import HEALTH_PROBE, build_app
from bridge.ports.inbox import Inbox
from store.migrations import MIGRATIONS
from tests import waiting
from tests.conftest import API_KEY, make_settings
from tests.fakes.platform import LoopbackPlatform
from tests.fakes.server import serving
from tests.fakes.tamper import Tamper
from tests.pgserver import PgServer


@pytest.fixture
def platform() -> LoopbackPlatform:
    return LoopbackPlatform()


def app_for(raia: str, platform: LoopbackPlatform, db_path: Path, **overrides: object) -> object:
    """The bridge with ``platform``, its raia at the base URL ``raia``."""
    settings = make_settings(raia_base_url=raia, database_url=f"sqlite:///{db_path}", **overrides)
    return build_app(settings, [platform])


async def test_health_404_and_a_turn_over_http(raia_url: str, platform: LoopbackPlatform, db_path: Path) -> None:
    """/healthz is 200 with component status once ready, unknown paths 404, a question is answered."""
    async with serving(app_for(raia_url, platform, db_path)) as base, httpx.AsyncClient(base_url=base) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["components"] == {"store": f"ok (sqlite, schema {len(MIGRATIONS)})", "raia": "ok", "test": "ok"}
        assert body["waiting"] == 0
        assert (await http.get("/nope")).status_code == 404
        assert (await http.post("/healthz")).status_code == 405
        sent = await http.post("/test/inbound", json={"user": "ann", "id": 1, "text": "hi"})
        assert sent.json() == {"outcome": "accepted"}
        assert (await http.post("/test/inbound", json={"user": "ann", "id": 1, "text": "hi"})).json() == {
            "outcome": "duplicate"
        }
        assert (await http.post("/test/inbound", content=b"{not json")).status_code == 400
        await platform.outbound.wait_for(1)
    # (introduced by the agent's name once it is known, in the background after the start)
    assert [c for c in platform.calls if not c.startswith("introduce:")] == ["start", "stop_intake", "close"]


async def test_bodies_over_one_megabyte_are_refused(raia_url: str, platform: LoopbackPlatform, db_path: Path) -> None:
    """A request body over 1 MB gets 413 and never reaches a handler."""
    async with serving(app_for(raia_url, platform, db_path)) as base, httpx.AsyncClient(base_url=base) as http:
        big = b"x" * (1024 * 1024 + 1)
        assert (await http.post("/test/inbound", content=big)).status_code == 413

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(20):
                yield b"y" * 65536

        assert (await http.post("/test/inbound", content=chunks())).status_code == 413
    assert platform.outbound.posted == []


async def test_not_ready_when_start_fails(raia_url: str, db_path: Path) -> None:
    """If a platform cannot start, the server does not come up (no false 'ready')."""

    class Broken(LoopbackPlatform):
        async def start(self, inbox: Inbox) -> None:
            raise RuntimeError("cannot reach platform")

    broken = Broken()
    app = app_for(raia_url, broken, db_path)
    with pytest.raises(RuntimeError, match="cannot reach platform"):
        async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
            pass
    assert app.state.bridge.ready is False  # type: ignore[attr-defined]


async def test_a_failed_start_closes_what_started_and_frees_the_database(raia_url: str, db_path: Path) -> None:
    """When the second platform fails to start, both are closed and the lock is released at once."""

    class Broken(LoopbackPlatform):
        async def start(self, inbox: Inbox) -> None:
            self.calls.append("start")
            raise RuntimeError("cannot reach platform")

    good, broken = LoopbackPlatform(), Broken()
    settings = make_settings(raia_base_url=raia_url, database_url=f"sqlite:///{db_path}")
    app = build_app(settings, [good, broken], instance_wait=0)
    with pytest.raises(RuntimeError, match="cannot reach platform"):
        async with app.router.lifespan_context(app):
            pass
    assert good.calls == ["start", "close"]
    assert broken.calls == ["start", "close"]
    again = build_app(settings, [LoopbackPlatform()], instance_wait=0)
    async with again.router.lifespan_context(again):
        assert again.state.bridge.ready


async def test_shutdown_keeps_waiting_questions_for_next_start(
    sim: RaiaSimulator, raia_url: str, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopping the server mid-wait persists the question; the next server delivers it once."""
    caplog.set_level(logging.INFO)
    sim.delay = lambda _: 1.0
    first = LoopbackPlatform()
    async with serving(app_for(raia_url, first, db_path)) as base, httpx.AsyncClient(base_url=base) as http:
        await http.post("/test/inbound", json={"user": "ann", "id": 7, "text": "slow"})
        for _ in range(200):
            if sim.count("POST", "/messages/async"):
                break
            await asyncio.sleep(0.01)
        assert (await http.get("/healthz")).json()["waiting"] == 1
    assert first.outbound.posted == []
    assert any("1 question(s) kept" in r.getMessage() for r in caplog.records)
    second = LoopbackPlatform()
    async with serving(app_for(raia_url, second, db_path)):
        await second.outbound.wait_for(1)
    assert sim.count("POST", "/messages/async") == 1


async def test_second_server_on_the_same_database_refuses(raia_url: str, db_path: Path) -> None:
    """A second server on the same database does not start while the first serves it."""
    first = app_for(raia_url, LoopbackPlatform(), db_path)
    second = build_app(
        make_settings(raia_base_url=raia_url, database_url=f"sqlite:///{db_path}"),
        [LoopbackPlatform()],
        instance_wait=0.3,
    )
    async with serving(first):
        with pytest.raises(Exception, match="another raia-bridge is serving"):
            async with second.router.lifespan_context(second):
                pass


async def test_a_slow_raia_at_start_does_not_keep_the_port_closed(sim: RaiaSimulator, db_path: Path) -> None:
    """Start-up does not wait for raia: the server is ready at once and learns the agent's name later."""
    tamper = Tamper(sim, stall={"/agents/by-api-key$": 3.0})
    async with serving(tamper) as raia:
        settings = make_settings(raia_base_url=raia, database_url=f"sqlite:///{db_path}")
        app = build_app(settings, [LoopbackPlatform()])
        async with app.router.lifespan_context(app):
            assert app.state.bridge.ready
            # Ready while raia is still being asked (stalled 3 s): start-up did not wait for it.
            rt = waiting.runtime_of(app)
            assert "agent-name" in waiting.busy_tasks(rt)
            assert rt.service.agent_status == "unknown"


async def test_a_refused_raia_key_is_unhealthy_but_an_outage_is_not(db_path: Path) -> None:
    """/healthz is 503 when raia refuses RAIA_API_KEY (an operator must act), 200 while raia is merely down."""
    refusing = RaiaSimulator(api_key="another-key-entirely")
    async with (
        serving(refusing) as raia,
        serving(app_for(raia, LoopbackPlatform(), db_path)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        async with asyncio.timeout(10):
            while (health := await http.get("/healthz")).json()["components"]["raia"] == "unknown":
                await asyncio.sleep(0.02)
        assert health.status_code == 503
        assert "RAIA_API_KEY" in health.json()["components"]["raia"]
        assert (await http.get("/test/inbound")).status_code == 405
    down = RaiaSimulator(api_key=API_KEY)
    down.fail("GET", "/agents/by-api-key", 503, times=1000)
    async with (
        serving(down) as raia,
        serving(app_for(raia, LoopbackPlatform(), db_path)) as base,
        httpx.AsyncClient(base_url=base) as http,
    ):
        async with asyncio.timeout(10):
            while (health := await http.get("/healthz")).json()["components"]["raia"] == "unknown":
                await asyncio.sleep(0.02)
        assert health.status_code == 200
        assert health.json()["components"]["raia"].startswith("error")


async def test_a_locked_database_makes_healthz_say_slow_in_time(raia_url: str, pg_server: PgServer) -> None:
    """The bridge's tables are locked (a migration, a stuck transaction): /healthz still
    answers within seconds, says the store is slow and stays 200, so a platform does not take
    every replica down at once for the database's sake; then it is ok again."""
    url = await pg_server.new_database()
    settings = make_settings(raia_base_url=raia_url, database_url=url)
    app = build_app(settings, [LoopbackPlatform()])
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        assert (await http.get("/healthz")).json()["components"]["store"].startswith("ok (postgresql")
        blocker = await asyncpg.connect(url)
        try:
            await blocker.execute("BEGIN; LOCK TABLE schema_version, questions IN ACCESS EXCLUSIVE MODE")
            loop = asyncio.get_running_loop()
            began = loop.time()
            health = await http.get("/healthz")
            took = loop.time() - began
        finally:
            await blocker.execute("COMMIT")
            await blocker.close()
        assert took < HEALTH_PROBE + 5  # the bound is the behaviour (not the lock's length); generous
        assert health.status_code == 200
        assert health.json()["components"]["store"] == f"slow: no answer within {HEALTH_PROBE:g}s"
        assert health.json()["waiting"] is None  # unknown, not zero
        again = await http.get("/healthz")
        assert (again.status_code, again.json()["waiting"]) == (200, 0)
