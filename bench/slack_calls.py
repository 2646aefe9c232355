"""CPU per Slack Web API call of a turn: through aiohttp's client (before) and on the
platform's own kept-alive connections (``adapters.kept_alive``, after), side by side.

    python bench/slack_calls.py [--calls 300] [--rounds 3]

The fake Slack Web API of the tests runs in a process of its own; this process makes the
calls one after the other, 5 ms apart, each way on kept-alive connections: "is thinking…"
(``assistant.threads.setStatus``), an answer's ``chat.postMessage`` (the simulator's
answer rendered, with its metadata) and ``users.info``. Printed: this process's CPU
milliseconds per call (the pauses' own cost subtracted), each way, and the ratio after /
before, for each round and as medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.raia.demo_agent import demo_answer  # noqa: E402
from adapters.slack import web  # noqa: E402
from adapters.slack.platform import KEEPALIVE, WEB_API_CONNECTIONS  # noqa: E402
from adapters.slack.render import render  # noqa: E402
from bench.processes import free_port  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.models import Reply  # noqa: E402
from tests.fakes import slack  # noqa: E402

GAP = 0.005  # seconds between calls: each on its own, as a turn's are
CHANNEL, THREAD = "D100001", "1700000000.000100"


async def spaced(calls: int, call: Callable[[], Awaitable[Any]]) -> float:
    """CPU seconds per call, the pauses' own CPU subtracted."""
    await call()  # a connection, kept alive afterwards
    start = time.process_time()
    for _ in range(calls):
        await call()
        await asyncio.sleep(GAP)
    spent = time.process_time() - start
    start = time.process_time()
    for _ in range(calls):
        await asyncio.sleep(GAP)
    return (spent - (time.process_time() - start)) / calls


async def via_aiohttp(session: aiohttp.ClientSession, base: str, verb: str, method: str, **arguments: Any) -> None:
    """A call as adapters/slack/web.py made it before (aiohttp's request, JSON read back)."""
    headers = {"Authorization": f"Bearer {slack.BOT_TOKEN}"}
    data, params = None, None
    if verb == "POST":
        headers["Content-Type"] = "application/json; charset=utf-8"
        data = json.dumps({k: v for k, v in arguments.items() if v is not None})
    else:
        params = arguments
    timeout = aiohttp.ClientTimeout(total=15)
    async with session.request(verb, base + method, data=data, params=params, headers=headers, timeout=timeout) as r:
        answer = json.loads(await r.read())
        assert answer.get("ok"), answer


async def measure(port: int, calls: int, rounds: int) -> None:
    base = f"http://127.0.0.1:{port}/api/"
    connector = aiohttp.TCPConnector(limit=WEB_API_CONNECTIONS, keepalive_timeout=KEEPALIVE)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/_bench/state"):
                    break
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
        client = AsyncWebClient(token=slack.BOT_TOKEN, base_url=base)
        web.connect(client, limit=WEB_API_CONNECTIONS, keepalive=KEEPALIVE)
        answer = demo_answer("what is the refund policy")
        assert answer is not None
        (message,) = render(Reply(answer.text, vote_key="123"))
        mark = {"event_type": "raia_bridge_reply", "event_payload": {"reply": "q1", "part": 0}}
        post: dict[str, Any] = {"channel": CHANNEL, "thread_ts": THREAD, "text": message.text, "blocks": message.blocks,
                "metadata": mark, "unfurl_links": False, "unfurl_media": False}  # fmt: skip
        status: dict[str, Any] = {"channel_id": CHANNEL, "thread_ts": THREAD, "status": "is thinking…"}
        user: dict[str, Any] = {"user": "U1", "include_locale": "true"}
        kinds: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = {
            "setStatus": (
                lambda: via_aiohttp(session, base, "POST", "assistant.threads.setStatus", **status),
                lambda: web.call(client, "assistant.threads.setStatus", **status),
            ),
            "chat.postMessage": (
                lambda: via_aiohttp(session, base, "POST", "chat.postMessage", **post),
                lambda: web.call(client, "chat.postMessage", **post),
            ),
            "users.info": (
                lambda: via_aiohttp(session, base, "GET", "users.info", **user),
                lambda: web.read(client, "users.info", **user),
            ),
        }
        results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for number in range(1, rounds + 1):
            for kind, (before, after) in kinds.items():
                ms_before = 1000 * await spaced(calls, before)
                ms_after = 1000 * await spaced(calls, after)
                results[kind].append((ms_before, ms_after))
                print(
                    f"round {number} {kind:17s} aiohttp {ms_before:.3f} ms/call, lean {ms_after:.3f} ms/call, "
                    f"{ms_after / ms_before:.2f}x",
                    flush=True,
                )
        web.disconnect(client)
    print(f"\nmedians of {rounds} rounds, {calls} calls each way per round (this process's CPU per call):")
    for kind, pairs in results.items():
        old = statistics.median(b for b, _ in pairs)
        new = statistics.median(a for _, a in pairs)
        print(f"  {kind:17s} aiohttp {old:.3f} ms, lean {new:.3f} ms, after / before {new / old:.2f}x")


def main(calls: int, rounds: int) -> None:
    port = free_port()
    fake = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", f"from bench.replica_fakes import serve_slack; serve_slack({port})"], cwd=ROOT
    )
    try:
        run_async(measure(port, calls, rounds))
    finally:
        fake.terminate()
        fake.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="calls each way per round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, before and after interleaved (default 3)")
    arguments = parser.parse_args()
    main(arguments.calls, arguments.rounds)
