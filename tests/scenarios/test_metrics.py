"""GET /metrics: Prometheus text with the bridge's turns, agent calls and webhooks."""

from __future__ import annotations

from pathlib import Path

import httpx

from bridge.app.server import build_app
from tests.conftest import make_settings
from tests.fakes.platform import LoopbackPlatform
from tests.fakes.server import serving


async def test_a_turn_shows_in_the_metrics_and_the_token_guards_them(raia_url: str, db_path: Path) -> None:
    """After one answered question the counters say so; without the METRICS_TOKEN the endpoint is 401."""
    platform = LoopbackPlatform()
    settings = make_settings(
        raia_base_url=raia_url, database_url=f"sqlite:///{db_path}", metrics_token="metrics-secret-1"
    )
    app = build_app(settings, [platform])
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        await http.post("/test/inbound", json={"user": "ann", "id": 1, "text": "count me"})
        await platform.outbound.wait_for(1)
        assert (await http.get("/metrics")).status_code == 401
        response = await http.get("/metrics", headers={"Authorization": "Bearer metrics-secret-1"})
    assert response.status_code == 200
    text = response.text
    assert 'bridge_turns_total{outcome="answered",platform="test"} 1.0' in text
    assert 'bridge_agent_calls_total{endpoint="POST /conversations/{id}/messages/async",status="2xx"} 1.0' in text
    assert 'bridge_webhook_requests_total{path="/test/inbound",status="200"} 1.0' in text
    assert "bridge_questions_waiting 0.0" in text
    assert 'bridge_turn_seconds_count{phase="agent"} 1.0' in text
