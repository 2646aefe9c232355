"""The store port's part for a person taking over (``bridge.takeover``): who handles a
conversation as last seen, the posts found for it (each recorded before it is posted),
the questions handed over and which process watches what. Part of ``StorePort``
(``bridge.ports.store``), whose errors and atomic steps it shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.models import Origin, PlatformUser, Reply


@dataclass(frozen=True)
class HandoverRecord:
    """A conversation a person (staff) took over, or may take over, at the agent: who
    handles it as the bridge last saw, and where the person is (their last question's
    platform, route and profile). ``episode`` counts takeovers begun (one notice each);
    staff messages created before ``since`` are not delivered; it is watched until
    ``watch_until``."""

    conversation_id: int
    agent_conversation_id: str
    by_person: bool
    staff: str | None
    episode: int
    since: float
    platform: str
    origin: Origin
    profile: PlatformUser
    watch_until: float


@dataclass(frozen=True)
class HandedQuestion:
    """A question a person took over (it ended ``handed_over``): the agent may answer it
    anyway, and that answer is then posted once."""

    question_id: int
    agent_message_id: str
    handed_at: float


@dataclass(frozen=True)
class HandoverPost:
    """A delivery that belongs to a conversation, not to a question (a staff message, a
    notice that a person took over or handed back): recorded before it is posted, its
    parts counted like an answer's, so it is posted once, in ``seq`` order."""

    conversation_id: int
    key: str
    seq: float
    reply: Reply
    parts_delivered: int
    delivery_attempts: int


class TakeoverStore(Protocol):
    """Takeovers, their posts and their watches."""

    async def conversation_for_agent(self, agent_conversation_id: str) -> int | None:
        """Our conversation whose agent-side id this is, if any."""
        ...

    async def handover(self, conversation_id: int) -> HandoverRecord | None: ...

    async def watch_handover(self, conversation_id: int, since: float, watch_until: float) -> HandoverRecord | None:
        """Watch the conversation until ``watch_until`` (never shortened): made with
        ``since`` the first time; its route and profile refreshed from its newest question.
        None when it has no agent conversation or no question (nowhere to post)."""
        ...

    async def record_handover(
        self,
        conversation_id: int,
        *,
        by_person: bool,
        staff: str | None,
        episode: int,
        since: float,
        watch_until: float,
        posts: Sequence[tuple[str, float, Reply]],
    ) -> None:
        """One step: who handles it now, and the deliveries found (``(key, seq, reply)``,
        a key recorded before is left as it was)."""
        ...

    async def recorded_posts(self, conversation_id: int) -> set[str]: ...

    async def pending_posts(self, conversation_id: int) -> list[HandoverPost]:
        """Deliveries not posted yet, in order."""
        ...

    async def mark_post_parts(self, conversation_id: int, key: str, parts: int) -> None: ...

    async def note_post_attempt(self, conversation_id: int, key: str) -> int: ...

    async def mark_post_delivered(self, conversation_id: int, key: str) -> None:
        """Posted, or given up: never posted again."""
        ...

    async def watched_handovers(self) -> list[int]:
        """Conversations still watched that no live process watches (by ``claim_watch``)."""
        ...

    async def claim_watch(self, conversation_id: int, ttl: float) -> bool:
        """Watch it for ``ttl`` seconds if no other process does (always, on a one-process store)."""
        ...

    async def release_watch(self, conversation_id: int) -> None: ...

    async def handed_questions(self, conversation_id: int) -> list[HandedQuestion]:
        """Questions of the conversation a person took over whose agent answer is still
        looked for (recorded by ``mark_finished`` with ``handed_over``), oldest first."""
        ...

    async def settle_handed_question(
        self, conversation_id: int, question_id: int, post: tuple[str, float, Reply] | None
    ) -> None:
        """No longer looked for; ``post`` (the agent's late answer) recorded with it in one
        step, to be posted like a staff message (a key recorded before is left as it was)."""
        ...

    async def purge_handovers(self, before: float) -> None:
        """Forget posts delivered before ``before``, handovers watched last before it and
        questions handed over before it."""
        ...
