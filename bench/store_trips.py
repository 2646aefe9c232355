"""Store trips and statements per turn, on SQLite and on PostgreSQL.

    python bench/store_trips.py               # 100 people, both engines (about 30 s)
    python bench/store_trips.py --users 300 --only sqlite

Runs the bridge in this process (Slack HTTP mode, a fake Slack Web API, the raia simulator
in a process of its own answering after 0.5 s) on a fresh database of each engine; after
20 other people have asked (so the poll schedule has learned the agent's pace), N new
people each send one DM (32 posts in flight at once), then the same N ask again (known people). For each round
it counts what the store did until every answer was delivered, divided by the turns:

- trips: on SQLite a hop to the store's thread (each costs the event loop a wake-up); on
  PostgreSQL a use of a pooled connection (one call, or one transaction block).
- statements: on SQLite every statement the connection ran (BEGIN and COMMIT included); on
  PostgreSQL every query sent to the server (each a network round trip).

Everything the bridge does in the round counts (the lanes, the pollers, acknowledgements);
the counting itself is switched off while this script waits for the round to end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import simulator  # noqa: E402
from bridge.app.logs import configure_logging  # noqa: E402
from bridge.app.platforms import configured_platforms  # noqa: E402
from bridge.app.server import build_app  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from store.postgres import PostgresStore  # noqa: E402
from store.sqlite import SqliteStore  # noqa: E402
from tests.fakes import slack  # noqa: E402
from tests.fakes.server import serving  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402

DELAY = 0.5  # seconds the simulator takes to answer
WARM = 20  # people asking first, unmeasured
SENDERS = 32  # webhook posts in flight at once


class Counts:
    """Trips and statements while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.trips = 0
        self.statements = 0

    def trip(self) -> None:
        self.trips += self.on

    def statement(self, *_: Any) -> None:
        self.statements += self.on


def _counted(method: Callable[..., Any], count: Callable[[], None]) -> Callable[..., Any]:
    def counting(*args: Any, **kwargs: Any) -> Any:
        count()
        return method(*args, **kwargs)

    return counting


def watch(store: object, counts: Counts) -> None:
    """Hook the counters into the store the bridge opened (a bench may look inside it)."""
    if isinstance(store, SqliteStore):
        thread, conn = store._thread, store._db
        assert thread is not None
        thread.submit = _counted(thread.submit, counts.trip)  # type: ignore[method-assign]
        conn.set_trace_callback(counts.statement)
    elif isinstance(store, PostgresStore):
        pool = store.pool
        for name in ("fetch", "fetchrow", "fetchval", "execute", "transaction", "acquire"):
            if hasattr(pool, name):  # (older versions have no ``acquire``)
                setattr(pool, name, _counted(getattr(pool, name), counts.trip))
        raw: Any = pool._pool  # asyncpg internals: where the pool keeps its connections

        async def on_connect(conn: Any) -> None:
            conn.add_query_logger(counts.statement)

        raw._init = on_connect  # connections the pool opens from now on
        for holder in raw._holders:  # and the one it holds already
            if holder._con is not None:
                holder._con.add_query_logger(counts.statement)
    else:
        raise TypeError(type(store).__name__)


@contextlib.asynccontextmanager
async def bridge(raia: str, database: str) -> AsyncIterator[tuple[slack.FakeSlack, httpx.AsyncClient, Any]]:
    fake = slack.FakeSlack()
    async with serving(fake.app()) as api:
        settings = Settings(_env_file=None, raia_api_key="bench", raia_base_url=raia,
                            slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
                            slack_api_url=f"{api}/api/", database_url=database)  # fmt: skip
        app = build_app(settings, configured_platforms(settings))
        async with (
            serving(app) as base,
            httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1000)) as http,
        ):
            yield fake, http, app.state.bridge.runtime.store


async def ask(fake: slack.FakeSlack, http: httpx.AsyncClient, store: Any, people: range, tag: str) -> None:
    """Each person sends one DM at once; returns when every answer is delivered."""
    posted = len(fake.posts)
    bodies = []
    for i in people:
        event = slack.dm(f"{tag} {i} delay={DELAY}", user=f"U{100_000 + i}")
        event["channel"] = f"D{100_000 + i}"
        body = json.dumps(slack.envelope(event)).encode()
        bodies.append((body, slack.signed(body)))
    senders = asyncio.Semaphore(SENDERS)

    async def post(body: bytes, headers: dict[str, str]) -> None:
        async with senders:
            (await http.post("/slack/events", content=body, headers=headers)).raise_for_status()

    await asyncio.gather(*(post(b, h) for b, h in bodies))
    async with asyncio.timeout(120):
        while len(fake.posts) < posted + len(people):
            await asyncio.sleep(0.02)


async def settled(store: Any, counts: Counts) -> None:
    """Until no question is open (delivered and recorded so), not counting the looks."""
    async with asyncio.timeout(60):
        while True:
            counts.on = False
            left = await store.count_open()
            if not left:
                return
            counts.on = True
            await asyncio.sleep(0.05)


async def measure(raia: str, database: str, users: int) -> dict[str, tuple[float, float]]:
    counts = Counts()
    results = {}
    async with bridge(raia, database) as (fake, http, store):
        watch(store, counts)
        await ask(fake, http, store, range(10_000, 10_000 + WARM), "warm")
        await settled(store, counts)
        for name, tag in (("new", "first"), ("known", "again")):
            counts.trips = counts.statements = 0
            counts.on = True
            await ask(fake, http, store, range(users), tag)
            await settled(store, counts)
            results[name] = (counts.trips / users, counts.statements / users)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="people per round (default 100)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one engine")
    args = parser.parse_args()
    configure_logging("WARNING")
    rows = []
    with simulator() as raia, tempfile.TemporaryDirectory(prefix="bench-trips-") as tmp:
        if args.only != "postgresql":
            rows.append(("SQLite", await measure(raia, f"sqlite:///{tmp}/b.db", args.users)))
        if args.only != "sqlite":
            server = PgServer.start()
            try:
                rows.append(("PostgreSQL", await measure(raia, await server.new_database(), args.users)))
            finally:
                server.stop()
    print(f"\n{args.users} people per round, Slack DMs, answers after {DELAY} s; per turn:")
    print(f"{'engine':<12} {'trips new':>10} {'trips known':>12} {'statements new':>15} {'statements known':>17}")
    for engine, r in rows:
        (tn, sn), (tk, sk) = r["new"], r["known"]
        print(f"{engine:<12} {tn:>10.1f} {tk:>12.1f} {sn:>15.1f} {sk:>17.1f}")


if __name__ == "__main__":
    asyncio.run(main())
