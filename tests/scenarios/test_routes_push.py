"""RAIA_PUSH with a routes file: each raia agent registers its own webhook at
``/raia/<name>/webhook`` with a secret derived from its own key, and a push there wakes
that agent's pollers only. Two raia simulators with their own keys, one Slack app, over
real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from adapters.raia.simulator import RaiaSimulator
from bridge.app.check import check
from bridge.app.platforms import configured_platforms
from bridge.app.push import HEADER
from bridge.app.routes import Routes, load_routes
from bridge.app.server import build_app
from bridge.app.settings import Settings
from bridge.push import FALLBACK
from tests.conftest import make_settings
from tests.fakes import slack
from tests.fakes.server import bound, serving
from tests.routes_files import AGENT_KEYS, routes_file, two_agents

HR_USER = "U0HR"

SLACK = f"""
[slack.main]
bot_token_env = "SLACK_MAIN_TOKEN"
signing_secret_env = "SLACK_MAIN_SECRET"
agent = "helpdesk"

[[route]]
slack = "main"
user = "{HR_USER}"
agent = "hr"
"""

ENVIRON = AGENT_KEYS | {"SLACK_MAIN_TOKEN": slack.BOT_TOKEN, "SLACK_MAIN_SECRET": slack.SIGNING_SECRET}


@dataclass
class Deployment:
    base: str
    app: Starlette
    routes: Routes
    sims: dict[str, RaiaSimulator]
    fake: slack.FakeSlack

    def secret(self, agent: str) -> str:
        return self.routes.agents[agent].settings.raia_push_secret


def _settings(tmp_path: Path, urls: dict[str, str], public: str, api: str) -> Settings:
    return make_settings(
        raia_api_key=None, routes_file=routes_file(tmp_path, urls, SLACK), raia_push=True, public_url=public,
        raia_poll_interval=1.0, raia_poll_timeout=60, handoff=False, slack_api_url=f"{api}/api/",
        database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
    )  # fmt: skip


@asynccontextmanager
async def deployment(
    tmp_path: Path, sims: dict[str, RaiaSimulator], fake: slack.FakeSlack, port: int = 0
) -> AsyncIterator[Deployment]:
    """The bridge with both agents pushed, once both webhooks are registered."""
    sock = bound(port)
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serving(sim)) for name, sim in sims.items()}
        api = await stack.enter_async_context(serving(fake.app()))
        settings = _settings(tmp_path, urls, public, api)
        routes = load_routes(settings, ENVIRON)
        app = build_app(settings, configured_platforms(settings, routes), routed=routes)
        base = await stack.enter_async_context(serving(app, sock=sock))
        async with asyncio.timeout(10):
            while not all(sim.webhooks for sim in sims.values()):
                await asyncio.sleep(0.05)
        yield Deployment(base, app, routes, sims, fake)


async def _ask(http: httpx.AsyncClient, d: Deployment, text: str, user: str) -> None:
    event = slack.dm(text, user=user)
    event["channel"] = f"D{user}"
    raw = json.dumps(slack.envelope(event)).encode()
    response = await http.post(f"{d.base}/slack/main/events", content=raw, headers=slack.signed(raw))
    assert response.status_code == 200


def _sims() -> dict[str, RaiaSimulator]:
    def slow(text: str) -> float:
        return 4.0 if text.startswith("slow") else 0.5

    return two_agents(slow)


async def test_each_agent_is_pushed_at_its_own_path_with_its_own_secret(tmp_path: Path) -> None:
    """Each agent's webhook points at /raia/<name>/webhook with a secret of its own key;
    slow answers of both agents are fetched on their pushes (long before the 20 s fallback,
    in at most 3 looks); a restart registers nothing again."""
    sims, fake = _sims(), slack.FakeSlack()
    async with deployment(tmp_path, sims, fake) as d, httpx.AsyncClient(timeout=10) as http:
        for name, sim in sims.items():
            (hook,) = sim.webhooks
            assert hook["url"] == f"{d.base}/raia/{name}/webhook"
            assert hook["headers"] == {HEADER: d.secret(name)}
        assert d.secret("hr") != d.secret("helpdesk")
        await _ask(http, d, "first for helpdesk", "U0HELP")  # a first answer proves push works
        await _ask(http, d, "first for hr", HR_USER)
        await fake.wait_posts(2, timeout=10)
        await _ask(http, d, "slow question for helpdesk", "U0HELP")
        await _ask(http, d, "slow question for hr", HR_USER)
        await fake.wait_posts(4, timeout=30)
    for name, sim in sims.items():
        (question,) = [q for q in sim.questions.values() if q["text"].startswith("slow")]
        assert question["text"] == f"slow question for {name}"
        post = next(p for p in fake.posts if f"slow question for {name}" in p.text)
        assert post.at - question["ready_at"] < FALLBACK / 4  # on the push, not the fallback
        assert question.get("polls", 0) <= 3
        assert all(status == 200 for _, _, status in sim.pushed)
    async with deployment(tmp_path, sims, slack.FakeSlack(), port=int(d.base.rsplit(":", 1)[1])):
        pass
    for sim in sims.values():
        assert sim.count("POST", "/agents/webhooks") == 1


async def test_a_push_wakes_only_its_own_agent_and_takes_only_its_own_secret(tmp_path: Path) -> None:
    """hr's path refuses helpdesk's secret (403) and the single agent's path is not served;
    ids pushed at hr's path wake nothing of helpdesk's (bodies are hints, never trusted)."""
    sims, fake = _sims(), slack.FakeSlack()
    async with deployment(tmp_path, sims, fake) as d, httpx.AsyncClient(timeout=10) as http:
        hr_url = f"{d.base}/raia/hr/webhook"
        assert (await http.post(hr_url, json={})).status_code == 401
        assert (await http.post(hr_url, json={}, headers={HEADER: d.secret("helpdesk")})).status_code == 403
        single = await http.post(f"{d.base}/raia/webhook", json={}, headers={HEADER: d.secret("hr")})
        assert single.status_code == 404
        pushes = d.app.state.bridge.runtime.pushes
        (help_hints, _), (hr_hints, _) = pushes["helpdesk"], pushes["hr"]
        sims["helpdesk"].webhooks.clear()  # helpdesk's answer is found by its own looks only
        await _ask(http, d, "slow question for helpdesk", "U0HELP")
        async with asyncio.timeout(10):
            while not sims["helpdesk"].questions:
                await asyncio.sleep(0.02)
        ((mid, question),) = sims["helpdesk"].questions.items()
        ids = [question["cid"], mid]
        response = await http.post(hr_url, json={"ids": ids}, headers={HEADER: d.secret("hr")})
        assert (response.status_code, response.json()) == (200, {"ok": True, "woken": 0})
        assert (help_hints.received, hr_hints.received) == (0, 1)


async def test_check_reports_each_agents_push(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`raia-bridge check` says for each agent whether its own webhook reaches this bridge."""
    sims, fake = _sims(), slack.FakeSlack()
    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serving(sim)) for name, sim in sims.items()}
        api = await stack.enter_async_context(serving(fake.app()))
        settings = _settings(tmp_path, urls, "https://bridge.example.com", api)
        sims["hr"].webhooks.append(
            {"url": "https://bridge.example.com/raia/hr/webhook", "triggerCondition": "each_message",
             "headers": {}, "status": "active", "title": "t", "description": "d"}
        )  # fmt: skip
        await check(settings, load_routes(settings, ENVIRON))
    out = capsys.readouterr().out
    assert (
        "OK   agent helpdesk (raia push): not registered yet: the bridge registers "
        "https://bridge.example.com/raia/helpdesk/webhook"
    ) in out
    assert "OK   agent hr (raia push): webhook registered at https://bridge.example.com/raia/hr/webhook" in out
    assert all(sim.count("POST", "/agents/webhooks") == 0 for sim in sims.values())  # check registers nothing
