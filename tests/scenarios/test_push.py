"""raia push (RAIA_PUSH): raia calls the bridge after each answer and the bridge polls at
once. The simulator registers webhooks and calls them over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge.app.platforms import configured_platforms
from bridge.app.push import HEADER, PATH
from bridge.app.server import build_app
from bridge.app.settings import Settings
from bridge.push import FALLBACK
from tests import waiting
from tests.conftest import API_KEY, make_settings
from tests.fakes import slack
from tests.fakes.server import bound, serving
from tests.pgserver import PgServer


@asynccontextmanager
async def bridge(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, port: int = 0, handoff: bool = False
) -> AsyncIterator[tuple[str, Settings]]:
    """The bridge with raia push; ``handoff``: also the ``manual`` webhook (tests/scenarios/test_takeover_push.py)."""
    sock = bound(port)
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with serving(sim) as raia, serving(fake.app()) as api:
        settings = make_settings(
            raia_base_url=raia, raia_push=True, public_url=public, raia_poll_interval=1.0, raia_poll_timeout=60,
            handoff=handoff,
            slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET, slack_api_url=f"{api}/api/",
            database_url=f"sqlite:///{tmp_path / 'b.db'}",
        )  # fmt: skip
        app = build_app(settings, configured_platforms(settings))
        async with serving(app, sock=sock) as base:
            yield base, settings


async def _ask(http: httpx.AsyncClient, base: str, i: int) -> None:
    event = slack.dm(f"question {i}", user=f"U{100 + i}")
    event["channel"] = f"D{100 + i}"
    raw = json.dumps(slack.envelope(event)).encode()
    assert (await http.post(f"{base}/slack/events", content=raw, headers=slack.signed(raw))).status_code == 200


async def test_pushed_answers_are_fetched_at_once_with_few_polls(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With push working, each answer is fetched when raia's push says it is ready (not on
    the poll schedule) and costs at most 3 response-on calls, whatever its delay; the
    webhook is registered once, also across a restart. How soon after it is ready an
    answer is posted is measured by bench/push.py (overshoot, push against polling)."""
    caplog.set_level(logging.INFO, logger="bridge.app.push")
    delays = {f"question {i}": d for i, d in enumerate([1.5, 2.5, 4.0, 6.0, 9.0])}
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda text: delays.get(text, 1.0))
    fake = slack.FakeSlack()
    async with bridge(sim, fake, tmp_path) as (base, settings), httpx.AsyncClient(timeout=10) as http:
        async with asyncio.timeout(10):
            while not sim.webhooks:
                await asyncio.sleep(0.05)
        (hook,) = sim.webhooks
        assert hook["url"] == f"{base}{PATH}"
        assert hook["triggerCondition"] == "each_message"
        assert hook["headers"] == {HEADER: settings.raia_push_secret}
        await _ask(http, base, 99)  # a first answer proves push works
        await fake.wait_posts(1, timeout=10)
        for i in range(5):
            await _ask(http, base, i)
        await fake.wait_posts(6, timeout=30)
    ready = {q["text"]: (q["ready_at"], q.get("polls", 0)) for q in sim.questions.values()}
    for i in range(5):
        ready_at, polls = ready[f"question {i}"]
        post = next(p for p in fake.posts if p.channel == f"D{100 + i}")
        assert post.at >= ready_at
        # Fetched on raia's push: while push works a poller looks on its own only every
        # FALLBACK (20 s) seconds, so an answer posted well before that was hinted.
        assert post.at - ready_at < FALLBACK / 4, f"question {i} posted {post.at - ready_at:.2f}s after it was ready"
        assert polls <= 3
    assert sim.count("POST", "/agents/webhooks") == 1
    assert all(status == 200 for _, _, status in sim.pushed)
    # A restart finds the webhook in the agent's skills and does not add another.
    fake2 = slack.FakeSlack()
    caplog.clear()
    async with bridge(sim, fake2, tmp_path, port=int(base.rsplit(":", 1)[1])):  # the same PUBLIC_URL
        await waiting.until(
            lambda: any(r.getMessage().startswith("raia push: each_message webhook") for r in caplog.records),
            what="the restarted bridge to have made sure of its webhook",
        )
    assert sim.count("POST", "/agents/webhooks") == 1
    assert len(sim.webhooks) == 1


async def test_a_forged_or_odd_push_does_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """No secret: 401; a wrong one: 403; not JSON, or JSON nested 5,000 deep: 400 without a
    traceback; ids nobody waits for: 200, nothing woken."""
    sim = RaiaSimulator(api_key=API_KEY)
    async with bridge(sim, slack.FakeSlack(), tmp_path) as (base, settings), httpx.AsyncClient() as http:
        url = f"{base}{PATH}"
        assert (await http.post(url, json={"conversationId": "c"})).status_code == 401
        assert (await http.post(url, json={}, headers={HEADER: "guess"})).status_code == 403
        right = {HEADER: settings.raia_push_secret}
        assert (await http.post(url, content=b"not json", headers=right)).status_code == 400
        assert (await http.post(url, content=b"[" * 5000 + b"]" * 5000, headers=right)).status_code == 400
        assert (await http.post(url, content=b'{"a":' * 100 + b"1" + b"}" * 100, headers=right)).status_code == 400
        response = await http.post(url, json={"conversationId": "nobody", "x": [1, {"y": "z"}]}, headers=right)
        assert (response.status_code, response.json()) == (200, {"ok": True, "woken": 0})
    assert not any(r.exc_info for r in caplog.records)


async def test_replicas_relay_hints_to_the_one_that_waits(tmp_path: Path, pg_server: PgServer) -> None:
    """Two replicas on PostgreSQL behind one PUBLIC_URL: raia's push lands on replica A while
    the question's lane is on replica B; A relays it (NOTIFY) and B fetches the answer at once
    (its wait ended by the relayed hint, not B's 20 s fallback nor polling)."""
    url = await pg_server.new_database()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda text: 8.0 if text.startswith("slow") else 0.5)
    fake = slack.FakeSlack()
    sock_a, sock_b = bound(), bound()
    public = f"http://127.0.0.1:{sock_a.getsockname()[1]}"  # the load balancer sends raia's calls to A
    async with serving(sim) as raia, serving(fake.app()) as api:
        settings = make_settings(
            raia_base_url=raia, raia_push=True, public_url=public, raia_poll_timeout=60, database_url=url,
            handoff=False, slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
            slack_api_url=f"{api}/api/",
        )  # fmt: skip
        app_a = build_app(settings, configured_platforms(settings))
        app_b = build_app(settings, configured_platforms(settings))
        async with serving(app_a, sock=sock_a), httpx.AsyncClient(timeout=10) as http:
            async with asyncio.timeout(10):
                while not sim.webhooks:
                    await asyncio.sleep(0.05)
            async with serving(app_b, sock=sock_b) as base_b:
                await _ask(http, base_b, 0)  # asked at B: B's lane; the push goes to A
                await fake.wait_posts(1, timeout=10)
                hints_b = app_b.state.bridge.runtime.hints
                assert hints_b.received >= 1  # B heard the hint A got
                for i in (1, 2, 3):
                    event = slack.dm(f"slow question {i}", user=f"U{100 + i}")
                    event["channel"] = f"D{100 + i}"
                    raw = json.dumps(slack.envelope(event)).encode()
                    await http.post(f"{base_b}/slack/events", content=raw, headers=slack.signed(raw))
                await fake.wait_posts(4, timeout=30)
    ready = {q["text"]: q["ready_at"] for q in sim.questions.values()}
    for i in (1, 2, 3):
        post = next(p for p in fake.posts if p.channel == f"D{100 + i}")
        assert post.at >= ready[f"slow question {i}"]
        assert post.at - ready[f"slow question {i}"] < FALLBACK / 4  # on the relayed hint, not B's fallback
    assert len(sim.webhooks) == 1
