"""What a chat platform adapter offers the server (the composition root wires them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from starlette.routing import BaseRoute

from bridge.outbound import Outbound

if TYPE_CHECKING:
    from bridge.service import ConversationService


@dataclass(frozen=True)
class CheckResult:
    """One line of ``raia-bridge check``."""

    name: str
    ok: bool
    detail: str


class Platform(Protocol):
    name: str

    @property
    def outbound(self) -> Outbound:
        """Where the core hands this platform's replies."""
        ...

    def routes(self) -> list[BaseRoute]:
        """HTTP routes this platform serves (webhooks), mounted on the one server."""
        ...

    async def start(self, service: ConversationService) -> None:
        """Connect (getMe, setWebhook, Socket Mode, polling...). Raise to abort start-up."""
        ...

    async def stop_intake(self) -> None:
        """Stop taking new events (polling, sockets); replies can still be sent."""
        ...

    async def close(self) -> None:
        """Release everything. Idempotent."""
        ...

    def status(self) -> str:
        """Short health text for /healthz ("ok" when fine)."""
        ...

    async def check(self) -> list[CheckResult]:
        """Verify credentials against the platform for ``raia-bridge check``."""
        ...
