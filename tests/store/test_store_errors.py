"""What the store raises when its database fails: the core's ``StoreError`` branch, never
a driver's exception (which stays reachable as ``__cause__``), and never the URL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bridge.app.database import parse_database_url
from bridge.errors import StoreFault, StoreUnavailable
from bridge.ports.store import QuestionRecord
from store.postgres import PostgresStore
from store.sqlite import SqliteStore
from tests.conftest import message
from tests.pgserver import PASSWORD, PgServer


async def test_a_sqlite_file_locked_by_another_process_is_unavailable(tmp_path: Path) -> None:
    """Another process holds the write lock past the busy timeout: every write, and every
    question waiting in the group commit, fails as StoreUnavailable; once the lock is
    gone the same calls work."""
    path = tmp_path / "bridge.db"
    async with SqliteStore(path, busy_timeout=0.05) as store:
        q = await store.record_question(message("before"), ttl=60)
        assert q is not None
        blocker = sqlite3.connect(path, isolation_level=None, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match="database is locked") as locked:
                await store.mark_started(q.id)
            grouped = await asyncio.gather(
                *(store.record_question(message(f"q{i}", user=f"u{i}"), ttl=60) for i in range(3)),
                return_exceptions=True,
            )
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert locked.value.retryable
        assert isinstance(locked.value.__cause__, sqlite3.OperationalError)
        assert [type(r) for r in grouped] == [StoreUnavailable] * 3
        assert await store.mark_started(q.id)
        assert await store.record_question(message("after"), ttl=60) is not None
        assert await store.count_open() == 2  # nothing of the refused questions was written


async def test_a_schema_changed_under_the_store_is_a_fault(database: str) -> None:
    """A table dropped behind the bridge's back: StoreFault (retrying will not help)."""
    target = parse_database_url(database)
    async with target.store() as store:
        await store.save_answer_times([1.0])
        if target.path is not None:
            with contextlib.closing(sqlite3.connect(target.path, isolation_level=None)) as other:
                other.execute("DROP TABLE answer_times")
        else:
            other_pg = await asyncpg.connect(database)
            try:
                await other_pg.execute("DROP TABLE answer_times")
            finally:
                await other_pg.close()
        with pytest.raises(StoreFault, match="answer_times") as fault:
            await store.answer_times()
    assert not fault.value.retryable
    assert isinstance(fault.value.__cause__, sqlite3.Error | asyncpg.PostgresError)
    assert PASSWORD not in str(fault.value)


async def _blocked_by(watcher: asyncpg.Connection, blocker: asyncpg.Connection) -> int:
    """The server pid of the session waiting for ``blocker``'s lock, once there is one."""
    async with asyncio.timeout(10):
        while True:
            pid = await watcher.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", blocker.get_server_pid()
            )
            if pid is not None:
                return int(pid)
            await asyncio.sleep(0.01)


Call = Callable[[PostgresStore, QuestionRecord], Coroutine[Any, Any, object]]


@pytest.mark.parametrize(
    ("lock", "call"),
    [
        pytest.param(
            "SELECT 1 FROM questions FOR UPDATE",
            lambda store, q: store.mark_started(q.id),
            id="pool-statement",
        ),
        pytest.param(
            "INSERT INTO seen_events (key, expires_at) VALUES ('held', 1e12)",
            lambda store, q: store.record_question(message("held", keys=("held",)), ttl=60),
            id="transaction",
        ),
    ],
)
async def test_a_postgresql_connection_terminated_mid_call_is_unavailable(
    pg_server: PgServer, lock: str, call: Call
) -> None:
    """The server ends the session (pg_terminate_backend, as a failover or an operator does)
    while a call waits on a lock: StoreUnavailable, not asyncpg's error; the pool then
    opens a new connection and the next call works."""
    url = await pg_server.new_database()
    async with PostgresStore(url) as store:
        q = await store.record_question(message("x"), ttl=60)
        assert q is not None
        blocker, watcher = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            async with blocker.transaction():
                await blocker.execute(lock)
                waiting = asyncio.create_task(call(store, q))
                assert await watcher.fetchval("SELECT pg_terminate_backend($1)", await _blocked_by(watcher, blocker))
                with pytest.raises(StoreUnavailable, match="PostgreSQL") as lost:
                    await waiting
        finally:
            await asyncio.gather(blocker.close(), watcher.close())
        assert lost.value.retryable
        assert isinstance(lost.value.__cause__, asyncpg.PostgresError | asyncpg.InterfaceError)
        assert PASSWORD not in str(lost.value)
        await call(store, q)  # a new connection from the pool


class Proxy:
    """A TCP relay to the PostgreSQL server that the test can cut, as a network would."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._port)
        self._writers += [client_w, server_w]
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            task = asyncio.create_task(self._pipe(reader, writer))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones (a reset, not a goodbye)."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for writer in self._writers:
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)


@contextlib.asynccontextmanager
async def relayed(pg_server: PgServer) -> AsyncIterator[tuple[Proxy, str]]:
    url = await pg_server.new_database()
    proxy = Proxy(pg_server.port)
    port = await proxy.start()
    try:
        yield proxy, url.replace(f":{pg_server.port}/", f":{port}/")
    finally:
        await proxy.cut()


async def test_a_postgresql_server_out_of_reach_is_unavailable(pg_server: PgServer) -> None:
    """The network to the server goes away after start: the connection in use is lost and
    a new one is refused; both are StoreUnavailable, one line without the URL."""
    async with relayed(pg_server) as (proxy, url), PostgresStore(url) as store:
        assert await store.count_open() == 0
        await proxy.cut()
        for _ in range(2):  # the pooled connection lost, then a new one refused
            with pytest.raises(StoreUnavailable) as unreachable:
                await store.count_open()
            assert isinstance(unreachable.value.__cause__, OSError | asyncpg.PostgresError)
            assert PASSWORD not in str(unreachable.value)
            assert url not in str(unreachable.value)
            assert "\n" not in str(unreachable.value)
