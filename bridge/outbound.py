"""The port through which the core hands replies back to the platform that asked."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bridge.models import Reply, Route


class DeliveryProgress(Protocol):
    """How far an earlier delivery of this reply got, so nothing is posted twice.

    An adapter that splits a reply into several messages skips the first ``done``
    parts and calls ``part_delivered(n)`` after each part it posted (``n`` counting
    from the start of the reply).
    """

    @property
    def done(self) -> int: ...

    async def part_delivered(self, count: int) -> None: ...


class Outbound(Protocol):
    """Implemented by each platform adapter."""

    platform: str

    async def deliver(self, route: Route, reply: Reply, progress: DeliveryProgress) -> None:
        """Post the reply where ``route`` says. Raise ``DeliveryRetryable`` or
        ``DeliveryPermanent`` (bridge.errors) when the platform did not take it."""
        ...

    def working(self, route: Route) -> AbstractAsyncContextManager[None]:
        """Show "working…" in the chat while the agent thinks; best effort, never raises."""
        ...
