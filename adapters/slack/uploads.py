"""The files an agent made, posted into Slack where its answer went: a URL to upload to
(``files.getUploadURLExternal``, which needs the file's length first), the bytes streamed
to it as they arrive from the agent, then ``files.completeUploadExternal`` into the
channel and thread (scope ``files:write``).

Slack's files carry no message metadata. When an earlier attempt may have posted a file
(a restart mid-upload, a lost response), the thread is searched for it by name among the
bot's messages after the answer's own parts (found by their metadata) before uploading
again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bridge.errors import DeliveryRetryable, FileUnavailable
from bridge.models import AnswerFile
from bridge.ports.outbound import Download

# The upload itself: as fast as the agent's storage gives the file, but never stalled forever.
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)

Call = Callable[..., Awaitable[Any]]  # one Web API call, its failure translated


def posted_already(latest: Sequence[Mapping[str, Any]], mark: str, key: str, name: str) -> bool:
    """Whether a message of the bot after reply ``key``'s last part already shows a file
    called ``name`` (``latest``: the thread's messages, with their metadata)."""
    parts = [
        float(m.get("ts") or 0)
        for m in latest
        if isinstance(m.get("metadata"), Mapping)
        and m["metadata"].get("event_type") == mark
        and (m["metadata"].get("event_payload") or {}).get("reply") == key
    ]
    if not parts:
        return False
    after = max(parts)
    for message in latest:
        if float(message.get("ts") or 0) < after or not (message.get("bot_id") or message.get("files")):
            continue
        files = message.get("files")
        if isinstance(files, list) and any(isinstance(f, Mapping) and f.get("name") == name for f in files):
            return True
    return False


async def upload(
    client: AsyncWebClient, call: Call, *, channel: str, thread: str | None, file: AnswerFile, download: Download
) -> None:
    """Upload ``file`` and share it in ``channel`` (and ``thread``). ``call`` runs one Web
    API method with the core's delivery errors."""
    if download.size is None:  # Slack wants the length before the bytes
        raise FileUnavailable("slack needs a file's length to upload it; the agent did not say")
    got = await call(client.files_getUploadURLExternal, filename=file.name, length=download.size)
    upload_url, file_id = str(got.get("upload_url") or ""), str(got.get("file_id") or "")
    session = client.session
    if not upload_url or not file_id or session is None:
        raise DeliveryRetryable("slack files.getUploadURLExternal gave no upload URL", maybe_posted=False)
    broken: list[FileUnavailable] = []

    async def chunks() -> Any:
        try:
            async for chunk in download.chunks:
                yield chunk
        except FileUnavailable as exc:
            broken.append(exc)
            raise

    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(download.size)}
    try:  # the upload URL is its own authorisation: no token goes with it
        async with session.post(upload_url, data=chunks(), headers=headers, timeout=UPLOAD_TIMEOUT) as response:
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        if broken:
            raise broken[0] from None
        raise DeliveryRetryable(f"slack file upload: {type(exc).__name__}", maybe_posted=False) from None
    if status != 200:
        raise DeliveryRetryable(f"slack file upload answered {status}", maybe_posted=False)
    # Until this call the file is nowhere to be seen; after it, in the thread.
    await call(
        client.files_completeUploadExternal,
        files=[{"id": file_id, "title": file.name}],
        channel_id=channel,
        thread_ts=thread,
    )
