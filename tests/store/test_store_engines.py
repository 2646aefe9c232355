"""What is particular to one engine: SQLite's private WAL file and its upgrades in place,
PostgreSQL's URLs, credentials, migrations by replicas starting together and lane leases."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import stat
from collections.abc import Awaitable
from pathlib import Path

import asyncpg
import pytest

from bridge.app.database import parse_database_url
from bridge.errors import DatabaseUnavailable
from bridge.ports.store import AgentIds
from store.migrations import MIGRATIONS
from store.pg_migrations import MIGRATIONS as PG_MIGRATIONS
from store.postgres import PostgresStore
from store.sqlite import SqliteStore
from tests import waiting
from tests.conftest import message
from tests.pgserver import PASSWORD, PgServer
from tests.store.stores import open_store


async def test_file_is_private_wal_and_migrated_once(tmp_path: Path) -> None:
    """The database file is owner-only, in WAL mode, and migrations run once."""
    path = tmp_path / "sub" / "bridge.db"
    with pytest.raises(DatabaseUnavailable, match="does not exist"):  # a mistyped volume path is not made up
        await SqliteStore(path).open()
    path.parent.mkdir()
    async with SqliteStore(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    async with SqliteStore(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_an_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    """A database left at schema version 1 gets the later migrations, keeping its rows."""
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.executescript(MIGRATIONS[0])
        db.execute("INSERT INTO schema_version (version) VALUES (1)")
        db.commit()
    async with SqliteStore(path) as store:
        assert await store.schema_version() == len(MIGRATIONS)
        record = await store.record_question(message("in a thread", keys=("t1",)), ttl=60)
        assert record is not None
        assert not await store.answered_in_thread("test", "test:u1", "c1", "1.0")


async def test_ids_stored_under_raias_old_column_names_survive_the_rename(database: str) -> None:
    """A database written before the agent-neutral names (SQLite 5, PostgreSQL 3) keeps the
    person's agent user, the conversation and the sent message's id after the upgrade."""
    old = 5 if database.startswith("sqlite") else 3  # the versions before the rename
    rows = (
        "INSERT INTO identities (fk_id, raia_user_id, created_at) VALUES ('test:u1', 'user-1', 1)",
        "INSERT INTO conversations (id, fk_id, raia_conversation_id, created_at) VALUES (7, 'test:u1', 'conv-1', 1)",
        "INSERT INTO questions (id, conversation_id, fk_id, platform, route, profile, text, state, raia_message_id,"
        " created_at) VALUES (3, 7, 'test:u1', 'test', '{\"chat\": \"c1\"}', '{\"first_name\": \"Ada\"}',"
        " 'hi', 'sent', 'msg-1', 1)",
    )
    if database.startswith("sqlite"):
        path = Path(database.removeprefix("sqlite:///"))
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            for script in MIGRATIONS[:old]:
                db.executescript(script)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", (old,))
            for row in rows:
                db.execute(row)
            db.commit()
    else:
        conn = await asyncpg.connect(database)
        try:
            await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            for script in PG_MIGRATIONS[:old]:
                await conn.execute(script)
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", old)
            for row in rows:
                await conn.execute(row)
        finally:
            await conn.close()
    async with open_store(database) as store:
        question = await store.next_open_question(7)
        assert question is not None
        assert (question.id, question.agent_message_id) == (3, "msg-1")
        assert question.agent_ids == AgentIds(conversation="conv-1", user="user-1")
        assert await store.agent_user_id("test:u1") == "user-1"
        assert (await store.conversation(7)).agent_conversation_id == "conv-1"
        assert await store.known_message_ids(7) == {"msg-1"}


async def test_lanes_are_leased_to_one_replica(pg_server: PgServer) -> None:
    """With PostgreSQL a conversation's lane belongs to one replica until it lets go or its
    lease expires; an expired lease is visible to every replica as unattended."""
    url = await pg_server.new_database()
    async with PostgresStore(url, owner="a") as a, PostgresStore(url, owner="b") as b:
        assert a.shared
        q = await a.record_question(message("x"), ttl=60)
        assert q is not None
        cid = q.conversation_id
        assert await b.unclaimed_conversations(["test"]) == [cid]
        assert await a.claim_lane(cid, ttl=30)
        assert await a.claim_lane(cid, ttl=30)  # ours already: renewed
        assert not await b.claim_lane(cid, ttl=30)
        assert await b.unclaimed_conversations(["test"]) == []
        assert await a.renew_lanes([cid], ttl=30) == {cid}
        assert await b.renew_lanes([cid], ttl=30) == set()  # b never held it
        await b.release_lane(cid)  # not b's to release: no effect
        assert not await b.claim_lane(cid, ttl=30)
        await a.release_lane(cid)
        assert await b.claim_lane(cid, ttl=0.2)
        # b "died": once its lease runs out, the conversation is unattended for every replica.
        await waiting.until(lambda: _equal(a.unclaimed_conversations(["test"]), [cid]), what="b's lease to run out")
        assert await b.unclaimed_conversations(["test"]) == [cid]
        assert await a.claim_lane(cid, ttl=30)
        assert await a.renew_lanes([cid], ttl=30) == {cid}


async def test_replicas_starting_together_migrate_once(pg_server: PgServer) -> None:
    """Five stores opening a new database at the same moment: the schema is made once."""
    url = await pg_server.new_database()
    stores = [PostgresStore(url) for _ in range(5)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        assert {await s.schema_version() for s in stores} == {len(PG_MIGRATIONS)}
        rows = await stores[0].pool.fetchval("SELECT count(*) FROM schema_version")
        assert rows == len(PG_MIGRATIONS)
    finally:
        await asyncio.gather(*(s.close() for s in stores))


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
async def test_paas_style_urls_connect(pg_server: PgServer, scheme: str) -> None:
    """Both URL schemes that providers hand out, with an sslmode the server may decline."""
    url = (await pg_server.new_database()).replace("postgresql://", f"{scheme}://") + "?sslmode=prefer"
    async with parse_database_url(url).store() as store:
        assert store.engine == "postgresql"
        assert await store.schema_version() == len(PG_MIGRATIONS)


async def test_a_wrong_password_is_one_line_without_the_password(pg_server: PgServer) -> None:
    """Refused credentials and an unreachable server say so in one line, never with the URL."""
    url = (await pg_server.new_database()).replace(PASSWORD, "not-the-password")
    with pytest.raises(DatabaseUnavailable) as refused:
        await PostgresStore(url).open()
    assert "password authentication failed" in str(refused.value)
    assert "not-the-password" not in str(refused.value)
    assert "\n" not in str(refused.value)
    with pytest.raises(DatabaseUnavailable, match="cannot open"):
        await PostgresStore(f"postgresql://u:{PASSWORD}@127.0.0.1:1/db").open()


async def _equal(result: Awaitable[object], expected: object) -> bool:
    return await result == expected
