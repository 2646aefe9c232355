"""CPU per Bot API call of a turn, three ways side by side: python-telegram-bot's ``Bot``
methods (PTB), the same JSON the bridge sends posted through aiohttp's client (the step
before, ``aiohttp``), and the bridge's caller now (``adapters.telegram.api`` on
``adapters.kept_alive``'s connections, ``now``).

    python bench/telegram_calls.py [--calls 300] [--rounds 3]

The fake Bot API of the tests runs in a process of its own; this process (on the bridge's
event loop, uvloop) makes the calls one after the other, paced as Telegram's 30 messages a
second pace them (a call every 34 ms): an answer's ``sendMessage`` (text with entities,
the 👍/👎 keyboard, a reply to the question, no link preview) and "typing…"
(``sendChatAction``). Printed: this process's CPU milliseconds per call (the pacing's own
cost subtracted), each way, and the ratios of now, for each round and as medians.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, MessageEntity, ReplyParameters  # noqa: E402
from telegram.constants import ChatAction  # noqa: E402
from telegram.ext import Application  # noqa: E402

from adapters.telegram.api import BotApi  # noqa: E402
from adapters.telegram.http import AiohttpRequest  # noqa: E402
from adapters.telegram.keyboards import answer_keyboard  # noqa: E402
from adapters.telegram.render import render  # noqa: E402
from bench.processes import free_port  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.models import Reply  # noqa: E402
from tests.fakes import telegram as tg  # noqa: E402

GAP = 1 / 30 + 0.001  # Telegram's ~30 messages a second per bot
CHAT = 100_001
JSON = {"User-Agent": AiohttpRequest.USER_AGENT, "Content-Type": "application/json"}
ANSWER = "Here is **what I found**: the plan includes [support](https://example.com/support) and `exports`."


async def paced(calls: int, call: Callable[[], Awaitable[Any]]) -> float:
    """CPU seconds per call, the pacing's own sleeps' CPU subtracted."""
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


async def measure(port: int, calls: int, rounds: int) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"http://127.0.0.1:{port}/_bench/state"):
                    break
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    request = AiohttpRequest()
    app = Application.builder().token(tg.TOKEN).base_url(f"http://127.0.0.1:{port}/bot").request(request).build()
    await app.initialize()
    api = BotApi(app.bot.base_url)

    async def over_aiohttp(method: str, params: dict[str, Any]) -> None:  # api.call before this step
        body = json.dumps({k: v for k, v in params.items() if v is not None}, separators=(",", ":")).encode()
        assert request._session is not None
        async with request._session.post(f"{app.bot.base_url}/{method}", data=body, headers=JSON) as response:
            AiohttpRequest.parse_json_payload(await response.read())["result"]

    reply = Reply(ANSWER, vote_key="123456789", person_button=True)
    (part,) = render(reply)

    async def ptb_message() -> None:  # as adapters/telegram/outbound.py called it before
        entities = [MessageEntity(**e.to_dict()) for e in part.entities]
        markup = answer_keyboard(reply)
        assert markup is not None
        await app.bot.send_message(
            CHAT,
            part.text,
            entities=entities or None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            reply_markup=InlineKeyboardMarkup.de_json(markup, app.bot),
            reply_parameters=ReplyParameters(7, allow_sending_without_reply=True),
        )

    def message(call: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        params = {
            "chat_id": CHAT,
            "text": part.text,
            "entities": [e.to_dict() for e in part.entities] or None,
            "link_preview_options": {"is_disabled": True},
            "reply_markup": answer_keyboard(reply),
            "reply_parameters": {"message_id": 7, "allow_sending_without_reply": True},
        }
        return lambda: call("sendMessage", params)

    def typing(call: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        return lambda: call("sendChatAction", {"chat_id": CHAT, "action": "typing"})

    async def ptb_typing() -> None:
        await app.bot.send_chat_action(CHAT, ChatAction.TYPING)

    kinds = {
        "sendMessage": (ptb_message, message(over_aiohttp), message(api.call)),
        "sendChatAction": (ptb_typing, typing(over_aiohttp), typing(api.call)),
    }
    results: dict[str, list[tuple[float, ...]]] = {kind: [] for kind in kinds}
    for number in range(1, rounds + 1):
        for kind, ways in kinds.items():
            ms = tuple([1000 * await paced(calls, way) for way in ways])
            results[kind].append(ms)
            print(f"round {number} {kind:15s} {line(ms)}", flush=True)
    api.close()
    await app.shutdown()
    print(f"\nmedians of {rounds} rounds, {calls} calls each way per round (this process's CPU per call):")
    for kind, runs in results.items():
        print(f"  {kind:15s} {line(tuple(statistics.median(r[i] for r in runs) for i in range(3)))}")


def line(ms: tuple[float, ...]) -> str:
    ptb, aiohttp_json, now = ms
    return (
        f"PTB {ptb:.3f} ms, aiohttp {aiohttp_json:.3f} ms, now {now:.3f} ms/call; "
        f"now / aiohttp {now / aiohttp_json:.2f}x, now / PTB {now / ptb:.2f}x"
    )


def main(calls: int, rounds: int) -> None:
    port = free_port()
    fake = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", f"from bench.replica_fakes import serve_telegram; serve_telegram({port})"], cwd=ROOT
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
