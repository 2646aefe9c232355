""" "Add to Slack" for many workspaces, over real HTTP against a fake Slack: the OAuth v2
install flow (a forged or missing state refused), events of two workspaces answered with
their own tokens, an uninstall deleting the token, and the token unreadable in the
database file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from adapters.raia.simulator import RaiaSimulator
from bridge.app.platforms import configured_platforms
from bridge.app.routes import Routes, load_routes
from bridge.app.server import build_app
from bridge.app.settings import Settings
from tests import waiting
from tests.conftest import make_settings
from tests.fakes import slack
from tests.fakes.server import serving
from tests.routes_files import AGENT_KEYS, routes_file, two_agents

CLIENT_ID, CLIENT_SECRET, STATE_SECRET = "1234.5678", "client-secret-not-real", "state-secret-not-real"
TOKENS = {"T0AAA": "xoxb-team-a-not-real", "T0BBB": "xoxb-team-b-not-real"}


def grant(team: str) -> dict[str, Any]:
    return {
        "ok": True, "access_token": TOKENS[team], "token_type": "bot", "bot_user_id": slack.BOT_USER,
        "app_id": "A0001", "team": {"id": team, "name": f"Team {team[-3:]}"}, "enterprise": None,
        "is_enterprise_install": False,
    }  # fmt: skip


@dataclass
class Installed:
    http: httpx.AsyncClient
    app: Starlette
    fake: slack.FakeSlack
    api: str
    database: Path

    async def install(self, code: str) -> httpx.Response:
        start = await self.http.get("/slack/install")
        assert start.status_code == 302
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        return await self.http.get("/slack/oauth_redirect", params={"code": code, "state": state})

    async def event(self, event: dict[str, Any], team: str) -> httpx.Response:
        body = json.dumps(slack.envelope(event) | {"team_id": team}).encode()
        return await self.http.post("/slack/events", content=body, headers=slack.signed(body))

    async def idle(self) -> None:
        await waiting.idle(waiting.runtime_of(self.app))


def oauth_slack() -> slack.FakeSlack:
    """A fake Slack that grants team A's and team B's tokens for ``code-a`` / ``code-b``."""
    fake = slack.FakeSlack(tokens={token: team for team, token in TOKENS.items()})
    fake.grants = {"code-a": grant("T0AAA"), "code-b": grant("T0BBB")}
    return fake


def oauth_settings(api: str, database: Path, **overrides: Any) -> Settings:
    """Add to Slack (SLACK_CLIENT_ID and what it needs) against the fake Slack at ``api``."""
    return make_settings(
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_state_secret=STATE_SECRET,
        slack_signing_secret=slack.SIGNING_SECRET,
        bridge_secret_key=Fernet.generate_key().decode(),
        slack_api_url=f"{api}/api/",
        public_url="https://bridge.example.com",
        database_url=f"sqlite:///{database}",
        **overrides,
    )


@asynccontextmanager
async def serving_bridge(
    settings: Settings, fake: slack.FakeSlack, api: str, routes: Routes | None = None
) -> AsyncIterator[Installed]:
    database = settings.database.path
    assert database is not None  # SQLite
    app = build_app(settings, configured_platforms(settings, routes), routed=routes)
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        yield Installed(http, app, fake, api, database)


@asynccontextmanager
async def installed(sim: RaiaSimulator, tmp_path: Path, **overrides: Any) -> AsyncIterator[Installed]:
    fake = oauth_slack()
    async with serving(sim) as raia, serving(fake.app()) as api:
        settings = oauth_settings(api, tmp_path / "bridge.db", raia_base_url=raia, **overrides)
        async with serving_bridge(settings, fake, api) as bridge:
            yield bridge


def database_bytes(folder: Path) -> bytes:
    """Everything the database keeps on disk: the file, its write-ahead log."""
    return b"".join(path.read_bytes() for path in folder.glob("bridge.db*"))


def dm_in(team: str, text: str) -> dict[str, Any]:
    return slack.dm(text, team=team, channel=f"D{team}")


async def test_install_flow_and_two_workspaces_answered_with_their_own_tokens(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    async with installed(sim, tmp_path) as s:
        start = await s.http.get("/slack/install")
        assert start.status_code == 302
        location = urlsplit(start.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{s.api}/oauth/v2/authorize"
        query = parse_qs(location.query)
        assert query["client_id"] == [CLIENT_ID]
        assert "chat:write" in query["scope"][0].split(",")
        assert query["redirect_uri"] == ["https://bridge.example.com/slack/oauth_redirect"]
        done = await s.install("code-a")
        assert done.status_code == 200
        assert "Team AAA" in done.text
        assert (await s.install("code-b")).status_code == 200
        assert s.fake.exchanged[0]["client_id"] == CLIENT_ID
        assert s.fake.exchanged[0]["client_secret"] == CLIENT_SECRET
        assert (await s.event(dm_in("T0AAA", "from team A"), "T0AAA")).status_code == 200
        assert (await s.event(dm_in("T0BBB", "from team B"), "T0BBB")).status_code == 200
        await s.fake.wait_posts(2)
        await s.idle()
        stored = await asyncio.to_thread(database_bytes, tmp_path)
    by_channel = {post.channel: post for post in s.fake.posts}
    assert "from team A" in by_channel["DT0AAA"].body
    assert by_channel["DT0AAA"].token == TOKENS["T0AAA"]
    assert by_channel["DT0BBB"].token == TOKENS["T0BBB"]
    assert b"xoxb-" not in stored  # sealed with BRIDGE_SECRET_KEY: not readable in the database file
    assert {user["fkId"] for user in sim.users.values()} == {"slack:T0AAA:U1", "slack:T0BBB:U1"}


async def test_a_forged_or_missing_state_is_refused(sim: RaiaSimulator, tmp_path: Path) -> None:
    async with installed(sim, tmp_path) as s:
        missing = await s.http.get("/slack/oauth_redirect", params={"code": "code-a"})
        forged = await s.http.get("/slack/oauth_redirect", params={"code": "code-a", "state": "1700000000.x.forged"})
    assert missing.status_code == 400
    assert forged.status_code == 400
    assert s.fake.exchanged == []  # the code was never exchanged


async def test_an_uninstall_deletes_the_installation(sim: RaiaSimulator, tmp_path: Path) -> None:
    async with installed(sim, tmp_path) as s:
        await s.install("code-a")
        await s.event(dm_in("T0AAA", "first"), "T0AAA")
        await s.fake.wait_posts(1)
        gone = await s.event({"type": "app_uninstalled"}, "T0AAA")
        after = await s.event(dm_in("T0AAA", "still there?"), "T0AAA")
        await s.idle()
        store = waiting.runtime_of(s.app).store
        assert await store.installation("T0AAA", "") is None
    assert gone.status_code == 200
    assert after.status_code == 200  # acknowledged, not answered: the app is gone from there
    assert len(s.fake.posts) == 1


TEAM_B_TO_HR = """
[[route]]
slack = "slack"
team = "T0BBB"
agent = "hr"
"""


async def test_a_routes_file_gives_an_installed_workspace_its_own_agent(tmp_path: Path) -> None:
    """ROUTES_FILE with SLACK_CLIENT_ID: the installed app (``slack`` in routes) answers
    team B with the agent its route names and team A with the file's first agent, each
    workspace with its own token."""
    sims = two_agents()
    helpdesk, hr = sims["helpdesk"], sims["hr"]
    fake = oauth_slack()
    async with serving(helpdesk) as helpdesk_url, serving(hr) as hr_url, serving(fake.app()) as api:
        path = routes_file(tmp_path, {"helpdesk": helpdesk_url, "hr": hr_url}, TEAM_B_TO_HR)
        settings = oauth_settings(api, tmp_path / "bridge.db", raia_api_key=None, routes_file=path)
        routes = load_routes(settings, environ=AGENT_KEYS)
        assert routes.defaults == {"slack": "helpdesk"}
        async with serving_bridge(settings, fake, api, routes) as s:
            assert (await s.install("code-a")).status_code == 200
            assert (await s.install("code-b")).status_code == 200
            assert (await s.event(dm_in("T0AAA", "printer broken"), "T0AAA")).status_code == 200
            assert (await s.event(dm_in("T0BBB", "holidays left?"), "T0BBB")).status_code == 200
            await fake.wait_posts(2)
            await s.idle()
    by_channel = {post.channel: post for post in fake.posts}
    assert by_channel["DT0AAA"].token == TOKENS["T0AAA"]
    assert by_channel["DT0BBB"].token == TOKENS["T0BBB"]
    assert "printer broken" in by_channel["DT0AAA"].body
    assert "holidays left" in by_channel["DT0BBB"].body
    assert [helpdesk.user_messages(c) for c in helpdesk.conversations] == [["printer broken"]]
    assert [hr.user_messages(c) for c in hr.conversations] == [["holidays left?"]]


async def test_an_installed_workspace_follows_slack_dm_threads(sim: RaiaSimulator, tmp_path: Path) -> None:
    """SLACK_DM_THREADS=false reaches the workspaces added through "Add to Slack" too: a DM
    is answered in the conversation, not in a thread under the question."""
    async with installed(sim, tmp_path, slack_dm_threads=False) as s:
        assert (await s.install("code-a")).status_code == 200
        assert (await s.event(dm_in("T0AAA", "no thread please"), "T0AAA")).status_code == 200
        await s.fake.wait_posts(1)
        await s.idle()
    [post] = s.fake.posts
    assert post.channel == "DT0AAA"
    assert post.thread_ts is None
