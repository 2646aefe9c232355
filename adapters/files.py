"""What the platform adapters share about files: a content type that is only ever a
plain ``type/subtype``; reading at most a limit, and exactly what was declared; and a
``multipart/form-data`` body streamed a chunk at a time (a file the agent made, on its
way to Telegram; a voice note on its way to be transcribed). httpx builds multipart
bodies only from bytes or synchronous files, and PTB reads an upload whole into memory:
for a file of tens of megabytes, this is the way through."""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import AsyncIterator, Mapping

from bridge.errors import FileUnavailable
from bridge.ports.outbound import Download

# A network read that brings nothing for this long: the platform's file server stalled.
# (The core bounds each question's files as a whole: FilePassing's ``within``.)
READ_TIMEOUT = 20.0

# RFC 6838 restricted names: ``type/subtype``, nothing else (no parameters, no spaces, no CR/LF).
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(f"{_NAME}/{_NAME}")


def media_type(declared: object, name: str, default: str = "application/octet-stream") -> str:
    """The content type a platform declared for a file, if it is a plain ``type/subtype``
    (lower-cased; parameters such as ``; charset=…`` dropped); otherwise what the file's
    name suggests, or ``default``. It goes into JSON and HTTP headers on the way to the
    agent: a CR/LF or any other stray character from a client never gets that far."""
    if isinstance(declared, str):
        kind = declared.split(";", 1)[0].strip()
        if _MEDIA_TYPE.fullmatch(kind):
            return kind.lower()
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed if guessed and _MEDIA_TYPE.fullmatch(guessed) else default


async def limited(chunks: AsyncIterator[bytes], limit: int, declared: int | None = None) -> AsyncIterator[bytes]:
    """``chunks`` passed on while they stay within ``limit`` bytes, counted on the bytes
    actually read (a size the platform did not declare, or declared wrong): past it the
    upload is cut off, the file left out as too big.

    With a ``declared`` size (which the upload announces as its length, so bytes past it
    would be dropped without a word), the file must be exactly that long: the chunk that
    reaches it is held back until the file is known to end there. A longer file is read
    on (never past ``limit``) only to tell "too big" from "not what was declared"; either
    way it is left out, never passed on cut short."""
    total = 0
    held = b""
    async for chunk in chunks:
        if not chunk:
            continue
        total += len(chunk)
        if total > limit:
            raise FileUnavailable(f"more than {limit} bytes", reason="file_too_big")
        if declared is None or total < declared:
            yield chunk
        elif total == declared:
            held = chunk
        else:
            held = b""
    if declared is not None and total != declared:
        raise FileUnavailable(f"{total} bytes where {declared} were declared")
    if held:
        yield held


def _quoted(value: str) -> str:
    """A header parameter value: no quote, backslash or line break can break out of it."""
    return "".join("_" if ch in '"\\\r\n' else ch for ch in value)


class Multipart:
    """One file and its fields. ``broken`` is set when the file's download failed while
    the body was being sent (the HTTP client then reports only that the body failed)."""

    def __init__(self, fields: Mapping[str, str], field: str, filename: str, content_type: str, download: Download):
        boundary = secrets.token_hex(16)
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(k)}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(field)}"; '
            f'filename="{_quoted(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        self._head, self._tail = head, f"\r\n--{boundary}--\r\n".encode()
        self._boundary = boundary
        self._download = download
        self.broken: FileUnavailable | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": f"multipart/form-data; boundary={self._boundary}"}
        if self._download.size is not None:  # else sent chunked
            headers["Content-Length"] = str(len(self._head) + self._download.size + len(self._tail))
        return headers

    async def stream(self) -> AsyncIterator[bytes]:
        yield self._head
        try:
            async for chunk in self._download.chunks:
                yield chunk
        except FileUnavailable as exc:
            self.broken = exc
            raise
        yield self._tail
