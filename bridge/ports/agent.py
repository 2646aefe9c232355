"""The port the core talks to an agent API through (``adapters/raia`` today).

Values here are what the core needs, nothing more; each agent adapter maps its vendor's
JSON to them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bridge.models import Reply


class ResponseStatus(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class AgentResponse:
    """One look at ``response-on``. ``reply`` is set when completed."""

    status: ResponseStatus
    reply: Reply | None = None
    error: str | None = None


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

    async def send_message(self, conversation_id: str, text: str) -> str: ...

    async def response_on(self, conversation_id: str, message_id: str) -> AgentResponse: ...

    async def list_messages(self, conversation_id: str) -> list[AgentMessage]: ...
