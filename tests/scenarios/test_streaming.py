"""Streamed answers (the slug backend's SSE) shown while they are written, end to end:
real webhooks into the bridge, the slug simulator and fake Slack/Telegram on loopback."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.live import CUT_OFF
from adapters.slug.simulator import SlugSimulator
from bridge import texts
from bridge.app.platforms import configured_platforms
from bridge.app.server import build_app
from store.sqlite import SqliteStore
from tests import waiting
from tests.conftest import make_settings
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving

SECRET = "stream-secret"
WORDS = 60


def _answer(words: int) -> Any:
    def answer(question: str) -> str:
        return f"**Answer** to {question}: " + " ".join(f"word{i}" for i in range(words))

    return answer


class Bridge(httpx.AsyncClient):
    """A client of the served bridge, which knows when the bridge is idle."""

    def __init__(self, app: Starlette, **client: Any) -> None:
        super().__init__(**client)
        self.app = app

    async def idle(self) -> None:
        """Until the bridge has nothing in hand: what it will post is posted."""
        await waiting.idle(waiting.runtime_of(self.app))


@asynccontextmanager
async def bridge(sim: SlugSimulator, tmp_path: Path, **platform: Any) -> AsyncIterator[Bridge]:
    async with serving(sim.app()) as slug_base:
        settings = make_settings(
            agent_backend="slug", raia_api_key=None, slug_api_key=sim.api_key, slug_agent="support-agent",
            slug_api_url=f"{slug_base}/v1/api", database_url=f"sqlite:///{tmp_path / 'b.db'}", raia_poll_timeout=60,
            **platform,
        )  # fmt: skip
        app = build_app(settings, configured_platforms(settings))
        async with serving(app) as base, Bridge(app, base_url=base, timeout=10) as http:
            yield http


@asynccontextmanager
async def telegram_bridge(sim: SlugSimulator, fake: tg.FakeTelegram, tmp_path: Path) -> AsyncIterator[Bridge]:
    async with (
        serving(fake.app()) as api,
        bridge(sim, tmp_path, telegram_bot_token=tg.TOKEN, telegram_api_url=f"{api}/bot",
               public_url="https://bridge.example.com", telegram_webhook_secret=SECRET) as http,
    ):  # fmt: skip
        yield http


async def _ask_telegram(http: httpx.AsyncClient, text: str) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert (await http.post("/telegram/webhook", json=tg.message(text), headers=headers)).status_code == 200


def _spacing(times: list[float]) -> float:
    return min((b - a for a, b in itertools.pairwise(times)), default=99.0)


async def test_telegram_private_chat_streams_into_a_draft_then_sends_once(tmp_path: Path) -> None:
    """The answer grows in a draft (in order, at most one update a second), then is sent as
    one formatted message: no edits, nothing sent twice."""
    sim = SlugSimulator(delay=lambda _: 0.1, chunk_every=0.05, answer=_answer(WORDS))
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as http:
        await _ask_telegram(http, "streaming?")
        await fake.wait_sent(1, timeout=20)
    drafts = [d for d in fake.drafts if d[1] == 42]
    assert len(drafts) >= 2
    lengths = [len(d[3]) for d in drafts]
    assert lengths == sorted(lengths)  # it only grows
    assert _spacing([d[0] for d in drafts]) >= 0.75  # sent >= 1 s apart; arrival jitter on a busy machine
    assert len({d[2] for d in drafts}) == 1  # one draft, animated
    (sent,) = fake.sent
    assert sent.text.startswith("Answer to streaming?:")
    assert f"word{WORDS - 1}" in sent.text
    assert any(e["type"] == "bold" for e in sent.entities)
    assert drafts[-1][3] in sent.text or sent.text.startswith(drafts[-1][3][:20])
    assert fake.edits == []


async def test_telegram_without_drafts_edits_one_message_in_place(tmp_path: Path) -> None:
    """An older Bot API (no sendMessageDraft): one message, edited at most once a second,
    ends as the formatted answer; the chat shows it once."""
    sim = SlugSimulator(delay=lambda _: 0.1, chunk_every=0.05, answer=_answer(WORDS))
    fake = tg.FakeTelegram(drafts_supported=False)
    async with telegram_bridge(sim, fake, tmp_path) as http:
        await _ask_telegram(http, "edits?")

        def formatted_in_full() -> bool:
            view = fake.chat_view(42)
            return bool(view) and f"word{WORDS - 1}" in view[-1].text and bool(view[-1].entities)

        await waiting.until(formatted_in_full, every=0.05)
    (final,) = fake.chat_view(42)
    assert final.text.startswith("Answer to edits?:")
    assert any(e["type"] == "bold" for e in final.entities)
    assert len(fake.sent) == 1
    assert len(fake.edits) >= 2
    assert _spacing([e[0] for e in fake.edits[:-1]]) >= 0.75  # previews paced (the final edit is not)


async def test_a_long_stream_arrives_whole_across_messages(tmp_path: Path) -> None:
    """A 20,000-character answer: Telegram gets it in parts within its limit, every word
    once and in order."""
    sim = SlugSimulator(delay=lambda _: 0.05, chunk_every=0.0005, answer=_answer(3000))
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as http:
        await _ask_telegram(http, "long")
        await fake.wait_sent(5, timeout=30)
        await http.idle()
    text = "".join(s.text for s in fake.sent)
    assert len(text) > 20_000
    assert all(len(s.text) <= 4096 for s in fake.sent)
    numbers = [int(n) for n in re.findall(r"word(\d+)", text)]
    assert numbers == list(range(3000))


async def test_a_broken_stream_ends_with_what_arrived_and_a_notice(tmp_path: Path) -> None:
    """The stream drops midway: what arrived stays, marked as cut off, followed by one
    notice to ask again; the question is not asked a second time."""
    sim = SlugSimulator(delay=lambda _: 0.05, chunk_every=0.1, answer=_answer(WORDS))
    sim.break_stream_after = 25
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as http:
        await _ask_telegram(http, "fragile")
        await fake.wait_sent(2, timeout=20)
        await http.idle()
    cut, notice = fake.sent
    assert cut.text.startswith("Answer to fragile:")
    assert cut.text.rstrip().endswith(CUT_OFF)
    assert "word21\n" in cut.text  # everything that arrived (25 chunks), not only the last paced draft
    assert "word22" not in cut.text
    assert notice.text == texts.INTERRUPTED
    assert sim.asked() == [["fragile"]]


async def test_slack_updates_one_message_and_rolls_over(tmp_path: Path) -> None:
    """Slack: the answer is posted once and updated at most once a second while it grows;
    a 20,000-character answer rolls over into a second message; the final messages carry
    the formatted answer (mrkdwn bold), every word once, in order."""
    sim = SlugSimulator(delay=lambda _: 0.05, chunk_every=0.001, answer=_answer(3000))
    fake = slack.FakeSlack()
    async with (
        serving(fake.app()) as api,
        bridge(sim, tmp_path, slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
               slack_api_url=f"{api}/api/") as http,
    ):  # fmt: skip
        event = slack.dm("long one", user="U1")
        raw = json.dumps(slack.envelope(event)).encode()
        assert (await http.post("/slack/events", content=raw, headers=slack.signed(raw))).status_code == 200

        def whole() -> bool:
            bodies = [p.body for p in fake.posts]
            return bool(bodies) and "word2999" in bodies[-1] and "*Answer*" in bodies[0]

        await waiting.until(whole, timeout=30, every=0.05)
        await http.idle()
    bodies = [p.body for p in fake.posts]
    assert len(bodies) >= 2
    assert all(len(b) <= 12_000 + 100 for b in bodies)  # within a message's block text
    assert bodies[0].startswith("**Answer** to long one:")  # a markdown block: Slack renders it
    numbers = [int(n) for n in re.findall(r"word(\d+)", "\n".join(bodies))]
    assert numbers == list(range(3000))
    # Paced: at most one round of updates a second while it streams, plus the final edits.
    updates = [u[0] for u in fake.updates]
    streamed = max(updates) - min(updates) if updates else 0.0
    assert len(updates) <= (int(streamed) + 2) * len(bodies)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)


async def test_slack_broken_stream_keeps_what_arrived_marked_cut_off(tmp_path: Path) -> None:
    """Slack: the message being updated ends with what arrived and the cut-off mark (never a
    dangling preview), then one notice to ask again."""
    sim = SlugSimulator(delay=lambda _: 0.05, chunk_every=0.1, answer=_answer(WORDS))
    sim.break_stream_after = 25
    fake = slack.FakeSlack()
    async with (
        serving(fake.app()) as api,
        bridge(sim, tmp_path, slack_bot_token=slack.BOT_TOKEN, slack_signing_secret=slack.SIGNING_SECRET,
               slack_api_url=f"{api}/api/") as http,
    ):  # fmt: skip
        raw = json.dumps(slack.envelope(slack.dm("fragile", user="U1"))).encode()
        assert (await http.post("/slack/events", content=raw, headers=slack.signed(raw))).status_code == 200
        await fake.wait_posts(2, timeout=20)
        await http.idle()
    cut, notice = (p.body for p in fake.posts)
    assert cut.startswith("**Answer** to fragile:")
    assert cut.rstrip().endswith(f"_{CUT_OFF}_")
    assert "word21" in cut  # everything that arrived (25 chunks), not only the last paced update
    assert "word22" not in cut
    assert notice == texts.INTERRUPTED
    assert sim.asked() == [["fragile"]]


async def test_a_broken_stream_is_marked_in_the_persons_language(tmp_path: Path) -> None:
    """A German speaker's cut answer and the notice after it are in German."""
    sim = SlugSimulator(delay=lambda _: 0.05, chunk_every=0.1, answer=_answer(WORDS))
    sim.break_stream_after = 10
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as http:
        update = tg.message("zerbrechlich")
        update["message"]["from"]["language_code"] = "de"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert (await http.post("/telegram/webhook", json=update, headers=headers)).status_code == 200
        await fake.wait_sent(2, timeout=20)
    cut, notice = fake.sent
    assert cut.text.rstrip().endswith(texts.text("cut_off", "de"))
    assert notice.text == texts.text("interrupted", "de")


async def test_slack_preview_left_by_a_restart_is_marked_cut_off(tmp_path: Path) -> None:
    """A restart in the middle of a streamed answer (kill -9: no chance to mark it) leaves
    the preview half written. The next life cannot ask slug what it got, so the person is
    told to ask again, and the preview it left is marked as cut off first (found by its
    metadata), not left to read as a whole answer."""
    sim = SlugSimulator(delay=lambda _: 60.0, answer=_answer(WORDS))
    fake = slack.FakeSlack()
    platform = {"slack_bot_token": slack.BOT_TOKEN, "slack_signing_secret": slack.SIGNING_SECRET}
    async with serving(fake.app()) as api:
        async with bridge(sim, tmp_path, slack_api_url=f"{api}/api/", shutdown_timeout=0.2, **platform) as http:
            raw = json.dumps(slack.envelope(slack.dm("fragile", user="U1"))).encode()
            assert (await http.post("/slack/events", content=raw, headers=slack.signed(raw))).status_code == 200
            await waiting.until(lambda: sim.asked() == [["fragile"]], what="slug has the question")
        async with SqliteStore(tmp_path / "b.db") as store:
            q = await store.question(1)
        assert q.send_attempts == 1  # the call was made; what it streamed is what a kill -9 leaves
        key = f"{q.id}-{round(q.created_at * 1000)}"
        mark = {"event_type": "raia_bridge_preview", "event_payload": {"reply": key, "part": 0}}
        orphan = slack.Post(q.origin.chat, q.origin.thread, "*Answer* to fragile: word0 word1", [], mark, "1.000001")
        fake.posts.append(orphan)
        async with bridge(sim, tmp_path, slack_api_url=f"{api}/api/", **platform):
            await fake.wait_posts(2, timeout=10)
    preview, notice = fake.posts
    assert preview.text == f"*Answer* to fragile: word0 word1\n\n_{CUT_OFF}_"
    assert notice.body == texts.INTERRUPTED
    assert sim.asked() == [["fragile"]]
