"""The SQLite store on real temporary files."""

from __future__ import annotations

import contextlib
import sqlite3
import stat
from pathlib import Path

import pytest

from bridge.errors import DatabaseUnavailable
from bridge.models import QuestionState, Reply
from store.migrations import MIGRATIONS
from store.sqlite import SqliteStore
from tests.conftest import message


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


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


async def test_duplicate_keys_are_refused_until_they_expire(tmp_path: Path) -> None:
    """A question whose event key was seen is a duplicate; after the TTL it is new again."""
    clock = Clock()
    async with SqliteStore(tmp_path / "b.db", clock=clock) as store:
        assert await store.record_question(message("a", keys=("k1", "k2")), ttl=60) is not None
        assert await store.record_question(message("a", keys=("k2",)), ttl=60) is None
        assert await store.count_open() == 1
        clock.now += 61
        await store.purge(keep_finished_for=3600)
        assert await store.record_question(message("a", keys=("k2",)), ttl=60) is not None


async def test_questions_are_ordered_per_conversation(tmp_path: Path) -> None:
    """The next open question of a conversation is its oldest unfinished one."""
    async with SqliteStore(tmp_path / "b.db") as store:
        first = await store.record_question(message("1"), ttl=60)
        second = await store.record_question(message("2"), ttl=60)
        other = await store.record_question(message("x", user="u2"), ttl=60)
        assert first
        assert second
        assert other
        assert first.conversation_id == second.conversation_id != other.conversation_id
        assert (await store.next_open_question(first.conversation_id)) == first
        await store.mark_sent(first.id, "m1")
        await store.mark_finished(first.id, QuestionState.ANSWERED, Reply("hi"))
        await store.mark_delivered(first.id)
        nxt = await store.next_open_question(first.conversation_id)
        assert nxt is not None
        assert nxt.id == second.id
        assert await store.open_conversations(["test"]) == [first.conversation_id, other.conversation_id]
        assert await store.open_conversations(["slack"]) == []
        assert await store.known_message_ids(first.conversation_id) == {"m1"}


async def test_reset_ends_the_current_conversation(tmp_path: Path) -> None:
    """After a reset, the identity's next question opens a new conversation; the old is kept."""
    async with SqliteStore(tmp_path / "b.db") as store:
        before = await store.record_question(message("1"), ttl=60)
        assert await store.end_conversation("test:u1")
        assert not await store.end_conversation("test:u1")  # nothing current to end
        after = await store.record_question(message("2"), ttl=60)
        assert before
        assert after
        assert before.conversation_id != after.conversation_id
        assert [c.id for c in await store.conversation_history("test:u1")] == [
            before.conversation_id,
            after.conversation_id,
        ]


async def test_delivered_questions_forget_their_text_and_are_purged(tmp_path: Path) -> None:
    """Question and answer text are dropped at delivery; old rows go after the keep period."""
    clock = Clock()
    async with SqliteStore(tmp_path / "b.db", clock=clock) as store:
        q = await store.record_question(message("secret question"), ttl=60)
        assert q
        await store.mark_finished(q.id, QuestionState.ANSWERED, Reply("secret answer"))
        assert (await store.question(q.id)).reply == Reply("secret answer")
        await store.mark_delivered(q.id)
        done = await store.question(q.id)
        assert (done.text, done.reply, done.state) == ("", None, QuestionState.DELIVERED)
        clock.now += 10
        await store.purge(keep_finished_for=5)
        assert await store.count_open() == 0
        with pytest.raises(KeyError):
            await store.question(q.id)


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
