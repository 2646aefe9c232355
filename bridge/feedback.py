"""👍/👎 on answers, recorded at the agent (raia's conversation-message feedbacks).

An answer delivered with buttons is kept (question and answer text) for
``FEEDBACK_DAYS``; a vote names it by ``Reply.vote_key`` (the question's id), which
the platform hands back untrusted: only the person who asked may rate it. A changed
vote, or a comment after 👎, updates the same feedback at the agent.

Storms stay cheap: a press the platform delivers again (its ``Vote.keys`` seen before)
counts once; presses on one answer are recorded one after another, and a press that
changes nothing is not sent to the agent again; a comment is asked for once per answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from bridge import texts
from bridge.errors import AgentError, StoreError
from bridge.ports.agent import RatesAnswers, Rating
from bridge.ports.feedback import DOWN, UP, Vote, Voted, VoteResult
from bridge.ports.store import StorePort
from bridge.ports.store_feedback import KeptAnswer

log = logging.getLogger(__name__)

RATE_TIMEOUT = 10.0  # the agent's answer to a vote; the voter waits for the toast


class FeedbackDesk:
    """Implements ``Ratings``."""

    def __init__(self, store: StorePort, agent: RatesAnswers, *, dedupe_ttl: float, keep: float | None = None) -> None:
        self._store = store
        self._agent = agent
        self._ttl = dedupe_ttl
        self._keep = keep or dedupe_ttl  # how long an answer can be rated (FEEDBACK_DAYS)
        self._busy: dict[int, tuple[asyncio.Lock, int]] = {}  # answers being rated: (lock, users)

    async def vote(self, vote: Vote, accepted: Callable[[], Awaitable[None]] | None = None) -> VoteResult:
        if vote.choice not in (UP, DOWN, None) or not vote.key.isdigit():
            return _result(Voted.GONE, vote.language)
        try:
            if vote.keys and not await self._store.first_sighting(vote.keys, self._ttl):
                log.info("feedback on question=%s delivered again; counted once", vote.key)
                return VoteResult(Voted.DUPLICATE, "")
            kept = await self._store.kept_answer(int(vote.key))
            if kept is None or kept.fk_id != vote.fk_id:
                return await self._record(kept, vote)  # refused
            if accepted is not None:
                await accepted()  # at once, even while another press on this answer is recorded
            async with self._alone(kept.question_id):
                # Re-read: a press just before this one may have changed the vote.
                return await self._record(await self._store.kept_answer(kept.question_id), vote)
        except StoreError as exc:
            log.warning("feedback on question=%s not recorded: %s", vote.key, exc)
            return _result(Voted.FAILED, vote.language)

    async def open_prompt(self, vote: Vote) -> bool:
        if not vote.key.isdigit():
            return False
        # Claimed in the store: replicas and concurrent presses agree on the one prompt.
        return await self._store.first_sighting((f"{vote.platform}:comment-prompt:{vote.key}",), self._keep)

    async def prompted(self, vote: Vote, where: str) -> None:
        if vote.key.isdigit():
            await self._store.note_comment_prompt(int(vote.key), where)

    @asynccontextmanager
    async def _alone(self, qid: int) -> AsyncIterator[None]:
        """One vote at a time on an answer (in this process)."""
        lock, users = self._busy.get(qid) or (asyncio.Lock(), 0)
        self._busy[qid] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._busy[qid]
            if users > 1:
                self._busy[qid] = (lock, users - 1)
            else:
                del self._busy[qid]

    async def asked_for_comment(self, fk_id: str, where: str) -> bool:
        kept = await self._store.prompted_answer(where)
        return kept is not None and kept.fk_id == fk_id

    async def comment_on(
        self, platform: str, fk_id: str, where: str, text: str, keys: Sequence[str], language: str = "en"
    ) -> VoteResult | None:
        kept = await self._store.prompted_answer(where)
        if kept is None or kept.fk_id != fk_id:
            # No prompt there, or someone else's (a group): an ordinary message, maybe a question.
            return None
        if not await self._store.first_sighting(keys, self._ttl):
            return VoteResult(Voted.RECORDED, "", kept.vote)  # redelivered: thanked once already
        vote = Vote(platform, fk_id, str(kept.question_id), None, text.strip()[:2000], language)
        async with self._alone(kept.question_id):
            return await self._record(await self._store.kept_answer(kept.question_id), vote)

    async def _record(self, kept: KeptAnswer | None, vote: Vote) -> VoteResult:
        if kept is None:
            return _result(Voted.GONE, vote.language)
        if kept.fk_id != vote.fk_id:
            log.info("feedback on question=%s refused: %s did not ask it", kept.question_id, vote.fk_id)
            return _result(Voted.NOT_YOURS, vote.language, kept.vote)
        if vote.comment is None and vote.choice == kept.vote:
            # Pressed again: the agent has this vote already, the buttons show it.
            return VoteResult(Voted.RECORDED, texts.text("feedback_thanks", vote.language), kept.vote, changed=False)
        choice = vote.choice or kept.vote or DOWN  # a comment comes after a 👎
        user = await self._store.agent_user_id(kept.fk_id)
        if user is None:
            return _result(Voted.GONE, vote.language)
        rating = Rating(kept.message_id, user, choice, kept.question, kept.answer, vote.comment or kept.comment)
        try:
            await asyncio.wait_for(self._agent.rate_answer(rating), RATE_TIMEOUT)
        except (AgentError, TimeoutError) as exc:
            log.warning("feedback on question=%s not recorded by the agent: %s", kept.question_id, exc or "timeout")
            return _result(Voted.FAILED, vote.language, kept.vote)
        await self._store.save_vote(kept.question_id, choice, vote.comment)
        log.info("feedback question=%s vote=%s%s", kept.question_id, choice, " with a comment" if vote.comment else "")
        key = "feedback_comment_thanks" if vote.comment else "feedback_thanks"
        return VoteResult(Voted.RECORDED, texts.text(key, vote.language), choice)


def _result(status: Voted, language: str, choice: str | None = None) -> VoteResult:
    key = {
        Voted.GONE: "feedback_gone",
        Voted.NOT_YOURS: "feedback_not_yours",
        Voted.FAILED: "feedback_failed",
        Voted.RECORDED: "feedback_thanks",
        Voted.DUPLICATE: "feedback_thanks",
    }[status]
    return VoteResult(status, texts.text(key, language), choice)
