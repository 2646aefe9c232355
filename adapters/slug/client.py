"""The slug chat API (seed 004) as a ``DirectAgentPort``.

``POST {SLUG_API_URL}/chat/{slug}`` with ``message``, ``conversationId`` (``null`` starts
one) and ``stream``. Without streaming the answer is ``data.response``; with it, the body
is Server-Sent Events (``data: {"chunk": …}`` … ``data: [DONE]``), read with httpx-sse.
Errors are ``{"data": null, "error": {name, message}}``.

The seed does not say where a streamed answer names its conversation. The client takes
``conversationId`` from any event that carries one, or from an ``X-Conversation-Id``
header; if a streamed answer to a new conversation names none, new conversations are
asked without streaming from then on (one warning), so follow-ups stay in context.

This API cannot list a conversation's messages: a call cut off by a restart is never
repeated (the person is told to ask again; see ``bridge.asking``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from adapters.agent_http import status_error, transport_error
from adapters.base import read_json
from bridge.errors import AgentNotFoundError, AgentProtocolError, AgentTransportError
from bridge.models import Reply
from bridge.ports.agent import Asked, Lookup, Person

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(connect=5.0, read=120.0, write=10.0, pool=60.0)  # read: between two chunks
STREAM_LIMIT = 900.0  # a whole streamed answer, however slowly it trickles


class SlugClient:
    """Implements ``DirectAgentPort`` for the slug chat API. The ``httpx.AsyncClient`` is injected."""

    backend = "slug"
    can_look_up = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        slug: str,
        stream: bool = True,
        timeout: httpx.Timeout = TIMEOUT,
        observe: Callable[[str, str], None] | None = None,
    ) -> None:
        self._http = http
        self._url = f"{base_url.rstrip('/')}/chat/{slug}"
        self._slug = slug
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._stream = stream
        self.streams = stream
        self._stream_new = stream  # turned off if streamed answers do not name their conversation
        self._timeout = timeout
        self._observe = observe

    def __repr__(self) -> str:
        return f"SlugClient(url={self._url!r})"

    async def agent_name(self) -> str | None:
        return self._slug.replace("-", " ").replace("_", " ").strip().capitalize() or None

    async def ask(
        self,
        person: Person,
        session: str | None,
        text: str,
        on_text: Callable[[str], Awaitable[None]] | None = None,
    ) -> Asked:
        streamed = self._stream if session else self._stream_new
        payload = {"message": text, "stream": streamed, "conversationId": session}
        status = "transport"
        try:
            if streamed:
                answer, conversation, status = await self._streamed(payload, on_text)
                if conversation is None and session is None and self._stream_new:
                    self._stream_new = False
                    log.warning(
                        "slug: streamed answers name no conversationId; new conversations are asked "
                        "without streaming so that follow-ups keep their context"
                    )
            else:
                answer, conversation, status = await self._whole(payload)
        finally:
            if self._observe is not None:
                self._observe("POST /chat/{slug}", status)
        return Asked(session=conversation or session, reply=Reply(answer))

    async def _whole(self, payload: dict[str, Any]) -> tuple[str, str | None, str]:
        try:
            response = await self._http.post(self._url, json=payload, headers=self._headers, timeout=self._timeout)
        except httpx.TransportError as exc:
            raise transport_error("POST /chat", exc) from exc
        self._raise_for(response)
        data = _data(response)
        answer = data.get("response")
        if not isinstance(answer, str):
            raise AgentProtocolError("POST /chat: no data.response in the answer", status=response.status_code)
        conversation = data.get("conversationId")
        return answer, conversation if isinstance(conversation, str) else None, str(response.status_code)

    async def _streamed(
        self, payload: dict[str, Any], on_text: Callable[[str], Awaitable[None]] | None
    ) -> tuple[str, str | None, str]:
        chunks: list[str] = []
        conversation: str | None = None
        try:
            async with (
                asyncio.timeout(STREAM_LIMIT),
                aconnect_sse(
                    self._http, "POST", self._url, json=payload, headers=self._headers, timeout=self._timeout
                ) as source,
            ):
                response = source.response
                if response.status_code >= 300:
                    await response.aread()
                    self._raise_for(response)
                conversation = response.headers.get("x-conversation-id")
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    # The server chose not to stream: a whole answer, as without streaming.
                    await response.aread()
                    data = _data(response)
                    answer = data.get("response")
                    if not isinstance(answer, str):
                        raise AgentProtocolError("POST /chat: no data.response in the answer")
                    found = data.get("conversationId")
                    return answer, found if isinstance(found, str) else conversation, str(response.status_code)
                done = False
                async for event in source.aiter_sse():
                    if event.data.strip() == "[DONE]":
                        done = True
                        break
                    try:
                        item = read_json(event.data)
                    except ValueError:
                        raise AgentProtocolError("POST /chat: an event that is not JSON") from None
                    if not isinstance(item, dict):
                        continue
                    if isinstance(item.get("conversationId"), str):
                        conversation = item["conversationId"]
                    if isinstance(item.get("error"), dict):
                        error = item["error"]
                        raise AgentProtocolError(f"POST /chat: error in the stream: {error.get('name')}")
                    if isinstance(item.get("chunk"), str):
                        chunks.append(item["chunk"])
                        if on_text is not None:
                            await on_text("".join(chunks))
                if not done:
                    # Cut before [DONE]: the agent may have finished; we cannot tell.
                    raise AgentTransportError("POST /chat: the stream ended before [DONE]", ambiguous=True)
                return "".join(chunks), conversation, str(response.status_code)
        except httpx.TransportError as exc:
            raise transport_error("POST /chat (stream)", exc) from exc
        except SSEError as exc:
            raise AgentProtocolError(f"POST /chat: not an event stream ({exc})") from exc
        except TimeoutError:
            raise AgentTransportError("POST /chat: the stream took too long", ambiguous=True) from None

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code < 300:
            return
        error = status_error("POST /chat", response, _reason(response))
        if isinstance(error, AgentNotFoundError):
            # The slug names no agent: an operator error, in the operator's words.
            raise AgentNotFoundError(
                f"SLUG_AGENT {self._slug!r} names no agent ({_reason(response)})", status=error.status
            )
        raise error

    async def look_up(self, fk_id: str, session: str | None, text: str) -> Lookup:
        raise NotImplementedError("the slug chat API cannot list a conversation's messages")

    async def check(self) -> str:
        """The cheapest call that proves key and slug: an empty message, refused as invalid
        (400) by a server that accepted both, without running the agent."""
        try:
            response = await self._http.post(
                self._url, json={"message": "", "stream": False}, headers=self._headers, timeout=self._timeout
            )
        except httpx.TransportError as exc:
            raise transport_error("POST /chat", exc) from exc
        if response.status_code not in (400, 422):
            self._raise_for(response)
        return f"agent {self._slug!r} at {self._url.rsplit('/chat/', 1)[0]}"


def _data(response: httpx.Response) -> dict[str, Any]:
    try:
        body = read_json(response.content)
    except ValueError as exc:
        raise AgentProtocolError("POST /chat: body is not JSON", status=response.status_code) from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise AgentProtocolError("POST /chat: no data in the answer", status=response.status_code)
    return data


def _reason(response: httpx.Response) -> str:
    try:
        body = read_json(response.content)
    except ValueError:
        return response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('name', 'Error')}: {error.get('message', '')}"[:300]
    return response.reason_phrase
