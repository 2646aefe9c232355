"""The ports the core talks to an agent API through, one per way of asking it
(``bridge.asking``): ``AgentPort`` for an agent that is sent a question and looked at for
its answer (``adapters/raia``), ``DirectAgentPort`` for one whose call returns the answer
(``adapters/blaigent``, ``adapters/slug``), and the optional abilities ``TakesFiles`` and
``RatesAnswers``. Values here are what the core needs, nothing more; each agent adapter
maps its vendor's JSON to them.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from bridge.models import AnswerFile, Reply
from bridge.ports.outbound import Download


class ResponseStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class AgentResponse:
    """One look at ``response-on``. ``reply`` is set when completed; ``took`` is how long
    the agent took to answer by its own clock, when it says (it tunes the poll schedule)."""

    status: ResponseStatus
    reply: Reply | None = None
    error: str | None = None
    took: float | None = None


@dataclass(frozen=True)
class AgentMessage:
    """A message as listed in a conversation (used to check an ambiguous send)."""

    id: str
    from_user: bool
    text: str


@dataclass(frozen=True)
class NewUser:
    """What the agent API needs to create the person's user."""

    fk_id: str
    first_name: str
    last_name: str
    custom_data: Mapping[str, str]


class AgentPort(Protocol):
    """An agent API as the core uses it: who the agent is, its users and conversations,
    a send that is never blindly repeated, and a look at the answer."""

    async def agent_name(self) -> str | None:
        """The agent's display name; None if it has none."""
        ...

    async def find_or_create_user(self, user: NewUser) -> str: ...

    async def create_conversation(self, user_id: str, title: str, custom_data: Mapping[str, str]) -> str: ...

    async def send_message(self, conversation_id: str, text: str, files: Sequence[SentFile] = ()) -> str: ...

    async def response_on(self, conversation_id: str, message_id: str) -> AgentResponse: ...

    async def list_messages(self, conversation_id: str) -> list[AgentMessage]: ...


@dataclass(frozen=True)
class SentFile:
    """A file uploaded to the agent's storage, to attach to the message sent next."""

    name: str
    storage_path: str


class TakesFiles(Protocol):
    """An agent API that accepts files with a message (raia's message files)."""

    async def upload_file(self, conversation_id: str, name: str, content_type: str, download: Download) -> SentFile:
        """Stream ``download`` into the agent's storage. Raises ``AgentError``; a failure
        of the download itself (``FileUnavailable``) passes through."""
        ...


class GivesFiles(Protocol):
    """An agent API whose answers carry files it made (raia's message files)."""

    def answer_file(self, file: AnswerFile, limit: int) -> AbstractAsyncContextManager[Download]:
        """Open a file of an answer for reading, at most ``limit`` bytes of it. Raises
        ``AgentError`` (a retryable one: try again later) or ``FileUnavailable``."""
        ...


@dataclass(frozen=True)
class Rating:
    """A person's vote on one answer, as the agent API records it."""

    message_id: str  # the answer's id at the agent
    user_id: str  # the person's user id at the agent
    vote: str  # "up" | "down"
    question: str
    answer: str
    comment: str | None = None


class RatesAnswers(Protocol):
    """An agent API that records 👍/👎 on its answers (raia). Without it, no buttons."""

    async def rate_answer(self, rating: Rating) -> None:
        """Create or update the vote (idempotent). Raises ``AgentError``."""
        ...


# -- agents that answer in the call (Blaigent, the slug chat API) ----------------------


@dataclass(frozen=True)
class Person:
    """Who asks, as a direct agent API wants to know: our stable id and the platform's names."""

    fk_id: str
    platform: str
    first_name: str
    last_name: str | None
    custom_data: Mapping[str, str]


@dataclass(frozen=True)
class Asked:
    """A direct agent's answer. ``session`` continues the person's conversation next time;
    ``detail`` is for the turn's log line (e.g. the detected intent)."""

    session: str | None
    reply: Reply
    detail: str = ""


@dataclass(frozen=True)
class Lookup:
    """What a direct agent's history says about a question whose call was cut off."""

    asked: bool  # the question is in the conversation
    reply: Reply | None = None  # ... and this answer follows it
    session: str | None = None  # the conversation it found (when the bridge did not know it yet)


class DirectAgentPort(Protocol):
    """An agent API whose chat call returns the answer (no polling). Whether it can list a
    conversation's messages decides what happens to a call cut off by a restart: look, or
    tell the person to ask again (never ask twice blindly)."""

    backend: str  # "blaigent", "slug": for logs and check
    can_look_up: bool
    streams: bool  # ``ask`` reports the answer as it is written, through ``on_text``

    async def agent_name(self) -> str | None: ...

    async def ask(
        self,
        person: Person,
        session: str | None,
        text: str,
        on_text: Callable[[str], Awaitable[None]] | None = None,
    ) -> Asked:
        """The answer; while it streams, ``on_text`` gets the whole text so far."""
        ...

    async def look_up(self, fk_id: str, session: str | None, text: str) -> Lookup:
        """Only when ``can_look_up``: is ``text`` the last question of the conversation
        (``session``, or the person's newest one when it is not known yet), answered?"""
        ...


# -- a person takes over (raia's human-in-the-loop) -------------------------------------


@dataclass(frozen=True)
class Handling:
    """Who handles a conversation at the agent now: ``by_person`` while staff have taken it
    over; ``staff``: their name when the agent says; ``updated_at``: the agent's clock."""

    conversation_id: str
    by_person: bool
    staff: str | None = None
    updated_at: float | None = None


@dataclass(frozen=True)
class StaffMessage:
    """A message a person (staff) wrote into the conversation, to be delivered like an answer."""

    id: str
    created_at: float
    reply: Reply


class HandsOver(Protocol):
    """An agent API where staff can take a conversation over from the agent (raia's
    ``manual`` mode). Without it, no takeovers. Every call raises ``AgentError``."""

    async def handling(self, conversation_id: str) -> Handling: ...

    async def staff_messages(self, conversation_id: str) -> list[StaffMessage]:
        """The staff's messages in the conversation, oldest first."""
        ...

    async def recently_updated(self, since: float, limit: int, page: int = 1) -> list[Handling]:
        """Conversations updated at or after ``since`` (the agent's clock), newest first:
        the ``page``-th page of ``limit`` (one request). Fewer than ``limit``: the last page
        within ``since``."""
        ...

    async def hand_over(self, conversation_id: str) -> None:
        """Ask for a person: the conversation goes to staff."""
        ...

    async def late_answer(self, conversation_id: str, message_id: str) -> tuple[bool, Reply | None]:
        """The agent's answer to a question a person took over, if it answered anyway:
        ``(settled, reply)``: settled once it answered (``reply``, None if without words),
        failed, or is unknown; not settled while pending."""
        ...
