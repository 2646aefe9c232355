"""Telegram end to end: real webhook requests to the running bridge, a fake Bot API on
loopback (TELEGRAM_API_URL) and the raia simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp

from adapters.raia.demo_agent import SimAnswer
from adapters.raia.simulator import RaiaSimulator
from bridge.app.platforms import configured_platforms
from bridge.app.server import build_app
from tests import waiting
from tests.conftest import make_settings
from tests.fakes import telegram as tg
from tests.fakes.server import serving

SECRET = "webhook-secret_123"


@pytest.fixture
def fake() -> tg.FakeTelegram:
    return tg.FakeTelegram()


class Bridge:
    def __init__(self, http: httpx.AsyncClient, fake: tg.FakeTelegram, app: Starlette) -> None:
        self.http, self.fake, self.app = http, fake, app

    async def idle(self) -> None:
        """Until the bridge has nothing in hand: what it will post is posted."""
        await waiting.idle(waiting.runtime_of(self.app))

    async def post(self, update: dict[str, Any], secret: str | None = SECRET, timeout: float = 5) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        # json.dumps escapes what UTF-8 cannot carry (lone surrogates), as Telegram does.
        content = json.dumps(update).encode()
        return await self.http.post("/telegram/webhook", content=content, headers=headers, timeout=timeout)


@asynccontextmanager
async def running(
    sim: RaiaSimulator,
    fake: tg.FakeTelegram,
    tmp_path: Path,
    *,
    raia: ASGIApp | None = None,  # served in front of ``sim`` (e.g. a Tamper)
    **overrides: Any,
) -> AsyncIterator[Bridge]:
    async with serving(raia or sim) as raia_base, serving(fake.app()) as tg_base:
        values: dict[str, Any] = {
            "raia_base_url": raia_base,
            "telegram_bot_token": tg.TOKEN,
            "telegram_api_url": f"{tg_base}/bot",
            "public_url": "https://bridge.example.com",
            "telegram_webhook_secret": SECRET,
            "database_url": f"sqlite:///{tmp_path / 'bridge.db'}",
        }
        values.update(overrides)
        settings = make_settings(**values)
        app = build_app(settings, configured_platforms(settings))
        async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
            yield Bridge(http, fake, app)


async def test_private_question_answered_with_sources(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """A private message is answered in that chat, formatted with entities and a Sources list."""
    async with running(sim, fake, tmp_path) as bridge:
        assert fake.webhook == {"url": "https://bridge.example.com/telegram/webhook", "secret": SECRET}
        assert [c["command"] for c in fake.commands] == ["start", "help", "reset", "new", "stop", "human"]  # HANDOFF on
        assert sorted(fake.menus) == ["", "de", "es", "fr", "pt"]  # a menu per language the bridge speaks
        assert fake.menus["de"][2] == {"command": "reset", "description": "Ein neues Gespräch beginnen"}
        response = await bridge.post(tg.message("What does it cost?"))
        assert response.status_code == 200
        await fake.wait_sent(1)
    (sent,) = fake.sent
    assert sent.chat_id == 42
    assert "What does it cost" in sent.text
    assert "Sources" in sent.text
    assert "【" not in sent.text
    links = [e for e in sent.entities if e["type"] == "text_link"]
    assert {e["url"] for e in links} == {"https://docs.example.com/handbook", "https://example.com/pricing"}
    assert sent.text.count("handbook.pdf") == 1
    assert "reply_parameters" not in sent.params  # private chats are not threaded with quotes
    assert (42, "typing") in fake.actions
    (raia_user,) = sim.users.values()
    assert raia_user["fkId"] == "telegram:42"
    assert (raia_user["firstName"], raia_user["lastName"]) == ("Ann", "Lee")
    assert raia_user["metadata"]["customData"]["username"] == "ann"


async def test_follow_up_reuses_the_conversation_and_users_are_separate(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """A person's second question continues their conversation; another person gets their own."""
    bob = tg.user(7, "Bob", None, None)
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("first"))
        await fake.wait_sent(1)
        await bridge.post(tg.message("second"))
        await bridge.post(tg.message("from bob", sender=bob))
        await fake.wait_sent(3)
    assert len(sim.users) == 2
    assert len(sim.conversations) == 2
    ann_conversation = next(c for c in sim.conversations if "first" in sim.user_messages(c))
    assert sim.user_messages(ann_conversation) == ["first", "second"]
    bob_user = next(u for u in sim.users.values() if u["fkId"] == "telegram:7")
    assert bob_user["lastName"] == "(Telegram)"


async def test_group_needs_a_mention_or_a_reply(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """In groups only mentions and replies to the bot are answered, with the mention removed."""
    group = -100123
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("just chatting", chat_id=group, chat_type="supergroup"))
        text = f"@{tg.BOT_USERNAME} what is the refund policy?"
        mentioned = tg.message(text, chat_id=group, chat_type="supergroup", entities=tg.mention(text))
        await bridge.post(mentioned)
        await fake.wait_sent(1)
        await bridge.post(tg.message("and for annual plans?", chat_id=group, chat_type="supergroup", reply_to_bot=True))
        await fake.wait_sent(2)
        other = "@someone_else hi"
        await bridge.post(
            tg.message(other, chat_id=group, chat_type="supergroup", entities=tg.mention(other, "someone_else"))
        )
        await bridge.post(tg.message("/help@other_bot", chat_id=group, chat_type="supergroup"))
        await bridge.idle()
    (conversation,) = sim.conversations
    assert sim.user_messages(conversation) == ["what is the refund policy?", "and for annual plans?"]
    assert len(fake.sent) == 2
    assert fake.sent[0].params["reply_parameters"]["message_id"] == mentioned["message"]["message_id"]


async def test_forum_topic_answers_in_the_topic(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """A question in a forum topic is answered in the same topic."""
    text = f"@{tg.BOT_USERNAME} hello topic"
    update = tg.message(text, chat_id=-100555, chat_type="supergroup", entities=tg.mention(text),
                        extra={"message_thread_id": 77, "is_topic_message": True})  # fmt: skip
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(update)
        await fake.wait_sent(1)
    assert int(fake.sent[0].params["message_thread_id"]) == 77


async def test_commands_start_help_reset(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """/start greets with the agent's name, /help explains, /reset starts a new conversation; none reach raia."""
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("/start"))
        await fake.wait_sent(1)
        assert "Ada (demo agent)" in fake.sent[0].text
        assert "Hi Ann" in fake.sent[0].text
        await bridge.post(tg.message("/help"))
        await fake.wait_sent(2)
        assert "/reset" in fake.sent[1].text
        await bridge.post(tg.message("one"))
        await fake.wait_sent(3)
        await bridge.post(tg.message("/new"))
        await fake.wait_sent(4)
        assert "new conversation" in fake.sent[3].text
        await bridge.post(tg.message("two"))
        await fake.wait_sent(5)
    assert len(sim.conversations) == 2
    assert sorted(m for c in sim.conversations for m in sim.user_messages(c)) == ["one", "two"]


async def test_webhook_secret_is_required(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """A missing secret gets 401, a wrong one 403, and nothing happens."""
    async with running(sim, fake, tmp_path) as bridge:
        assert (await bridge.post(tg.message("hi"), secret=None)).status_code == 401
        assert (await bridge.post(tg.message("hi"), secret="wrong")).status_code == 403
        await bridge.idle()
    assert fake.sent == []
    assert sim.calls == [("GET", "/external/agents/by-api-key")]


async def test_duplicate_malformed_and_odd_updates(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """The same update twice is answered once; junk gets 400; edits, stickers, unknown kinds are handled politely."""
    async with running(sim, fake, tmp_path) as bridge:
        update = tg.message("only once")
        assert (await bridge.post(update)).status_code == 200
        assert (await bridge.post(update)).status_code == 200
        await fake.wait_sent(1)
        bad = await bridge.http.post(
            "/telegram/webhook", content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert bad.status_code == 400
        assert (await bridge.post({"no": "update_id"})).status_code == 400
        assert (await bridge.post({"update_id": 999_001, "kind_from_the_future": {"x": 1}})).status_code == 200
        assert (await bridge.post(tg.message("edited", kind="edited_message"))).status_code == 200
        sticker = tg.message(None, extra={"sticker": {"file_id": "x", "file_unique_id": "y", "width": 1,
                                                      "height": 1, "is_animated": False, "is_video": False,
                                                      "type": "regular"}})  # fmt: skip
        assert (await bridge.post(sticker)).status_code == 200
        await fake.wait_sent(2)
        await bridge.idle()
    assert len(fake.sent) == 2
    assert "only read text" in fake.sent[1].text
    assert sim.count("POST", "/messages/async") == 1


async def test_flood_control_then_success(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """A 429 with retry_after on sendMessage is waited out and the answer still arrives once."""
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("busy?"))
        await fake.wait_sent(1, timeout=15)
        await bridge.idle()
    assert len(fake.sent) == 1
    assert fake.calls.count("sendMessage") == 2


async def test_hostile_characters_arrive_literally(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """<, &, *, _, [ and code fences in the answer are shown as written and never rejected."""
    answer = "Use <your-name> & a_b_c * 2 [not a link] (x)\n\n```\nif a < b && c > d: print('*_*')\n```\nAT&T <b>"
    sim.answer = lambda _: SimAnswer(answer, urls=[{"url": "https://e.com/?a=1&b=2", "title": "Q&A [faq] *new*"}])
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("tricky"))
        await fake.wait_sent(1)
    text = fake.sent[0].text
    for piece in (
        "<your-name>",
        "& a_b_c * 2",
        "[not a link]",
        "if a < b && c > d: print('*_*')",
        "AT&T <b>",
        "Q&A [faq] *new*",
    ):
        assert piece in text
    assert any(e["type"] == "pre" for e in fake.sent[0].entities)


async def test_formatting_rejection_falls_back_to_plain_text(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """If Telegram refuses the entities, the same words are sent without formatting."""
    fake.fail("sendMessage", 400, "Bad Request: can't parse entities: unsupported entity")
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("format?"))
        await fake.wait_sent(1)
    assert fake.sent[0].entities == []
    assert "format" in fake.sent[0].text


async def test_long_answer_arrives_whole_in_parts(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """A 10,000-character answer arrives complete, in order, in parts of at most 4,096 UTF-16 units."""
    paragraphs = [f"Paragraph {i}: " + ("word " * 40).strip() + " é😀" for i in range(50)]
    answer = "\n\n".join(paragraphs)
    assert len(answer) > 10_000
    sim.answer = lambda _: SimAnswer(answer)
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("long please"))
        async with asyncio.timeout(20):
            while not fake.sent or "Paragraph 49" not in fake.sent[-1].text:
                await asyncio.sleep(0.05)
    assert len(fake.sent) >= 3
    assert all(len(s.text.encode("utf-16-le")) // 2 <= 4096 for s in fake.sent)
    joined = "\n".join(s.text for s in fake.sent)
    positions = [joined.index(f"Paragraph {i}:") for i in range(50)]
    assert positions == sorted(positions)
    assert joined.count("😀") == 50


async def test_pending_question_survives_restart(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """A question waiting for raia when the bridge stops is answered once after it restarts."""
    sim.delay = lambda _: 1.0
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("across a restart"))
        async with asyncio.timeout(5):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.01)
    assert fake.sent == []
    async with running(sim, fake, tmp_path) as bridge:
        await fake.wait_sent(1)
        await bridge.idle()
    assert len(fake.sent) == 1
    assert sim.count("POST", "/messages/async") == 1


async def test_long_polling_end_to_end(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """Without PUBLIC_URL the bridge long-polls getUpdates and answers what it gets."""
    async with running(sim, fake, tmp_path, public_url=None, telegram_webhook_secret=None) as bridge:
        assert (await bridge.http.post("/telegram/webhook", json={})).status_code == 404
        fake.push_update(tg.message("polled question"))
        await fake.wait_sent(1)
    assert "polled question" in fake.sent[0].text
    assert "getUpdates" in fake.calls
    assert "setWebhook" not in fake.calls


async def test_allowlist_refuses_politely_in_private_and_silently_in_groups(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """Only listed users are answered; others get a refusal in private and silence in groups."""
    async with running(sim, fake, tmp_path, telegram_allowed_users="@ann, 99") as bridge:
        await bridge.post(tg.message("let me in", sender=tg.user(5, "Eve", None, "eve")))
        await fake.wait_sent(1)
        text = f"@{tg.BOT_USERNAME} hi"
        await bridge.post(tg.message(text, sender=tg.user(5, "Eve", None, "eve"), chat_id=-1, chat_type="group",
                                     entities=tg.mention(text)))  # fmt: skip
        await bridge.post(tg.message("I am allowed"))
        await fake.wait_sent(2)
        await bridge.idle()
    assert "not available to you" in fake.sent[0].text
    assert len(fake.sent) == 2
    assert "I am allowed" in fake.sent[1].text


async def test_migrated_group_is_followed_and_blocked_bot_not_retried(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A group upgraded to a supergroup is followed to its new id; a user who blocked the bot is given up at once."""
    text = f"@{tg.BOT_USERNAME} still there?"
    fake.fail(
        "sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": -100777}
    )
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message(text, chat_id=-42, chat_type="group", entities=tg.mention(text)))
        await fake.wait_sent(1)
        assert fake.sent[0].chat_id == -100777
        fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        await bridge.post(tg.message("hello?", sender=tg.user(8, "Max", None, None)))
        async with asyncio.timeout(10):
            while not any("undeliverable" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.05)
    assert fake.calls.count("sendMessage") == 3  # migrated (failed + resent), blocked (once, no retries)


async def test_the_bot_description_names_the_agent_once(
    sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path
) -> None:
    """After start the bot's description and short description name the agent in every
    language the bridge speaks; a restart finds them set and writes nothing."""
    async with running(sim, fake, tmp_path):
        async with asyncio.timeout(5):
            while len(fake.short_descriptions) < 5:
                await asyncio.sleep(0.05)
    assert fake.descriptions[""].startswith("I'm Ada (demo agent). Ask me anything")
    assert fake.descriptions["de"].startswith("Ich bin Ada (demo agent).")
    assert fake.short_descriptions["fr"] == "Ada (demo agent) : pose-moi tes questions."
    writes = fake.description_writes
    assert writes == 10
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.idle()  # the greeting (which writes descriptions) is done
    assert fake.description_writes == writes


async def test_stop_cancels_the_pending_question(sim: RaiaSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> None:
    """/stop while the agent thinks: one line in the person's language, and the answer that
    comes later is never sent; /stop with nothing waiting says so."""
    sim.delay = lambda text: 3600.0 if text.startswith("slow") else 0.01
    async with running(sim, fake, tmp_path) as bridge:
        assert {"command": "stop", "description": "Nicht mehr auf die Antwort auf deine Frage warten"} in fake.menus[
            "de"
        ]
        await bridge.post(tg.message("slow question"))
        await waiting.until(lambda: len(sim.questions) == 1, what="the question at raia")
        german = tg.user()
        german["language_code"] = "de"
        await bridge.post(tg.message("/stop", sender=german))
        await fake.wait_sent(1)
        assert fake.sent[0].text == "Gestoppt — auf diese Frage antworte ich nicht mehr."
        for question in sim.questions.values():
            question["ready_at"] = 0.0  # the agent's answer is ready now: it must never be sent
        await bridge.post(tg.message("/stop"))
        await fake.wait_sent(2)
        assert fake.sent[1].text == "There is no question waiting for an answer."
        await bridge.post(tg.message("next question"))
        await fake.wait_sent(3)
        await bridge.idle()
    assert len(fake.sent) == 3
    assert "next question" in fake.sent[2].text
