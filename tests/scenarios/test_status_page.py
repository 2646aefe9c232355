"""GET /: the status page a person sees on opening the bridge's address in a browser."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from adapters.raia.simulator import RaiaSimulator
from bridge.app.server import build_app
from bridge.app.version import package_version
from tests import browser
from tests.conftest import API_KEY, make_settings
from tests.fakes import telegram as tg
from tests.fakes.platform import LoopbackPlatform
from tests.fakes.server import serving
from tests.processes import bridge_process, telegram_env


async def _page(http: httpx.AsyncClient, until: str, **headers: str) -> httpx.Response:
    """The page once it shows ``until`` (the agent's name arrives just after start)."""
    async with asyncio.timeout(10):
        while until not in (response := await http.get("/", headers=headers)).text:
            await asyncio.sleep(0.05)
    return response


async def test_the_page_shows_the_agent_platforms_waiting_version_and_next_step(
    sim: RaiaSimulator, raia_url: str, db_path: Path
) -> None:
    """A plain HTML page (no script, a strict CSP): the agent's name and state, each platform,
    the database, the questions waiting, the version, and what to do next; nothing secret."""
    platform = LoopbackPlatform()
    settings = make_settings(raia_base_url=raia_url, database_url=f"sqlite:///{db_path}")
    app = build_app(settings, [platform])
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        await http.post("/test/inbound", json={"user": "ann", "id": 1, "text": "a private question"})
        await platform.outbound.wait_for(1)
        response = await _page(http, sim.agent_name)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert "<script" not in page
    assert '<span class="state" id="state">ready</span>' in page
    assert f"<td>{sim.agent_name}</td>" in page.replace("&#x27;", "'")
    assert '<th scope="row">Test</th><td></td><td class="ok">ok</td>' in page
    assert "ok (sqlite, schema" in page
    assert '<td id="waiting">0</td>' in page
    assert f"raia-bridge {package_version()}" in page
    assert "All set: write to the bot in test." in page
    assert API_KEY not in page
    assert "a private question" not in page
    assert str(db_path) not in page


async def test_a_refused_key_is_the_next_step(raia_url: str, db_path: Path) -> None:
    """raia refusing RAIA_API_KEY shows in red with what to do about it."""
    settings = make_settings(raia_base_url=raia_url, database_url=f"sqlite:///{db_path}", raia_api_key="wrong-key-1")
    async with serving(build_app(settings, [LoopbackPlatform()])) as base, httpx.AsyncClient(base_url=base) as http:
        response = await _page(http, "rejected")
    page = response.text
    assert '<span class="state" id="state">needs attention</span>' in page
    assert "raia rejected RAIA_API_KEY (403): copy the key again" in page
    assert "wrong-key-1" not in page


async def test_with_metrics_token_the_page_shows_nothing_without_it(raia_url: str, db_path: Path) -> None:
    """METRICS_TOKEN guards the status page as it guards /metrics."""
    settings = make_settings(raia_base_url=raia_url, database_url=f"sqlite:///{db_path}", metrics_token="page-token-1")
    async with serving(build_app(settings, [LoopbackPlatform()])) as base, httpx.AsyncClient(base_url=base) as http:
        refused = await http.get("/")
        shown = await _page(http, "ready", authorization="Bearer page-token-1")
    assert refused.status_code == 401
    assert "raia-bridge" in refused.text
    assert "Questions waiting" not in refused.text
    assert shown.status_code == 200


async def test_healthz_names_the_version(raia_url: str, db_path: Path) -> None:
    settings = make_settings(raia_base_url=raia_url, database_url=f"sqlite:///{db_path}")
    async with serving(build_app(settings, [LoopbackPlatform()])) as base, httpx.AsyncClient(base_url=base) as http:
        body = (await http.get("/healthz")).json()
    assert body["version"] == package_version()


async def test_a_browser_shows_the_page_of_a_running_bridge(tmp_path: Path) -> None:
    """`python -m bridge` serving Telegram (long polling), opened in headless Chromium: the
    page the browser builds says ready, names the agent and Telegram's mode, and the next step."""
    sim = RaiaSimulator(api_key=API_KEY)
    fake = tg.FakeTelegram()
    async with serving(sim) as raia, serving(fake.app()) as api:
        env = telegram_env(raia, api, tmp_path)
        url = f"http://127.0.0.1:{env['PORT']}/"
        async with bridge_process(env, tmp_path):
            async with httpx.AsyncClient() as http:
                await _page_at(http, url, sim.agent_name)
            page = await asyncio.to_thread(browser.dom, url)
    assert '<span class="state" id="state">ready</span>' in page
    assert sim.agent_name in page
    assert '<td class="ok">ok (polling)</td>' in page
    assert "All set: send the bot a message in Telegram." in page
    assert tg.TOKEN not in page


async def _page_at(http: httpx.AsyncClient, url: str, until: str) -> None:
    async with asyncio.timeout(30):
        while True:
            try:
                if until in (await http.get(url)).text:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            await asyncio.sleep(0.1)


async def test_an_unreachable_raia_is_not_all_set(db_path: Path) -> None:
    """While raia has not answered (it cannot be reached), the page does not say all set."""
    settings = make_settings(raia_base_url="http://127.0.0.1:9", database_url=f"sqlite:///{db_path}")
    async with serving(build_app(settings, [LoopbackPlatform()])) as base, httpx.AsyncClient(base_url=base) as http:
        page = (await _page(http, "ready")).text
    assert "All set" not in page
    assert "raia-bridge check says why" in page or "cannot be reached right now" in page
