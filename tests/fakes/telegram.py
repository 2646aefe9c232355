"""A fake Telegram Bot API: the bridge reaches it through TELEGRAM_API_URL over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes import multipart
from tests.fakes.telegram_updates import BOT_ID, BOT_USERNAME, TOKEN, guest, mention, message, pressed, user

# The fake and the updates it hands out, as the tests use them (``tg.FakeTelegram``, ``tg.message``).
__all__ = ["BOT_ID", "BOT_USERNAME", "TOKEN", "FakeTelegram", "Sent", "guest", "mention", "message", "pressed", "user"]

_JSON_FIELDS = {
    "entities", "reply_parameters", "link_preview_options", "allowed_updates", "commands", "reply_markup", "result",
}  # fmt: skip


@dataclass
class Sent:
    chat_id: int
    text: str
    entities: list[dict[str, Any]]
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    token: str = TOKEN  # another bot: another token (its id is the part before ":")
    sent: list[Sent] = field(default_factory=list)
    actions: list[tuple[int, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    webhook_error: tuple[int, str] | None = None  # getWebhookInfo's last_error_date, last_error_message
    webhook_pending: int = 0  # getWebhookInfo's pending_update_count
    commands: list[dict[str, Any]] = field(default_factory=list)
    menus: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # language ("" = default) -> menu
    drafts: list[tuple[float, int, int, str]] = field(default_factory=list)  # (time, chat, draft id, text)
    edits: list[tuple[float, int, int, str]] = field(default_factory=list)  # (time, chat, message id, text)
    deleted: list[tuple[int, int]] = field(default_factory=list)
    drafts_supported: bool = True
    descriptions: dict[str, str] = field(default_factory=dict)  # language ("" = default) -> text
    short_descriptions: dict[str, str] = field(default_factory=dict)
    description_writes: int = 0  # False: an older Bot API server without sendMessageDraft
    messages: dict[tuple[int, int], Sent] = field(default_factory=dict)  # what each chat shows now
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    answered: list[tuple[str, str | None]] = field(default_factory=list)  # answerCallbackQuery: (id, toast)
    markups: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # buttons each message shows
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> content people sent
    too_big: set[str] = field(default_factory=set)  # file_ids getFile refuses (over 20 MB)
    declared: dict[str, int] = field(default_factory=dict)  # file_id -> the size getFile says (if not the real one)
    stalled: set[str] = field(default_factory=set)  # file_ids whose download stalls after its first bytes
    slow: set[str] = field(default_factory=set)  # file_ids the file server sends a little at a time
    held: dict[str, asyncio.Event] = field(default_factory=dict)  # method -> answered once the event is set
    raw: dict[str, list[bytes]] = field(default_factory=dict)  # method -> next bodies, answered as they are
    # answerGuestQuery: what each guest query was answered with (the text posted in that chat)
    guest_answers: dict[str, Sent] = field(default_factory=dict)
    guest_expired: set[str] = field(default_factory=set)  # guest queries Telegram no longer takes
    topics_enabled: bool = False  # getMe's has_topics_enabled: topics in private chats (Bot API 9.3)
    topics: dict[tuple[int, int], str] = field(default_factory=dict)  # (chat, message_thread_id) -> name
    renames: list[tuple[int, int, str]] = field(default_factory=list)  # editForumTopic: (chat, thread, name)
    # Files the bot sent (sendPhoto, sendDocument): (method, chat, file name, content type, bytes).
    uploads: list[tuple[str, int, str, str, bytes]] = field(default_factory=list)
    upload_headers: list[dict[str, str]] = field(default_factory=list)
    lose_uploads: int = 0  # file sends Telegram takes, whose response is lost (a 502 after posting)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _new_updates: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["POST", "GET"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=404)
        file_id = request.path_params["path"].removeprefix("documents/")
        if file_id not in self.files:
            return Response(status_code=404)
        if file_id in self.stalled:
            return StreamingResponse(_stalling(self.files[file_id][:100]), media_type="application/octet-stream")
        if file_id in self.slow:
            return StreamingResponse(_trickling(self.files[file_id]), media_type="application/octet-stream")
        return Response(self.files[file_id], media_type="application/octet-stream")

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        if file_id in self.too_big:
            raise _BadRequest("Bad Request: file is too big")
        if file_id not in self.files:
            raise _BadRequest("Bad Request: invalid file_id")
        size = self.declared.get(file_id, len(self.files[file_id]))
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": size,
            "file_path": f"documents/{file_id}",
        }

    def fail(self, method: str, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        self.failures.setdefault(method, []).append(
            {
                "ok": False,
                "error_code": code,
                "description": description,
                **({"parameters": parameters} if parameters else {}),
            }
        )

    def push_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        self._new_updates.set()

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [s.text for s in self.sent if chat_id is None or s.chat_id == chat_id]

    async def wait_sent(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.sent) < count:
                await asyncio.sleep(0.01)

    async def _params(self, request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "")
        if kind.startswith("multipart/form-data"):
            self.upload_headers.append(dict(request.headers))
            return multipart.parse(await request.body(), kind.split("boundary=", 1)[1], _JSON_FIELDS)
        if kind.startswith("application/json"):
            return dict(await request.json())
        # PTB posts url-encoded forms, nested values as JSON strings.
        params: dict[str, Any] = {}
        for key, value in parse_qsl((await request.body()).decode(), keep_blank_values=True):
            params[key] = json.loads(value) if key in _JSON_FIELDS else value
        return params

    async def _handle(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404)
        method = request.path_params["method"]
        params = await self._params(request)
        self.calls.append(method)
        if method in self.held:
            await self.held[method].wait()  # a slow Bot API call
        if self.raw.get(method):
            return Response(self.raw[method].pop(0), media_type="application/json")
        queued = self.failures.get(method)
        if queued:
            failure = queued.pop(0)
            return JSONResponse(failure, status_code=failure["error_code"])
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return JSONResponse({"ok": True, "result": True})
        try:
            return JSONResponse({"ok": True, "result": await handler(params)})
        except _LostResponse:
            return Response("Bad Gateway", status_code=502)
        except _NotFound:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404)
        except _BadRequest as exc:
            return JSONResponse({"ok": False, "error_code": 400, "description": str(exc)}, status_code=400)

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return {
            "id": int(self.token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Raia",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "supports_guest_queries": True,
            "has_topics_enabled": self.topics_enabled,
        }

    async def _m_createForumTopic(self, params: dict[str, Any]) -> Any:
        """A topic in a supergroup forum, or (Bot API 9.3) in a private chat when the bot has
        topics enabled; its id is that of the service message that opens it."""
        chat_id = int(params["chat_id"])
        if chat_id > 0 and not self.topics_enabled:
            raise _BadRequest("Bad Request: the chat is not a forum")
        thread = next(self._ids)
        self.topics[(chat_id, thread)] = params["name"]
        return {"message_thread_id": thread, "name": params["name"], "icon_color": 7322096}

    async def _m_editForumTopic(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_thread_id"]))
        self.topics[key] = params["name"]
        self.renames.append((*key, params["name"]))
        return True

    async def _m_answerGuestQuery(self, params: dict[str, Any]) -> Any:
        """One message per guest query, posted in the chat where the bot was summoned, as an
        inline result's ``input_message_content``; a second answer, or one too late, is refused."""
        query = params["guest_query_id"]
        if query in self.guest_expired:
            raise _BadRequest("Bad Request: query is too old and response timeout expired or query ID is invalid")
        if query in self.guest_answers:
            raise _BadRequest("Bad Request: guest query has already been answered")
        result = params["result"]
        content = result["input_message_content"]
        self.guest_answers[query] = Sent(0, content["message_text"], content.get("entities") or [], result)
        return {"inline_message_id": f"im-{query}"}

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {"url": params["url"], "secret": params.get("secret_token")}
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        """As Telegram reports it: the URL, updates waiting, and the last delivery error
        (``webhook_error``: when, as Unix time, and Telegram's words), if any."""
        info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": self.webhook_pending}  # fmt: skip
        if self.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        language = params.get("language_code") or ""
        if not language:
            self.commands = params["commands"]
        self.menus[language] = params["commands"]
        return True

    async def _m_sendChatAction(self, params: dict[str, Any]) -> Any:
        self.actions.append((int(params["chat_id"]), params["action"]))
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        sent = Sent(chat_id, params["text"], params.get("entities") or [], params)
        self.sent.append(sent)
        message_id = next(self._ids)
        self.messages[(chat_id, message_id)] = sent
        if params.get("reply_markup"):
            self.markups[(chat_id, message_id)] = params["reply_markup"]
        return {"message_id": message_id, "date": int(time.time()), "text": params["text"],
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}  # fmt: skip

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        return self._sent_file("sendPhoto", params, params["photo"])

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        return self._sent_file("sendDocument", params, params["document"])

    def _sent_file(self, method: str, params: dict[str, Any], file: tuple[str, str, bytes]) -> Any:
        chat_id = int(params["chat_id"])
        self.uploads.append((method, chat_id, *file))
        if self.lose_uploads:
            self.lose_uploads -= 1
            raise _LostResponse
        return {"message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}  # fmt: skip

    async def _m_getMyDescription(self, params: dict[str, Any]) -> Any:
        return {"description": self.descriptions.get(params.get("language_code") or "", "")}

    async def _m_setMyDescription(self, params: dict[str, Any]) -> Any:
        self.descriptions[params.get("language_code") or ""] = params.get("description") or ""
        self.description_writes += 1
        return True

    async def _m_getMyShortDescription(self, params: dict[str, Any]) -> Any:
        return {"short_description": self.short_descriptions.get(params.get("language_code") or "", "")}

    async def _m_setMyShortDescription(self, params: dict[str, Any]) -> Any:
        self.short_descriptions[params.get("language_code") or ""] = params.get("short_description") or ""
        self.description_writes += 1
        return True

    async def _m_sendMessageDraft(self, params: dict[str, Any]) -> Any:
        if not self.drafts_supported:
            raise _NotFound
        if int(params["chat_id"]) < 0:
            raise _BadRequest("Bad Request: drafts can be sent only to private chats")
        self.drafts.append((time.monotonic(), int(params["chat_id"]), int(params["draft_id"]), params["text"]))
        return True

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _BadRequest("Bad Request: message to edit not found")
        if self.messages[key].text == params["text"] and self.messages[key].entities == (params.get("entities") or []):
            raise _BadRequest("Bad Request: message is not modified")
        self.edits.append((time.monotonic(), *key, params["text"]))
        self.messages[key] = Sent(key[0], params["text"], params.get("entities") or [], params)
        return {"message_id": key[1], "date": int(time.time()), "text": params["text"],
                "chat": {"id": key[0], "type": "private" if key[0] > 0 else "supergroup"}}  # fmt: skip

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _BadRequest("Bad Request: message to edit not found")
        if self.markups.get(key) == params.get("reply_markup"):
            raise _BadRequest("Bad Request: message is not modified")
        self.markups[key] = params.get("reply_markup") or {}
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answered.append((params["callback_query_id"], params.get("text")))
        return True

    def message_id(self, sent: Sent) -> int:
        return next(mid for (_, mid), s in self.messages.items() if s is sent)

    async def _m_deleteMessage(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        self.messages.pop(key, None)
        self.deleted.append(key)
        return True

    def chat_view(self, chat_id: int) -> list[Sent]:
        """What the chat shows now: its messages in order, as last edited."""
        return [sent for (chat, _), sent in sorted(self.messages.items()) if chat == chat_id]

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        """Updates from ``offset`` on, of the kinds ``allowed_updates`` names (Telegram's
        default, without it: every kind but a few the bridge does not use anyway)."""
        offset = int(params.get("offset") or 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        timeout = min(float(params.get("timeout") or 0), 0.5)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] >= offset and (not allowed or set(u) & set(allowed))]

        if not pending() and timeout:
            self._new_updates.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_updates.wait(), timeout)
        return pending()


async def _stalling(first: bytes) -> AsyncIterator[bytes]:
    """The headers and a first chunk, then nothing more (until the client hangs up)."""
    yield first
    await asyncio.Event().wait()


async def _trickling(data: bytes) -> AsyncIterator[bytes]:
    """A slow file server: 16 KB at a time, a moment apart."""
    for start in range(0, len(data), 16_384):
        yield data[start : start + 16_384]
        await asyncio.sleep(0.02)


class _NotFound(Exception):
    """An unknown method, as an older Bot API server answers it."""


class _BadRequest(Exception):
    pass


class _LostResponse(Exception):
    """Telegram took the call, but its answer is lost on the way back."""
