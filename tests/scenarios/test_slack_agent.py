"""Slack's agent messaging experience end to end (signed requests to the running bridge, the
fake Slack Web API, the raia simulator): a DM opened in the agent view, its question
answered in its thread under an agent session, and Slack's stop button."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.demo_agent import SimAnswer
from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from tests import waiting
from tests.fakes import slack
from tests.scenarios.test_slack import running

SLOW = 3600.0


@pytest.fixture
def fake() -> slack.FakeSlack:
    return slack.FakeSlack(agent=True)  # an app declared as an agent (agent_view)


def _slow(sim: RaiaSimulator) -> None:
    sim.delay = lambda text: SLOW if text.startswith("slow") else 0.01


def _release(sim: RaiaSimulator) -> None:
    for question in sim.questions.values():
        question["ready_at"] = 0.0


def stopped(thread_ts: str, *, user: str = "U1", channel: str = "D0001") -> dict[str, Any]:
    """``agent_session_stopped``: the person pressed Slack's stop button in that thread."""
    return {"type": "agent_session_stopped", "channel": channel, "thread_ts": thread_ts, "user": user,
            "streaming_message_ts": [], "event_ts": slack.next_ts()}  # fmt: skip


def _statuses(fake: slack.FakeSlack) -> list[tuple[str, str | None, str | None]]:
    return [(p["status"], p.get("thread_ts"), p.get("title")) for m, p in fake.sessions if m.endswith("setStatus")]


async def test_a_dm_opened_in_the_agent_view_is_answered_in_its_thread(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """app_home_opened (tab "messages") offers the prompts for the DM (no thread: agent apps);
    the question is answered in a thread under it, its session "processing" (titled after the
    question) while the agent works, then "active"; no hourglass, no assistant status."""
    async with running(sim, fake, tmp_path, slack_suggested_prompts="What is new?") as bridge:
        opened = {"type": "app_home_opened", "user": "U1", "channel": "D0001", "tab": "messages",
                  "event_ts": slack.next_ts()}  # fmt: skip
        assert (await bridge.event(opened)).status_code == 200
        context = {"type": "app_context_changed", "user": "U1", "channel": "D0001", "event_ts": slack.next_ts(),
                   "context": {"entities": [{"type": "slack#/types/channel_id", "value": "C0001"}]}}  # fmt: skip
        assert (await bridge.event(context)).status_code == 200
        question = slack.dm("How do refunds work?")
        assert (await bridge.event(question)).status_code == 200
        await fake.wait_posts(1)
        await bridge.idle()
    ((method, params),) = fake.assistant
    assert method == "assistant.threads.setSuggestedPrompts"
    assert "thread_ts" not in params  # Slack ignores the call for an agent app if it has one
    prompts = params["prompts"] if isinstance(params["prompts"], list) else json.loads(params["prompts"])
    assert [p["message"] for p in prompts] == ["What is new?"]
    (post,) = fake.posts
    assert post.thread_ts == question["ts"]
    assert _statuses(fake) == [
        ("processing", question["ts"], "How do refunds work?"),
        ("active", question["ts"], None),
    ]
    assert fake.reactions == []


async def test_the_stop_button_before_the_answer_means_it_is_never_posted(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """Stop pressed while the agent works: one line in the thread, the session leaves
    "processing", and the answer that comes later is never posted; a later question is
    answered as usual."""
    _slow(sim)
    async with running(sim, fake, tmp_path) as bridge:
        question = slack.dm("slow question")
        await bridge.event(question)
        await waiting.until(lambda: ("processing", question["ts"], "slow question") in _statuses(fake))
        assert (await bridge.event(stopped(question["ts"]))).status_code == 200
        await fake.wait_posts(1)
        assert fake.posts[0].thread_ts == question["ts"]
        assert fake.posts[0].body == texts.text("stopped")
        await waiting.until(lambda: _statuses(fake)[-1][0] == "active", what="the session no longer processing")
        _release(sim)  # the agent's answer is ready now: it must never be posted
        follow = slack.dm("another question")
        await bridge.event(follow)
        await fake.wait_posts(2)
        await bridge.idle()
    assert len(fake.posts) == 2
    assert fake.posts[1].thread_ts == follow["ts"]
    assert "another question" in fake.posts[1].body


async def test_the_stop_button_after_the_answer_changes_nothing(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """A stop that arrives after the answer was posted (or twice, as a retry) stops nothing:
    one line says so, the answer stays."""
    async with running(sim, fake, tmp_path) as bridge:
        question = slack.dm("quick question")
        await bridge.event(question)
        await fake.wait_posts(1)
        await bridge.idle()
        press = stopped(question["ts"])
        await bridge.event(press, event_id="EvStop1")
        await bridge.event(press, event_id="EvStop1", retry=1)
        await fake.wait_posts(2)
        await bridge.idle()
    assert len(fake.posts) == 2
    assert "quick question" in fake.posts[0].body
    assert fake.posts[1].body == texts.text("nothing_to_stop")


async def test_raia_stop_answers_privately(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """/raia stop in the DM stops the waiting question there, answered in the acknowledgement."""
    _slow(sim)
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("slow question"))
        await waiting.until(lambda: len(sim.questions) == 1, what="the question at raia")
        stop = await bridge.command("stop", channel="D0001")
        assert stop.json() == {"response_type": "ephemeral", "text": texts.text("stopped")}
        _release(sim)
        await bridge.event(slack.dm("next"))
        await fake.wait_posts(1)
        await bridge.idle()
    assert len(fake.posts) == 1
    assert "next" in fake.posts[0].body


async def test_a_stopped_question_in_an_assistant_thread_has_its_status_cleared(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    """Not an agent app: "is thinking…" shows while the agent works. Stopped, the question
    gets no post in its thread (which would clear it): the bridge clears it itself."""
    _slow(sim)
    fake = slack.FakeSlack()
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("slow question"))
        await waiting.until(lambda: len(fake.assistant) == 1, what="is thinking…")
        stop = await bridge.command("stop", channel="D0001")
        assert stop.json() == {"response_type": "ephemeral", "text": texts.text("stopped")}
        await waiting.until(lambda: len(fake.assistant) == 2, what="the status cleared")
    assert [p["status"] for _, p in fake.assistant] == ["is thinking…", ""]
    assert fake.posts == []


async def test_a_markdown_table_arrives_as_a_table_block(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """The agent's Markdown table is posted as Slack's table block (no pipe soup), the words
    around it as Markdown, its sources as a compact list; a long answer is still split."""
    table = "| Plan | Price |\n| --- | --- |\n| Basic | 10 € |\n| Pro | 20 € |"
    long = "\n\n".join(f"Part {i}. " + "word " * 200 for i in range(30))
    sim.answer = lambda text: SimAnswer(f"Our plans:\n\n{table}" if "plans" in text else long)
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("Which plans are there?"))
        await fake.wait_posts(1)
        await bridge.event(slack.dm("Tell me everything"))
        await fake.wait_posts(3)
        await bridge.idle()
    first = fake.posts[0]
    assert [b["type"] for b in first.blocks][:2] == ["markdown", "table"]
    assert [[c["text"] for c in row] for row in first.blocks[1]["rows"]][1] == ["Basic", "10 €"]
    assert "| --- |" not in first.body
    rest = fake.posts[1:]
    assert len(rest) >= 2  # over 12,000 characters: split, in order, in the same thread
    assert len({p.thread_ts for p in rest}) == 1
    joined = "\n\n".join(p.body for p in rest)
    assert [line.split(".")[0] for line in joined.split("\n\n") if line.startswith("Part")] == [
        f"Part {i}" for i in range(30)
    ]


async def test_the_shortcut_asks_about_a_message_in_a_thread_under_it(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """ "Ask raia about this" on Bob's channel message: the message (quoted) and its author
    become Ann's question, answered in a thread under that message."""
    async with running(sim, fake, tmp_path) as bridge:
        chosen = {"type": "message", "user": "U2", "ts": "1700000000.000777", "text": "Our refund window is 30 days?"}
        payload = {"type": "message_action", "callback_id": "raia_ask_about", "trigger_id": "t1",
                   "action_ts": slack.next_ts(), "team": {"id": slack.TEAM},
                   "user": {"id": "U1", "team_id": slack.TEAM},
                   "channel": {"id": "C0001", "name": "general"}, "message": chosen,
                   "response_url": "https://hooks.example/x"}  # fmt: skip
        body, headers = slack.interaction(payload)
        assert (await bridge.http.post("/slack/events", content=body, headers=headers)).status_code == 200
        await fake.wait_posts(1)
        await bridge.idle()
    (post,) = fake.posts
    assert (post.channel, post.thread_ts) == ("C0001", chosen["ts"])
    (conversation,) = sim.conversations
    (asked,) = sim.user_messages(conversation)
    assert asked == "What can you tell me about this message from Bob?\n\n> Our refund window is 30 days?"
    (user,) = sim.users.values()
    assert user["fkId"] == "slack:T0001:U1"  # Ann asked, about Bob's message


async def test_the_home_tab_says_what_the_agent_does_in_the_persons_language(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """app_home_opened on the Home tab publishes it (views.publish) in German for a German
    speaker, naming the agent; the Messages tab publishes nothing."""
    fake.locales["U1"] = "de-DE"
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event({"type": "app_home_opened", "user": "U1", "channel": "D0001", "tab": "home",
                            "event_ts": slack.next_ts()})  # fmt: skip
        await waiting.until(lambda: bool(fake.homes), what="the home tab published")
        await bridge.event({"type": "app_home_opened", "user": "U2", "channel": "D0002", "tab": "messages",
                            "event_ts": slack.next_ts()})  # fmt: skip
        await bridge.idle()
    ((user, view),) = fake.homes
    assert user == "U1"
    assert view["type"] == "home"
    assert view["blocks"][0]["text"]["text"] == "Ada (demo agent)"
    assert view["blocks"][1]["text"]["text"].startswith("*Ada (demo agent)* beantwortet deine Fragen")
