"""The Bot API calls of every turn (``sendMessage``, ``sendChatAction``, edits, drafts) as
plain JSON POSTs on kept-alive connections of the bot's own (``adapters.kept_alive``).

python-telegram-bot's ``Bot`` methods turn each argument into request objects, form-encode
them and parse every answer into its objects (``Message.de_json``): 2.0-2.2 ms of CPU per
``sendMessage`` where the exchange itself costs 0.8-0.9 ms (``bench/telegram_calls.py``).
Here the parameters go as the JSON Telegram documents and the answer's ``result`` comes
back as JSON, one write per request and httptools reading the answer: through aiohttp's
client a call cost the bridge 0.22-0.27 ms of CPU on top, here 0.08-0.09 (a known
person's turn makes two or three). Failures are PTB's own errors, read from the answer as PTB reads them
(``RetryAfter``, ``ChatMigrated``, ``Forbidden``, ``BadRequest``, ``InvalidToken``,
``TimedOut``, ``NetworkError``), so everything above handles them as before. The URL holds
the token: no message made here names it. Through a proxy (HTTPS_PROXY) the same JSON goes
on aiohttp's client, which speaks to it (``via``).
"""

from __future__ import annotations

import json
import warnings
from http import HTTPStatus
from typing import Any

import aiohttp
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.kept_alive import Connections
from adapters.telegram.http import KEEPALIVE, AiohttpRequest

CALL_TIMEOUT = 30.0  # seconds for a call, connecting included (aiohttp's: 10 to connect, 20 to read)
# Calls whose repetition changes nothing: one sent on a kept connection that the server
# closed meanwhile, answered by nothing at all, goes once more on a new one. A message
# sent twice would be posted twice: never repeated (as through aiohttp).
REPEATABLE = frozenset({"sendChatAction", "getUpdates", "sendMessageDraft"})


class BotApi:
    """``call(method, params)`` -> the answer's ``result``; a failure raises PTB's error.
    At most ``connections`` at once; ``timeout``: a call's seconds, connecting included."""

    def __init__(
        self,
        base_url: str,
        *,
        connections: int = 64,
        timeout: float = CALL_TIMEOUT,
        via: AiohttpRequest | None = None,
    ) -> None:
        # ``via``: the calls go on that PTB request (aiohttp, through its proxy) instead.
        self._via = via
        self._base = base_url.rstrip("/") + "/"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # …/bot<token>/: the token is in every request line, never in a message made here.
        self._connections = Connections(
            base_url.rstrip("/") + "/", limit=connections, keepalive=KEEPALIVE, timeout=timeout
        )
        self._line = f"POST {self._connections.prefix}"

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """POST ``params`` (those that are None left out, as PTB does) to ``method``."""
        body = json.dumps({k: v for k, v in params.items() if v is not None}, separators=(",", ":")).encode()
        if self._via is not None:
            status, payload = await self._via.exchange_json(self._base + method, body, self._timeout)
            return self._result(status, payload)
        head = self._connections.head(
            self._line + method, f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        )
        try:
            answer = await self._connections.exchange(head + body, repeatable=method in REPEATABLE)
        except TimeoutError:
            raise TimedOut from None
        except OSError as exc:  # refused, reset, TLS...: named by its kind (a message may quote the host)
            raise NetworkError(f"{type(exc).__name__}") from None
        return self._result(answer.status, answer.body)

    @staticmethod
    def _result(status: int, payload: bytes) -> Any:
        if HTTPStatus.OK <= status <= 299:
            result = AiohttpRequest.parse_json_payload(payload)
            if "result" not in result:
                raise TelegramError("Invalid server response")
            return result["result"]
        raise failure(status, payload)

    def close(self) -> None:
        """Idle connections now, busy ones when their call ends."""
        self._connections.close()


def failure(code: int, payload: bytes) -> TelegramError:
    """A refused call as PTB's error (``BaseRequest._request_wrapper``'s reading): the
    answer's ``parameters`` first (a migrated group, flood control), then its HTTP status."""
    try:
        message = f"{HTTPStatus(code).phrase} ({code})"
    except ValueError:
        message = f"Unknown HTTPError ({code})"
    try:
        data = AiohttpRequest.parse_json_payload(payload)
    except TelegramError:
        message += ". The server's answer could not be read"  # PTB quotes it; it may be a proxy's page
    else:
        description = data.get("description")
        message = description if isinstance(description, str) and description else message
        parameters = data.get("parameters")
        if isinstance(parameters, dict):
            migrated = parameters.get("migrate_to_chat_id")
            if isinstance(migrated, int) and migrated:
                return ChatMigrated(migrated)
            retry = parameters.get("retry_after")
            if isinstance(retry, int) and retry:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # PTB deprecates int retry_after, and reads it so
                    return RetryAfter(retry)
    if code == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if code in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        # Telegram's answer to a malformed token, and to a method this server does not have.
        return InvalidToken(message)
    if code == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if code == HTTPStatus.CONFLICT:
        return Conflict(message)
    return NetworkError(message)
