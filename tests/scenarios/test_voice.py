"""Spoken questions end to end: a Telegram voice note and a Slack audio clip transcribed by
the fake transcription server (TRANSCRIBE_URL), sent to the raia simulator as words, and
answered with what was heard before the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.fakes import slack, transcribe
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_telegram import running as telegram_bridge

VOICE = b"OggS" + b"\x00voice" * 500


def _voice(file_id: str, size: int, duration: int = 4, **extra: Any) -> dict[str, Any]:
    note = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration, "mime_type": "audio/ogg",
            "file_size": size}  # fmt: skip
    return {"voice": note, **extra}


def _asked(sim: RaiaSimulator) -> list[dict[str, Any]]:
    return [m for c in sim.conversations.values() for m in c["messages"] if m["senderRole"] == "conversation_user"]


async def test_telegram_voice_note_is_heard_and_answered(sim: RaiaSimulator, tmp_path: Path) -> None:
    """The agent gets the transcript (the recording still goes as a file); the person sees
    what was heard in one line before the answer."""
    heard = transcribe.FakeTranscriber(said={VOICE: "What is the refund policy?"})
    fake = tg.FakeTelegram()
    fake.files["v1"] = VOICE
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {"transcribe_url": f"{stt}/v1", "transcribe_api_key": transcribe.API_KEY}
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            assert (await bridge.post(tg.message(None, extra=_voice("v1", len(VOICE))))).status_code == 200
            await fake.wait_sent(1)
            await bridge.idle()
    (asked,) = _asked(sim)
    assert asked["message"] == "What is the refund policy?"
    (file,) = asked["files"]
    assert sim.files.stored[file["storagePath"]]["data"] == VOICE
    (answer,) = fake.texts()
    assert answer.startswith("🎤 I heard: What is the refund policy?\n")
    assert "refund policy" in answer.split("\n", 1)[1]
    (request,) = heard.requests
    assert (request["model"], request["response_format"]) == ("whisper-1", "json")
    name, kind, data = request["file"]
    assert (kind, data) == ("audio/ogg", VOICE)
    assert name.endswith(".ogg")


async def test_slack_audio_clip_with_words_is_heard_after_them(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A Slack audio clip: the message's words first, then what was heard."""
    heard = transcribe.FakeTranscriber(said={VOICE: "and in euros please"})
    fake = slack.FakeSlack()
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {
            "transcribe_url": f"{stt}/v1/audio/transcriptions",
            "transcribe_api_key": transcribe.API_KEY,
        }
        async with slack_bridge(sim, fake, tmp_path, **settings) as bridge:
            clip = fake.file(bridge.api, "F9", VOICE, "audio_message.webm", "audio/webm") | {
                "subtype": "slack_audio", "duration_ms": 3200}  # fmt: skip
            await bridge.event(slack.dm("What does it cost?") | {"subtype": "file_share", "files": [clip]})
            await fake.wait_posts(1)
            await bridge.idle()
    (asked,) = _asked(sim)
    assert asked["message"] == "What does it cost?\n\nand in euros please"
    assert "🎤 I heard: and in euros please" in fake.posts[0].body


async def test_a_refused_key_gives_one_short_line_and_sends_nothing(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A voice note alone that cannot be heard: one line for the person, no empty question."""
    heard = transcribe.FakeTranscriber(said={VOICE: "never heard"})
    fake = tg.FakeTelegram()
    fake.files["v2"] = VOICE
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {"transcribe_url": f"{stt}/v1", "transcribe_api_key": "sk-wrong"}
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            await bridge.post(tg.message(None, extra=_voice("v2", len(VOICE))))
            await fake.wait_sent(1)
            await bridge.idle()
    assert _asked(sim) == []
    assert fake.texts() == ["🎤 Sorry, I can't listen to voice messages right now. Please type your question."]


async def test_too_long_is_not_sent_to_be_transcribed(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Over TRANSCRIBE_MAX_SECONDS: the line says so, the recording is never uploaded."""
    heard = transcribe.FakeTranscriber(said={VOICE: "long"})
    fake = tg.FakeTelegram()
    fake.files["v3"] = VOICE
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {"transcribe_url": f"{stt}/v1", "transcribe_api_key": transcribe.API_KEY,
                    "transcribe_max_seconds": 60}  # fmt: skip
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            await bridge.post(tg.message(None, extra=_voice("v3", len(VOICE), duration=61)))
            await fake.wait_sent(1)
            await bridge.idle()
    assert heard.requests == []
    assert fake.texts() == ["🎤 Your voice message is longer than 60 seconds. Please send a shorter one or type it."]


async def test_a_restart_between_transcription_and_send_does_not_transcribe_twice(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    """The transcript is kept with the question: the bridge that resumes it sends it as heard."""
    heard = transcribe.FakeTranscriber(said={VOICE: "Do you ship to Spain?"})
    fake = tg.FakeTelegram()
    fake.files["v4"] = VOICE
    sim.fail("POST", r"/messages/async$", 503, times=1000)  # raia down: the question waits, transcribed
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {"transcribe_url": f"{stt}/v1", "transcribe_api_key": transcribe.API_KEY}
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            await bridge.post(tg.message(None, extra=_voice("v4", len(VOICE))))
            await waiting.until(lambda: sim.count("POST", "/messages/async") >= 1)
        sim.faults.clear()
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            await fake.wait_sent(1)
            await bridge.idle()
    assert len(heard.requests) == 1
    (asked,) = _asked(sim)
    assert asked["message"] == "Do you ship to Spain?"
    assert fake.texts()[0].startswith("🎤 I heard: Do you ship to Spain?")


async def test_a_busy_transcription_service_is_tried_again(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A 503 is retried (a bounded, jittered wait) with the recording fetched afresh."""
    heard = transcribe.FakeTranscriber(said={VOICE: "Hello there"}, statuses=[503])
    fake = tg.FakeTelegram()
    fake.files["v5"] = VOICE
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {"transcribe_url": f"{stt}/v1", "transcribe_api_key": transcribe.API_KEY}
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            await bridge.post(tg.message(None, extra=_voice("v5", len(VOICE))))
            await fake.wait_sent(1)
            await bridge.idle()
    assert [r["file"][2] for r in heard.requests] == [VOICE, VOICE]
    (asked,) = _asked(sim)
    assert asked["message"] == "Hello there"


async def test_with_files_off_a_voice_note_is_still_heard(sim: RaiaSimulator, tmp_path: Path) -> None:
    """FILES=off: the recording does not go to the agent, what was said does (no "text only"
    note: nothing the person said was left out)."""
    heard = transcribe.FakeTranscriber(said={VOICE: "Opening hours?"})
    fake = tg.FakeTelegram()
    fake.files["v6"] = VOICE
    async with serving(heard.app()) as stt:
        settings: dict[str, Any] = {"transcribe_url": f"{stt}/v1", "transcribe_api_key": transcribe.API_KEY,
                                    "files": False}  # fmt: skip
        async with telegram_bridge(sim, fake, tmp_path, **settings) as bridge:
            await bridge.post(tg.message(None, extra=_voice("v6", len(VOICE))))
            await fake.wait_sent(1)
            await bridge.idle()
    (asked,) = _asked(sim)
    assert (asked["message"], asked["files"]) == ("Opening hours?", [])
    (answer,) = fake.texts()
    assert answer.startswith("🎤 I heard: Opening hours?\n")
    assert "only your text" not in answer
