"""👍/👎 on answers, recorded at the agent (raia's conversation-message feedbacks).

An answer delivered with buttons is kept (question and answer text) for
``FEEDBACK_DAYS``; a vote names it by ``Reply.vote_key`` (the question's id), which
the platform hands back untrusted: only the person who asked may rate it. A changed
vote, or a comment after 👎, updates the same feedback at the agent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bridge import texts
from bridge.errors import AgentError, StoreError
from bridge.ports.agent import RatesAnswers, Rating
from bridge.ports.feedback import DOWN, UP, Vote, Voted, VoteResult
from bridge.ports.store import KeptAnswer, StorePort

log = logging.getLogger(__name__)

RATE_TIMEOUT = 10.0  # the agent's answer to a vote; the voter waits for the toast


class FeedbackDesk:
    """Implements ``Ratings``."""

    def __init__(self, store: StorePort, agent: RatesAnswers, *, dedupe_ttl: float) -> None:
        self._store = store
        self._agent = agent
        self._ttl = dedupe_ttl

    async def vote(self, vote: Vote, accepted: Callable[[], Awaitable[None]] | None = None) -> VoteResult:
        if vote.choice not in (UP, DOWN, None) or not vote.key.isdigit():
            return _result(Voted.GONE, vote.language)
        try:
            kept = await self._store.kept_answer(int(vote.key))
            return await self._record(kept, vote, accepted)
        except StoreError as exc:
            log.warning("feedback on question=%s not recorded: %s", vote.key, exc)
            return _result(Voted.FAILED, vote.language)

    async def prompted(self, vote: Vote, where: str) -> None:
        if vote.key.isdigit():
            await self._store.note_comment_prompt(int(vote.key), where)

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
        return await self._record(kept, vote)

    async def _record(
        self, kept: KeptAnswer | None, vote: Vote, accepted: Callable[[], Awaitable[None]] | None = None
    ) -> VoteResult:
        if kept is None:
            return _result(Voted.GONE, vote.language)
        if kept.fk_id != vote.fk_id:
            log.info("feedback on question=%s refused: %s did not ask it", kept.question_id, vote.fk_id)
            return _result(Voted.NOT_YOURS, vote.language, kept.vote)
        if accepted is not None:
            await accepted()
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
    }[status]
    return VoteResult(status, texts.text(key, language), choice)
