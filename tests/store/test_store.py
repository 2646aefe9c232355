"""The store port on both engines: a real SQLite file and a real PostgreSQL server
(``database`` is parametrised over them); engine-specific behaviour at the end."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import stat
from collections.abc import Awaitable
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from bridge.app.database import Store, parse_database_url
from bridge.errors import ConversationGone, DatabaseUnavailable, QuestionGone
from bridge.models import Attachment, InboundMessage, Origin, QuestionState, Reply
from bridge.ports.store import AgentIds
from store import housekeeping, sqlite_space
from store.installs import InstallationRow
from store.migrations import MIGRATIONS
from store.pg_migrations import MIGRATIONS as PG_MIGRATIONS
from store.postgres import PostgresStore
from store.sqlite import SqliteStore
from tests import waiting
from tests.conftest import message
from tests.pgserver import PASSWORD, PgServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def open_store(database: str, clock: Clock | None = None) -> Store:
    return parse_database_url(database).store(clock=clock or Clock())


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


async def test_duplicate_keys_are_refused_until_they_expire(database: str) -> None:
    """A question whose event key was seen is a duplicate; after the TTL it is new again."""
    clock = Clock()
    async with open_store(database, clock) as store:
        assert await store.record_question(message("a", keys=("k1", "k2")), ttl=60) is not None
        assert await store.record_question(message("a", keys=("k2",)), ttl=60) is None
        assert await store.count_open() == 1
        clock.now += 61
        await store.purge(keep_finished_for=3600)
        assert await store.record_question(message("a", keys=("k2",)), ttl=60) is not None


async def test_questions_are_ordered_per_conversation(database: str) -> None:
    """The next open question of a conversation is its oldest unfinished one."""
    async with open_store(database) as store:
        first = await store.record_question(message("1"), ttl=60)
        second = await store.record_question(message("2"), ttl=60)
        other = await store.record_question(message("x", user="u2"), ttl=60)
        assert first
        assert second
        assert other
        assert first.conversation_id == second.conversation_id != other.conversation_id
        assert (await store.next_open_question(first.conversation_id)) == first
        assert await store.claim_lane(first.conversation_id, ttl=60)  # the steps below are the lane's
        await store.mark_sent(first.id, "m1")
        await store.mark_finished(first.id, QuestionState.ANSWERED, Reply("hi"))
        await store.mark_delivered(first.id)
        nxt = await store.next_open_question(first.conversation_id)
        assert nxt is not None
        assert nxt.id == second.id
        assert await store.open_conversations(["test"]) == [first.conversation_id, other.conversation_id]
        assert await store.open_conversations(["slack"]) == []
        assert await store.known_message_ids(first.conversation_id) == {"m1"}


async def test_a_question_is_read_with_its_agent_ids(database: str) -> None:
    """The turn needs the person's agent user and the conversation's agent id: they come with
    the question (one read), as they stand, including a vanished conversation ("")."""
    async with open_store(database) as store:
        q = await store.record_question(message("1"), ttl=60)
        assert q
        assert q.agent_ids is None  # just recorded: not read
        read = await store.next_open_question(q.conversation_id)
        assert read
        assert read.agent_ids == AgentIds(conversation=None, user=None)
        await store.save_agent_user(q.fk_id, "user-1")
        assert (await store.question(q.id)).agent_ids == AgentIds(conversation=None, user="user-1")
        await store.set_agent_conversation(q.conversation_id, "conv-1")
        read = await store.next_open_question(q.conversation_id)
        assert read
        assert read.agent_ids == AgentIds(conversation="conv-1", user="user-1")
        await store.set_agent_conversation(q.conversation_id, "")  # raia lost it: a new one is opened
        assert (await store.question(q.id)).agent_ids == AgentIds(conversation=None, user="user-1")


async def test_an_albums_unaddressed_photos_only_join_its_question(database: str) -> None:
    """In a group, the album's photos without the mention join the question the addressed
    one started; with none to join they are not questions at all."""

    def photo(n: int, album: str, *, addressed: bool) -> InboundMessage:
        file = Attachment(f"photo_{n}.jpg", "image/jpeg", 7, f"ref{n}")
        text = "which is best?" if addressed else ""
        return replace(message(text, keys=(f"p{n}",)), attachments=(file,), album=album, addressed=addressed)

    async with open_store(database) as store:
        assert await store.record_question(photo(0, "other", addressed=False), ttl=60) is None
        first = await store.record_question(photo(1, "a", addressed=True), ttl=60)
        joined = await store.record_question(photo(2, "a", addressed=False), ttl=60)
        assert first
        assert joined
        assert joined.id == first.id
        assert [f.ref for f in joined.attachments] == ["ref1", "ref2"]
        assert joined.text == "which is best?"
        assert await store.count_open() == 1


async def test_the_agents_answer_times_are_kept_for_the_next_start(database: str) -> None:
    """One saved list, replaced by each save (a hint for the poll schedule)."""
    async with open_store(database) as store:
        assert await store.answer_times() == []
        await store.save_answer_times([5.0, 4.75])
        await store.save_answer_times([5.0, 4.75, 6.5])
    async with open_store(database) as store:
        assert await store.answer_times() == [5.0, 4.75, 6.5]


async def test_reset_ends_the_current_conversation(database: str) -> None:
    """After a reset, the identity's next question opens a new conversation; the old is kept."""
    async with open_store(database) as store:
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


async def test_a_question_life_is_stored_step_by_step(database: str) -> None:
    """Every state change of a question is stored and read back alike on both engines."""
    clock = Clock()
    async with open_store(database, clock) as store:
        q = await store.record_question(message("hello", keys=("e1",)), ttl=60)
        assert q is not None
        assert await store.question(q.id) == q  # what record_question returned is what was stored
        assert await store.claim_lane(q.conversation_id, ttl=60)  # the steps below are the lane's
        assert await store.mark_started(q.id) == clock.now
        clock.now += 1
        assert await store.note_send_attempt(q.id) == clock.now
        assert (await store.question(q.id)).send_attempted_at == clock.now
        await store.clear_send_attempt(q.id)
        await store.mark_sent(q.id, "msg-1")
        await store.mark_finished(q.id, QuestionState.ANSWERED, Reply("answer"), error=None)
        await store.mark_parts_delivered(q.id, 2)
        assert await store.note_delivery_attempt(q.id, "http 500") == 1
        assert await store.note_delivery_attempt(q.id, "http 502") == 2
        stored = await store.question(q.id)
        assert (stored.state, stored.agent_message_id, stored.send_attempts, stored.send_attempted_at) == (
            QuestionState.ANSWERED,
            "msg-1",
            1,
            None,
        )
        assert (stored.parts_delivered, stored.delivery_attempts, stored.error) == (2, 2, "http 502")
        assert stored.reply == Reply("answer")
        assert await store.count_open() == 1
        assert await store.count_open("slack") == 0
        await store.mark_delivered(q.id, QuestionState.UNDELIVERABLE, error="gave up")
        assert (await store.question(q.id)).error == "gave up"
        assert await store.count_open() == 0
        with pytest.raises(QuestionGone, match=f"question {q.id + 1000} "):
            await store.question(q.id + 1000)


async def test_identities_conversations_and_threads(database: str) -> None:
    """The agent's ids are stored per identity and conversation; thread follow-ups are found."""
    async with open_store(database) as store:
        assert await store.agent_user_id("test:u1") is None
        await store.save_agent_user("test:u1", "ru-1")
        await store.save_agent_user("test:u1", "ru-2")  # a repaired identity replaces the old id
        assert await store.agent_user_id("test:u1") == "ru-2"
        threaded = replace(message("in a thread", chat="c9"), origin=Origin(chat="c9", thread="1.0", message="m1"))
        q = await store.record_question(threaded, ttl=60)
        assert q is not None
        await store.set_agent_conversation(q.conversation_id, "rc-1")
        conv = await store.conversation(q.conversation_id)
        assert (conv.fk_id, conv.agent_conversation_id, conv.ended_at) == ("test:u1", "rc-1", None)
        assert await store.answered_in_thread("test", "test:u1", "c9", "1.0")
        assert not await store.answered_in_thread("test", "test:u1", "c9", "2.0")  # another thread
        assert not await store.answered_in_thread("test", "test:u2", "c9", "1.0")  # someone else
        with pytest.raises(ConversationGone) as gone:
            await store.conversation(q.conversation_id + 1000)
        assert gone.value.conversation_id == q.conversation_id + 1000


async def test_the_agent_is_part_of_a_conversations_identity(database: str) -> None:
    """ROUTES_FILE: one person has a conversation, and a user at the agent, per agent; each
    agent's view resumes, resets and finds only its own; a thread remembers its agent."""
    async with open_store(database) as store:
        hr, helpdesk = store.for_agent("hr"), store.for_agent("helpdesk")
        threaded = Origin(chat="c9", thread="1.0", message="m1")
        q_hr = await hr.record_question(replace(message("pay?"), agent="hr", origin=threaded), ttl=60)
        q_help = await helpdesk.record_question(replace(message("printer?"), agent="helpdesk"), ttl=60)
        q_alone = await store.record_question(message("no routes"), ttl=60)
        assert q_hr is not None
        assert q_help is not None
        assert q_alone is not None
        assert len({q_hr.conversation_id, q_help.conversation_id, q_alone.conversation_id}) == 3
        assert await hr.open_conversations(["test"]) == [q_hr.conversation_id]
        assert await helpdesk.unclaimed_conversations(["test"]) == [q_help.conversation_id]
        assert await store.open_conversations(["test"]) == [q_alone.conversation_id]
        await hr.save_agent_user("test:u1", "hr-user")
        await helpdesk.save_agent_user("test:u1", "help-user")
        assert (await hr.next_open_question(q_hr.conversation_id)).agent_ids == AgentIds(None, "hr-user")  # type: ignore[union-attr]
        assert await helpdesk.agent_user_id("test:u1") == "help-user"
        assert await store.agent_user_id("test:u1") is None
        assert await hr.end_conversation("test:u1")
        assert (await helpdesk.current_conversation("test:u1")) is not None  # another agent's: untouched
        assert await hr.current_conversation("test:u1") is None
        assert await store.thread_agent("test", "c9", "1.0") == "hr"
        assert await store.thread_agent("test", "c9", "2.0") is None
        assert await store.question_agent(q_help.id) == "helpdesk"
        assert await store.question_agent(q_alone.id) == ""
        # Each agent's saved pace is its own; the single agent's row is never overwritten.
        await store.save_answer_times([2.0])
        await hr.save_answer_times([9.0])
        await hr.save_answer_times([9.0, 8.5])
        assert await store.answer_times() == [2.0]
        assert await hr.answer_times() == [9.0, 8.5]
        assert await helpdesk.answer_times() == []


async def test_slack_installations_are_kept_per_workspace_and_organisation(database: str) -> None:
    """ "Add to Slack": one row per workspace (a reinstall replaces it), an org-wide install
    serves its workspaces without one of their own, and an uninstall deletes it."""
    async with open_store(database) as store:
        await store.save_installation(InstallationRow("T1", "", "sealed-1", "UB1", "One"))
        await store.save_installation(InstallationRow("T1", "", "sealed-1b", "UB1", "One"))  # reinstalled
        await store.save_installation(InstallationRow("", "E1", "sealed-org", "UB2", "Org"))
        await store.save_installation(InstallationRow("T9", "E1", "sealed-9", "UB3", "Nine"))
        assert await store.count_installations() == 3
        assert (await store.installation("T1", "")) == InstallationRow("T1", "", "sealed-1b", "UB1", "One")
        assert (await store.installation("T5", "E1")).sealed_token == "sealed-org"  # type: ignore[union-attr]
        assert (await store.installation("T9", "E1")).sealed_token == "sealed-9"  # type: ignore[union-attr]
        assert await store.installation("T5", "") is None
        assert await store.delete_installation("T1", "")
        assert not await store.delete_installation("T1", "")
        assert await store.installation("T1", "") is None


async def test_first_sighting_counts_each_key_once(database: str) -> None:
    """Event keys without a question (retries of an ignored event) are deduplicated too."""
    async with open_store(database) as store:
        assert await store.first_sighting([], ttl=60)
        assert await store.first_sighting(["a", "b"], ttl=60)
        assert not await store.first_sighting(["b", "c"], ttl=60)
        assert await store.first_sighting(["c"], ttl=60)  # nothing of a refused claim was kept


async def test_racing_deliveries_of_one_event_record_one_question(database: str) -> None:
    """The same event arriving twice at once (a platform retry landing on another replica):
    exactly one question is recorded."""
    async with open_store(database) as one, open_store(database) as two:
        results = await asyncio.gather(
            *[
                store.record_question(message(f"q{i}", user=f"u{i}", keys=(f"ev{i}", f"alt{i}")), ttl=60)
                for i in range(20)
                for store in (one, two)
            ]
        )
        assert sum(r is not None for r in results) == 20
        assert await one.count_open() == 20


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


async def test_a_thread_key_groups_people_into_one_conversation(database: str) -> None:
    """CONVERSATION_SCOPE=thread: the message's conversation key, not the person, picks the
    conversation; a reset by that key ends it."""
    async with open_store(database) as store:
        ann = await store.record_question(replace(message("a", user="u1"), conversation_key="test::c1:t1"), ttl=60)
        bob = await store.record_question(replace(message("b", user="u2"), conversation_key="test::c1:t1"), ttl=60)
        own = await store.record_question(message("c", user="u1"), ttl=60)
        assert ann
        assert bob
        assert own
        assert ann.conversation_id == bob.conversation_id != own.conversation_id
        assert (ann.fk_id, bob.fk_id) == ("test:u1", "test:u2")  # each still asks as themselves
        assert await store.end_conversation("test::c1:t1")
        again = await store.record_question(replace(message("d", user="u2"), conversation_key="test::c1:t1"), ttl=60)
        assert again
        assert again.conversation_id not in (ann.conversation_id, own.conversation_id)


async def _equal(result: Awaitable[object], expected: object) -> bool:
    return await result == expected
