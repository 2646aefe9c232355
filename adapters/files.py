"""What the platform adapters share about files people send: reading at most a limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bridge.errors import FileUnavailable


async def limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """``chunks`` passed on until they exceed ``limit`` bytes (a size the platform did not
    declare, or declared wrong): then the upload is cut off, the file left out."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise FileUnavailable(f"more than {limit} bytes", reason="file_too_big")
        yield chunk
