"""Housekeeping against acknowledgements: a million stored turns and a day of downtime.

    python bench/housekeeping.py                 # 1,000,000 turns, 3 runs (about 2 minutes)
    python bench/housekeeping.py --turns 200000  # quicker
    python bench/housekeeping.py --engine postgresql   # the same on a PostgreSQL server of its own

Builds one SQLite file holding ``--turns`` finished turns delivered over the last eight days
(the bridge keeps them seven) and their event keys (kept three days), as a bridge that has
answered a million turns a week holds them, then starts a store on copies of it after a day
without housekeeping (a day of downtime): a day's turns and event keys are due. While the
store's clean-up runs, an acknowledger makes the trip a webhook's acknowledgement makes (its
event key recorded) every 5 ms and times each trip. Before: the clean-up of the first
version (one transaction deleting everything due, no index on the delivery time), once;
after: ``store.sqlite_housekeeping`` (indexed batches sized by time), ``--runs`` times.
With ``--engine postgresql`` the same history in a PostgreSQL database (started from
Debian's binaries like the tests'), each run on a copy: ``store.pg_housekeeping``'s
batches and the VACUUM after them, while acknowledgements go through the pool.
Printed: how long acknowledgements waited (max, p99) during each clean-up and, as the
machine's own noise, during the same time with no clean-up running; how long the clean-up
took, and a second clean-up with nothing due. The target is the max over all runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import pct  # noqa: E402
from bridge.app import collector  # noqa: E402
from store.postgres import PostgresStore  # noqa: E402
from store.sqlite import SqliteStore  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402

DAY = 86400.0
KEEP = 7 * DAY  # ServiceConfig.keep_finished
TTL = 3 * DAY  # ServiceConfig.dedupe_ttl
EVERY = 0.005  # the acknowledger's pace
TARGET = 0.050  # housekeeping never delays an acknowledgement by more than this
IDLE = 3.0  # seconds of acknowledgements measured with nothing else running


CONVERSATION = ("id", "fk_id", "agent_conversation_id", "created_at")
QUESTION = ("conversation_id", "fk_id", "platform", "route", "profile", "text", "state", "agent_message_id",
            "created_at", "sent_at", "finished_at", "delivered_at")  # fmt: skip
SEEN = ("key", "expires_at")


def history(turns: int, now: float) -> dict[str, tuple[tuple[str, ...], Iterator[tuple[Any, ...]]]]:
    """``turns`` delivered questions over the last 7 days (one conversation per 10 turns) and
    the last 3 days' event keys, as rows of each table with its columns."""
    span = KEEP  # housekeeping ran last just now: nothing older is left
    people = max(1, turns // 10)
    route = json.dumps({"chat": "D1", "thread": None})

    def questions() -> Iterator[tuple[Any, ...]]:
        for i in range(turns):
            at = now - span + span * i / turns
            p = i % people
            yield (p + 1, f"slack:T1:U{p}", "slack", route, "{}", "", "delivered", f"m{i}", at, at, at + 5, at + 5)

    keys = int(turns * TTL / span)  # the last 3 days' event keys (older ones were forgotten)
    return {
        "conversations": (CONVERSATION, ((p + 1, f"slack:T1:U{p}", f"conv-{p}", now - span) for p in range(people))),
        "questions": (QUESTION, questions()),
        "seen_events": (SEEN, ((f"slack:event:{i}", now - TTL + TTL * i / keys + TTL) for i in range(keys))),
    }


async def fill(path: Path, turns: int, now: float) -> None:
    async with SqliteStore(path):  # the current schema
        pass
    await asyncio.to_thread(_insert, path, turns, now)


def _insert(path: Path, turns: int, now: float) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    for table, (columns, rows) in history(turns, now).items():
        marks = ", ".join("?" * len(columns))
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def fill_pg(url: str, turns: int, now: float) -> None:
    async with PostgresStore(url):  # the current schema
        pass
    conn = await asyncpg.connect(url)
    try:
        for table, (columns, rows) in history(turns, now).items():
            await conn.copy_records_to_table(table, records=rows, columns=columns)
        await conn.execute("VACUUM ANALYZE")  # settled, as a database that has been running is
    finally:
        await conn.close()


async def old_purge(store: SqliteStore, keep: float) -> None:
    """The previous version's clean-up: everything due in one transaction on the store's thread."""
    now = store.clock()

    def purge() -> None:
        with store._transaction() as db:
            db.execute("DELETE FROM seen_events WHERE expires_at <= ?", (now,))
            db.execute("DELETE FROM feedback WHERE keep_until <= ?", (now,))
            db.execute(
                "DELETE FROM questions WHERE state IN ('delivered', 'undeliverable') AND delivered_at < ?",
                (now - keep,),
            )

    await store._run(purge)


def copy(source: Path, target: Path) -> None:
    """A copy written through to the disk: left dirty, the kernel would be writing a copy of
    the whole file back while the clean-up runs (not what a running bridge meets)."""
    shutil.copy(source, target)
    with open(target, "rb+") as written:
        os.fsync(written.fileno())


async def measure(store: Any, purge: Callable[[Any], Awaitable[None]]) -> dict[str, float]:
    """Ack trip latencies with nothing else running (the machine's noise), then while
    ``purge`` runs, then a second purge's time."""
    async with store:
        collector.settle()  # as the bridge does after start-up (``bridge.app.collector``)
        waits: list[float] = []
        done = asyncio.Event()
        n = 0

        async def acknowledge() -> None:
            nonlocal n
            while not done.is_set():
                n += 1
                began = time.perf_counter()
                await store.first_sighting([f"bench:ack:{n}"], ttl=TTL)
                waits.append(time.perf_counter() - began)
                await asyncio.sleep(EVERY)

        acks = asyncio.create_task(acknowledge())
        await asyncio.sleep(0.2)
        waits.clear()
        await asyncio.sleep(IDLE)
        idle = list(waits)
        waits.clear()
        began = time.perf_counter()
        await purge(store)
        took = time.perf_counter() - began
        done.set()
        await acks
        began = time.perf_counter()
        await purge(store)
        again = time.perf_counter() - began
        if isinstance(store, SqliteStore):
            left = await store._run(lambda: store._db.execute("SELECT COUNT(*) FROM questions").fetchone()[0])
        else:
            left = await store.pool.fetchval("SELECT COUNT(*) FROM questions")
    return {
        "max": max(waits),
        "p99": pct(waits, 99),
        "idle max": max(idle),
        "idle p99": pct(idle, 99),
        "took": took,
        "again": again,
        "left": left,
    }


async def sqlite_runs(turns: int, runs: int, now: float) -> list[tuple[str, dict[str, float]]]:
    later = now + DAY
    with tempfile.TemporaryDirectory(prefix="bench-housekeeping-") as tmp:
        source = Path(tmp) / "source.db"
        began = time.perf_counter()
        await fill(source, turns, now)
        size = source.stat().st_size / 2**20
        print(f"{turns:,} turns stored in {time.perf_counter() - began:.1f} s ({size:.0f} MB)")
        before = Path(tmp) / "before.db"
        copy(source, before)
        with sqlite3.connect(before) as db:  # the first version's schema: no index on the delivery time
            db.execute("DROP INDEX questions_delivered")
        results = [("before", await measure(SqliteStore(before, clock=lambda: later), lambda s: old_purge(s, KEEP)))]
        before.unlink()
        for n in range(1, runs + 1):
            after = Path(tmp) / f"after-{n}.db"
            copy(source, after)
            results.append((f"now, run {n}", await measure(SqliteStore(after, clock=lambda: later), purge)))
            after.unlink()
    return results


async def pg_runs(turns: int, runs: int, now: float) -> list[tuple[str, dict[str, float]]]:
    """Each run on a copy of one filled database (``CREATE DATABASE ... TEMPLATE``)."""
    later = now + DAY
    server = await asyncio.to_thread(PgServer.start)
    try:
        began = time.perf_counter()
        await _create(server, "source")
        await fill_pg(server.url("source"), turns, now)
        print(f"{turns:,} turns stored in {time.perf_counter() - began:.1f} s")
        results = []
        for n in range(1, runs + 1):
            await _create(server, f"run{n}", template="source")
            store = PostgresStore(server.url(f"run{n}"), clock=lambda: later)
            results.append((f"now, run {n}", await measure(store, purge)))
        return results
    finally:
        await asyncio.to_thread(server.stop)


async def _create(server: PgServer, name: str, template: str | None = None) -> None:
    conn = await asyncpg.connect(server.url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()


async def purge(store: Any) -> None:
    await store.purge(KEEP)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=1_000_000, help="finished turns stored (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="clean-ups measured (default 3)")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    now = time.time()
    if args.engine == "sqlite":
        runs = await sqlite_runs(args.turns, args.runs, now)
    else:
        runs = await pg_runs(args.turns, args.runs, now)
    print(f"\n{args.engine}, {args.turns:,} stored turns, a day of downtime: {runs[-1][1]['left']:,} turns kept")
    print("ack trip wait (ms): during the clean-up max / p99; with nothing running (the machine's noise) max / p99")
    print(f"{'clean-up':<12} {'max':>8} {'p99':>8} {'idle max':>9} {'idle p99':>9} {'took (s)':>9} {'again (ms)':>11}")
    for name, r in runs:
        print(
            f"{name:<12} {1000 * r['max']:>8.1f} {1000 * r['p99']:>8.1f} {1000 * r['idle max']:>9.1f} "
            f"{1000 * r['idle p99']:>9.1f} {r['took']:>9.1f} {1000 * r['again']:>11.1f}"
        )
    worst = max(r["max"] for name, r in runs if name != "before")
    verdict = "met" if worst <= TARGET else "MISSED"
    print(
        f"\nTarget: housekeeping never delays an acknowledgement by more than {1000 * TARGET:.0f} ms: "
        f"{verdict} (worst of {args.runs} runs: {1000 * worst:.1f} ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
