"""Housekeeping on both engines: delivered questions forget their text and go, expired
rows go in batches found by index, people gone for PEOPLE_DAYS are forgotten, and a
SQLite file gives the space back."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from bridge.app.database import Store
from bridge.errors import QuestionGone
from bridge.models import QuestionState, Reply
from store import housekeeping, sqlite_space
from store.sqlite import SqliteStore
from tests.conftest import message
from tests.store.stores import Clock, open_store


async def test_delivered_questions_forget_their_text_and_are_purged(database: str) -> None:
    """Question and answer text are dropped at delivery; old rows go after the keep period."""
    clock = Clock()
    async with open_store(database, clock) as store:
        q = await store.record_question(message("secret question"), ttl=60)
        assert q
        assert await store.claim_lane(q.conversation_id, ttl=60)
        await store.mark_finished(q.id, QuestionState.ANSWERED, Reply("secret answer"))
        assert (await store.question(q.id)).reply == Reply("secret answer")
        await store.mark_delivered(q.id)
        done = await store.question(q.id)
        assert (done.text, done.reply, done.state) == ("", None, QuestionState.DELIVERED)
        clock.now += 10
        await store.purge(keep_finished_for=5)
        assert await store.count_open() == 0
        with pytest.raises(QuestionGone) as purged:  # the core's error, not the driver's or a KeyError
            await store.question(q.id)
        assert purged.value.question_id == q.id


async def test_housekeeping_deletes_in_batches_until_nothing_is_due(database: str) -> None:
    """More expired rows than one batch: every one goes (batch after batch), none that is not due."""
    clock = Clock()
    due = [f"old:{i}" for i in range(2 * housekeeping.LARGEST + 3)]
    async with open_store(database, clock) as store:
        assert await store.first_sighting(due, ttl=60)
        clock.now += 30
        assert await store.first_sighting(["young"], ttl=60)
        clock.now += 31
        await store.purge(keep_finished_for=3600)
        assert await store.first_sighting(due, ttl=60)  # all forgotten: new again
        assert not await store.first_sighting(["young"], ttl=60)


async def _answered(store: Store, text: str, user: str) -> int:
    """A question asked and delivered; its conversation's id."""
    q = await store.record_question(message(text, user=user), ttl=60)
    assert q
    assert await store.claim_lane(q.conversation_id, ttl=60)
    await store.mark_finished(q.id, QuestionState.ANSWERED, Reply("answer"))
    await store.mark_delivered(q.id)
    return q.conversation_id


async def test_people_gone_for_people_days_are_forgotten_and_no_one_else(database: str) -> None:
    """PEOPLE_DAYS: a person (and conversation) silent that long is forgotten; one who kept
    writing keeps their conversation, and one with a question still open is never cut short."""
    clock = Clock()
    day, keep = 86400.0, 365 * 86400.0
    async with open_store(database, clock) as store:
        gone = await _answered(store, "hello", "gone")
        await store.save_agent_user("test:gone", "agent-gone")
        going_on = await _answered(store, "hello", "regular")
        await store.save_agent_user("test:regular", "agent-regular")
        stuck = await store.record_question(message("never answered", user="stuck"), ttl=60)
        assert stuck
        clock.now += 200 * day
        assert await _answered(store, "again", "regular") == going_on  # refreshes its last activity
        clock.now += 200 * day
        await store.purge(keep_finished_for=7 * day, keep_people_for=keep)
        assert await store.conversation_history("test:gone") == []
        assert await store.agent_user_id("test:gone") is None
        assert [c.id for c in await store.conversation_history("test:regular")] == [going_on]
        assert await store.agent_user_id("test:regular") == "agent-regular"
        assert (await store.question(stuck.id)).state is QuestionState.RECEIVED
        assert await store.conversation(stuck.conversation_id)
        # Back after a year: a new conversation, nothing broken.
        assert await _answered(store, "I am back", "gone") != gone
        await store.purge(keep_finished_for=7 * day, keep_people_for=None)  # PEOPLE_DAYS=0: nothing more
        assert len(await store.conversation_history("test:gone")) == 1


def _pages(path: Path) -> tuple[int, int, int]:
    """auto_vacuum mode, pages in the file and free pages among them."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        mode, pages, free = (
            db.execute(f"PRAGMA {name}").fetchone()[0] for name in ("auto_vacuum", "page_count", "freelist_count")
        )
    return int(mode), int(pages), int(free)


async def test_sqlite_gives_the_space_of_what_housekeeping_deleted_back(tmp_path: Path) -> None:
    """A new file is INCREMENTAL: after housekeeping its free pages are cut off the file."""
    path, clock = tmp_path / "b.db", Clock()
    async with SqliteStore(path, clock=clock) as store:
        assert await store.first_sighting([f"{i}:{'x' * 300}" for i in range(3000)], ttl=60)
    mode, full, _ = _pages(path)
    assert mode == sqlite_space.INCREMENTAL
    async with SqliteStore(path, clock=clock) as store:
        clock.now += 61
        await store.purge(keep_finished_for=3600)
    _, after, free = _pages(path)
    assert free == 0
    assert after < full / 4


def test_one_step_gives_a_whole_step_of_pages_back(tmp_path: Path) -> None:
    """Each trip gives the pages asked for back, not one (a pragma stepped only once frees one)."""
    step = 100
    with contextlib.closing(sqlite3.connect(tmp_path / "b.db", isolation_level=None)) as db:
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("CREATE TABLE t (x)")
        db.executemany("INSERT INTO t VALUES (randomblob(3000))", [()] * (3 * step))
        db.execute("DELETE FROM t")
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        assert sqlite_space.give_back(db, step) == free - step


async def test_an_older_small_sqlite_file_is_converted_to_give_space_back(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE unrelated (x)")  # made before the mode could be chosen
    assert _pages(path)[0] == 0
    async with SqliteStore(path):
        pass
    assert _pages(path)[0] == sqlite_space.INCREMENTAL


async def test_housekeeping_finds_what_is_due_by_index(tmp_path: Path) -> None:
    """Each batch looks its rows up by the time that expires them, never scanning a table."""
    path = tmp_path / "b.db"
    async with SqliteStore(path):
        pass
    with contextlib.closing(sqlite3.connect(path)) as db:
        for step, _ in housekeeping.steps(0.0, 0.0):
            plan = " | ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {step.sql('?', '?')}", (0.0, 10)))
            assert f"SEARCH {step.table} USING" in plan, plan
            assert f"SCAN {step.table}" not in plan, plan
