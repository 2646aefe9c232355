"""Housekeeping against acknowledgements: a million stored turns and a day of downtime.

    python bench/housekeeping.py                 # 1,000,000 turns (about 1.5 minutes)
    python bench/housekeeping.py --turns 200000  # quicker

Builds one SQLite file holding ``--turns`` finished turns delivered over the last eight days
(the bridge keeps them seven) and their event keys (kept three days), as a bridge that has
answered a million turns a week holds them, then starts a store on copies of it after a day
without housekeeping (a day of downtime): a day's turns and event keys are due. While the
store's clean-up runs, an acknowledger makes the trip a webhook's acknowledgement makes (its
event key recorded) every 5 ms and times each trip. Before: the clean-up of the previous
version (one transaction deleting everything due, no index on the delivery time); after:
``store.housekeeping`` (indexed batches). Printed side by side: how long acknowledgements
waited (max, p99), how long the clean-up took, and a second clean-up with nothing due.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import pct  # noqa: E402
from store.sqlite import SqliteStore  # noqa: E402

DAY = 86400.0
KEEP = 7 * DAY  # ServiceConfig.keep_finished
TTL = 3 * DAY  # ServiceConfig.dedupe_ttl
EVERY = 0.005  # the acknowledger's pace
TARGET = 0.050  # housekeeping never delays an acknowledgement by more than this


async def fill(path: Path, turns: int, now: float) -> None:
    """``turns`` delivered questions over the last 7 days, one conversation per 10 turns."""
    async with SqliteStore(path):  # the current schema
        pass
    await asyncio.to_thread(_insert, path, turns, now)


def _insert(path: Path, turns: int, now: float) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    span = KEEP  # housekeeping ran last just now: nothing older is left
    people = max(1, turns // 10)
    db.executemany(
        "INSERT INTO conversations (id, fk_id, agent_conversation_id, created_at) VALUES (?, ?, ?, ?)",
        ((p + 1, f"slack:T1:U{p}", f"conv-{p}", now - span) for p in range(people)),
    )
    route = json.dumps({"chat": "D1", "thread": None})

    def rows() -> object:
        for i in range(turns):
            at = now - span + span * i / turns
            yield (i % people + 1, f"slack:T1:U{i % people}", route, "delivered", f"m{i}", at, at, at + 5, at + 5)

    db.executemany(
        "INSERT INTO questions (conversation_id, fk_id, platform, route, profile, text, state, agent_message_id, "
        "created_at, sent_at, finished_at, delivered_at) VALUES (?, ?, 'slack', ?, '{}', '', ?, ?, ?, ?, ?, ?)",
        rows(),  # type: ignore[arg-type]
    )
    keys = int(turns * TTL / span)  # the last 3 days' event keys (older ones were forgotten)
    db.executemany(
        "INSERT INTO seen_events (key, expires_at) VALUES (?, ?)",
        ((f"slack:event:{i}", now - TTL + TTL * i / keys + TTL) for i in range(keys)),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


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


async def measure(path: Path, now: float, purge: Callable[[SqliteStore], Awaitable[None]]) -> dict[str, float]:
    """Ack trip latencies while ``purge`` runs (a day later than ``now``), then a second purge's time."""
    later = now + DAY
    async with SqliteStore(path, clock=lambda: later) as store:
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
        began = time.perf_counter()
        await purge(store)
        took = time.perf_counter() - began
        done.set()
        await acks
        began = time.perf_counter()
        await purge(store)
        idle = time.perf_counter() - began
        left = await store._run(lambda: store._db.execute("SELECT COUNT(*) FROM questions").fetchone()[0])
    return {"max": max(waits), "p99": pct(waits, 99), "p50": pct(waits, 50), "took": took, "idle": idle, "left": left}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=1_000_000, help="finished turns stored (default 1,000,000)")
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory(prefix="bench-housekeeping-") as tmp:
        source = Path(tmp) / "source.db"
        began = time.perf_counter()
        await fill(source, args.turns, now)
        size = source.stat().st_size / 2**20
        print(f"{args.turns:,} turns stored in {time.perf_counter() - began:.1f} s ({size:.0f} MB)")
        before, after = Path(tmp) / "before.db", Path(tmp) / "after.db"
        shutil.copy(source, before)
        shutil.copy(source, after)
        with sqlite3.connect(before) as db:  # the previous schema: no index on the delivery time
            db.execute("DROP INDEX questions_delivered")
        results = {
            "before": await measure(before, now, lambda s: old_purge(s, KEEP)),
            "after": await measure(after, now, lambda s: s.purge(KEEP)),
        }
    b, a = results["before"], results["after"]
    print()
    print(f"{args.turns:,} stored turns, a day of downtime: {a['left']:,} turns kept of {args.turns:,}")
    print(f"{'measure':<40} {'before':>10} {'after':>10} {'after/before':>13}")
    rows = [
        ("ack trip wait during clean-up, max (ms)", 1000 * b["max"], 1000 * a["max"]),
        ("ack trip wait during clean-up, p99 (ms)", 1000 * b["p99"], 1000 * a["p99"]),
        ("ack trip wait during clean-up, p50 (ms)", 1000 * b["p50"], 1000 * a["p50"]),
        ("clean-up of a day's turns (s)", b["took"], a["took"]),
        ("clean-up with nothing due (ms)", 1000 * b["idle"], 1000 * a["idle"]),
    ]
    for name, x, y in rows:
        print(f"{name:<40} {x:>10.1f} {y:>10.1f} {y / x if x else 0:>12.2f}x")
    verdict = "met" if a["max"] <= TARGET else "MISSED"
    print(f"\nTarget: housekeeping never delays an acknowledgement by more than {1000 * TARGET:.0f} ms: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
