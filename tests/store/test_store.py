"""The store port on both engines: a real SQLite file and a real PostgreSQL server
(``database`` is parametrised over them). Housekeeping and what is particular to one
engine (its file, upgrades, connections, leases) are in ``test_store_housekeeping.py``
and ``test_store_engines.py``."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bridge.errors import ConversationGone, QuestionGone
from bridge.models import Attachment, InboundMessage, Origin, QuestionState, Reply
from bridge.ports.store import AgentIds
from store.installs import InstallationRow
from tests.conftest import message
from tests.store.stores import Clock, open_store


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
