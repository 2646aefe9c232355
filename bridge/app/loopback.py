"""Serve an ASGI app with uvicorn on a free loopback port, inside the running event loop:
the demo's agent simulator, and the tests' and benchmarks' fakes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import uvicorn


class _Embedded(uvicorn.Server):
    """A server inside a process that has its own signal handling (the demo's terminal
    chat, a test run): Ctrl-C stays the process's, not this server's."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serving(
    app: Any, *, lifespan: Literal["auto", "on", "off"] = "auto", sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Yields the base URL (``http://127.0.0.1:PORT``); stops the server on exit. ``sock``:
    a socket bound beforehand (when the URL must be known before the app is built)."""
    if sock is None:
        sock = bound()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan=lifespan, timeout_graceful_shutdown=5)
    server = _Embedded(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(15):
            while not server.started:
                if task.done():
                    task.result()  # start-up failed: raise its error
                    raise RuntimeError("server stopped during start-up")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def bound(port: int = 0) -> socket.socket:
    """A loopback socket on ``port`` (0: a free one), bound and ready for ``serving(sock=...)``."""
    # TCP named: asyncio sets TCP_NODELAY only on sockets that say so (without it, a response
    # written in two parts waited for the client's delayed ACK: 40 ms per request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock
