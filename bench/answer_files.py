"""A file the agent made, from raia's storage to Telegram: memory and CPU per megabyte.

    python bench/answer_files.py [--sizes 5,50]

One process serves a stand-in for raia (the signed-URL endpoint and the storage behind
it, which streams the file without holding it) and a stand-in for the Bot API (which
reads the upload and throws it away). The bridge's own pieces do the work: RaiaClient
fetches the file through its signed URL, FileDelivery hands it on, TelegramOutbound
streams it in one multipart request. Printed per size: the Python heap's peak during the
delivery (tracemalloc; a file held whole would show as its size), and the process's CPU
time per MB (without tracemalloc; the stand-ins' CPU counts too: a pessimistic figure),
then the ratio of the largest size's peak to the smallest's (about 1: memory does not
grow with the file).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from telegram.ext import Application

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.raia.client import RaiaClient  # noqa: E402
from adapters.telegram.api import BotApi  # noqa: E402
from adapters.telegram.outbound import TelegramOutbound  # noqa: E402
from bridge.answer_files import FileDelivery  # noqa: E402
from bridge.models import AnswerFile, Origin, Reply  # noqa: E402
from tests.fakes.server import serving  # noqa: E402

MB = 1024 * 1024
CHUNK = 64 * 1024
TOKEN = "123456:BENCH-token-not-real"


class Stand:
    """raia's signed URL and storage (a file of ``size`` bytes, generated as it streams)
    and the Bot API's sendDocument (counts what it reads)."""

    def __init__(self) -> None:
        self.size = 0
        self.received = 0
        self.app = Starlette(
            routes=[
                Route("/external/conversations/{cid}/message-files/{fid}/signed-url", self.signed, methods=["GET"]),
                Route("/storage/{fid}", self.storage, methods=["GET"]),
                Route("/bot{token}/{method}", self.bot, methods=["POST"]),
            ]
        )

    async def signed(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"signedUrl": f"{base}/storage/{request.path_params['fid']}?signature=x", "fileId": "f"})

    async def storage(self, request: Request) -> Response:
        block = b"\x42" * CHUNK

        async def body() -> AsyncIterator[bytes]:
            left = self.size
            while left > 0:
                yield block[: min(CHUNK, left)]
                left -= CHUNK

        return StreamingResponse(body(), headers={"Content-Length": str(self.size)}, media_type="text/csv")

    async def bot(self, request: Request) -> Response:
        async for chunk in request.stream():
            self.received += len(chunk)
        return JSONResponse({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})


class Progress:
    done, key, uncertain = 0, "bench", False

    async def part_delivered(self, count: int) -> None:
        self.done = count


async def deliver(stand: Stand, base: str, size: int, *, traced: bool) -> tuple[float, float]:
    """One delivery of a ``size``-byte file: (peak heap bytes during it, CPU seconds)."""
    stand.size, stand.received = size, 0
    app = Application.builder().token(TOKEN).base_url(f"{base}/bot").build()
    outbound = TelegramOutbound(app, BotApi(app.bot.base_url))  # files go over httpx
    async with aiohttp.ClientSession() as session:
        raia = RaiaClient(session, base_url=base, api_key="bench")
        files = FileDelivery(raia, max_bytes=2 * size)
        reply = Reply("here", answer_files=(AnswerFile("f1", "export.csv", size, "c1"),))
        gc.collect()
        if traced:
            tracemalloc.start()
        cpu = time.process_time()
        await files.deliver(Origin(chat="1"), reply, outbound, Progress())
        cpu = time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
    await outbound.close()
    assert stand.received > size, "the file did not arrive whole"
    return peak, cpu


async def main(sizes: list[int]) -> None:
    stand = Stand()
    rows: list[dict[str, Any]] = []
    async with serving(stand.app) as base:
        await deliver(stand, base, MB, traced=False)  # warm up (imports, connections)
        for size in sizes:
            peak, _ = await deliver(stand, base, size * MB, traced=True)
            _, cpu = await deliver(stand, base, size * MB, traced=False)
            rows.append({"mb": size, "peak_heap_mb": peak / MB, "cpu_ms_per_mb": cpu * 1000 / size})
    print(f"{'file':>8} {'peak heap':>10} {'CPU per MB':>11}")
    for row in rows:
        print(f"{row['mb']:>5} MB {row['peak_heap_mb']:>7.2f} MB {row['cpu_ms_per_mb']:>8.2f} ms")
    first, last = rows[0], rows[-1]
    print(
        f"peak heap {last['mb']} MB / {first['mb']} MB file: {last['peak_heap_mb'] / first['peak_heap_mb']:.2f}x "
        f"for a {last['mb'] / first['mb']:.0f}x larger file"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,50", help="file sizes in MB, comma-separated")
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")]))
