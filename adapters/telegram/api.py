"""The Bot API calls of every turn (``sendMessage``, ``sendChatAction``, edits, drafts) as
plain JSON POSTs on the bot's aiohttp session.

python-telegram-bot's ``Bot`` methods turn each argument into request objects, form-encode
them and parse every answer into its objects (``Message.de_json``): 2.0-2.2 ms of CPU per
``sendMessage`` where the exchange itself costs 0.8-0.9 ms (``bench/telegram_calls.py``).
Here the parameters go as the JSON Telegram documents and the answer's ``result`` comes
back as JSON. Failures are PTB's own errors, read from the answer as PTB reads them
(``RetryAfter``, ``ChatMigrated``, ``Forbidden``, ``BadRequest``, ``InvalidToken``,
``TimedOut``, ``NetworkError``), so everything above handles them as before. The URL holds
the token: no message made here names it.
"""

from __future__ import annotations

import json
import warnings
from http import HTTPStatus
from typing import Any

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from adapters.telegram.http import AiohttpRequest


class BotApi:
    """``call(method, params)`` -> the answer's ``result``; a failure raises PTB's error."""

    def __init__(self, base_url: str, request: AiohttpRequest) -> None:
        self._base = base_url.rstrip("/")  # …/bot<token>
        self._request = request

    async def call(self, method: str, params: dict[str, Any], *, read_timeout: float | None = None) -> Any:
        """POST ``params`` (those that are None left out, as PTB does) to ``method``."""
        body = json.dumps({k: v for k, v in params.items() if v is not None}, separators=(",", ":")).encode()
        code, payload = await self._request.post_json(f"{self._base}/{method}", body, read_timeout)
        if HTTPStatus.OK <= code <= 299:
            result = AiohttpRequest.parse_json_payload(payload)
            if "result" not in result:
                raise TelegramError("Invalid server response")
            return result["result"]
        raise failure(code, payload)


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
