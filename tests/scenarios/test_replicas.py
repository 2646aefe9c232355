"""Several bridge processes on one PostgreSQL database (the fakes in this process)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path

import asyncpg
import httpx

from adapters.raia.demo_agent import SimAnswer
from adapters.raia.simulator import RaiaSimulator
from store.pg_migrations import MIGRATIONS as PG_MIGRATIONS
from tests import waiting
from tests.conftest import API_KEY
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.pgserver import PASSWORD, PgServer
from tests.processes import free_port

USERS = 300
ASKS = 3


class Replica:
    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env | {"PORT": str(self.port)}
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, *, wait: bool = True) -> None:
        with (self.cwd / f"{self.name}.log").open("a") as log:  # for a person reading a failure
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bridge", cwd=self.cwd, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        if wait:
            await self.healthy()

    async def healthy(self, timeout: float = 40) -> None:
        async with asyncio.timeout(timeout), httpx.AsyncClient(base_url=self.base) as http:
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)

    def log(self) -> str:
        return (self.cwd / f"{self.name}.log").read_text()

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
            await asyncio.wait_for(self.proc.wait(), timeout=30)


def _env(raia: str, database: str, **platform: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
    env |= {
        "RAIA_API_KEY": API_KEY, "RAIA_BASE_URL": raia, "RAIA_POLL_INTERVAL": "0.1", "RAIA_SEND_SETTLE": "2",
        "HOST": "127.0.0.1", "DATABASE_URL": database, "SHUTDOWN_TIMEOUT": "5",
    }  # fmt: skip
    return env | platform


async def test_three_replicas_one_killed_answer_everything_once_in_order(pg_server: PgServer, tmp_path: Path) -> None:
    """300 people ask 3 questions each in Slack DMs, events spread round-robin over three
    replicas; one replica is kill -9'd mid-run and restarted later. Every question is asked
    of raia once and answered once, each person's answers in the order asked, none left
    waiting. (Slack, because a reply cut by kill -9 can be looked up there; Telegram
    offers no such lookup, see docs/database.md "Several replicas".)"""
    database = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.3, answer=lambda text: SimAnswer(f"answer to {text}"))
    fake_slack = slack.FakeSlack()
    async with serving(sim) as raia, serving(fake_slack.app()) as slack_api:
        env = _env(
            raia, database, SLACK_BOT_TOKEN=slack.BOT_TOKEN, SLACK_SIGNING_SECRET=slack.SIGNING_SECRET,
            SLACK_API_URL=f"{slack_api}/api/",
        )  # fmt: skip
        replicas = [Replica(f"replica{i}", env, tmp_path) for i in range(3)]
        await asyncio.gather(*(r.start() for r in replicas))  # also: three at once migrate once
        victim = replicas[1]
        turn = itertools.count()
        sent = 0

        async def post(http: httpx.AsyncClient, raw: bytes) -> None:
            """Round-robin; a replica that is down is skipped, as a load balancer does
            (and Slack retries an event that was not acknowledged)."""
            for _ in range(30):
                replica = replicas[next(turn) % len(replicas)]
                try:
                    response = await http.post(f"{replica.base}/slack/events", content=raw, headers=slack.signed(raw))
                except httpx.TransportError:
                    continue
                if response.status_code == 200:
                    return
            raise AssertionError("no replica took the event")

        async def person(http: httpx.AsyncClient, i: int) -> None:
            nonlocal sent
            for k in range(ASKS):
                event = slack.dm(f"q{k} of {i}", user=f"U{5000 + i}")
                event["channel"] = f"D{5000 + i}"
                await post(http, json.dumps(slack.envelope(event)).encode())
                sent += 1
                await asyncio.sleep(0.2)  # pacing: a person asks one question after another

        async def chaos() -> None:
            while sent < USERS * ASKS // 3:
                await asyncio.sleep(0.01)
            await victim.stop(signal.SIGKILL)  # mid-run: some of its questions are mid-flight
            await asyncio.sleep(2.0)  # the scenario: down for a while, its leases run out meanwhile
            await victim.start()

        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            await asyncio.gather(chaos(), *(person(http, i) for i in range(USERS)))
        try:
            await waiting.until(lambda: len(fake_slack.posts) >= USERS * ASKS, timeout=90, every=0.1)
            # Every question final in the (shared) store; the replicas then stop, so whatever
            # they posted (a duplicate too) has been posted before the assertions below.
            await waiting.nothing_waiting(replicas[0].base, timeout=60)
        finally:
            await asyncio.gather(*(r.stop() for r in replicas))
    answers: dict[str, list[str]] = defaultdict(list)
    for post_ in fake_slack.posts:
        answers[post_.channel].append(post_.text)
    wrong = {
        chat: texts
        for chat, texts in answers.items()
        if texts != [f"answer to q{k} of {int(chat[1:]) - 5000}" for k in range(ASKS)]
    }
    assert not wrong, f"{len(wrong)} people got answers twice or out of order, e.g. {next(iter(wrong.items()))}"
    assert len(answers) == USERS
    assert sim.count("POST", "/messages/async") == USERS * ASKS
    conn = await asyncpg.connect(database)
    try:
        left = await conn.fetchval("SELECT count(*) FROM questions WHERE state NOT IN ('delivered', 'undeliverable')")
        versions = await conn.fetchval("SELECT count(*) FROM schema_version")
    finally:
        await conn.close()
    assert (left, versions) == (0, len(PG_MIGRATIONS))  # each migration applied once
    for replica in replicas:
        assert PASSWORD not in replica.log()
        assert "lease lost" not in replica.log()  # nobody took a lease that was still renewed


async def test_a_second_telegram_poller_waits_for_the_first(pg_server: PgServer, tmp_path: Path) -> None:
    """Long polling allows one consumer per bot: with PostgreSQL a second replica in polling
    mode says so once and waits; when the first stops, it takes over."""
    database = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    fake_tg = tg.FakeTelegram()
    async with serving(sim) as raia, serving(fake_tg.app()) as tg_api:
        env = _env(raia, database, TELEGRAM_BOT_TOKEN=tg.TOKEN, TELEGRAM_API_URL=f"{tg_api}/bot")
        first, second = Replica("first", env, tmp_path), Replica("second", env, tmp_path)
        await first.start()
        await second.start(wait=False)
        try:
            async with asyncio.timeout(20):
                while "is held by another raia-bridge" not in second.log():
                    await asyncio.sleep(0.1)
            await first.stop()
            await second.healthy(timeout=30)
        finally:
            await asyncio.gather(first.stop(), second.stop())
    assert "telegram-polling:" in second.log()
    assert second.log().count("waiting up to") == 1
