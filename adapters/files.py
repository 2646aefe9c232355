"""What the platform adapters share about files people send: a content type that is only
ever a plain ``type/subtype``, and reading at most a limit, and exactly what was declared."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import AsyncIterator

from bridge.errors import FileUnavailable

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
