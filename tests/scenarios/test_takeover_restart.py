"""Takeovers survive what the bridge does not: a restart while staff keep writing, ``kill -9``
between a staff message and its delivery (a real server process), and two replicas on one
PostgreSQL database (one watches each conversation, nothing is posted twice)."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from adapters.raia.simulator import RaiaSimulator
from tests.conftest import API_KEY
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.pgserver import PgServer
from tests.processes import bridge_process, telegram_env
from tests.scenarios.test_takeover import FAST, only_conversation, until
from tests.scenarios.test_telegram import running as telegram_bridge


def _posts(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT key, delivered_at IS NOT NULL FROM handover_posts ORDER BY seq"))


@asynccontextmanager
async def _agent_and_telegram(tmp_path: Path) -> AsyncIterator[tuple[RaiaSimulator, tg.FakeTelegram, dict[str, str]]]:
    """raia and Telegram (fakes) served, and the environment of a bridge process using them."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    fake = tg.FakeTelegram()
    async with serving(sim) as raia, serving(fake.app()) as api:
        yield sim, fake, telegram_env(raia, api, tmp_path, HANDOFF_SCAN="0.3")


async def _answered(sim: RaiaSimulator, fake: tg.FakeTelegram) -> str:
    """A question answered: its conversation at the agent."""
    fake.push_update(tg.message("hello"))
    await fake.wait_sent(1, timeout=30)
    return only_conversation(sim)


async def test_a_restart_while_staff_write_delivers_each_message_once(tmp_path: Path) -> None:
    """Stopped (SIGTERM) in the middle of a takeover; the staff member writes twice while
    the bridge is down: after the start both arrive, in order, and nothing earlier again."""
    async with _agent_and_telegram(tmp_path) as (sim, fake, env):
        async with bridge_process(env, tmp_path) as first:
            cid = await _answered(sim, fake)
            sim.takeover.take(cid, staff="Dana")
            sim.takeover.write(cid, "Staff one")
            await fake.wait_sent(3, timeout=30)
        assert first.returncode == 0
        sim.takeover.write(cid, "Staff two (while the bridge was down)")
        sim.takeover.write(cid, "Staff three")
        async with bridge_process(env, tmp_path):
            await fake.wait_sent(5, timeout=30)
            sim.takeover.hand_back(cid)
            await fake.wait_sent(6, timeout=30)
            await until(lambda: all(delivered for _, delivered in _posts(tmp_path / "b.db")))
    assert fake.texts()[1:] == [
        "Dana from the support team will answer you here.",
        "Staff one",
        "Staff two (while the bridge was down)",
        "Staff three",
        "You're back with Ada (demo agent).",
    ]


async def test_kill_9_between_a_staff_message_and_its_delivery(tmp_path: Path) -> None:
    async with _agent_and_telegram(tmp_path) as (sim, fake, env):
        async with bridge_process(env, tmp_path, signal.SIGKILL):
            cid = await _answered(sim, fake)
            # Telegram refuses the next post for a while: the takeover's posts are recorded, not posted.
            fake.fail("sendMessage", 429, "Too Many Requests: retry after 60", {"retry_after": 60})
            sim.takeover.take(cid, staff="Dana")
            sim.takeover.write(cid, "Staff one")
            await until(lambda: not fake.failures["sendMessage"], timeout=30)
            await until(lambda: len(_posts(tmp_path / "b.db")) == 2, timeout=30)
            assert [delivered for _, delivered in _posts(tmp_path / "b.db")] == [0, 0]
        assert len(fake.sent) == 1
        async with bridge_process(env, tmp_path):
            await fake.wait_sent(3, timeout=30)
            sim.takeover.write(cid, "Staff two")
            await fake.wait_sent(4, timeout=30)
            await until(lambda: all(delivered for _, delivered in _posts(tmp_path / "b.db")))
    assert fake.texts()[1:] == ["Dana from the support team will answer you here.", "Staff one", "Staff two"]


async def test_two_replicas_on_postgresql_deliver_once(pg_server: PgServer, tmp_path: Path) -> None:
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    fake = tg.FakeTelegram()
    database = await pg_server.new_database()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shared = {**FAST, "database_url": database}
    async with (
        telegram_bridge(sim, fake, tmp_path / "a", **shared) as a,
        telegram_bridge(sim, fake, tmp_path / "b", **shared),
    ):
        await a.post(tg.message("hello"))
        await fake.wait_sent(1)
        cid = only_conversation(sim)
        listed = sim.count("GET", "/external/conversations")
        sim.takeover.take(cid, staff="Dana")  # both replicas' listings find it
        for n in range(3):
            sim.takeover.write(cid, f"Staff {n + 1}")
        await fake.wait_sent(5)
        sim.takeover.hand_back(cid)
        await fake.wait_sent(6)
        # Both replicas have listed the conversations several times since: still once each.
        await until(lambda: sim.count("GET", "/external/conversations") >= listed + 8)
        conn = await asyncpg.connect(database)
        try:
            pending = await conn.fetchval("SELECT count(*) FROM handover_posts WHERE delivered_at IS NULL")
        finally:
            await conn.close()
    assert pending == 0
    assert fake.texts()[1:] == [
        "Dana from the support team will answer you here.",
        "Staff 1",
        "Staff 2",
        "Staff 3",
        "You're back with Ada (demo agent).",
    ]
