"""A recording platform outbound for core tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from adapters.files import limited
from bridge.errors import FileUnavailable
from bridge.models import Attachment, Origin, PlatformUser, Reply
from bridge.ports.outbound import DeliveryProgress, Download, LiveText


@dataclass
class Posted:
    origin: Origin
    reply: Reply
    part: int


@dataclass
class RecordingOutbound:
    """Posts each reply in ``parts`` parts; ``failures`` are raised on the next deliveries
    (after the part number given), ``working_error`` breaks the progress indicator."""

    platform: str = "test"
    parts: int = 1
    failures: list[tuple[int, Exception]] = field(default_factory=list)
    working_error: Exception | None = None
    names: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # fk_id -> the platform's names
    posted: list[Posted] = field(default_factory=list)
    streaming: bool = False  # offer a live preview for streamed answers
    shown: list[str] = field(default_factory=list)  # what live previews showed, in order
    abandoned: int = 0
    working_events: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # what people sent, by reference
    downloads: list[str] = field(default_factory=list)
    stalls: set[str] = field(default_factory=set)  # references whose download stops after a first chunk
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        for part in range(progress.done, self.parts):
            if self.failures and self.failures[0][0] == part:
                raise self.failures.pop(0)[1]
            self.posted.append(Posted(origin, reply, part))
            await progress.part_delivered(part + 1)
        self._changed.set()

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        if self.working_error is not None:
            raise self.working_error
        self.working_events.append(f"start:{origin.chat}")
        try:
            yield
        finally:
            self.working_events.append(f"stop:{origin.chat}")

    @asynccontextmanager
    async def download(self, attachment: Attachment, limit: int) -> AsyncIterator[Download]:
        self.downloads.append(attachment.ref)
        if attachment.ref not in self.files:
            raise FileUnavailable("no such file")
        data = self.files[attachment.ref]

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]
                if attachment.ref in self.stalls:
                    await asyncio.Event().wait()  # the platform's file server went quiet

        yield Download(limited(chunks(), limit), len(data))

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        return _RecordedLive(self, origin) if self.streaming else None

    async def profile(self, user: PlatformUser) -> PlatformUser:
        if user.fk_id not in self.names:
            return user
        first, last = self.names[user.fk_id]
        return replace(user, first_name=first, last_name=last)

    @property
    def replies(self) -> list[Reply]:
        return [p.reply for p in self.posted if p.part == 0]

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.replies) < count:
                self._changed.clear()
                await self._changed.wait()


class _RecordedLive:
    def __init__(self, outbound: RecordingOutbound, origin: Origin) -> None:
        self._outbound, self._origin = outbound, origin

    async def show(self, text: str) -> None:
        self._outbound.shown.append(text)

    async def finish(self, reply: Reply, progress: DeliveryProgress) -> None:
        await self._outbound.deliver(self._origin, reply, progress)

    async def abandon(self) -> None:
        self._outbound.abandoned += 1
