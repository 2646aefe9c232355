"""Bounds on what a client may make the server hold: a request's head (uvicorn's HTTP
protocol, ``bounded_http``) and its body (the ASGI middleware ``BodyLimit``).

uvicorn closes a kept-alive connection only after a response, and only while no byte
arrives: a client that connects and says nothing, or sends half a request head and
stalls, holds its connection (and a file descriptor) for ever, and a head has no size
limit at all. ``HTTP_TIMEOUT`` bounds each step a client takes: the head from connecting
(or from the last response), then the body from the head.
"""

from __future__ import annotations

import asyncio

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_BODY = 1024 * 1024  # Slack and Telegram payloads are far smaller
MAX_HEAD = 64 * 1024  # bytes of request line and headers; a webhook sends well under one


class HeadTooLarge(Exception):
    pass


def bounded_http(deadline: float, limit: int = MAX_HEAD) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools), with each request head bounded: it must be
    complete ``deadline`` seconds after the connection opened or the last response went
    out (else the connection is closed), and under ``limit`` bytes (else 400)."""

    class BoundedHttp(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None
        _head_size = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_arrived()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            self._head_size = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_arrived()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            idle = not self.pipeline  # else the next request's head is in already
            super().on_response_complete()
            if idle and not self.transport.is_closing():
                self._await_head()

        def _count(self, size: int) -> None:
            self._head_size += size
            if self._head_size > limit:
                raise HeadTooLarge  # a parser error to uvicorn: 400, and the connection closed

        def _await_head(self) -> None:
            self._head_arrived()
            self._head_timer = self.loop.call_later(deadline, self._head_too_slow)

        def _head_arrived(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return BoundedHttp


class BodyTooLarge(Exception):
    pass


class BodyTooSlow(Exception):
    pass


class BodyLimit:
    """Bounds request bodies: over ``limit`` bytes is 413, slower than ``deadline``
    seconds is 408 (and the connection is closed). Nothing is read ahead: a handler
    judges the headers (a webhook's secret) before it asks for the body, so an
    unauthenticated caller costs nothing."""

    def __init__(self, app: ASGIApp, *, deadline: float, limit: int = MAX_BODY) -> None:
        self.app, self.limit, self.deadline = app, limit, deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
            return
        size = 0
        started = False
        ends = asyncio.get_running_loop().time() + self.deadline

        async def bounded() -> Message:
            nonlocal size
            try:
                async with asyncio.timeout_at(ends):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow from None
            size += len(message.get("body", b""))
            if size > self.limit:
                raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watched)
        except (BodyTooLarge, BodyTooSlow) as exc:
            if started:
                raise
            if isinstance(exc, BodyTooLarge):
                # The connection stays: the client may still be sending, and a close with
                # its bytes unread would reset the connection before it reads this answer.
                await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
            else:  # the client stalled: nothing of it is left to read
                headers = {"connection": "close"}
                await PlainTextResponse("request body too slow", status_code=408, headers=headers)(scope, receive, send)
