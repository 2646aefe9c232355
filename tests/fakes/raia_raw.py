"""A raia client whose calls go on the bridge's own kept-alive connections only, against a
raw server (``tests.fakes.raw_http``): its aiohttp session is closed before the first call,
so one that went through aiohttp's client would fail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from adapters.raia.client import RaiaClient
from adapters.raia.wire import Timeouts
from tests.fakes.raw_http import Handler, raw_server


@asynccontextmanager
async def lean_client(handler: Handler, timeouts: Timeouts | None = None) -> AsyncIterator[RaiaClient]:
    async with raw_server(handler) as base:
        session = aiohttp.ClientSession()
        await session.close()
        client = RaiaClient(session, base_url=base, api_key="sk-key", timeouts=timeouts, keepalive=4.0)
        try:
            yield client
        finally:
            await client.aclose()
