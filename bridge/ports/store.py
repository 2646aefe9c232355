"""The store port: the durable state the core needs, and the records it hands back.

``store/`` implements it (SQLite and PostgreSQL). Every method is one atomic step: a process
stopped between two of them (``kill -9``) loses nothing that a later call relies on.

Errors (``bridge.errors``): any method may raise ``StoreUnavailable`` (the database cannot
be reached or cannot take the call now: retry later) or ``StoreFault`` (it refused the
call for a reason retrying will not fix: an operator must look), both ``StoreError``; the
driver's own exception is only their ``__cause__``. Reading a record by id raises
``QuestionGone`` / ``ConversationGone`` when there is none; a state change of a question
that is not there (any more) changes nothing and raises nothing.

With a shared database the steps that decide what is posted or sent (``note_send_attempt``,
``mark_sent``, ``mark_finished``, ``mark_parts_delivered``, ``mark_delivered``) take effect
only while this process holds the conversation's live lane lease; otherwise they write
nothing and raise ``LeaseLost`` (another replica has the conversation: stop, no retry).
The store's ``clock`` is the one every stored time is read from (with PostgreSQL the
database server's, shared by all replicas); the service keeps time by it too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bridge.models import Attachment, InboundMessage, Origin, PlatformUser, QuestionState, Reply
from bridge.ports.store_feedback import FeedbackStore, KeptAnswer
from bridge.ports.store_takeover import HandedQuestion, HandoverPost, HandoverRecord, TakeoverStore

# The stores (store/) implement the whole port and import every record from here.
__all__ = [
    "AgentIds",
    "ConversationRecord",
    "FeedbackStore",
    "HandedQuestion",
    "HandoverPost",
    "HandoverRecord",
    "KeptAnswer",
    "QuestionRecord",
    "StoppedQuestion",
    "StorePort",
    "TakeoverStore",
]


@dataclass(frozen=True)
class AgentIds:
    """The person's user and the conversation at the agent, as the store knew them when a
    question was read: a turn needs no separate look-up for them. None: not created yet."""

    conversation: str | None
    user: str | None


@dataclass(frozen=True)
class QuestionRecord:
    """One stored question, wherever it stands in its life (``QuestionState``)."""

    id: int
    conversation_id: int
    fk_id: str
    platform: str
    origin: Origin
    profile: PlatformUser
    text: str
    state: QuestionState
    agent_message_id: str | None
    send_attempts: int
    send_attempted_at: float | None
    reply: Reply | None
    error: str | None
    parts_delivered: int
    delivery_attempts: int
    created_at: float
    started_at: float | None
    sent_at: float | None
    attachments: tuple[Attachment, ...] = ()
    album: str | None = None
    # None: not read with the record (look them up). A snapshot, not part of the question.
    agent_ids: AgentIds | None = field(default=None, compare=False)

    @classmethod
    def new(cls, qid: int, conversation_id: int, msg: InboundMessage, created_at: float) -> QuestionRecord:
        """The record ``record_question`` just inserted, without reading it back."""
        return cls(
            id=qid,
            conversation_id=conversation_id,
            fk_id=msg.user.fk_id,
            platform=msg.platform,
            origin=msg.origin,
            profile=msg.user,
            text=msg.text,
            state=QuestionState.RECEIVED,
            agent_message_id=None,
            send_attempts=0,
            send_attempted_at=None,
            reply=None,
            error=None,
            parts_delivered=0,
            delivery_attempts=0,
            created_at=created_at,
            started_at=None,
            sent_at=None,
            attachments=msg.attachments,
            album=msg.album,
        )


@dataclass(frozen=True)
class StoppedQuestion:
    """A question the person stopped (``stop_questions``): its lane, if working on it, is told."""

    id: int
    conversation_id: int


@dataclass(frozen=True)
class ConversationRecord:
    """A person's conversation; ``agent_conversation_id`` is filled once the agent made it."""

    id: int
    fk_id: str
    agent_conversation_id: str | None
    ended_at: float | None


class StorePort(TakeoverStore, FeedbackStore, Protocol):
    """Durable state of the bridge, as the core uses it. Every method raises
    ``StoreUnavailable`` or ``StoreFault`` when the database fails (see the module). Its
    parts for feedback and takeovers are protocols of their own
    (``bridge.ports.store_feedback``, ``bridge.ports.store_takeover``)."""

    # -- intake ----------------------------------------------------------------------

    async def first_sighting(self, keys: Sequence[str], ttl: float) -> bool:
        """Record event keys; False if any of them was seen (and has not expired).
        ``StoreError``: nothing was recorded (the platform should redeliver the event)."""
        ...

    async def record_question(self, msg: InboundMessage, ttl: float) -> QuestionRecord | None:
        """Durably record a new question, or return None if its keys were seen. A message
        of an ``album`` whose question is not started yet joins that question (its files
        added, its text kept if the question had none) and that question is returned.
        ``StoreError``: nothing of the message was recorded (with SQLite, every question
        committed in the same group fails alike): the platform should redeliver it."""
        ...

    async def answered_in_thread(self, platform: str, fk_id: str, chat: str, thread: str) -> bool:
        """Did this person ask the bot something in this thread (recently)?"""
        ...

    async def end_conversation(self, fk_id: str) -> bool:
        """Reset: the next question of this conversation key (a person's id, or a thread's
        key in thread scope) opens a new conversation."""
        ...

    async def stop_questions(self, platform: str, fk_id: str, chat: str, thread: str | None) -> list[StoppedQuestion]:
        """The person stops waiting: their questions in ``chat`` (in ``thread`` only, if
        given) still waiting for the agent (``received``, ``sent``) become ``stopped``, in
        one step: final and never open again, their text erased. From then on every step of
        their lives (``mark_sent``, ``mark_finished``, parts, delivery) writes nothing and
        raises nothing, as for a question that is gone."""
        ...

    # -- lanes -----------------------------------------------------------------------

    async def open_conversations(self, platforms: Iterable[str]) -> list[int]:
        """Conversations with unfinished questions from these platforms, oldest first."""
        ...

    async def next_open_question(self, conversation_id: int) -> QuestionRecord | None: ...

    async def open_questions(self, conversation_id: int, limit: int) -> list[QuestionRecord]:
        """The conversation's oldest ``limit`` unfinished questions, oldest first: a lane
        reads two, so it knows without another trip whether one is left after this one."""
        ...

    async def question(self, qid: int) -> QuestionRecord:
        """The question as stored now. ``QuestionGone`` if there is none with this id
        (never stored, or finished and purged)."""
        ...

    async def count_open(self, platform: str | None = None) -> int: ...

    # -- a question's life (each a state change of ``QuestionState``) ------------------

    async def mark_started(self, qid: int) -> float: ...

    async def note_send_attempt(self, qid: int) -> float:
        """Written *before* the send: after a crash it says "the agent may have this".
        Returns the time it noted."""
        ...

    async def clear_send_attempt(self, qid: int) -> None:
        """The last send surely did not reach the agent (it answered, or was never
        reached): no need to wait for it before sending again."""
        ...

    async def mark_sent(self, qid: int, agent_message_id: str) -> float: ...

    async def mark_finished(
        self, qid: int, state: QuestionState, reply: Reply, error: str | None = None, *, keep_until: float | None = None
    ) -> bool:
        """``keep_until``: an answer (with the agent's ``message_id``) may be rated until
        then: its question and answer text are kept for that (``KeptAnswer``), in the
        same step. A question ``handed_over`` is recorded as such in the same step
        (``handed_questions``). False: nothing was written, the question was stopped (or
        is gone), so its reply must never be posted."""
        ...

    async def mark_parts_delivered(self, qid: int, parts: int) -> None: ...

    async def mark_heard(self, qid: int, attachments: Sequence[Attachment]) -> None:
        """Keep the question's files with what was heard in its recordings (their
        ``transcript``), so a restart before the send does not transcribe them again."""
        ...

    async def note_delivery_attempt(self, qid: int, error: str) -> int:
        """Count a failed delivery; returns how many there were (0 for a question that
        is not there any more)."""
        ...

    async def mark_delivered(
        self, qid: int, state: QuestionState = QuestionState.DELIVERED, error: str | None = None
    ) -> None:
        """Finished (delivered or undeliverable): the question and answer text are erased."""
        ...

    async def known_message_ids(self, conversation_id: int) -> set[str]: ...

    # -- identities and conversations --------------------------------------------------

    async def agent_user_id(self, fk_id: str) -> str | None: ...

    async def save_agent_user(self, fk_id: str, agent_user_id: str) -> None: ...

    async def person_locale(self, fk_id: str) -> str | None:
        """The locale a lookup last gave for this person (Slack's users.info: "de-DE"),
        kept across restarts (``bridge.languages``); None if never kept."""
        ...

    async def keep_person_locale(self, fk_id: str, locale: str) -> None: ...

    async def conversation(self, conversation_id: int) -> ConversationRecord:
        """``ConversationGone`` if there is none with this id."""
        ...

    async def set_agent_conversation(self, conversation_id: int, agent_conversation_id: str) -> None: ...

    async def current_conversation(self, key: str) -> ConversationRecord | None:
        """The conversation a person's next question goes to (by ``InboundMessage.scope_key``)."""
        ...

    # -- lanes across processes --------------------------------------------------------
    # With a shared database (several replicas) a lane holds a lease on its conversation,
    # so one process at a time works on it. A single-process store grants every claim.

    @property
    def shared(self) -> bool:
        """Other processes may work on this store at the same time."""
        ...

    async def claim_lane(self, conversation_id: int, ttl: float) -> bool:
        """Take the conversation's lease for ``ttl`` seconds if free, expired or ours."""
        ...

    async def renew_lanes(self, conversation_ids: Collection[int], ttl: float) -> set[int]:
        """Extend our leases; returns those still ours."""
        ...

    async def release_lane(self, conversation_id: int) -> None: ...

    async def unclaimed_conversations(self, platforms: Iterable[str]) -> list[int]:
        """Conversations with unfinished questions that no live lane holds, oldest first."""
        ...

    # -- several agents (ROUTES_FILE) --------------------------------------------------

    async def thread_agent(self, platform: str, chat: str, thread: str) -> str | None:
        """The agent that the newest question in this thread went to (a follow-up stays
        with it), or None when nobody asked there."""
        ...

    async def question_agent(self, qid: int) -> str | None:
        """The agent question ``qid`` went to, while it is stored."""
        ...

    # -- the agent's pace ----------------------------------------------------------------

    async def answer_times(self) -> list[float]:
        """The agent's recent answer times (seconds, oldest first) as last saved; empty if none."""
        ...

    async def save_answer_times(self, seconds: Sequence[float]) -> None:
        """Replace the saved answer times (a hint for the poll schedule, not state: a
        ``StoreError`` here or in ``answer_times`` need not stop anything)."""
        ...

    # -- housekeeping ------------------------------------------------------------------

    async def purge(self, keep_finished_for: float, keep_people_for: float | None = None) -> None:
        """Forget expired event keys and long-finished questions; with ``keep_people_for``
        (PEOPLE_DAYS), also conversations and people not active for that long (a
        conversation with a question or a takeover's records left stays)."""
        ...
