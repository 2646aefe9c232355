"""The port through which the core talks back to the platform a message came from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bridge.models import AnswerFile, Attachment, Origin, PlatformUser, Reply

# A ``DeliveryProgress.key`` starting so belongs to a post of the conversation (a person's
# takeover: its notices, the staff's messages), not to the reply to a question.
CONVERSATION_POST = "h"


class DeliveryProgress(Protocol):
    """How far an earlier delivery of this reply got, so nothing is posted twice.

    An adapter that splits a reply into several messages skips the first ``done``
    parts and calls ``part_delivered(n)`` after each part it posted (``n`` counting
    from the start of the reply). When ``uncertain``, an earlier attempt at part
    ``done`` failed in a way that may have posted it anyway (a lost response): an
    adapter that can look (Slack's history, by ``key``) looks before posting again.
    """

    @property
    def done(self) -> int: ...

    @property
    def key(self) -> str:
        """Stable and unique for this reply across attempts and restarts ("" for a notice)."""
        ...

    @property
    def uncertain(self) -> bool: ...

    async def part_delivered(self, count: int) -> None: ...


class LiveText(Protocol):
    """An answer shown in the chat while the agent writes it (a streaming backend).

    ``show`` gets the whole text so far and updates the chat at the platform's pace
    (the adapter skips updates that come too fast); it never raises: a preview that
    fails just stops. ``finish`` turns what is shown into the final rendering of the
    reply, exactly as ``Outbound.deliver`` would post it (same parts, same progress
    rules, same errors). ``abandon`` ends the preview when no answer will follow it
    (what arrived stays, marked as cut off; never a dangling "…")."""

    async def show(self, text: str) -> None: ...

    async def finish(self, reply: Reply, progress: DeliveryProgress) -> None: ...

    async def abandon(self) -> None: ...


class Outbound(Protocol):
    """Implemented by each platform adapter; registered with the core by ``platform``."""

    platform: str

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        """Post the reply where ``origin`` says. Raise ``DeliveryRetryable`` or
        ``DeliveryPermanent`` (bridge.errors) when the platform did not take it."""
        ...

    def working(self, origin: Origin) -> AbstractAsyncContextManager[None]:
        """Show "working…" in the chat while the agent thinks; best effort, never raises."""
        ...

    async def profile(self, user: PlatformUser) -> PlatformUser:
        """The person's names as the platform knows them (Slack asks ``users.info``);
        best effort, never raises: the agent-side user is created from them."""
        ...

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        """A live preview for a streamed answer where ``origin`` is, or None where the
        platform shows no previews; ``language``: the person's, for its own words; ``key``
        names the reply (as ``DeliveryProgress.key``): a platform that can look at its chat
        marks the preview with it, so that a later delivery of that reply finds a preview
        a restart left behind and marks it as cut off."""
        ...


@dataclass(frozen=True)
class Download:
    """A file being fetched from the platform, a chunk at a time (never whole in memory).
    ``size`` is what the platform says it is (None: unknown); ``chunks`` raises
    ``FileUnavailable`` if the file cannot be fetched or grows past the limit it was
    opened with."""

    chunks: AsyncIterator[bytes]
    size: int | None


@runtime_checkable
class FileSource(Protocol):
    """A platform whose people send files the bridge can fetch (Slack, Telegram)."""

    def download(self, attachment: Attachment, limit: int) -> AbstractAsyncContextManager[Download]:
        """Open the file for reading, at most ``limit`` bytes of it."""
        ...


@runtime_checkable
class FileSink(Protocol):
    """A platform that takes the files an agent made (Slack, Telegram, the terminal).

    ``max_file_bytes``: the largest file it takes (Telegram bots: 50 MB)."""

    max_file_bytes: int

    async def post_file(
        self, origin: Origin, file: AnswerFile, download: Download, *, key: str, uncertain: bool
    ) -> None:
        """Post the file where ``origin`` says, streamed from ``download`` (its ``size``
        known when the agent or its storage said). ``key`` names the reply it belongs to;
        when ``uncertain``, an earlier attempt may have posted it: a platform that can look
        (Slack's thread) looks first. Raises ``DeliveryRetryable`` / ``DeliveryPermanent``,
        or ``FileUnavailable`` when the download fails (nothing is posted then)."""
        ...
