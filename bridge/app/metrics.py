"""Prometheus metrics, served at ``GET /metrics`` (behind ``METRICS_TOKEN`` when set).

The core reports through its ``Observer`` port and the raia client through a call hook;
this module turns both into counters and histograms. Its own registry keeps every app
(and every test) separate; the process-wide default registry is served too, for the
process metrics and stamina's ``stamina_retries_total``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.errors import StoreError
from bridge.ports.observer import TurnEnded

_SECONDS = (0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)


class Metrics:
    """Implements ``Observer``; also counts raia calls and webhook requests."""

    def __init__(self, webhook_paths: frozenset[str]) -> None:
        self.registry = CollectorRegistry()
        self.webhook_paths = webhook_paths
        self.turns = Counter(
            "bridge_turns", "Questions whose life ended, by outcome", ["platform", "outcome"], registry=self.registry
        )
        self.turn_seconds = Histogram(
            "bridge_turn_seconds",
            "Seconds of a turn: queued (waiting for its lane), agent (until the answer), delivery",
            ["phase"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.waiting = Gauge("bridge_questions_waiting", "Questions not yet delivered", registry=self.registry)
        # Each agent and bot by name (ROUTES_FILE; without it "" and the platforms), set
        # when /metrics is read: 1 while it works, 0 while it does not.
        self.agents_up = Gauge("bridge_agent_up", "1 while the agent API answers", ["agent"], registry=self.registry)
        self.platforms_up = Gauge(
            "bridge_platform_up", "1 while a bot or app is fine", ["platform"], registry=self.registry
        )
        self.states: Callable[[], tuple[dict[str, bool], dict[str, bool]]] | None = None
        self.agent_calls = Counter(
            "bridge_agent_calls", "Calls to the agent API", ["endpoint", "status"], registry=self.registry
        )
        self.delivery_errors = Counter(
            "bridge_delivery_errors", "Failed delivery attempts", ["platform", "error"], registry=self.registry
        )
        self.webhooks = Counter(
            "bridge_webhook_requests", "Webhook requests by response status", ["path", "status"], registry=self.registry
        )

    # -- Observer ------------------------------------------------------------------------

    def turn_ended(self, turn: TurnEnded) -> None:
        self.turns.labels(turn.platform, turn.outcome).inc()
        self.turn_seconds.labels("queued").observe(turn.queued)
        self.turn_seconds.labels("agent").observe(turn.agent)
        self.turn_seconds.labels("delivery").observe(turn.delivery)

    def delivery_failed(self, platform: str, error: str) -> None:
        self.delivery_errors.labels(platform, error).inc()

    def agent_call(self, endpoint: str, status: str) -> None:
        self.agent_calls.labels(endpoint, status).inc()

    # -- exposition ----------------------------------------------------------------------

    def exposition(self) -> bytes:
        return prometheus_client.generate_latest(self.registry) + prometheus_client.generate_latest()

    def endpoint(
        self, token: str | None, waiting: Callable[[], Awaitable[int]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def metrics(request: Request) -> Response:
            if not authorized(request, token):
                return PlainTextResponse("metrics need the METRICS_TOKEN bearer token", status_code=401)
            try:
                self.waiting.set(await waiting())
            except StoreError:  # the store is down: the other metrics still tell a story
                self.waiting.set(float("nan"))
            if self.states is not None:
                agents, platforms = self.states()
                for name, up in agents.items():
                    self.agents_up.labels(name).set(1 if up else 0)
                for name, up in platforms.items():
                    self.platforms_up.labels(name).set(1 if up else 0)
            return Response(self.exposition(), media_type=prometheus_client.CONTENT_TYPE_LATEST)

        return metrics


def authorized(request: Request, token: str | None) -> bool:
    """``METRICS_TOKEN`` unset, or given as ``Authorization: Bearer …`` (compared in
    constant time). Guards ``/metrics`` and the status page."""
    if token is None:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


class WebhookCounter:
    """Counts every webhook request by its response status (other paths pass through)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics
        # Each (path, status) counter looked up once: labels() takes a lock and checks its
        # arguments on every call, per webhook.
        self._counters: dict[tuple[str, int], Counter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.metrics.webhook_paths:
            await self.app(scope, receive, send)
            return

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                key = (scope["path"], message["status"])
                counter = self._counters.get(key)
                if counter is None:
                    counter = self._counters[key] = self.metrics.webhooks.labels(key[0], str(key[1]))
                counter.inc()
            await send(message)

        await self.app(scope, receive, watched)
