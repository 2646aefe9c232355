"""👍/👎 end to end: answers carry buttons, a press is recorded in raia (the simulator's
conversation-message-feedbacks), changed, commented after 👎, and refused when it is not
the voter's answer — on Slack (signed interactions) and Telegram (callback queries)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.tamper import Tamper
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_telegram import running as telegram_bridge


async def _until(check: Callable[[], object], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def _only(sim: RaiaSimulator) -> dict[str, Any]:
    (feedback,) = sim.feedback.recorded.values()
    return feedback


def _styles(post: slack.Post) -> dict[str, str | None]:
    return {b["action_id"]: b.get("style") for b in post.buttons}


async def test_slack_vote_recorded_changed_and_commented(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("What does it cost?"))
        await fake.wait_posts(1)
        (answer,) = fake.posts
        assert _styles(answer) == {"raia_vote_up": None, "raia_vote_down": None}

        body, headers = slack.interaction(slack.press(answer, "up"))
        response = await bridge.http.post("/slack/events", content=body, headers=headers)
        assert response.status_code == 200
        await _until(lambda: sim.feedback.recorded and _styles(answer)["raia_vote_up"] == "primary")
        feedback = _only(sim)
        assert feedback["voteType"] == "up"
        assert feedback["question"] == "What does it cost?"
        assert "**What does it cost**" in feedback["answer"]  # the agent's own Markdown
        assert not fake.views  # no form after 👍

        body, headers = slack.interaction(slack.press(answer, "down"))
        await bridge.http.post("/slack/events", content=body, headers=headers)
        # The form and the buttons' new colours are two calls: wait for both.
        await _until(lambda: _only(sim)["voteType"] == "down" and fake.views and _styles(answer)["raia_vote_down"])
        assert _styles(answer) == {"raia_vote_up": None, "raia_vote_down": "danger"}
        (trigger, view), = fake.views  # fmt: skip
        assert trigger.startswith("trigger-")
        assert view["title"]["text"] == "Your feedback"

        body, headers = slack.interaction(slack.submission(view, "It missed the student price."))
        response = await bridge.http.post("/slack/events", content=body, headers=headers)
        assert response.status_code == 200
        await _until(lambda: _only(sim).get("comment") and fake.ephemerals)
    feedback = _only(sim)
    assert (feedback["voteType"], feedback["comment"]) == ("down", "It missed the student price.")
    assert len(sim.feedback.recorded) == 1  # one feedback per answer, updated
    assert fake.ephemerals == [("D0001", "U1", "Thanks — your comment was passed on.")]


async def test_slack_foreign_and_forged_votes_refused(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}> What does it cost?"))
        await fake.wait_posts(1)
        (answer,) = fake.posts
        # Someone else in the channel presses the asker's button.
        body, headers = slack.interaction(slack.press(answer, "down", user="U2"))
        assert (await bridge.http.post("/slack/events", content=body, headers=headers)).status_code == 200
        await _until(lambda: fake.ephemerals)
        # A forged press (wrong signing secret) is refused before anything reads it.
        body, headers = slack.interaction(slack.press(answer, "up"), secret="not-the-secret")
        assert (await bridge.http.post("/slack/events", content=body, headers=headers)).status_code == 401
        # A press naming an answer that does not exist.
        forged = slack.press(answer, "up")
        forged["actions"][0]["value"] = "999999"
        body, headers = slack.interaction(forged)
        await bridge.http.post("/slack/events", content=body, headers=headers)
        await _until(lambda: len(fake.ephemerals) == 2)
    assert sim.feedback.recorded == {}
    assert not fake.views
    assert [e[1:] for e in fake.ephemerals] == [
        ("U2", "Only the person who asked can rate this answer."),
        ("U1", "This answer can no longer be rated."),
    ]


async def test_slack_feedback_off_and_raia_refusing(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = slack.FakeSlack()
    (tmp_path / "off").mkdir()
    async with slack_bridge(sim, fake, tmp_path / "off", feedback=False) as bridge:
        await bridge.event(slack.dm("What does it cost?"))
        await fake.wait_posts(1)
    assert fake.posts[0].buttons == []

    fake = slack.FakeSlack()
    (tmp_path / "on").mkdir()
    async with slack_bridge(sim, fake, tmp_path / "on") as bridge:
        await bridge.event(slack.dm("What does it cost?"))
        await fake.wait_posts(1)
        sim.fail("POST", "/conversation-message-feedbacks", 500, times=5)
        body, headers = slack.interaction(slack.press(fake.posts[0], "up"))
        await bridge.http.post("/slack/events", content=body, headers=headers)
        await _until(lambda: fake.ephemerals)
    assert fake.ephemerals[0][2] == "Sorry — your feedback could not be recorded. Please try again later."
    assert _styles(fake.posts[0])["raia_vote_up"] is None  # not shown as recorded


def _noted(tmp_path: Path, where: str) -> bool:
    """Whether the bridge's database knows the comment prompt ``where`` (chat:message)."""
    with contextlib.closing(sqlite3.connect(tmp_path / "bridge.db")) as db:
        return db.execute("SELECT 1 FROM feedback WHERE prompt = ?", (where,)).fetchone() is not None


def _buttons(markup: dict[str, Any]) -> list[str]:
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


async def test_telegram_vote_changed_and_commented_by_reply(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    german = tg.user() | {"language_code": "de"}
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("What does it cost?", sender=german))
        await fake.wait_sent(1)
        answer = fake.sent[-1]
        chat, answer_id = answer.chat_id, fake.message_id(answer)
        markup = fake.markups[(chat, answer_id)]
        assert _buttons(markup) == ["👍", "👎"]
        up, down = (b["callback_data"] for b in markup["inline_keyboard"][0])
        assert up.startswith("v:")
        assert len(up.encode()) <= 64

        assert (await bridge.post(tg.pressed(chat, answer_id, up, sender=german))).status_code == 200
        await _until(lambda: fake.answered and _buttons(fake.markups[(chat, answer_id)])[0] != "👍")
        assert fake.answered[-1][1] == "Danke für dein Feedback!"
        assert _buttons(fake.markups[(chat, answer_id)]) == ["👍 ✓", "👎"]

        await bridge.post(tg.pressed(chat, answer_id, down, sender=german))
        await _until(lambda: len(fake.sent) == 2 and sim.feedback.recorded)  # the reply prompt
        prompt = fake.sent[-1]
        assert prompt.text.startswith("Schade")
        assert prompt.params["reply_markup"]["force_reply"] is True
        assert _buttons(fake.markups[(chat, answer_id)]) == ["👍", "👎 ✓"]
        assert _only(sim)["voteType"] == "down"
        await _until(lambda: _noted(tmp_path, f"{chat}:{fake.message_id(prompt)}"))

        reply_to = {"message_id": fake.message_id(prompt), "date": 0, "chat": {"id": chat, "type": "private"},
                    "from": {"id": tg.BOT_ID, "is_bot": True, "first_name": "Raia"}, "text": prompt.text}  # fmt: skip
        comment = tg.message("Der Studentenpreis fehlt.", sender=german, extra={"reply_to_message": reply_to})
        await bridge.post(comment)
        await bridge.post(comment)  # Telegram redelivers: the comment counts once
        await _until(lambda: len(fake.sent) == 3)
        await bridge.idle()  # the redelivered comment, had it counted again, would show by now
    assert _only(sim)["comment"] == "Der Studentenpreis fehlt."
    assert fake.sent[-1].text == "Danke — dein Kommentar wurde weitergegeben."
    assert len(fake.sent) == 3  # the comment was not asked as a question
    assert sim.count("POST", "/messages/async") == 1


async def test_telegram_foreign_and_forged_callbacks_refused(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("What does it cost?"))
        await fake.wait_sent(1)
        answer = fake.sent[-1]
        chat, answer_id = answer.chat_id, fake.message_id(answer)
        up = fake.markups[(chat, answer_id)]["inline_keyboard"][0][0]["callback_data"]
        stranger = tg.user(uid=77, first="Eve", username="eve")
        await bridge.post(tg.pressed(chat, answer_id, up, sender=stranger))
        await bridge.post(tg.pressed(chat, answer_id, "v:1:sideways"))
        await bridge.post(tg.pressed(chat, answer_id, "x" * 64))
        await bridge.post(tg.pressed(chat, answer_id, "v:424242:up"))
        await _until(lambda: len(fake.answered) == 4)
    assert sim.feedback.recorded == {}
    assert sorted(text or "" for _, text in fake.answered) == [
        "",
        "",
        "Only the person who asked can rate this answer.",
        "This answer can no longer be rated.",
    ]
    assert _buttons(fake.markups[(chat, answer_id)]) == ["👍", "👎"]


async def test_telegram_group_reply_to_someone_elses_prompt_is_a_question(sim: RaiaSimulator, tmp_path: Path) -> None:
    """In a group, the comment prompt after Ann's 👎 is hers: Eve replying to it asks the bot
    a question of her own (a reply to the bot), and Ann's reply is still taken as the comment."""
    fake = tg.FakeTelegram()
    group, eve = -100777, tg.user(uid=77, first="Eve", username="eve")
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        text = f"@{tg.BOT_USERNAME} What does it cost?"
        await bridge.post(tg.message(text, chat_id=group, chat_type="supergroup", entities=tg.mention(text)))
        await fake.wait_sent(1)
        answer_id = fake.message_id(fake.sent[-1])
        down = fake.markups[(group, answer_id)]["inline_keyboard"][0][1]["callback_data"]
        await bridge.post(tg.pressed(group, answer_id, down, chat_type="supergroup"))
        await _until(lambda: len(fake.sent) == 2 and sim.feedback.recorded)
        prompt = fake.sent[-1]
        where = f"{group}:{fake.message_id(prompt)}"
        await _until(lambda: _noted(tmp_path, where))  # the prompt is noted just after it is sent
        reply_to = {"message_id": fake.message_id(prompt), "date": 0, "chat": {"id": group, "type": "supergroup"},
                    "from": {"id": tg.BOT_ID, "is_bot": True, "first_name": "Raia"}, "text": prompt.text}  # fmt: skip

        def replying(words: str, sender: dict[str, Any]) -> dict[str, Any]:
            extra = {"reply_to_message": reply_to}
            return tg.message(words, sender=sender, chat_id=group, chat_type="supergroup", extra=extra)

        await bridge.post(replying("And for students?", eve))
        await _until(lambda: sim.count("POST", "/messages/async") == 2)
        await fake.wait_sent(3)  # Eve's answer
        await bridge.post(replying("The student price is missing.", tg.user()))
        await _until(lambda: len(fake.sent) == 4)
    assert sorted(m for c in sim.conversations for m in sim.user_messages(c)) == [
        "And for students?",
        "What does it cost?",
    ]
    assert _only(sim)["comment"] == "The student price is missing."
    assert fake.sent[-1].text.startswith("Thanks")


async def test_telegram_comment_is_acknowledged_at_once_while_raia_takes_its_time(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    """The comment is recorded in the background: a slow raia never holds the webhook
    (nor, through it, the start of other people's questions)."""
    fake = tg.FakeTelegram()
    slow = Tamper(sim)
    async with telegram_bridge(sim, fake, tmp_path, raia=slow) as bridge:
        await bridge.post(tg.message("What does it cost?"))
        await fake.wait_sent(1)
        answer = fake.sent[-1]
        chat, answer_id = answer.chat_id, fake.message_id(answer)
        down = fake.markups[(chat, answer_id)]["inline_keyboard"][0][1]["callback_data"]
        await bridge.post(tg.pressed(chat, answer_id, down))
        await _until(lambda: len(fake.sent) == 2 and sim.feedback.recorded)
        prompt = fake.sent[-1]
        await _until(lambda: _noted(tmp_path, f"{chat}:{fake.message_id(prompt)}"))
        slow.stall["conversation-message-feedbacks"] = 1.5
        reply_to = {"message_id": fake.message_id(prompt), "date": 0, "chat": {"id": chat, "type": "private"},
                    "from": {"id": tg.BOT_ID, "is_bot": True, "first_name": "Raia"}, "text": prompt.text}  # fmt: skip
        response = await bridge.post(tg.message("Too expensive.", extra={"reply_to_message": reply_to}))
        assert response.status_code == 200
        assert _only(sim).get("comment") is None  # acknowledged while raia still works on it
        await _until(lambda: len(fake.sent) == 3, timeout=10)
    assert _only(sim)["comment"] == "Too expensive."
    assert fake.sent[-1].text == "Thanks — your comment was passed on."
