"""Takeovers in the store, on both engines: a handover made where the person last asked,
posts recorded once (a key seen before is left alone) and handed out in order until
posted, ``since`` only moving forward, one watcher per conversation across processes."""

from __future__ import annotations

from bridge.models import QuestionState, Reply, ReplyKind
from tests.conftest import message
from tests.store.stores import Clock, open_store


async def test_posts_recorded_once_in_order_then_delivered_and_purged(database: str) -> None:
    clock = Clock()
    async with open_store(database, clock) as store:
        assert await store.conversation_for_agent("conv-1") is None
        first = await store.record_question(message("hello", chat="c1"), ttl=60)
        assert first is not None
        cid = first.conversation_id
        assert await store.watch_handover(cid, since=0.0, watch_until=clock.now + 50) is None  # not at the agent yet
        await store.set_agent_conversation(cid, "conv-1")
        second = await store.record_question(message("again", chat="c2"), ttl=60)
        assert second is not None
        assert await store.conversation_for_agent("conv-1") == cid
        assert (await store.current_conversation(first.fk_id)).id == cid  # type: ignore[union-attr]

        record = await store.watch_handover(cid, since=clock.now - 10, watch_until=clock.now + 50)
        assert record is not None
        assert (record.agent_conversation_id, record.by_person, record.episode) == ("conv-1", False, 0)
        assert record.origin.chat == "c2"  # where the person last asked
        assert record.profile.fk_id == first.fk_id
        notice = Reply("Dana will answer.", ReplyKind.NOTICE)
        posts = [("taken-1", 2.0, notice), ("m1", 3.0, Reply("Hi")), ("m0", 2.5, Reply("First"))]
        await store.record_handover(
            cid, by_person=True, staff="Dana", episode=1, since=clock.now, watch_until=clock.now + 50, posts=posts
        )
        # The same staff message found again: recorded before, left as it was.
        await store.record_handover(
            cid, by_person=True, staff="Dana", episode=1, since=clock.now - 99, watch_until=clock.now + 50,
            posts=[("m1", 9.0, Reply("Changed"))],
        )  # fmt: skip
        assert await store.recorded_posts(cid) == {"taken-1", "m0", "m1"}
        pending = await store.pending_posts(cid)
        assert [(p.key, p.reply.text) for p in pending] == [("taken-1", "Dana will answer."), ("m0", "First"),
                                                             ("m1", "Hi")]  # fmt: skip
        record = await store.handover(cid)
        assert record is not None
        assert (record.by_person, record.staff, record.episode, record.since) == (True, "Dana", 1, clock.now)

        await store.mark_post_parts(cid, "taken-1", 1)
        assert await store.note_post_attempt(cid, "m0") == 1
        await store.mark_post_delivered(cid, "taken-1")
        pending = await store.pending_posts(cid)
        assert [(p.key, p.parts_delivered, p.delivery_attempts) for p in pending] == [("m0", 0, 1), ("m1", 0, 0)]
        assert await store.watched_handovers() == [cid]
        for key in ("m0", "m1"):
            await store.mark_post_delivered(cid, key)
        clock.now += 100
        assert await store.watched_handovers() == []  # idle past watch_until, nothing pending
        await store.purge_handovers(clock.now)
        assert await store.recorded_posts(cid) == set()
        assert await store.handover(cid) is not None  # a person still has it: kept


async def test_a_question_handed_over_is_recorded_with_it_and_its_late_answer_once(database: str) -> None:
    """Finishing a question as handed over records it in the same step; settling it with
    the agent's late answer records that answer as a post, once."""
    clock = Clock()
    async with open_store(database, clock) as store:
        q = await store.record_question(message("my booking"), ttl=60)
        other = await store.record_question(message("and this?"), ttl=60)
        assert q is not None
        assert other is not None
        cid = q.conversation_id
        await store.set_agent_conversation(cid, "conv-1")
        assert await store.claim_lane(cid, ttl=60)  # the steps below are the lane's
        await store.mark_sent(q.id, "m-1")
        await store.mark_sent(other.id, "m-2")
        await store.mark_finished(q.id, QuestionState.HANDED_OVER, Reply("", ReplyKind.NOTICE), "a person took over")
        await store.mark_finished(other.id, QuestionState.ANSWERED, Reply("answered as usual"))
        (handed,) = await store.handed_questions(cid)
        assert (handed.question_id, handed.agent_message_id, handed.handed_at) == (q.id, "m-1", clock.now)
        await store.watch_handover(cid, since=0.0, watch_until=clock.now + 50)
        for _ in range(2):  # found twice (two looks, two replicas): one post
            await store.settle_handed_question(cid, q.id, ("answer-m-1", 5.0, Reply("Late answer")))
        assert await store.handed_questions(cid) == []
        assert [(p.key, p.reply.text) for p in await store.pending_posts(cid)] == [("answer-m-1", "Late answer")]
        clock.now += 100
        await store.purge_handovers(clock.now)
        assert await store.handed_questions(cid) == []


async def test_one_process_watches_a_conversation(pg_server: object) -> None:
    from tests.pgserver import PgServer

    assert isinstance(pg_server, PgServer)
    database = await pg_server.new_database()
    async with open_store(database) as a, open_store(database) as b:
        q = await a.record_question(message("hello"), ttl=60)
        assert q is not None
        await a.set_agent_conversation(q.conversation_id, "conv-1")
        await a.watch_handover(q.conversation_id, since=0.0, watch_until=10**10)
        assert await a.claim_watch(q.conversation_id, ttl=30)
        assert await a.claim_watch(q.conversation_id, ttl=30)  # renewed
        assert not await b.claim_watch(q.conversation_id, ttl=30)
        assert await b.watched_handovers() == []  # a live process watches it
        await a.release_watch(q.conversation_id)
        assert await b.watched_handovers() == [q.conversation_id]
        assert await b.claim_watch(q.conversation_id, ttl=30)
