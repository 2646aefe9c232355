"""A minimal platform for server tests: POST JSON to /test/inbound to ask a question."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.base import CheckResult
from bridge.errors import ShuttingDown
from bridge.models import InboundMessage, Origin, PlatformUser
from bridge.ports.inbox import Inbox
from tests.fakes.outbound import RecordingOutbound


class LoopbackPlatform:
    name = "test"

    def __init__(self) -> None:
        self.outbound = RecordingOutbound()
        self._inbox: Inbox | None = None
        self.calls: list[str] = []

    def routes(self) -> list[BaseRoute]:
        return [Route("/test/inbound", self._inbound, methods=["POST"])]

    async def _inbound(self, request: Request) -> Response:
        assert self._inbox is not None
        try:
            body = await request.json()
            msg = InboundMessage(
                platform="test",
                user=PlatformUser(fk_id=f"test:{body['user']}", first_name=str(body["user"])),
                origin=Origin(chat=str(body.get("chat", "c"))),
                text=str(body["text"]),
                dedupe_keys=(f"test:{body['id']}",),
            )
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "malformed"}, status_code=400)
        try:
            outcome = await self._inbox.receive(msg)
        except ShuttingDown:
            return JSONResponse({"error": "shutting down"}, status_code=503)
        return JSONResponse({"outcome": outcome.value})

    async def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self.calls.append("start")

    async def stop_intake(self) -> None:
        self.calls.append("stop_intake")

    async def close(self) -> None:
        self.calls.append("close")

    def status(self) -> str:
        return "ok"

    def sole_consumer(self) -> tuple[str, str] | None:
        return None

    async def introduce(self, agent: str) -> None:
        self.calls.append(f"introduce:{agent}")

    async def check(self) -> list[CheckResult]:
        return [CheckResult(self.name, True, "fine")]
