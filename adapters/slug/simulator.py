"""A local slug chat API (seed 004) for the demo and the tests: ``POST /v1/api/chat/{slug}``
answered whole or as a chunked SSE stream (``data: {"chunk": …}`` … ``data: [DONE]``),
with the seed's error bodies. The streamed answer names its conversation in an
``X-Conversation-Id`` header. ``python -m adapters.slug.simulator --port 8097``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

API_KEY = "slug-demo-key"
SLUG = "support-agent"


def demo_delay(_: str) -> float:
    return random.uniform(0.5, 1.2)


def demo_answer(message: str) -> str:
    return (
        f"You asked about **{message.strip()[:80]}**. Here is a short answer, written a few words "
        "at a time so that streaming shows:\n\n1. first point\n2. second point"
    )


def _error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"data": None, "error": {"name": name, "message": message, "details": {}}}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class SlugSimulator:
    api_key: str = API_KEY
    slugs: tuple[str, ...] = (SLUG,)
    delay: Callable[[str], float] = demo_delay  # until the first chunk (or the whole answer)
    answer: Callable[[str], str] = demo_answer
    chunk_every: float = 0.03  # seconds between chunks
    per_minute: int = 0
    conversations: dict[str, list[str]] = field(default_factory=dict)  # id -> the user's messages
    calls: list[tuple[str, str]] = field(default_factory=list)
    faults: list[tuple[int, str, str, float | None]] = field(default_factory=list)  # status, name, message, retry
    break_stream_after: int | None = None  # drop the next stream after this many chunks
    first_chunk_at: dict[str, float] = field(default_factory=dict)  # conversation -> when its first chunk left
    _recent: list[float] = field(default_factory=list)
    _app: Starlette | None = None

    def app(self) -> Starlette:
        if self._app is None:
            self._app = Starlette(routes=[Route("/v1/api/chat/{slug}", self._chat, methods=["POST"])])
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app()(scope, receive, send)

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, p in self.calls if m == method and p.endswith(suffix))

    def asked(self) -> list[list[str]]:
        return list(self.conversations.values())

    async def _chat(self, request: Request) -> Any:
        self.calls.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "UnauthorizedError", "Invalid or missing API token")
        slug = request.path_params["slug"]
        if slug not in self.slugs:
            return _error(404, "NotFoundError", f"Agent with slug '{slug}' not found")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "ValidationError", "Body must be JSON")
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message.strip():
            return _error(400, "ValidationError", "Message field is required")
        if self.faults:
            status, name, text, retry = self.faults.pop(0)
            return _error(status, name, text, {"Retry-After": str(retry)} if retry is not None else None)
        if self.per_minute:
            now = time.monotonic()
            self._recent = [t for t in self._recent if now - t < 60]
            if len(self._recent) >= self.per_minute:
                return _error(429, "RateLimitError", "Too many requests", {"Retry-After": "1"})
            self._recent.append(now)
        conversation = body.get("conversationId")
        if not isinstance(conversation, str) or conversation not in self.conversations:
            conversation = f"conv_{uuid.uuid4().hex[:12]}"
            self.conversations[conversation] = []
        self.conversations[conversation].append(message)
        text = self.answer(message)
        if not body.get("stream"):
            await asyncio.sleep(self.delay(message))
            data = {"response": text, "conversationId": conversation, "metadata": {"model": "sim", "tokens": 42}}
            return JSONResponse({"data": data, "error": None})
        headers = {"X-Conversation-Id": conversation, "Cache-Control": "no-cache"}
        events = self._events(conversation, message, text)
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def _events(self, conversation: str, message: str, text: str) -> AsyncIterator[str]:
        await asyncio.sleep(self.delay(message))
        self.first_chunk_at.setdefault(conversation, time.time())
        pieces = re.findall(r"\s*\S+", text) or [text]
        cut, self.break_stream_after = self.break_stream_after, None
        for number, piece in enumerate(pieces):
            if cut is not None and number >= cut:
                return  # the connection drops mid-answer: no [DONE]
            yield f"data: {json.dumps({'chunk': piece})}\n\n"
            await asyncio.sleep(self.chunk_every)
        yield "data: [DONE]\n\n"


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="slug chat API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--delay", type=float, default=None, help="fixed delay before the answer, in seconds")
    args = parser.parse_args()
    fixed = args.delay
    sim = SlugSimulator(delay=(lambda _: fixed) if fixed is not None else demo_delay)
    base = f"http://{args.host}:{args.port}/v1/api"
    print(f"slug simulator on {base}: SLUG_API_URL={base} SLUG_API_KEY={API_KEY} SLUG_AGENT={SLUG}", flush=True)
    asyncio.run(uvicorn.Server(uvicorn.Config(sim.app(), host=args.host, port=args.port, log_level="warning")).serve())


if __name__ == "__main__":
    main()
