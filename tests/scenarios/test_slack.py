"""Slack end to end: signed requests to the running bridge's /slack/events, a fake Slack
Web API on loopback (SLACK_API_URL) and the raia simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from starlette.applications import Starlette

from adapters.raia.demo_agent import SimAnswer
from adapters.raia.simulator import RaiaSimulator
from bridge.app.platforms import configured_platforms
from bridge.app.server import build_app
from tests import waiting
from tests.conftest import make_settings
from tests.fakes import slack
from tests.fakes.server import serving


@pytest.fixture
def fake() -> slack.FakeSlack:
    return slack.FakeSlack()


class Bridge:
    def __init__(self, http: httpx.AsyncClient, api: str = "", app: Starlette | None = None) -> None:
        self.http = http
        self.api = api  # the fake Slack's base URL
        self.app = app

    async def idle(self) -> None:
        """Until the bridge has nothing in hand: what it will post is posted."""
        assert self.app is not None
        await waiting.idle(waiting.runtime_of(self.app))

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, age: int = 0,
                    secret: str = slack.SIGNING_SECRET, timeout: float = 5) -> httpx.Response:  # fmt: skip
        body = json.dumps(slack.envelope(event, event_id=event_id)).encode()
        headers = slack.signed(body, age=age, secret=secret)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.http.post("/slack/events", content=body, headers=headers, timeout=timeout)

    async def command(self, text: str, user: str = "U1", channel: str = "C0001") -> httpx.Response:
        """``/raia text``, signed, as Slack posts a slash command."""
        fields = {"command": "/raia", "text": text, "user_id": user, "team_id": slack.TEAM, "channel_id": channel}
        body = urlencode(fields | {"response_url": "https://hooks.example/x", "trigger_id": "1"}).encode()
        headers = slack.signed(body) | {"Content-Type": "application/x-www-form-urlencoded"}
        return await self.http.post("/slack/events", content=body, headers=headers)


@asynccontextmanager
async def running(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, **overrides: Any) -> AsyncIterator[Bridge]:
    async with serving(sim) as raia, serving(fake.app()) as api:
        values: dict[str, Any] = {
            "raia_base_url": raia,
            "slack_bot_token": slack.BOT_TOKEN,
            "slack_signing_secret": slack.SIGNING_SECRET,
            "slack_api_url": f"{api}/api/",
            "database_url": f"sqlite:///{tmp_path / 'bridge.db'}",
        }
        values.update(overrides)
        settings = make_settings(**values)
        app = build_app(settings, configured_platforms(settings))
        async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
            yield Bridge(http, api, app)


async def test_dm_answered_with_sources(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """A DM is answered in the DM with mrkdwn, a Sources section and a notification fallback."""
    async with running(sim, fake, tmp_path) as bridge:
        question = slack.dm("What does it cost?")
        response = await bridge.event(question)
        assert response.status_code == 200
        await fake.wait_posts(1)
        await bridge.idle()
    (post,) = fake.posts
    assert post.channel == "D0001"
    assert post.thread_ts == question["ts"]  # SLACK_DM_THREADS: each DM message is a thread root
    assert "*What does it cost*" in post.body
    assert "【" not in post.body
    assert "<https://docs.example.com/handbook|Team handbook>" in post.body
    assert "<https://example.com/pricing|Pricing &amp; plans>" in post.body
    assert post.body.count("handbook.pdf") == 1
    assert post.text  # fallback for notifications
    # Not an agent app (no sessions): "is thinking…" in the DM's thread instead of the hourglass,
    # cleared by Slack when the answer is posted there (no call of the bridge's own).
    assert [(m, p["status"]) for m, p in fake.assistant] == [("assistant.threads.setStatus", "is thinking…")]
    assert fake.reactions == []
    (user,) = sim.users.values()
    assert (user["fkId"], user["firstName"], user["lastName"]) == ("slack:T0001:U1", "Ann", "Lee")
    assert user["metadata"]["customData"]["team"] == "T0001"


async def test_mention_answered_in_thread_and_follow_up_without_mention(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """A channel mention is answered in a thread under it; the same person's follow-up there needs no mention."""
    async with running(sim, fake, tmp_path) as bridge:
        mention = slack.channel_message(f"<@{slack.BOT_USER}> what is the refund policy?", kind="app_mention")
        await bridge.event(mention)
        await fake.wait_posts(1)
        await bridge.event(slack.channel_message("and for annual plans?", thread_ts=mention["ts"]))
        await fake.wait_posts(2)
        await bridge.event(slack.channel_message("me too?", user="U2", thread_ts=mention["ts"]))  # not theirs
        await bridge.event(slack.channel_message("random chatter"))
        await bridge.idle()
    assert [p.thread_ts for p in fake.posts] == [mention["ts"], mention["ts"]]
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["what is the refund policy?", "and for annual plans?"]


async def test_retries_and_double_delivery_answered_once(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """Slack retries (same event_id) and the app_mention + message pair for one post give one answer."""
    async with running(sim, fake, tmp_path) as bridge:
        post = slack.channel_message(f"hey <@{slack.BOT_USER}> once please", kind="app_mention")
        assert (await bridge.event(post, event_id="EvSAME")).status_code == 200
        assert (await bridge.event(post, event_id="EvSAME", retry=1)).status_code == 200
        twin = dict(post, type="message", channel_type="channel")
        assert (await bridge.event(twin, event_id="EvTWIN")).status_code == 200
        await fake.wait_posts(1)
        await bridge.idle()
    assert len(fake.posts) == 1
    assert sim.count("POST", "/messages/async") == 1
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["hey once please"]


async def test_bots_edits_and_noise_ignored_with_200(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """Bot, self, edited, deleted and join messages, and unknown events, get 200 and no answer."""
    async with running(sim, fake, tmp_path) as bridge:
        for event in (
            slack.dm("from a bot", bot_id="B999"),
            slack.dm("from me", user=slack.BOT_USER),
            slack.dm("edited", subtype="message_changed"),
            slack.dm("gone", subtype="message_deleted"),
            slack.channel_message("joined", subtype="channel_join"),
            {"type": "reaction_added", "user": "U1", "reaction": "tada", "item": {}},
        ):
            assert (await bridge.event(event)).status_code == 200
        await bridge.idle()
    assert fake.posts == []
    assert sim.count("POST", "/messages/async") == 0


async def test_bad_signature_and_stale_timestamp_refused(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """Forged or replayed requests get 401 and do nothing."""
    async with running(sim, fake, tmp_path) as bridge:
        assert (await bridge.event(slack.dm("forged"), secret="not-the-secret")).status_code == 401
        assert (await bridge.event(slack.dm("replayed"), age=600)).status_code == 401
        await bridge.idle()
    assert fake.posts == []
    assert sim.count("POST", "/messages/async") == 0


async def test_url_verification(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """Slack's url_verification challenge is answered."""
    async with running(sim, fake, tmp_path) as bridge:
        body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"}).encode()
        response = await bridge.http.post("/slack/events", content=body, headers=slack.signed(body))
    assert response.status_code == 200
    assert "abc123" in response.text


async def test_slash_command_and_dm_words(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """/raia help and /raia reset answer ephemerally; "reset" alone in a DM works too; none reach raia."""
    async with running(sim, fake, tmp_path) as bridge:
        help_response = await bridge.command("help")
        assert help_response.status_code == 200
        assert help_response.json()["response_type"] == "ephemeral"
        assert "/raia reset" in help_response.json()["text"]
        await bridge.event(slack.dm("first question"))
        await fake.wait_posts(1)
        reset = await bridge.command("reset")
        assert "new conversation" in reset.json()["text"]
        await bridge.event(slack.dm("second question"))
        await fake.wait_posts(2)
        await bridge.event(slack.dm("reset"))
        await fake.wait_posts(3)
        assert "new conversation" in fake.posts[2].text
    assert len(sim.conversations) == 2
    assert sorted(m for c in sim.conversations for m in sim.user_messages(c)) == ["first question", "second question"]


async def test_hostile_characters_escaped(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """&, <, >, *, code fences and fake mentions in the answer are escaped and never ping anyone."""
    answer = "Use <your-name> & AT&T **bold** <@U999> <!channel>\n\n```\nif a < b && c > d: pass\n```"
    sim.answer = lambda _: SimAnswer(answer)
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("tricky"))
        await fake.wait_posts(1)
    body = fake.posts[0].body
    assert "&lt;your-name&gt; &amp; AT&amp;T *bold* &lt;@U999&gt; &lt;!channel&gt;" in body
    assert "if a &lt; b &amp;&amp; c &gt; d: pass" in body
    assert "<@U999>" not in body + fake.posts[0].text
    assert "<!channel>" not in body + fake.posts[0].text


async def test_long_answer_arrives_whole_within_limits(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """A 60,000-character answer arrives complete and in order, every message within Slack's limits."""
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum dolor " * 33 for i in range(100)]
    answer = "\n\n".join(paragraphs)
    assert len(answer) >= 60_000
    sim.answer = lambda _: SimAnswer(answer)
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("long"))
        async with asyncio.timeout(30):
            while not fake.posts or "Paragraph 99" not in fake.posts[-1].body:
                await asyncio.sleep(0.05)
    assert all(len(p.text) <= 4000 and len(p.blocks) <= 50 for p in fake.posts)
    assert all(len(b["text"]["text"]) <= 3000 for p in fake.posts for b in p.blocks if b["type"] == "section")
    joined = "\n\n".join(p.body for p in fake.posts)
    positions = [joined.index(f"Paragraph {i}:") for i in range(100)]
    assert positions == sorted(positions)
    assert joined.count("lorem ipsum dolor") == 3300


async def test_rate_limited_post_then_success(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """A 429 on chat.postMessage is retried after Retry-After and the answer arrives once."""
    fake.fail("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "1"})
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("busy?"))
        await fake.wait_posts(1, timeout=15)
        await bridge.idle()
    assert len(fake.posts) == 1
    assert fake.calls.count("chat.postMessage") == 2


async def test_not_in_channel_is_given_up(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A permanent Slack error is logged with ids and not retried forever."""
    fake.fail("chat.postMessage", "not_in_channel")
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}> hi", kind="app_mention"))
        async with asyncio.timeout(10):
            while not any("undeliverable" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.05)
    assert fake.calls.count("chat.postMessage") == 1
    line = next(r.getMessage() for r in caplog.records if "undeliverable" in r.getMessage())
    assert "not_in_channel" in line
    assert "channel=C0001" in line


async def test_pending_question_survives_restart(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """A question waiting for raia when the bridge stops is answered once after restart."""
    sim.delay = lambda _: 1.0
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("across a restart"))
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.01)
    assert fake.posts == []
    async with running(sim, fake, tmp_path) as bridge:
        await fake.wait_posts(1)
        await bridge.idle()
    assert len(fake.posts) == 1
    assert sim.count("POST", "/messages/async") == 1


async def test_missing_users_read_scope_falls_back(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """Without users:read the person is still answered; raia gets the Slack id as name."""
    fake.fail("users.info", "missing_scope")
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("hello", user="U2"))
        await fake.wait_posts(1)
    (user,) = sim.users.values()
    assert (user["firstName"], user["lastName"]) == ("U2", "(Slack)")


async def test_allowlists(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """Outside the allowlists a DM gets a polite refusal and a channel mention is ignored."""
    async with running(sim, fake, tmp_path, slack_allowed_users="U1", slack_allowed_channels="C0001") as bridge:
        await bridge.event(slack.dm("let me in", user="U2"))
        await fake.wait_posts(1)
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}> hi", kind="app_mention", channel="C0999"))
        await bridge.event(slack.dm("I am allowed"))
        await fake.wait_posts(2)
        await bridge.idle()
    assert "not available to you" in fake.posts[0].text
    assert len(fake.posts) == 2
    assert "I am allowed" in fake.posts[1].body


async def test_only_channels_allowed_refuses_dms(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """With only SLACK_ALLOWED_CHANNELS set, a DM gets the polite refusal (the agent is never
    asked); a mention in a listed channel is answered."""
    async with running(sim, fake, tmp_path, slack_allowed_channels="C0001") as bridge:
        await bridge.event(slack.dm("let me in"))
        await fake.wait_posts(1)
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}> channel question", kind="app_mention"))
        await fake.wait_posts(2)
    assert "not available to you" in fake.posts[0].text
    assert "channel question" in fake.posts[1].body
    assert sim.count("POST", "/messages/async") == 1


async def test_socket_mode_end_to_end(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """With SLACK_APP_TOKEN the bridge connects over a WebSocket, acks the envelope and answers; no HTTP route."""
    overrides = {"slack_app_token": slack.APP_TOKEN, "slack_signing_secret": None}
    async with running(sim, fake, tmp_path, **overrides) as bridge:
        assert (await bridge.http.post("/slack/events", content=b"{}")).status_code == 404
        await fake.push(slack.envelope(slack.dm("over the socket")), envelope_id="env-1")
        await fake.wait_posts(1)
        async with asyncio.timeout(5):
            while not fake.acks:
                await asyncio.sleep(0.01)
    assert fake.acks[0]["envelope_id"] == "env-1"
    assert "over the socket" in fake.posts[0].body
    assert fake.sockets == []  # closed at shutdown


def _manifest(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((Path(__file__).resolve().parents[2] / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_asks_for_exactly_the_needed_scopes() -> None:
    """slack-manifest.yml requests the scopes the bridge uses (and `check` compares against)."""
    from adapters.slack.platform import NEEDED_SCOPES, OPTIONAL_SCOPES

    assert set(_manifest("slack-manifest.yml")["oauth_config"]["scopes"]["bot"]) == NEEDED_SCOPES | OPTIONAL_SCOPES


def test_socket_mode_manifest_is_the_same_app_without_urls() -> None:
    """slack-manifest-socket.yml (the laptop path, no public URL) asks for the same scopes,
    events and command as the HTTP manifest, with Socket Mode on and no URL to fill in."""
    http, socket = _manifest("slack-manifest.yml"), _manifest("slack-manifest-socket.yml")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    assert "YOUR-PUBLIC-URL" not in (Path(__file__).resolve().parents[2] / "slack-manifest-socket.yml").read_text()

    def without_urls(manifest: dict[str, Any]) -> dict[str, Any]:
        settings = manifest["settings"]
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        settings.pop("socket_mode_enabled")
        for command in manifest["features"]["slash_commands"]:
            command.pop("url", None)
        return manifest

    assert without_urls(socket) == without_urls(http)


async def test_assistant_threads_get_prompts_status_and_a_title(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """With Slack's Agents & AI Apps feature: opening the pane offers the configured prompts,
    the first question titles the thread, "is thinking…" replaces the hourglass."""
    async with running(sim, fake, tmp_path, slack_suggested_prompts="What is new?; How do refunds work?") as bridge:
        thread = {"user_id": "U1", "channel_id": "D0001", "thread_ts": "1700000000.000100"}
        started = {"type": "assistant_thread_started", "assistant_thread": thread}
        assert (await bridge.event(started)).status_code == 200
        question = slack.dm("How do refunds work for annual plans?")
        question["thread_ts"] = "1700000000.000100"
        assert (await bridge.event(question)).status_code == 200
        await fake.wait_posts(1)
    calls = [(method, params) for method, params in fake.assistant]
    methods = [m for m, _ in calls]
    assert methods[0] == "assistant.threads.setSuggestedPrompts"
    prompts = calls[0][1]["prompts"]
    prompts = json.loads(prompts) if isinstance(prompts, str) else prompts
    assert [p["message"] for p in prompts] == ["What is new?", "How do refunds work?"]
    assert ("assistant.threads.setTitle", "How do refunds work for annual plans?") in [
        (m, p.get("title")) for m, p in calls
    ]
    statuses = [p["status"] for m, p in calls if m == "assistant.threads.setStatus"]
    assert statuses[0] == "is thinking…"
    assert fake.reactions == []  # the status replaced the hourglass
    assert fake.posts[0].thread_ts == "1700000000.000100"


async def test_without_the_assistant_feature_dm_threads_get_the_hourglass(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    fake.assistant_error = "missing_scope"
    async with running(sim, fake, tmp_path) as bridge:
        question = slack.dm("in a thread")
        question["thread_ts"] = "1700000000.000200"
        await bridge.event(question)
        await fake.wait_posts(1)
    assert [r[0] for r in fake.reactions] == ["reactions.add", "reactions.remove"]
