"""raia's agent API over aiohttp: find or create the user, open a conversation, send once,
poll ``response-on``.

Every HTTP status and transport failure becomes a ``BridgeError`` in ``_request`` and
nowhere else. Reads and the creation of users and conversations are retried with
bounded, jittered backoff (honouring ``Retry-After``); a message send never is: see
``send_message``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import stamina

from adapters.agent_http import status_error
from adapters.base import read_json
from adapters.files import limited
from adapters.raia.lean import SAFE_PATH, LeanGet
from adapters.raia.mapping import (
    agent_name_from,
    created_at,
    error_text,
    mapping,
    messages_from,
    response_from,
    text_field,
    webhook_urls_from,
    webhooks_from,
)
from adapters.raia.posts import LeanPost
from adapters.raia.takeover import RaiaHandover
from adapters.raia.wire import Answer, Timeouts, Wire
from bridge.errors import (
    AgentError,
    AgentNotFoundError,
    AgentProtocolError,
    AgentRejectedError,
    FileUnavailable,
)
from bridge.models import AnswerFile
from bridge.ports.agent import AgentMessage, AgentResponse, NewUser, Rating, ResponseStatus, SentFile
from bridge.ports.outbound import Download

# Calls in flight at once (RAIA_MAX_IN_FLIGHT): more wait (cheaply) for one, and raia sees
# no more at once than the load needs. 10,000 waiting questions look 833 times a second
# (RAIA_POLL_MAX_WAIT 12 s); at a 100 ms round trip that keeps 84 in flight (32 allowed
# 320 a second: bench/look_rate.py). The connection pools are sized to match.
MAX_IN_FLIGHT = 128
# The longest answer read from raia on our own connections (``adapters.raia.lean``): a
# conversation's whole message list is its longest, far below this.
MAX_BODY = 16 * 1024 * 1024
# When each recent question reached raia (its createdAt), to time the answer by raia's own
# clock: the poll schedule learns from it. Forgotten oldest-first beyond this many.
ASKED_AT_KEEP = 4096
log = logging.getLogger("adapters.raia")
_IDS = re.compile(r"/[0-9a-fA-F-]{8,}")  # ids in paths, folded for metrics


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for safe calls; ``stamina.set_testing`` makes them instant."""

    attempts: int = 5
    total: float = 60.0  # seconds, all attempts together
    wait_initial: float = 0.5
    wait_max: float = 10.0
    max_server_delay: float = 30.0  # never obey a Retry-After longer than this


def _error_text(response: Answer) -> str:
    try:
        body = read_json(response.content)
    except ValueError:
        return response.reason_phrase
    return error_text(body) or response.reason_phrase


class RaiaClient(RaiaHandover):
    """Implements ``AgentPort`` (and ``HandsOver``: ``adapters.raia.takeover``) for raia.
    The ``aiohttp.ClientSession`` is injected."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str,
        retry: RetryPolicy | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        observe: Callable[[str, str], None] | None = None,
        proxy: str | None = None,
        timeouts: Timeouts | None = None,
        keepalive: float | None = None,
    ) -> None:
        self._wire = Wire(session, proxy, timeouts)
        # observe(endpoint, status) after every call, for metrics: "GET /conversations/{id}", "200".
        self._observe = observe
        self._base = base_url.rstrip("/") + "/external"
        # Held privately and only ever put in a header; never logged or repr'd.
        self._headers = {"Agent-Secret-Key": api_key, "Accept": "application/json"}
        policy = retry or RetryPolicy()
        self._max_server_delay = policy.max_server_delay
        # Built once: this is on every poll's path.
        self._retry_caller = stamina.AsyncRetryingCaller(
            attempts=policy.attempts,
            timeout=policy.total,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
        ).on(self._backoff_hook)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._asked_at: dict[str, float] = {}
        # ``keepalive``: GETs go on connections of our own (``adapters.raia.lean``), kept this
        # long when idle; ``aclose`` closes them. Through a proxy, aiohttp's as everything else.
        self._lean = (
            LeanGet(
                self._base, self._headers, timeouts or Timeouts(), keepalive, max_body=MAX_BODY, limit=max_in_flight
            )
            if keepalive and not proxy
            else None
        )
        # ... and the JSON calls (``adapters.raia.posts``): a new person's turn makes three.
        self._posts = (
            LeanPost(self._base, self._headers, timeouts or Timeouts(), keepalive, max_in_flight)
            if keepalive and not proxy
            else None
        )

    async def aclose(self) -> None:
        if self._lean is not None:
            await self._lean.aclose()
        if self._posts is not None:
            self._posts.close()

    def __repr__(self) -> str:
        return f"RaiaClient(base={self._base!r})"

    # -- the one place that talks HTTP -------------------------------------------

    async def _request(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        if self._observe is None:
            return await self._exchange(method, path, json=json, params=params)
        status = "error"
        try:
            result = await self._exchange(method, path, json=json, params=params)
            status = "2xx"
            return result
        except AgentError as exc:
            status = str(exc.status) if exc.status is not None else "transport"
            raise
        finally:
            self._observe(f"{method} {_IDS.sub('/{id}', path)}", status)

    async def _exchange(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        started = time.monotonic()
        async with self._in_flight:
            if (
                self._lean is not None
                and method == "GET"
                and json is None
                and params is None
                and self._lean.takes(path)
            ):
                response = await self._lean.get(f"GET {path}", path)
            elif self._posts is not None and json is not None and params is None and SAFE_PATH.fullmatch(path):
                response = await self._posts.send(method, path, json)
            else:
                response = await self._wire.request(
                    method, self._base + path, body=json, params=params, headers=self._headers
                )
        status = response.status_code
        # LOG_LEVEL=DEBUG: every raia call and how long it took (never a body: it may
        # carry the API key or a person's words).
        log.debug("raia %s %s -> %d in %.0f ms", method, path, status, (time.monotonic() - started) * 1000)
        if status < 300:
            try:
                return read_json(response.content) if response.content else None
            except ValueError as exc:  # not JSON, or nested beyond reason
                raise AgentProtocolError(f"{method} {path}: body is not JSON", status=status) from exc
        raise status_error(f"{method} {path}", response, _error_text(response))

    def _backoff_hook(self, exc: Exception) -> bool | float:
        if not isinstance(exc, AgentError) or not exc.retryable:
            return False
        if exc.retry_after is not None:
            return min(exc.retry_after, self._max_server_delay)
        return True

    async def _retrying(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        """A safe call, retried within ``RetryPolicy``. The first attempt runs without the
        retry machinery (a poll is the hottest call, and setting up tenacity for it cost
        7 % of the bridge's CPU); after a retryable failure stamina takes over, starting
        from that failure (so it waits, honouring Retry-After, and counts it)."""
        try:
            return await self._request(method, path, json=json, params=params)
        except AgentError as exc:
            if not exc.retryable:
                raise
            failed: AgentError | None = exc

        async def attempt() -> Any:
            nonlocal failed
            if failed is not None:
                replay, failed = failed, None
                raise replay
            return await self._request(method, path, json=json, params=params)

        return await self._retry_caller(attempt)

    # -- AgentPort -------------------------------------------------------------------

    async def agent_name(self) -> str | None:
        # The body also carries the API key and webhook headers: never log it.
        return agent_name_from(await self._retrying("GET", "/agents/by-api-key"))

    async def webhook_urls(self) -> set[str]:
        """Where the agent's webhooks point (from its WEBHOOK skills)."""
        # The body carries the API key and the webhooks' headers: never log it.
        return webhook_urls_from(await self._retrying("GET", "/agents/by-api-key"))

    async def ensure_webhook(self, url: str, headers: Mapping[str, str], trigger: str = "each_message") -> bool:
        """Register a ``trigger`` webhook at ``url`` unless the agent has one there already
        (raia has no list or delete endpoint: registering at every start would pile them
        up). Returns True if it registered one now."""
        hooks = webhooks_from(await self._retrying("GET", "/agents/by-api-key"))
        if (url.rstrip("/"), trigger) in hooks or (url.rstrip("/"), None) in hooks:
            return False
        await self._request(
            "POST",
            "/agents/webhooks",
            json={
                "title": "raia-bridge push" if trigger == "each_message" else f"raia-bridge {trigger}",
                "description": "Tells the Slack/Telegram bridge an answer is ready, so it fetches it at once."
                if trigger == "each_message"
                else "Tells the Slack/Telegram bridge a person took over, so it carries their messages at once.",
                "url": url,
                "triggerCondition": trigger,
                "headers": dict(headers),
            },
        )
        return True

    async def find_user(self, fk_id: str) -> str | None:
        try:
            body = await self._retrying("GET", "/users/search", params={"fkId": fk_id})
        except AgentNotFoundError:
            return None
        user = mapping(mapping(body, "user search").get("user"), "user")
        return text_field(user, "id")

    async def find_or_create_user(self, user: NewUser) -> str:
        """Create the person's raia user; if raia has them already (another replica, or a
        database that was replaced), find them. Creating first spares a new person's first
        turn a search that can only miss."""
        payload = {
            "fkId": user.fk_id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "customData": dict(user.custom_data),
        }
        try:
            body = await self._retrying("POST", "/users", json=payload)
        except AgentRejectedError:
            # "User already exists" (or a retried create that went through after all).
            found = await self.find_user(user.fk_id)
            if found:
                return found
            raise
        return text_field(mapping(body, "user"), "id")

    async def create_conversation(self, user_id: str, title: str, custom_data: Mapping[str, str]) -> str:
        # A retried create can leave an unused empty conversation behind; that costs
        # nothing, unlike failing the user's question.
        body = await self._retrying(
            "POST",
            "/conversations",
            json={
                "conversationUserId": user_id,
                "title": title[:255],
                "customData": dict(custom_data),
            },
        )
        return text_field(mapping(body, "conversation"), "id")

    async def send_message(self, conversation_id: str, text: str, files: Sequence[SentFile] = ()) -> str:
        """Send once. Never retried here: a repeat would cost tokens and answer twice.
        The caller checks ``list_messages`` after an ambiguous failure."""
        payload: dict[str, Any] = {"message": text}
        if files:
            payload["files"] = [{"fileName": f.name, "storagePath": f.storage_path} for f in files]
        body = await self._request("POST", f"/conversations/{conversation_id}/messages/async", json=payload)
        message = mapping(body, "message")
        message_id = text_field(message, "id")
        asked_at = created_at(message)
        if asked_at is not None:
            if len(self._asked_at) >= ASKED_AT_KEEP:
                del self._asked_at[next(iter(self._asked_at))]
            self._asked_at[message_id] = asked_at
        return message_id

    async def upload_file(self, conversation_id: str, name: str, content_type: str, download: Download) -> SentFile:
        """raia's message files: a signed upload URL, then the bytes PUT to it as they
        arrive from the platform (raw body, the declared Content-Type, the length when
        known: what signed storage URLs accept). The signed URL carries its own
        authorisation: our key is never sent to it."""
        body = await self._retrying(
            "POST",
            f"/conversations/{conversation_id}/message-files/upload-url",
            json={"fileName": name, "contentType": content_type},
        )
        data = mapping(body, "upload url")
        signed, storage = text_field(data, "signedUrl"), text_field(data, "storagePath")
        headers = {"Content-Type": content_type}
        if download.size is not None:
            headers["Content-Length"] = str(download.size)
        # A download that fails mid-way (over the limit, the platform gone) may reach us
        # wrapped by the HTTP stack as a transport error: it is the file's fault, not raia's.
        broken: list[FileUnavailable] = []

        async def watched() -> AsyncIterator[bytes]:
            try:
                async for chunk in download.chunks:
                    yield chunk
            except FileUnavailable as exc:
                broken.append(exc)
                raise

        try:
            # Outside the in-flight bound: a long upload must not hold up polling.
            response = await self._wire.put(signed, watched(), headers)
        except BaseException:
            if broken:
                raise broken[0] from None
            raise
        if response.status_code >= 300:
            raise status_error("PUT signed upload URL", response, response.reason_phrase)
        return SentFile(name, storage)

    @asynccontextmanager
    async def answer_file(self, file: AnswerFile, limit: int) -> AsyncIterator[Download]:
        """A file the agent made (``GivesFiles``): a signed download URL (retried like any
        read), then the file streamed from it, never past ``limit``. The signed URL is
        the file's key: it is never logged, and our API key is never sent to it."""
        path = f"/conversations/{file.conversation}/message-files/{file.id}/signed-url"
        signed = text_field(mapping(await self._retrying("GET", path), "signed url"), "signedUrl")
        async with self._wire.fetch(signed) as (status, length, chunks):
            if status != 200:
                raise FileUnavailable(f"the agent's file storage answered {status}")
            size = length if length is not None else file.size
            if size is not None and size > limit:
                raise FileUnavailable(f"{size} bytes is over the limit", reason="file_too_big")
            yield Download(limited(chunks, limit, length), size)

    async def response_on(self, conversation_id: str, message_id: str) -> AgentResponse:
        path = f"/conversations/{conversation_id}/messages/{message_id}/response-on"
        response = response_from(await self._retrying("GET", path), self._asked_at.get(message_id), conversation_id)
        if response.status is not ResponseStatus.PENDING:
            self._asked_at.pop(message_id, None)
        return response

    async def rate_answer(self, rating: Rating) -> None:
        """Create or update the person's 👍/👎 on an answer (raia keeps one per message and
        user, so a repeat or a changed vote updates it: safe to retry)."""
        body: dict[str, str] = {
            "conversationMessageId": rating.message_id,
            "userId": rating.user_id,
            "voteType": rating.vote,
            "question": rating.question,
            "answer": rating.answer,
        }
        if rating.comment:
            body["comment"] = rating.comment
        await self._request("POST", "/conversation-message-feedbacks", json=body)

    async def list_messages(self, conversation_id: str) -> list[AgentMessage]:
        return messages_from(await self._retrying("GET", f"/conversations/{conversation_id}/messages"))
