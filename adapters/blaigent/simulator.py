"""A local Blaigent (seed 003) for the demo and the tests: the chat endpoint, a
conversation's messages and the analytics summary, with the seed's errors.

The answer is produced by a task of its own once the question is stored, so a caller
that goes away (a restart) leaves the question and, a little later, its answer in the
history, as a real server would. ``python -m adapters.blaigent.simulator --port 8098``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

API_KEY = "bl-demo-key"
ORGANIZATION = "org_demo"
AGENT = "customer-service"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"


def demo_delay(_: str) -> float:
    return random.uniform(0.6, 1.6)


def demo_answer(message: str) -> tuple[str, str]:
    """(answer, intent) from a question; a little Markdown so the formatting shows."""
    lowered = message.lower()
    intent = "order_tracking" if "order" in lowered else "refund" if "refund" in lowered else "general_question"
    return f"Thanks for asking about **{message.strip()[:80]}**. Here is what I found:\n\n- one\n- two", intent


@dataclass
class BlaigentSimulator:
    api_key: str = API_KEY
    organization: str = ORGANIZATION
    agents: tuple[str, ...] = (AGENT,)
    delay: Callable[[str], float] = demo_delay
    answer: Callable[[str], tuple[str, str]] = demo_answer
    per_minute: int = 0  # > 0: refuse calls beyond it with 429, as the plans do
    sessions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    faults: list[tuple[int, str, float | None]] = field(default_factory=list)  # next chat calls fail
    _recent: list[float] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _app: Starlette | None = None

    def app(self) -> Starlette:
        if self._app is None:
            self._app = self._build()
        return self._app

    def _build(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/agents/{agent}/chat", self._chat, methods=["POST"]),
                Route("/api/v1/platform/conversations", self._conversations, methods=["GET"]),
                Route("/api/v1/platform/conversations/{cid}/messages", self._messages, methods=["GET"]),
                Route("/api/v1/platform/analytics/summary", self._summary, methods=["GET"]),
            ]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app()(scope, receive, send)

    # -- what tests look at -----------------------------------------------------------

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, p in self.calls if m == method and p.endswith(suffix))

    def asked(self) -> list[list[str]]:
        """Each session's customer messages, in order."""
        return [[m["content"] for m in ms if m["role"] == "customer"] for ms in self.sessions.values()]

    # -- endpoints --------------------------------------------------------------------

    def _refused(self, request: Request) -> JSONResponse | None:
        self.calls.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        return None

    async def _chat(self, request: Request) -> JSONResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.path_params["agent"] not in self.agents:
            return JSONResponse({"detail": "Agent not found"}, status_code=404)
        if self.faults:
            status, detail, retry = self.faults.pop(0)
            headers = {"Retry-After": str(retry)} if retry is not None else None
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        if self.per_minute:
            now = time.monotonic()
            self._recent = [t for t in self._recent if now - t < 60]
            if len(self._recent) >= self.per_minute:
                return JSONResponse({"detail": "Rate limit exceeded"}, status_code=429, headers={"Retry-After": "1"})
            self._recent.append(now)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"detail": "Body must be JSON"}, status_code=400)
        missing = [k for k in ("message", "customer_id", "organization_id") if not isinstance(body.get(k), str)]
        if missing or not str(body.get("message")).strip():
            return JSONResponse({"detail": f"Field required: {(missing or ['message'])[0]}"}, status_code=400)
        if body["organization_id"] != self.organization:
            return JSONResponse({"detail": "API key does not belong to this organization"}, status_code=403)
        session = body.get("session_id")
        if not isinstance(session, str) or session not in self.sessions:
            session = f"sess_{uuid.uuid4().hex[:12]}"
            self.sessions[session] = []
        history = self.sessions[session]
        history.append(
            {"role": "customer", "content": body["message"], "customer_id": body["customer_id"], "at": _now()}
        )
        reply: dict[str, Any] = {}
        # Shielded: the answer lands in the history even if the caller goes away.
        task = asyncio.create_task(self._think(body["message"], history, reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.shield(task)
        return JSONResponse({**reply, "session_id": session})

    async def _think(self, message: str, history: list[dict[str, Any]], reply: dict[str, Any]) -> None:
        await asyncio.sleep(self.delay(message))
        text, intent = self.answer(message)
        history.append({"role": "agent", "content": text})
        reply.update({"response": text, "intent": intent, "confidence": 0.93})

    async def _messages(self, request: Request) -> JSONResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        history = self.sessions.get(request.path_params["cid"])
        if history is None:
            return JSONResponse({"detail": "Conversation not found"}, status_code=404)
        return JSONResponse({"conversation_id": request.path_params["cid"], "messages": history})

    async def _conversations(self, request: Request) -> JSONResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        items = [
            {"id": cid, "customer_id": ms[0]["customer_id"], "channel": "web", "created_at": ms[0]["at"]}
            for cid, ms in self.sessions.items()
            if ms
        ]
        return JSONResponse({"conversations": items})

    async def _summary(self, request: Request) -> JSONResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        return JSONResponse({"conversations": len(self.sessions), "resolution_rate": 0.9, "csat": 4.6})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Blaigent simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--delay", type=float, default=None, help="fixed answer delay in seconds")
    args = parser.parse_args()
    fixed = args.delay
    sim = BlaigentSimulator(delay=(lambda _: fixed) if fixed is not None else demo_delay)
    base = f"http://{args.host}:{args.port}/api/v1"
    print(
        f"Blaigent simulator on {base}: BLAIGENT_BASE_URL={base} BLAIGENT_API_KEY={API_KEY} "
        f"BLAIGENT_ORG_ID={ORGANIZATION}",
        flush=True,
    )
    asyncio.run(uvicorn.Server(uvicorn.Config(sim.app(), host=args.host, port=args.port, log_level="warning")).serve())


if __name__ == "__main__":
    main()
