"""The store port's part for 👍/👎 on answers (``FEEDBACK_DAYS``): the answers kept for a
vote and the votes. Part of ``StorePort`` (``bridge.ports.store``), whose errors and
atomic steps it shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class KeptAnswer:
    """A delivered answer kept for 👍/👎 (``FEEDBACK_DAYS``), with the vote it has."""

    question_id: int
    fk_id: str  # who asked: the only one who may rate it
    message_id: str  # the answer's id at the agent
    question: str
    answer: str
    vote: str | None
    comment: str | None


class FeedbackStore(Protocol):
    """Answers kept for feedback, and the votes and comments on them."""

    async def kept_answer(self, qid: int) -> KeptAnswer | None:
        """The answer to question ``qid`` if it is still kept for feedback."""
        ...

    async def save_vote(self, qid: int, vote: str | None, comment: str | None) -> None:
        """Record a vote and/or comment (None leaves that one as it is)."""
        ...

    async def note_comment_prompt(self, qid: int, where: str) -> None:
        """A comment on this answer was asked for by the message ``where`` names."""
        ...

    async def prompted_answer(self, where: str) -> KeptAnswer | None:
        """The kept answer whose comment the message ``where`` asked for, if any."""
        ...
