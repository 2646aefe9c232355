"""The floor under ``bench/replicas.py``'s acknowledgement times: the same same-instant
posts, from the same kind of load generator, to a server that only reads each body and
answers 200 (uvicorn with uvloop and httptools, the bridge's listen backlog).

    python bench/ack_floor.py [--users 2000] [--rounds 2]

Whatever this prints is not the bridge's: the load generator opening and posting N
connections at once, the server taking them, and the machine's other work. The bridge's
acknowledgement p99 at the same N can only be compared with this floor measured just
before or after it on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import pct  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402

SERVER = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def ok(request):
    await request.body()
    return Response(status_code=200)

app = Starlette(routes=[Route("/slack/events", ok, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", loop="uvloop",
            http="httptools", backlog=16384, access_log=False)
"""
# About a Slack DM event's size.
BODY = b'{"type":"event_callback","event":{"type":"message","channel_type":"im","text":"' + b"x" * 600 + b'"}}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def ready(url: str, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.post(url, data=BODY) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)


async def burst(url: str, users: int) -> list[float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def post() -> float:
            start = time.perf_counter()
            async with http.post(url, data=BODY) as response:
                response.raise_for_status()
                await response.read()
            return time.perf_counter() - start

        return list(await asyncio.gather(*(post() for _ in range(users))))


async def measure(url: str, users: int, rounds: int) -> None:
    await ready(url)
    for number in range(1, rounds + 1):
        await asyncio.sleep(1.0)
        cpu = time.process_time()
        acks = await burst(url, users)
        used = time.process_time() - cpu
        print(
            f"round {number}: {users} posts at once to a server that only says 200: ack p1/p50/p99 "
            f"{1000 * pct(acks, 1):.0f}/{1000 * pct(acks, 50):.0f}/{1000 * pct(acks, 99):.0f} ms; "
            f"load generator CPU {1000 * used / users:.2f} ms per post",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000, help="posts at the same instant (default 2000)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])  # noqa: S603
    try:
        run_async(measure(f"http://127.0.0.1:{port}/slack/events", args.users, args.rounds))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
