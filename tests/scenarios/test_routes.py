"""ROUTES_FILE end to end: two agents (two raia simulators with their own keys) behind one
bridge, two Telegram bots with their own webhooks and secrets, routes by chat, over real
HTTP against fake Bot APIs on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.raia.simulator import RaiaSimulator
from bridge.app.loopback import bound
from bridge.app.platforms import configured_platforms
from bridge.app.routes import load_routes
from bridge.app.server import build_app
from tests import waiting
from tests.conftest import make_settings
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.routes_files import AGENT_KEYS, routes_file, two_agents

SALES_TOKEN, SALES_SECRET = "xoxb-sales-not-real", "sales-signing-secret"
MAIN_SECRET = slack.SIGNING_SECRET
SECRETS = {"help_bot": "help-secret_1", "hr_bot": "hr-secret_2"}
GROUP, ALL_GROUP, PRIVATE_GROUP = -100777, -100888, -100999


@dataclass
class Deployment:
    http: httpx.AsyncClient
    app: Starlette
    agents: dict[str, RaiaSimulator]
    bots: dict[str, tg.FakeTelegram]
    slack: slack.FakeSlack

    async def event(self, event: dict[str, Any], app: str = "main", secret: str = MAIN_SECRET) -> httpx.Response:
        body = json.dumps(slack.envelope(event)).encode()
        return await self.http.post(f"/slack/{app}/events", content=body, headers=slack.signed(body, secret=secret))

    async def post(self, bot: str, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret or SECRETS[bot]}
        return await self.http.post(f"/telegram/{bot}/webhook", content=json.dumps(update).encode(), headers=headers)

    async def idle(self) -> None:
        await waiting.idle(waiting.runtime_of(self.app))


PLATFORMS = """
[telegram.help_bot]
token_env = "TG_HELP_TOKEN"
secret_env = "TG_HELP_SECRET"
agent = "helpdesk"

[telegram.hr_bot]
token_env = "TG_HR_TOKEN"
secret_env = "TG_HR_SECRET"
agent = "hr"

[slack.main]
bot_token_env = "SLACK_MAIN_TOKEN"
signing_secret_env = "SLACK_MAIN_SECRET"
agent = "helpdesk"

[slack.sales]
bot_token_env = "SLACK_SALES_TOKEN"
signing_secret_env = "SLACK_SALES_SECRET"
agent = "hr"

[[route]]
telegram = "help_bot"
chat = {group}
agent = "hr"

[[route]]
telegram = "help_bot"
chat = {all_group}
agent = "helpdesk"
reply = "all"

[[route]]
telegram = "help_bot"
chat = {private_group}
agent = "helpdesk"
reply = "private"

[[route]]
slack = "main"
channel = "CHRHELP"
agent = "hr"
reply = "all"

[[route]]
slack = "main"
channel = "CPRIVATE"
agent = "hr"
reply = "private"
"""


@asynccontextmanager
async def deployment(tmp_path: Path, *, hr_url: str | None = None) -> AsyncIterator[Deployment]:
    """``hr_url``: where the hr agent is reached instead of its simulator (one that is down)."""
    agents = two_agents(lambda _: 0.05)
    bots = {"help_bot": tg.FakeTelegram(), "hr_bot": tg.FakeTelegram(token="654321:OTHER-bot-token")}
    slack_api = slack.FakeSlack(tokens={slack.BOT_TOKEN: slack.TEAM, SALES_TOKEN: "T0SALES"})
    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serving(sim)) for name, sim in agents.items()}
        tg_urls = {name: await stack.enter_async_context(serving(fake.app())) for name, fake in bots.items()}
        slack_url = await stack.enter_async_context(serving(slack_api.app()))
        groups = {"group": GROUP, "all_group": ALL_GROUP, "private_group": PRIVATE_GROUP}
        path = routes_file(tmp_path, urls | {"hr": hr_url or urls["hr"]}, PLATFORMS.format(**groups))
        environ = AGENT_KEYS | {
            "TG_HELP_TOKEN": tg.TOKEN,
            "TG_HELP_SECRET": SECRETS["help_bot"],
            "TG_HR_TOKEN": bots["hr_bot"].token,
            "TG_HR_SECRET": SECRETS["hr_bot"],
            "SLACK_MAIN_TOKEN": slack.BOT_TOKEN,
            "SLACK_MAIN_SECRET": slack.SIGNING_SECRET,
            "SLACK_SALES_TOKEN": SALES_TOKEN,
            "SLACK_SALES_SECRET": SALES_SECRET,
        }
        # One Bot API URL for every bot, as in production (the token picks the bot): here
        # each fake serves one bot, so each bot's fake is reached through its own URL.
        settings = make_settings(
            raia_api_key=None,
            routes_file=path,
            public_url="https://bridge.example.com",
            database_url=f"sqlite:///{tmp_path / 'bridge.db'}",
            slack_api_url=f"{slack_url}/api/",
        )
        routes = load_routes(settings, environ=environ)
        bots_at = tuple(
            replace(bot, settings=bot.settings.model_copy(update={"telegram_api_url": f"{tg_urls[bot.name]}/bot"}))
            if bot.kind == "telegram"
            else bot
            for bot in routes.bots
        )
        routes = replace(routes, bots=bots_at)
        app = build_app(settings, configured_platforms(settings, routes), routed=routes)
        base = await stack.enter_async_context(serving(app))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
        yield Deployment(http, app, agents, bots, slack_api)


def asked(agent: RaiaSimulator) -> list[str]:
    """Every question the agent was sent, in all its conversations."""
    return [text for conversation in agent.conversations for text in agent.user_messages(conversation)]


async def test_each_bot_answers_with_its_own_agent_and_follow_ups_stay(tmp_path: Path) -> None:
    """The same person writes to both bots: each bot's agent answers, in two conversations
    (the agent is part of the conversation's identity); a follow-up continues each."""
    async with deployment(tmp_path) as d:
        assert d.bots["help_bot"].webhook == {
            "url": "https://bridge.example.com/telegram/help_bot/webhook",
            "secret": SECRETS["help_bot"],
        }
        assert d.bots["hr_bot"].webhook["url"] == "https://bridge.example.com/telegram/hr_bot/webhook"
        assert (await d.post("help_bot", tg.message("printer broken"))).status_code == 200
        assert (await d.post("hr_bot", tg.message("holidays left?"))).status_code == 200
        await d.bots["help_bot"].wait_sent(1)
        await d.bots["hr_bot"].wait_sent(1)
        await d.post("help_bot", tg.message("still broken"))
        await d.post("hr_bot", tg.message("and sick days?"))
        await d.bots["help_bot"].wait_sent(2)
        await d.bots["hr_bot"].wait_sent(2)
        health = (await d.http.get("/healthz")).json()
        metrics = (await d.http.get("/metrics")).text
    helpdesk, hr = d.agents["helpdesk"], d.agents["hr"]
    assert [helpdesk.user_messages(c) for c in helpdesk.conversations] == [["printer broken", "still broken"]]
    assert [hr.user_messages(c) for c in hr.conversations] == [["holidays left?", "and sick days?"]]
    assert "printer broken" in d.bots["help_bot"].sent[0].text
    assert "holidays left" in d.bots["hr_bot"].sent[0].text
    assert health["components"]["agent helpdesk"] == "ok"
    assert health["components"]["agent hr"] == "ok"
    assert {"telegram/help_bot", "telegram/hr_bot"} <= set(health["components"])
    assert 'bridge_agent_up{agent="hr"} 1.0' in metrics
    assert 'bridge_platform_up{platform="telegram/help_bot"} 1.0' in metrics
    assert 'bridge_turns_total{outcome="answered",platform="telegram/hr_bot"} 2.0' in metrics


async def test_a_request_with_the_other_bots_secret_is_refused(tmp_path: Path) -> None:
    async with deployment(tmp_path) as d:
        refused = await d.post("hr_bot", tg.message("sneaky"), secret=SECRETS["help_bot"])
        await d.idle()
    assert refused.status_code in (401, 403)
    assert not d.agents["hr"].conversations
    assert not d.bots["hr_bot"].sent


async def test_a_route_sends_a_group_to_another_agent(tmp_path: Path) -> None:
    """help_bot's group GROUP is routed to hr; its other chats stay with helpdesk."""
    text = f"@{tg.BOT_USERNAME} where is the payslip?"
    async with deployment(tmp_path) as d:
        await d.post("help_bot", tg.message(text, chat_id=GROUP, chat_type="supergroup", entities=tg.mention(text)))
        await d.post("help_bot", tg.message("printer?"))
        await d.bots["help_bot"].wait_sent(2)
    assert [m for c in d.agents["hr"].conversations for m in d.agents["hr"].user_messages(c)] == [
        "where is the payslip?"
    ]
    assert [m for c in d.agents["helpdesk"].conversations for m in d.agents["helpdesk"].user_messages(c)] == [
        "printer?"
    ]


async def test_one_agent_down_does_not_hold_the_other(tmp_path: Path) -> None:
    """hr cannot be reached (nothing listens at its URL): helpdesk answers all the same."""
    closed = bound()
    port = closed.getsockname()[1]
    closed.close()
    async with deployment(tmp_path, hr_url=f"http://127.0.0.1:{port}") as d:
        await d.post("hr_bot", tg.message("anyone?"))
        await d.post("help_bot", tg.message("printer broken"))
        await d.bots["help_bot"].wait_sent(1)
        health = (await d.http.get("/healthz")).json()
    assert "printer broken" in d.bots["help_bot"].sent[0].text
    assert health["components"]["agent helpdesk"] == "ok"
    assert health["waiting"] >= 1  # hr's question waits for its agent


async def test_slack_channels_route_to_their_agents_with_their_policies(tmp_path: Path) -> None:
    """main's CHRHELP goes to hr with reply = all: a top-level message without a mention is
    answered in a thread under it; talk in a thread the bot did not start is left alone.
    CPRIVATE (reply = private): the answer is ephemeral in place, with a DM copy. Other
    channels: the app's own agent, on mention."""
    async with deployment(tmp_path) as d:
        top = slack.channel_message("how many holidays?", channel="CHRHELP", user="U1")
        assert (await d.event(top)).status_code == 200
        await d.event(slack.channel_message("unrelated chat", channel="CHRHELP", thread_ts="1600000000.000001"))
        mention = slack.channel_message(f"<@{slack.BOT_USER}> my salary?", channel="CPRIVATE", user="U2")
        await d.event(mention)
        await d.event(slack.channel_message(f"<@{slack.BOT_USER}> vpn down", channel="C0001"))
        await d.event(slack.channel_message("no mention here", channel="C0001"))
        await d.slack.wait_posts(3)
        await d.idle()
    by_channel = {post.channel: post for post in d.slack.posts}
    assert set(by_channel) == {"CHRHELP", "DU2", "C0001"}
    assert by_channel["CHRHELP"].thread_ts == top["ts"]  # in a thread under the question
    assert "how many holidays" in by_channel["CHRHELP"].body
    assert "my salary" in by_channel["DU2"].body  # the DM copy
    assert [(channel, user) for channel, user, _ in d.slack.ephemerals] == [("CPRIVATE", "U2")]
    assert asked(d.agents["hr"]) == ["how many holidays?", "my salary?"]
    assert asked(d.agents["helpdesk"]) == ["vpn down"]


async def test_telegram_groups_with_all_and_private(tmp_path: Path) -> None:
    """ALL_GROUP (reply = all): a message that replies to no one is a question, answered as
    a reply to it. PRIVATE_GROUP (reply = private): the answer goes to the asker's private
    chat, with one line in the group."""
    async with deployment(tmp_path) as d:
        bot = d.bots["help_bot"]
        await d.post("help_bot", tg.message("wifi password?", chat_id=ALL_GROUP, chat_type="supergroup"))
        await d.post("help_bot", tg.message("not for the bot", chat_id=PRIVATE_GROUP, chat_type="supergroup"))
        text = f"@{tg.BOT_USERNAME} my payslip?"
        await d.post(
            "help_bot", tg.message(text, chat_id=PRIVATE_GROUP, chat_type="supergroup", entities=tg.mention(text))
        )
        await bot.wait_sent(3)
        await d.idle()
    to_group = [s for s in bot.sent if s.chat_id == ALL_GROUP]
    assert len(to_group) == 1
    assert "wifi password" in to_group[0].text
    assert "reply_parameters" in to_group[0].params
    private = [s for s in bot.sent if s.chat_id == 42]
    assert len(private) == 1
    assert "my payslip" in private[0].text
    (note,) = [s for s in bot.sent if s.chat_id == PRIVATE_GROUP]
    assert note.text == "📬 I answered you in a private chat."
    assert asked(d.agents["helpdesk"]) == ["wifi password?", "my payslip?"]


async def test_two_slack_apps_each_with_its_token_secret_and_agent(tmp_path: Path) -> None:
    """The sales app answers with its own token and agent (hr); a request to its events
    signed with the main app's secret is refused."""
    async with deployment(tmp_path) as d:
        forged = await d.event(slack.dm("sneaky"), app="sales")  # signed with main's secret
        answered = await d.event(slack.dm("quote please?", channel="DSALES"), app="sales", secret=SALES_SECRET)
        await d.slack.wait_posts(1)
        await d.idle()
    assert forged.status_code == 401
    assert answered.status_code == 200
    (post,) = d.slack.posts
    assert (post.channel, post.token) == ("DSALES", SALES_TOKEN)
    assert asked(d.agents["hr"]) == ["quote please?"]
    assert asked(d.agents["helpdesk"]) == []
