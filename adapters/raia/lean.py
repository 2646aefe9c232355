"""raia's GETs on kept-alive HTTP/1.1 connections of our own (``adapters.kept_alive``): a
waiting question's look (``response-on``) is the bridge's most frequent call, and most of
its CPU was aiohttp's request machinery around a few hundred bytes each way.

One look among a thousand questions waiting (on whole seconds) cost 0.20 ms of CPU
through aiohttp's ``ClientSession``, 0.085 ms here (``bench/looks.py``): one prepared
request head written at once, the answer read by httptools (uvicorn's parser, C), one
timer per request.

What it does not do, aiohttp still does (``Wire``): sends, query strings, proxies,
redirects (never followed anyway), files. Its outcomes are ``Wire``'s: an ``Answer``, or
an ``AgentTransportError`` that says whether the request may have reached raia (a GET is
safe to repeat either way). A request on a kept-alive connection that raia closed
meanwhile, answered by nothing at all, is sent once more on a new connection. An answer
longer than ``max_body`` is an ``AgentProtocolError`` and its connection is dropped unread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from adapters.agent_http import never_connected
from adapters.kept_alive import Connections, TooLarge
from adapters.raia.wire import Answer, Timeouts
from bridge.errors import AgentError, AgentProtocolError, AgentTransportError

SAFE_PATH = re.compile(r"[A-Za-z0-9/_.~-]+")  # raia's ids in paths: nothing to percent-encode


def failure(what: str, exc: OSError) -> AgentError:
    """A failed exchange (``Connections.exchange``) as ``Wire`` reports it: an answer over
    the limit is what raia said; a refusal or an unknown host never reached raia; anything
    else (a timeout, a dropped connection) may have, and is named by its kind only (an
    OS message may quote the host)."""
    if isinstance(exc, TooLarge):
        return AgentProtocolError(f"{what}: {exc}")
    if isinstance(exc, TimeoutError):
        return AgentTransportError(f"{what}: TimeoutError", ambiguous=True)
    never_sent = never_connected(exc)
    return AgentTransportError(f"{what}: {never_sent or type(exc).__name__}", ambiguous=never_sent is None)


class LeanGet:
    """GETs to one origin (``base``: scheme, host, port and a path prefix, http or https)
    on at most ``limit`` kept-alive connections (as many as requests in flight); idle ones
    are closed after ``keepalive`` seconds, all by ``aclose``. A look is answered within
    the read timeout, making its connection (at most the connect timeout) included. An
    answer's body is at most ``max_body`` bytes."""

    def __init__(
        self,
        base: str,
        headers: Mapping[str, str],
        timeouts: Timeouts,
        keepalive: float,
        *,
        max_body: int,
        limit: int,
    ) -> None:
        self._connections = Connections(
            base.rstrip("/") + "/",
            limit=limit,
            keepalive=keepalive,
            timeout=timeouts.read,
            connect=timeouts.connect,
            max_body=max_body,
        )
        self._prefix = self._connections.prefix.rstrip("/").encode()
        # Held privately and only ever written to the connection; never logged or repr'd.
        self._head = self._connections.after_line("".join(f"{k}: {v}\r\n" for k, v in headers.items()))

    def __repr__(self) -> str:
        return "LeanGet()"

    def takes(self, path: str) -> bool:
        return SAFE_PATH.fullmatch(path) is not None

    async def get(self, what: str, path: str) -> Answer:
        """GET ``path`` (under the base): its answer, whatever its status."""
        request = b"GET " + self._prefix + path.encode() + b" HTTP/1.1\r\n" + self._head
        try:
            answer = await self._connections.exchange(request, repeatable=True)
        except OSError as exc:
            raise failure(what, exc) from None
        return Answer(answer.status, answer.headers, answer.reason, answer.body)

    async def aclose(self) -> None:
        self._connections.close()
