"""Webhook posts straight to their endpoint.

Every webhook request went through Starlette's whole stack: the error and exception
middlewares, the router matching each route's pattern in turn, the endpoint's
request/response wrapper. In a burst of same-instant webhooks that was a fifth of the
CPU an acknowledgement took (py-spy) and changed nothing for them. ``Direct``, the
outermost of the server's own middlewares, sends a POST to a webhook's exact path through
the same bounds and marks (the body limit, acknowledgements first, the webhook counter)
to its endpoint; everything else takes Starlette's way. An ``HTTPException`` an endpoint
raises is answered as Starlette's exception middleware answers it (its status and
detail); any other exception still reaches Starlette's error middleware (a 500, logged).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


class Endpoints:
    """The webhook endpoints as one ASGI app, by exact path (``Direct`` chose the path)."""

    def __init__(self, endpoints: Mapping[str, Endpoint]) -> None:
        self.endpoints = dict(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await self.endpoints[scope["path"]](request)
        except HTTPException as exc:  # as starlette.middleware.exceptions answers it
            if exc.status_code in (204, 304):
                response = Response(status_code=exc.status_code, headers=exc.headers)
            else:
                response = PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        await response(scope, receive, send)


class Direct:
    """POSTs to ``paths`` go to ``direct`` (the endpoints behind the same middlewares as
    Starlette's routes); all else to ``app``."""

    def __init__(self, app: ASGIApp, *, paths: frozenset[str], direct: ASGIApp) -> None:
        self.app, self.paths, self.direct = app, paths, direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            await self.direct(scope, receive, send)
        else:
            await self.app(scope, receive, send)
