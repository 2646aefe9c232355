"""What coordinates several bridge processes on one PostgreSQL database: each conversation's
lane leased to one replica at a time (owner and expiry on the database's clock, so the
replicas' clocks need not agree), database-wide locks for what only one process may do
(Telegram long polling), and hints passed between replicas (NOTIFY / LISTEN).

A mixin of ``PostgresStore``, which provides the pool, this process's ``owner`` name and
connections of their own.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg

from bridge.errors import InstanceLockTaken, StoreError
from store.pg_migrations import LOCK_NAMESPACE
from store.pg_pool import Pool, guarded

log = logging.getLogger(__name__)

LISTEN_CHECK = 30.0  # seconds between checks that the hints connection still works (and their bound)
LISTEN_BACKOFF = (0.5, 30.0)  # waits before opening it again: the first, doubling up to the last

NOW = "extract(epoch from clock_timestamp())"  # the database's clock, shared by all replicas
_OPEN_WHERE = "state NOT IN ('delivered', 'undeliverable', 'stopped')"


class Replicas:
    owner: str  # names this process in lane leases
    agent: str  # whose conversations (store.agents)

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    async def own_connection(self) -> asyncpg.Connection:
        raise NotImplementedError

    # -- lanes across replicas ---------------------------------------------------------

    async def claim_lane(self, conversation_id: int, ttl: float) -> bool:
        """Take the conversation's lease if it is free, expired or already ours."""
        owner = await self.pool.fetchval(
            f"""UPDATE conversations SET lane_owner = $1, lane_until = {NOW} + $2
                WHERE id = $3 AND (lane_owner IS NULL OR lane_owner = $1 OR lane_until < {NOW})
                RETURNING lane_owner""",
            self.owner,
            ttl,
            conversation_id,
        )
        return owner is not None

    async def renew_lanes(self, conversation_ids: Collection[int], ttl: float) -> set[int]:
        """Extend our leases; returns the ones still ours (a lost one was taken over)."""
        if not conversation_ids:
            return set()
        rows = await self.pool.fetch(
            f"""UPDATE conversations SET lane_until = {NOW} + $1
                WHERE id = ANY($2::bigint[]) AND lane_owner = $3 RETURNING id""",
            ttl,
            list(conversation_ids),
            self.owner,
        )
        return {int(r["id"]) for r in rows}

    async def release_lane(self, conversation_id: int) -> None:
        await self.pool.execute(
            "UPDATE conversations SET lane_owner = NULL, lane_until = NULL WHERE id = $1 AND lane_owner = $2",
            conversation_id,
            self.owner,
        )

    async def unclaimed_conversations(self, platforms: Iterable[str]) -> list[int]:
        """Conversations with unfinished questions that no live lane holds, oldest first."""
        rows = await self.pool.fetch(
            f"""SELECT q.conversation_id FROM questions q JOIN conversations c ON c.id = q.conversation_id
                WHERE q.{_OPEN_WHERE} AND q.platform = ANY($1::text[]) AND c.agent = $2
                  AND (c.lane_owner IS NULL OR c.lane_until < {NOW})
                GROUP BY q.conversation_id ORDER BY MIN(q.id)""",
            list(platforms),
            self.agent,
        )
        return [int(r["conversation_id"]) for r in rows]

    @asynccontextmanager
    async def exclusive(self, name: str, *, wait: float, taken: str) -> AsyncIterator[None]:
        """Hold a database-wide lock named ``name`` for the block (one process in all
        replicas), waiting up to ``wait`` seconds (a deploy's old instance stopping);
        then ``InstanceLockTaken(taken)``. The lock lives as long as its own connection."""
        conn = await self.own_connection()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait
            announced = False
            while not await self._try_lock(conn, name):
                if loop.time() >= deadline:
                    raise InstanceLockTaken(taken)
                if not announced:
                    announced = True
                    log.warning("%s is held by another raia-bridge; waiting up to %gs for it to stop", name, wait)
                await asyncio.sleep(0.5)
            yield
        finally:
            await conn.close()  # ends the session, which releases its advisory locks

    @staticmethod
    async def _try_lock(conn: asyncpg.Connection, name: str) -> bool:
        with guarded():
            return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", LOCK_NAMESPACE, name))

    async def notify(self, channel: str, payload: str) -> None:
        await self.pool.execute("SELECT pg_notify($1, $2)", channel, payload)

    @asynccontextmanager
    async def listen(self, channel: str, heard: Callable[[str], None]) -> AsyncIterator[None]:
        """Call ``heard(payload)`` for every NOTIFY on ``channel`` (from any replica) while
        the block runs, on a connection of its own. The first connection is made before
        the block starts (``StoreError`` if it cannot be); one lost later (a database
        restart or failover) is opened again, after bounded, jittered waits. Hints sent
        while it is away are lost: the pollers look on their own meanwhile."""
        conn = await self._listening(channel, heard)
        keeper = asyncio.create_task(self._keep_listening(conn, channel, heard), name=f"listen-{channel}")
        try:
            yield
        finally:
            keeper.cancel()
            with suppress(asyncio.CancelledError):
                await keeper

    async def _listening(self, channel: str, heard: Callable[[str], None]) -> asyncpg.Connection:
        conn = await self.own_connection()

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
            heard(str(payload))

        try:
            with guarded():
                await conn.add_listener(channel, on_notify)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _keep_listening(self, conn: asyncpg.Connection, channel: str, heard: Callable[[str], None]) -> None:
        """Owns the listening connection: opens another when it is lost."""
        try:
            while True:
                await _until_lost(conn, channel)
                log.warning("lost the connection that hears other replicas' hints; opening it again")
                conn.terminate()
                conn = await self._reconnect(channel, heard)
                log.info("hearing other replicas' hints again")
        finally:
            await _close(conn)

    async def _reconnect(self, channel: str, heard: Callable[[str], None]) -> asyncpg.Connection:
        failures = 0
        while True:
            failures += 1
            # Equal jitter, doubling up to a bound: replicas that lost the server together
            # do not all knock at once when it comes back.
            ceiling = min(LISTEN_BACKOFF[1], LISTEN_BACKOFF[0] * 2 ** (failures - 1))
            await asyncio.sleep(random.uniform(ceiling / 2, ceiling))
            try:
                return await self._listening(channel, heard)
            except StoreError as exc:
                log.debug("hints connection not opened yet (attempt %d): %s", failures, exc)


async def _until_lost(conn: asyncpg.Connection, channel: str) -> None:
    """Returns when the driver reports the connection closed, or when a look every
    ``LISTEN_CHECK`` seconds finds it silently dead (LISTEN again: a no-op that needs
    the server)."""
    lost = asyncio.Event()
    conn.add_termination_listener(lambda _conn: lost.set())
    while not conn.is_closed():
        try:
            async with asyncio.timeout(LISTEN_CHECK):
                await lost.wait()
            return
        except TimeoutError:
            pass
        try:
            async with asyncio.timeout(LISTEN_CHECK):
                with guarded():
                    await conn.execute(f'LISTEN "{channel}"')
        except (TimeoutError, StoreError):
            return


async def _close(conn: asyncpg.Connection) -> None:
    try:
        async with asyncio.timeout(5):
            await conn.close()
    except Exception:  # already lost, or the server does not answer: drop it
        conn.terminate()
