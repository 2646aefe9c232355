"""The simulator's webhooks: ``POST /external/agents/webhooks`` as raia validates it, and
raia's calls to them after each answer (``each_message``), through one kept client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

TRIGGERS = ("each_message", "end_dialog", "start_dialog", "chat_currently_unavailable", "auto_archive_conversation",
            "manual")  # fmt: skip


class Webhooks:
    def __init__(self) -> None:
        self.registered: list[dict[str, Any]] = []
        self.calls: list[tuple[float, str, int]] = []  # (time, url, status) of each call; 0: it failed
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def add(self, body: dict[str, Any] | None) -> dict[str, Any] | str:
        """The registered webhook, or why raia refuses it (a 400)."""
        if body is None or not all(isinstance(body.get(k), str) for k in ("title", "description", "url")):
            return "title, description and url are required"
        parts = urlsplit(body["url"])
        # raia wants a public https URL; loopback http is allowed here, for tests on one machine.
        if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"))):
            return "Invalid webhook URL. The URL must use HTTPS and resolve only to public IP addresses."
        if body.get("triggerCondition") not in TRIGGERS:
            return "triggerCondition must be one of " + ", ".join(TRIGGERS)
        hook = {
            "status": "active",
            "title": body["title"],
            "description": body["description"],
            "url": body["url"],
            "triggerCondition": body["triggerCondition"],
            "headers": body.get("headers") or {},
        }
        self.registered.append(hook)
        return hook

    def after(self, seconds: float, payload: Callable[[], dict[str, Any]]) -> None:
        """Call every ``each_message`` webhook in ``seconds`` with ``payload()`` (if any)."""
        if not self.registered:
            return
        task = asyncio.create_task(self._call(seconds, payload), name="sim-push")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _call(self, seconds: float, payload: Callable[[], dict[str, Any]], trigger: str = "each_message") -> None:
        await asyncio.sleep(max(0.0, seconds))
        body = payload()
        if self._client is None:  # one client for every call (a client per call costs ~10 ms CPU)
            self._client = httpx.AsyncClient(timeout=10)
        for hook in [h for h in self.registered if h["triggerCondition"] == trigger]:
            try:
                response = await self._client.post(hook["url"], json=body, headers=hook["headers"])
                self.calls.append((time.time(), hook["url"], response.status_code))
            except httpx.HTTPError:
                self.calls.append((time.time(), hook["url"], 0))

    def fire(self, trigger: str, body: dict[str, Any]) -> None:
        """Call every webhook registered for ``trigger`` (``manual``: a person took over or wrote)."""
        if any(h["triggerCondition"] == trigger for h in self.registered):
            task = asyncio.create_task(self._call(0.0, lambda: body, trigger), name="sim-push")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
