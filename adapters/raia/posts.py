"""raia's JSON calls (a new person's user and conversation, every question's send) on
kept-alive connections of the bridge's own (``adapters.kept_alive``), as its GETs go on
``adapters.raia.lean``: aiohttp's request machinery around a few hundred bytes cost
0.14 ms of CPU per POST, one request written at once and read by httptools 0.05 ms
(50 at a time against the simulator). A new person's turn makes three of them.

The outcomes are ``Wire``'s: an ``Answer``, or an ``AgentTransportError`` that says
whether the request may have reached raia. A POST is never sent twice here, not even on
a kept connection raia closed meanwhile (it may have been taken): that failure is
ambiguous, and the caller's to settle, as it was through aiohttp (a send is looked up
before it is repeated; creating a user or a conversation is safe to retry). An answer
longer than the limit is an ``AgentProtocolError``, as on ``adapters.raia.lean``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from adapters.kept_alive import Connections
from adapters.raia.lean import failure
from adapters.raia.wire import Answer, Timeouts


class LeanPost:
    """JSON requests to one origin (``base``: an http(s) URL and its path prefix), at most
    ``limit`` connections at once; idle ones closed after ``keepalive`` seconds."""

    def __init__(self, base: str, headers: Mapping[str, str], timeouts: Timeouts, keepalive: float, limit: int) -> None:
        total = timeouts.connect + timeouts.write + timeouts.read  # as through aiohttp (``Wire``)
        self._connections = Connections(base.rstrip("/") + "/", limit=limit, keepalive=keepalive, timeout=total)
        # Held privately and only ever written to the connection; never logged or repr'd.
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Content-Type: application/json\r\n"

    def __repr__(self) -> str:
        return "LeanPost()"

    async def send(self, method: str, path: str, body: Any) -> Answer:
        """``method`` (POST, PUT...) ``body`` as JSON to ``path`` (under the base, nothing to
        percent-encode): its answer, whatever its status."""
        what = f"{method} {path}"
        data = json.dumps(body, separators=(",", ":")).encode()
        head = self._connections.head(
            f"{method} {self._connections.prefix}{path.lstrip('/')}", f"{self._headers}Content-Length: {len(data)}\r\n"
        )
        try:
            answer = await self._connections.exchange(head + data, repeatable=False)
        except OSError as exc:
            raise failure(what, exc) from exc
        return Answer(answer.status, answer.headers, answer.reason, answer.body)

    def close(self) -> None:
        """Idle connections now, busy ones when their exchange ends."""
        self._connections.close()
