"""👍/👎 on answers: what a platform adapter hands the core when someone votes or
comments, and what it gets back to show them."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

UP = "up"
DOWN = "down"


@dataclass(frozen=True)
class Vote:
    """A vote (or a comment on one) as the platform reported it. ``key`` comes back from
    the button (``Reply.vote_key``) and is never trusted: the core checks that ``fk_id``,
    whom the platform authenticated, asked the question it names."""

    platform: str
    fk_id: str
    key: str
    choice: str | None  # UP | DOWN; None: only a comment, the vote stays
    comment: str | None = None
    language: str = "en"  # the voter's, for the note they see
    # The press's identity on the platform (de-duplication keys, like a message's): a press
    # delivered again counts once. Empty: the platform does not redeliver presses.
    keys: tuple[str, ...] = ()


class Voted(enum.Enum):
    RECORDED = "recorded"
    NOT_YOURS = "not_yours"  # someone else's answer
    GONE = "gone"  # unknown, or no longer kept (FEEDBACK_DAYS)
    FAILED = "failed"  # the agent API refused it or could not be reached
    DUPLICATE = "duplicate"  # the same press delivered again: handled the first time, nothing to show


@dataclass(frozen=True)
class VoteResult:
    status: Voted
    note: str  # what to show the voter (a toast, an ephemeral message), in their language; "" = nothing
    choice: str | None = None  # the vote the answer now has (buttons show it)
    changed: bool = True  # False: the answer had this vote already (its buttons show it)


class Ratings(Protocol):
    """The core's side of feedback (``bridge.feedback``)."""

    async def vote(self, vote: Vote, accepted: Callable[[], Awaitable[None]] | None = None) -> VoteResult:
        """Record the vote at the agent. ``accepted`` runs once the vote is known to be the
        voter's own, before the agent is asked (Slack opens its comment form there: it
        must within 3 s of the click)."""
        ...

    async def open_prompt(self, vote: Vote) -> bool:
        """Whether to ask the voter for a comment on the answer now, after a recorded 👎
        (Telegram: a reply prompt). True once per answer: the prompt stays open for a
        reply while the answer is kept, so a repeated 👎 asks nothing more."""
        ...

    async def prompted(self, vote: Vote, where: str) -> None:
        """The adapter asked the voter for a comment with the message ``where`` names
        (Telegram: a reply prompt); a reply to it is a comment (``Comments``)."""
        ...


class Comments(Protocol):
    """The core's own side of a comment after 👎: a message that replies to the prompt for
    it (``InboundMessage.replies_to``) is recognised by intake, not by the platform."""

    async def asked_for_comment(self, fk_id: str, where: str) -> bool:
        """Whether the message ``where`` names asked this person for a comment (a quick look
        in the store: intake then records the comment in the background)."""
        ...

    async def comment_on(
        self, platform: str, fk_id: str, where: str, text: str, keys: Sequence[str], language: str = "en"
    ) -> VoteResult | None:
        """``text`` replies to the message ``where`` names: the comment it asked for
        (recorded once per ``keys``), or None when that message asked for none, or asked
        someone else (then it is an ordinary message: in a group, a reply to the bot)."""
        ...
