"""Answers kept for 👍/👎 (``FEEDBACK_DAYS``) on both engines: kept with the answer in one
step, readable until they expire, votes and comments saved, then purged."""

from __future__ import annotations

from bridge.models import QuestionState, Reply, ReplyKind
from tests.conftest import message
from tests.store.stores import Clock, open_store


async def test_answer_kept_voted_commented_then_erased(database: str) -> None:
    clock = Clock()
    async with open_store(database, clock) as store:
        q = await store.record_question(message("How much?"), ttl=60)
        assert q is not None
        assert await store.claim_lane(q.conversation_id, ttl=60)  # the steps below are the lane's
        await store.save_agent_user(q.fk_id, "raia-user-1")
        answer = Reply("It costs 5.", message_id="answer-1")
        await store.mark_finished(q.id, QuestionState.ANSWERED, answer, keep_until=clock.now + 100)
        await store.mark_delivered(q.id)  # the question row's text is erased as always...
        assert (await store.question(q.id)).text == ""
        kept = await store.kept_answer(q.id)  # ...the kept copy stays for the vote
        assert kept is not None
        assert (kept.fk_id, kept.message_id, kept.question, kept.answer) == (
            q.fk_id,
            "answer-1",
            "How much?",
            "It costs 5.",
        )
        assert (kept.vote, kept.comment) == (None, None)

        await store.save_vote(q.id, "down", None)
        await store.note_comment_prompt(q.id, "42:1001")
        await store.save_vote(q.id, None, "Too vague")
        kept = await store.prompted_answer("42:1001")
        assert kept is not None
        assert (kept.vote, kept.comment) == ("down", "Too vague")
        assert await store.prompted_answer("42:1002") is None

        clock.now += 101  # FEEDBACK_DAYS passed
        assert await store.kept_answer(q.id) is None
        assert await store.prompted_answer("42:1001") is None
        await store.purge(keep_finished_for=10**9)
        clock.now -= 101
        assert await store.kept_answer(q.id) is None  # erased, not just hidden


async def test_only_answers_with_an_id_are_kept(database: str) -> None:
    clock = Clock()
    async with open_store(database, clock) as store:
        notice = await store.record_question(message("a"), ttl=60)
        unnamed = await store.record_question(message("b", user="u2"), ttl=60)
        off = await store.record_question(message("c", user="u3"), ttl=60)
        assert notice
        assert unnamed
        assert off
        for q in (notice, unnamed, off):
            assert await store.claim_lane(q.conversation_id, ttl=60)
        await store.mark_finished(notice.id, QuestionState.FAILED, Reply("Sorry", ReplyKind.NOTICE), keep_until=2e3)
        await store.mark_finished(unnamed.id, QuestionState.ANSWERED, Reply("b!"), keep_until=2e3)
        await store.mark_finished(off.id, QuestionState.ANSWERED, Reply("c!", message_id="m3"))  # FEEDBACK=off
        for q in (notice, unnamed, off):
            assert await store.kept_answer(q.id) is None
            assert (await store.question(q.id)).state in (QuestionState.FAILED, QuestionState.ANSWERED)
