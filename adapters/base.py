"""What every chat platform adapter offers the composition root, and what every adapter shares.

Each platform is a small package: ``events`` (platform event -> ``InboundMessage``,
pure), ``render`` (``Reply`` -> platform messages, pure), ``outbound`` (the core's
``Outbound`` port over the SDK) and ``platform`` (the SDK wiring: webhooks, sockets,
polling), built from its own ``config``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from starlette.routing import BaseRoute

from bridge.ports.inbox import Inbox
from bridge.ports.outbound import Outbound

log = logging.getLogger(__name__)

# Webhook payloads and agent answers nest a dozen levels at most (a Slack rich-text list
# in a list); far deeper is an attack or a broken peer.
MAX_JSON_DEPTH = 64


def retry_seconds(value: str | None) -> float | None:
    """A Retry-After header's value as seconds from now: a number of seconds, or an HTTP
    date (as a proxy may send); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def read_json(data: bytes | str) -> Any:
    """``json.loads`` for what comes from outside (webhook bodies, agent answers): JSON
    nested deeper than ``MAX_JSON_DEPTH`` is a ``ValueError`` like any malformed JSON.
    (``json.loads`` raises ``RecursionError`` somewhere past a thousand levels, depending
    on the stack in use, and code that walks a parsed value would meet it sooner.)"""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    # Nesting needs an opening bracket per level: with no more of them than the limit (a
    # webhook body has a few dozen) the walk below is skipped, a fifth of a webhook's read.
    raw = data if isinstance(data, bytes) else data.encode(errors="replace")
    if raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH:
        return value
    containers = [value] if isinstance(value, dict | list) else []
    for _ in range(MAX_JSON_DEPTH):  # level by level, no recursion
        containers = [
            child
            for item in containers
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not containers:
            return value
    raise ValueError("JSON nested too deeply")


@dataclass(frozen=True)
class CheckResult:
    """One line of ``raia-bridge check``: ``OK``, ``FAIL``, or ``WARN`` (``ok`` and ``warn``:
    works, but probably not as meant)."""

    name: str
    ok: bool
    detail: str
    warn: bool = False


# ROUTES_FILE's ``reply`` for where a message was written: (chat, team, user) ->
# "mention" (answer when addressed), "all" (every top-level message is a question) or
# "private" (only the asker sees the answer). Without routes: "mention" everywhere.
ReplyPolicy = Callable[[str, str, str], str]


def mention_everywhere(chat: str, team: str, user: str) -> str:
    return "mention"


@dataclass(frozen=True)
class Allowlist:
    """Who may use the bot (``*_ALLOWED_USERS``) and where (``*_ALLOWED_CHATS`` /
    ``SLACK_ALLOWED_CHANNELS``); an empty set allows everyone. Entries are ids, or
    ``@username`` in lower case. In groups and channels both must allow; a private chat
    (a Slack DM) follows ``permits_private``."""

    users: frozenset[str] = frozenset()
    chats: frozenset[str] = frozenset()

    def permits_user(self, names: Iterable[str | None]) -> bool:
        return not self.users or any(name in self.users for name in names if name)

    def permits_chat(self, names: Iterable[str | None]) -> bool:
        return not self.chats or any(name in self.chats for name in names if name)

    def permits_private(self, user: Iterable[str | None], chat: Iterable[str | None]) -> bool:
        """A private chat is the person's own, not one of the listed places: with users
        listed, it is theirs if they are listed; with only chats listed, only if it is
        listed itself (Telegram: the person's id or @username; Slack: the DM's D… id)."""
        return self.permits_user(user) if self.users else self.permits_chat(chat)


class Platform(Protocol):
    """A chat platform as the server runs it."""

    name: str

    @property
    def outbound(self) -> Outbound:
        """Where the core hands this platform's replies."""
        ...

    def routes(self) -> list[BaseRoute]:
        """HTTP routes this platform serves (webhooks), mounted on the one server."""
        ...

    async def start(self, inbox: Inbox) -> None:
        """Connect (getMe, setWebhook, Socket Mode, polling...). Raise to abort start-up."""
        ...

    async def stop_intake(self) -> None:
        """Stop taking new events (polling, sockets); replies can still be sent. Idempotent."""
        ...

    async def close(self) -> None:
        """Release everything. Idempotent, and safe after a failed ``start``."""
        ...

    def status(self) -> str:
        """Short health text for /healthz ("ok" when fine)."""
        ...

    def sole_consumer(self) -> tuple[str, str] | None:
        """What only one process may consume at a time (Telegram long polling of one bot):
        ``(lock name, the line to print when another process has it)``, or None."""
        ...

    async def check(self) -> list[CheckResult]:
        """Verify credentials against the platform for ``raia-bridge check``."""
        ...

    async def introduce(self, agent: str) -> None:
        """The agent's name is known: tell the platform where it shows the bot (Telegram's
        description). Best effort, never raises."""
        ...


@asynccontextmanager
async def running(platform: Platform, inbox: Inbox) -> AsyncIterator[Platform]:
    """The platform started for the block and closed after it; a start that fails
    half-way closes what it opened before the error goes on."""
    try:
        await platform.start(inbox)
    except BaseException:
        await platform.close()
        raise
    try:
        yield platform
    finally:
        try:
            await platform.close()
        except Exception:
            # Never hide why we are stopping (or the rest of the shutdown) behind this.
            log.warning("%s close failed", platform.name, exc_info=True)
