"""Waiting for conditions, never for fixed sleeps: the shared helpers of the suite.

``until`` polls a condition under a generous overall timeout; ``idle`` waits until a running
service has nothing in hand (no question open in the store, no lane, notice or vote task
running), the point after which "nothing more is posted" can be asserted.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

import httpx
from starlette.applications import Starlette

from bridge.app.runtime import Runtime

# Tasks a running service keeps for its whole life (bridge.service.ConversationService.start).
STEADY_TASKS = frozenset({"housekeeping", "answer-times", "lane-leases", "lane-scan"})

TIMEOUT = 20.0  # generous: a slow, shared machine; a wait that passes returns at once


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    timeout: float = TIMEOUT,
    every: float = 0.01,
    what: str = "",
) -> None:
    """Return as soon as ``condition()`` (a function or a coroutine function) is true; fail
    the test if it is not within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                outcome = condition()
                if inspect.isawaitable(outcome):
                    outcome = await outcome
                if outcome:
                    return
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"not within {timeout:g} s: {what or condition!r}") from None


def busy_tasks(rt: Runtime) -> list[str]:
    """The service's running tasks other than its steady ones: lanes, notices, votes..."""
    return sorted(
        task.get_name() for task in rt.tasks._tasks if not task.done() and task.get_name() not in STEADY_TASKS
    )


async def idle(rt: Runtime, *, timeout: float = TIMEOUT) -> None:
    """Wait until the service has nothing in hand: every question is final in the store
    (delivered or undeliverable) and no lane or other piece of work is running. Call it
    after the last event's acknowledgement came back (the core decides before that)."""

    async def nothing_in_hand() -> bool:
        return not busy_tasks(rt) and await rt.store.count_open() == 0 and not busy_tasks(rt)

    await until(nothing_in_hand, timeout=timeout, what="the service idle (no open question, no lane)")


def runtime_of(app: Starlette) -> Runtime:
    """The runtime of a served ``build_app`` app (set once its lifespan has started)."""
    runtime: Runtime | None = app.state.bridge.runtime
    assert runtime is not None, "the app has not started"
    return runtime


async def nothing_waiting(base: str, *, timeout: float = TIMEOUT) -> None:
    """A served bridge (in this process or another) has every question final: its
    /healthz reports ``waiting`` 0 (the store's open questions)."""
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:

        async def none_open() -> bool:
            try:
                body: dict[str, object] = (await http.get("/healthz")).json()
            except (httpx.TransportError, ValueError):
                return False
            return body.get("waiting") == 0

        await until(none_open, timeout=timeout, every=0.05, what=f"no question waiting at {base}")
