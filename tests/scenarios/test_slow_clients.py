"""Slow, idle and oversized requests against the real server process (`python -m bridge`,
as `serve` configures uvicorn), over raw sockets: each connection is closed within
HTTP_TIMEOUT of its last step, none is held open for ever."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from adapters.raia.simulator import RaiaSimulator
from tests.conftest import API_KEY
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.processes import free_port

BOUND = 1.0  # HTTP_TIMEOUT for the server under test
SECRET = "slow-clients-secret"
HEAD = b"POST /telegram/webhook HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"


@asynccontextmanager
async def bridge_process(tmp_path: Path) -> AsyncIterator[int]:
    """The server, ready, with the Telegram webhook and HTTP_TIMEOUT=BOUND; yields its port."""
    port = free_port()
    async with serving(RaiaSimulator(api_key=API_KEY)) as raia, serving(tg.FakeTelegram().app()) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
        env |= {"RAIA_API_KEY": API_KEY, "RAIA_BASE_URL": raia, "TELEGRAM_BOT_TOKEN": tg.TOKEN,
                "TELEGRAM_API_URL": f"{api}/bot", "PUBLIC_URL": "https://bridge.example.com",
                "TELEGRAM_WEBHOOK_SECRET": SECRET, "HOST": "127.0.0.1", "PORT": str(port),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "HTTP_TIMEOUT": str(BOUND),
                "SHUTDOWN_TIMEOUT": "1"}  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http, asyncio.timeout(30):
                while True:
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)
            yield port
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.wait(), timeout=30)


async def _until_closed(port: int, *steps: bytes) -> tuple[float, bytes]:
    """Connect, send ``steps`` (each after the answer to the one before, if it gets one),
    then wait for the server to close the connection: seconds since the last step, and
    everything the server said."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    heard = b""
    try:
        for index, step in enumerate(steps):
            writer.write(step)
            await writer.drain()
            if index < len(steps) - 1:  # a whole request: wait for its whole answer
                heard += await reader.readuntil(b"\r\n\r\n")
                length = next(int(v) for k, _, v in (line.partition(b":") for line in heard.split(b"\r\n"))
                              if k.lower() == b"content-length")  # fmt: skip
                heard += await reader.readexactly(length)
        sent = loop.time()
        async with asyncio.timeout(5 * BOUND + 5):  # without the bounds, the server waits for ever
            heard += await reader.read()
        return loop.time() - sent, heard
    finally:
        writer.close()


async def test_slow_idle_and_oversized_connections_are_closed(tmp_path: Path) -> None:
    """Nothing sent, half a head, a body that stalls, an idle kept-alive connection, one
    byte of a next request: each closed about HTTP_TIMEOUT after its last step (a stalled
    body answered 408); a head over 64 KiB is refused with 400 at once."""
    health = b"GET /healthz HTTP/1.1\r\nHost: bridge\r\n\r\n"
    stalled_body = HEAD + b"X-Telegram-Bot-Api-Secret-Token: " + SECRET.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
    huge_head = HEAD + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n"
    async with bridge_process(tmp_path) as port:
        silent, half_head, slow_body, idle, one_byte, oversized = await asyncio.gather(
            _until_closed(port, b""),
            _until_closed(port, HEAD[:40]),
            _until_closed(port, stalled_body),
            _until_closed(port, health, b""),
            _until_closed(port, health, b"P"),
            _until_closed(port, huge_head),
        )
    for name, (waited, _) in [("silent", silent), ("half head", half_head), ("slow body", slow_body),
                              ("idle", idle), ("one byte", one_byte)]:  # fmt: skip
        assert 0.8 * BOUND <= waited < 4 * BOUND, f"{name}: closed after {waited:.2f}s"
    assert silent[1] == half_head[1] == one_byte[1][len(idle[1]) :] == b""
    assert slow_body[1].startswith(b"HTTP/1.1 408 ")
    assert idle[1].startswith(b"HTTP/1.1 200 ")
    assert oversized[1].startswith(b"HTTP/1.1 400 ")
    assert oversized[0] < BOUND
