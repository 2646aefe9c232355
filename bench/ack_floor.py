"""The floor under ``bench/replicas.py``'s acknowledgement times: the same same-instant
posts, sent the same way (``bench/sender.py``), to a server that only reads each body and
answers 200 (a bare ASGI app on uvicorn with uvloop and httptools, the bridge's listen
backlog).

    python bench/ack_floor.py [--platform slack|telegram] [--users 2000] [--rounds 2]

Whatever this prints is not the bridge's: the server's HTTP machinery taking N requests at
once, the load generator, and the machine's other work. The bridge's acknowledgement p99
at the same N is compared with this floor measured just before or after it on the same
machine; the generator's own CPU per post is printed with it.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import replicas, sender  # noqa: E402
from bench.processes import free_port  # noqa: E402
from bench.replica_report import p50_p99  # noqa: E402
from bench.run import pct  # noqa: E402
from bridge.app.cli import BACKLOG, run_async  # noqa: E402

SERVER = f"""
import sys
import uvicorn

async def ok(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({{"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}})
    await send({{"type": "http.response.body", "body": b""}})

uvicorn.run(ok, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", loop="uvloop",
            http="httptools", backlog={BACKLOG}, access_log=False, lifespan="off")
"""


async def ready(base: str, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while True:
            try:
                await sender.burst([sender.post(f"{base}/ready", b"{}", {})])
                return
            except OSError:
                await asyncio.sleep(0.05)


async def measure(base: str, platform: str, users: int, rounds: int) -> None:
    await ready(base)
    for number in range(1, rounds + 1):
        await asyncio.sleep(1.0)
        # Person i's webhook exactly as bench/replicas.py builds it (the floor server takes any path).
        posts = [replicas.webhook_post(platform, base, f"floor question of person {i}", i) for i in range(users)]
        posted = await sender.burst(posts)
        print(
            f"round {number}: {users} {platform} webhooks at once to a server that only says 200: ack p1/p50/p99 "
            f"{1000 * pct(posted.acks, 1):.0f}/{p50_p99(posted.acks)} ms (connect p50/p99 "
            f"{p50_p99(posted.connects)} ms); load generator CPU {1000 * posted.cpu / users:.3f} ms per post",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", choices=replicas.PLATFORMS, default="telegram")
    parser.add_argument("--users", type=int, default=2000, help="posts at the same instant (default 2000)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])  # noqa: S603
    try:
        run_async(measure(f"http://127.0.0.1:{port}", args.platform, args.users, args.rounds))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
