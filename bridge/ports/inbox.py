"""The one way into the core: every driving adapter (Slack, Telegram, the terminal)
translates an event into an ``InboundMessage`` and hands it to ``Inbox.receive``."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from bridge.models import InboundMessage, Reply
from bridge.ports.feedback import Ratings

# Answers a command the way it came, when that is not a chat message (Slack's slash
# command is answered in its HTTP acknowledgement).
Respond = Callable[[Reply], Awaitable[None]]


class Receipt(enum.Enum):
    """What the core did with a message."""

    ACCEPTED = "accepted"  # a question, stored: the answer will follow
    DUPLICATE = "duplicate"  # seen before (a platform retry, or the same post twice)
    EMPTY = "empty"  # nothing to ask
    HANDLED = "handled"  # answered at once (a command, a refusal)
    IGNORED = "ignored"  # not for the bot (thread talk between other people)
    STOPPED = "stopped"  # /stop: the person's waiting question(s) stopped, none will be answered


class Inbox(Protocol):
    """Implemented by the conversation service; adapters are typed against this only."""

    @property
    def accepting(self) -> bool:
        """False while shutting down: webhooks answer 503 so the platform redelivers."""
        ...

    async def receive(self, message: InboundMessage, *, respond: Respond | None = None) -> Receipt:
        """Take one message. Raises ``ShuttingDown`` when the process stops taking work."""
        ...

    @property
    def ratings(self) -> Ratings | None:
        """👍/👎 on answers, or None when answers carry no buttons (FEEDBACK=off, or an
        agent API that records no feedback)."""
        ...

    def background(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run ``work`` after an acknowledgement went out (a button press answered within
        Slack's 3 s): tracked, and drained at shutdown."""
        ...
