"""👍/👎 storms on Telegram: a press delivered again counts once, many presses ask for one
comment, a vote's messages never hold up an answer, and the webhook answers at once
however slow Telegram is to take the toast."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import telegram as tg
from tests.scenarios.test_feedback import _buttons, _until
from tests.scenarios.test_telegram import Bridge
from tests.scenarios.test_telegram import running as telegram_bridge

FEEDBACKS = "/conversation-message-feedbacks"


async def _answered(bridge: Bridge, fake: tg.FakeTelegram, question: str) -> tuple[int, int, str]:
    """Ask; the answer's chat, message id and its 👎 button's data."""
    sent = len(fake.sent)
    await bridge.post(tg.message(question))
    await fake.wait_sent(sent + 1)
    answer = fake.sent[sent]
    chat, answer_id = answer.chat_id, fake.message_id(answer)
    return chat, answer_id, fake.markups[(chat, answer_id)]["inline_keyboard"][0][1]["callback_data"]


def _prompts(fake: tg.FakeTelegram) -> list[tg.Sent]:
    return [s for s in fake.sent if (s.params.get("reply_markup") or {}).get("force_reply")]


async def test_a_press_delivered_again_counts_once(sim: RaiaSimulator, tmp_path: Path) -> None:
    """The same callback query five times (Telegram redelivering its update), then twice more
    under new update ids: one vote at raia, one toast, one comment prompt."""
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        chat, answer_id, down = await _answered(bridge, fake, "What does it cost?")
        press = tg.pressed(chat, answer_id, down)
        for _ in range(5):
            assert (await bridge.post(press)).status_code == 200
        again = copy.deepcopy(press)
        for update_id in (press["update_id"] + 1000, press["update_id"] + 1001):
            again["update_id"] = update_id
            assert (await bridge.post(again)).status_code == 200
        await _until(lambda: _prompts(fake) and fake.answered)
    # Stopped: every press's work in the background has finished.
    assert sim.count("POST", FEEDBACKS) == 1
    assert len(fake.answered) == 1
    assert len(_prompts(fake)) == 1
    assert _buttons(fake.markups[(chat, answer_id)]) == ["👍", "👎 ✓"]


async def test_fifteen_presses_of_thumbs_down_ask_for_one_comment(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Fifteen separate presses of 👎 on one answer: each gets its toast, raia one vote,
    the chat one comment prompt; and the person's next answer comes at once."""
    fake = tg.FakeTelegram()
    loop = asyncio.get_running_loop()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        chat, answer_id, down = await _answered(bridge, fake, "What does it cost?")
        for _ in range(15):
            assert (await bridge.post(tg.pressed(chat, answer_id, down))).status_code == 200
        await _until(lambda: len(fake.answered) == 15 and _prompts(fake))
        began = loop.time()
        await _answered(bridge, fake, "And for students?")
        assert loop.time() - began < 10  # the bound is the behaviour: fifteen prompts would hold it 15 s
    assert len(_prompts(fake)) == 1
    assert sim.count("POST", FEEDBACKS) == 1  # the presses after the first changed nothing
    assert {text for _, text in fake.answered} == {"Thanks for your feedback!"}


async def test_a_votes_messages_never_go_ahead_of_an_answer(sim: RaiaSimulator, tmp_path: Path) -> None:
    """👎 on three answers: three redrawn keyboards and three comment prompts share the
    chat's budget (one message a second) with the next answer, which goes first: it never
    waits behind them."""
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        answers = [await _answered(bridge, fake, f"Question {n}?") for n in range(3)]
        for chat, answer_id, down in answers:
            await bridge.post(tg.pressed(chat, answer_id, down))
        await bridge.post(tg.message("What about the next one?"))
        await _until(lambda: len(_prompts(fake)) == 3, timeout=15)
    order = _chat_order(fake)
    answer = order.index("answer:What about the next one")
    assert order[answer:].count("prompt") >= 2, order  # it did not wait for (most of) them
    assert order[answer:].count("buttons") + order[answer:].count("prompt") >= 4, order


def _chat_order(fake: tg.FakeTelegram) -> list[str]:
    """What went to the chat, in order, after the first three answers: "answer:<its topic>",
    "prompt", "buttons" (a redrawn keyboard)."""
    sent = iter(fake.sent)
    order: list[str] = []
    for method in fake.calls:
        if method == "sendMessage":
            message = next(sent)
            if (message.params.get("reply_markup") or {}).get("force_reply"):
                order.append("prompt")
            else:
                order.append("answer:" + message.text.split("about ", 1)[-1].split(":")[0].split("?")[0])
        elif method == "editMessageReplyMarkup":
            order.append("buttons")
    return order[3:]


async def test_a_junk_press_is_acknowledged_at_once_while_telegram_is_slow(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Callback data that is not ours, while answerCallbackQuery takes its time: the webhook
    answers 200 at once; the spinner is stopped in the background."""
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        chat, answer_id, _ = await _answered(bridge, fake, "What does it cost?")
        fake.held["answerCallbackQuery"] = slow = asyncio.Event()
        response = await bridge.post(tg.pressed(chat, answer_id, "not-ours"), timeout=2)
        assert response.status_code == 200
        await _until(lambda: "answerCallbackQuery" in fake.calls)  # under way, in the background
        assert fake.answered == []
        slow.set()
        await _until(lambda: fake.answered)
    assert fake.answered[0][1] is None
    assert sim.count("POST", FEEDBACKS) == 0
