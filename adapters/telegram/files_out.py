"""The files an agent made, sent to Telegram: a picture as a photo (``sendPhoto``), anything
else as a document (``sendDocument``), streamed to the Bot API in one multipart request
(PTB would read it whole into memory). The request's URL holds the bot token: it never
appears in a log line or an error."""

from __future__ import annotations

import logging

import httpx

from adapters.files import Multipart, media_type
from bridge.errors import DeliveryPermanent, DeliveryRetryable, FileUnavailable
from bridge.models import AnswerFile, Origin
from bridge.ports.outbound import Download

log = logging.getLogger(__name__)

FILE_LIMIT = 50 * 1024 * 1024  # what a bot may send (sendDocument); larger files become a line
PHOTO_LIMIT = 10 * 1024 * 1024  # sendPhoto's own limit: a larger picture goes as a document
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})  # what sendPhoto shows as a picture
# The upload streams as fast as the agent's storage gives it; Telegram may take a while to
# answer for a large one.
UPLOAD_TIMEOUT = httpx.Timeout(10.0, read=120.0, write=60.0)


async def send_file(
    http: httpx.AsyncClient, base_url: str, origin: Origin, file: AnswerFile, download: Download
) -> None:
    """Send ``file`` to ``origin``'s chat (and topic). The Bot API has no way to look for an
    earlier copy: a lost response (rare) may post it twice, as for text. Raises the core's
    delivery errors, or ``FileUnavailable`` (the download broke, or Telegram refused this
    file: its line goes instead)."""
    kind = media_type(None, file.name)
    photo = kind in PHOTO_TYPES and download.size is not None and download.size <= PHOTO_LIMIT
    method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
    fields = {"chat_id": origin.chat}
    if origin.thread:
        fields["message_thread_id"] = origin.thread
    body = Multipart(fields, field, file.name, kind, download)
    chat = origin.chat
    try:
        response = await http.post(
            f"{base_url}/{method}", content=body.stream(), headers=body.headers(), timeout=UPLOAD_TIMEOUT
        )
    except httpx.TimeoutException:
        raise DeliveryRetryable(f"telegram chat={chat} {method}: timed out") from None
    except httpx.HTTPError as exc:  # its message may quote the URL, and so the token
        if body.broken is not None:  # the agent's storage broke off: nothing was posted
            raise body.broken from None
        sent = not isinstance(exc, httpx.ConnectError)
        raise DeliveryRetryable(f"telegram chat={chat} {method}: {type(exc).__name__}", maybe_posted=sent) from None
    if body.broken is not None:
        raise body.broken
    _answer(chat, method, response)
    log.info("telegram chat=%s %s %r sent", chat, method, file.name)


def _answer(chat: str, method: str, response: httpx.Response) -> None:
    """A file send's answer as the core's delivery errors (the Bot API's JSON)."""
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code == 200 and answer.get("ok"):
        return
    description = str(answer.get("description") or response.reason_phrase)[:200]
    where = f"telegram chat={chat} {method}: {response.status_code} {description}"
    if response.status_code == 429:
        retry_after = (answer.get("parameters") or {}).get("retry_after", 5)
        raise DeliveryRetryable(where, retry_after=float(retry_after), maybe_posted=False)
    if response.status_code == 400:  # this file (too big, a picture Telegram cannot read): its line instead
        too_big = "too big" in description.lower() or "too large" in description.lower()
        raise FileUnavailable(where, reason="file_too_big" if too_big else "file_failed")
    if response.status_code in (401, 403, 404):
        raise DeliveryPermanent(where)
    raise DeliveryRetryable(where, maybe_posted=response.status_code >= 500)
