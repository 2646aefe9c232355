"""Files and photos end to end: from the fake Telegram and Slack APIs, through the running
bridge's webhooks, into the raia simulator's message files (which accepts only what the
bridge's upload does: a PUT of the bytes with the declared Content-Type)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_telegram import Bridge
from tests.scenarios.test_telegram import running as telegram_bridge


def _asked(sim: RaiaSimulator) -> list[dict[str, Any]]:
    return [m for c in sim.conversations.values() for m in c["messages"] if m["senderRole"] == "conversation_user"]


def _photo(file_id: str, size: int, **extra: Any) -> dict[str, Any]:
    sizes = [
        {"file_id": f"{file_id}-thumb", "file_unique_id": f"t{file_id}", "width": 90, "height": 90, "file_size": 10},
        {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960, "file_size": size},
    ]
    return {"photo": sizes, **extra}


async def test_telegram_photo_with_caption_reaches_raia_as_a_message_file(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    fake.files["p1"] = b"\xff\xd8\xff" + b"jpeg" * 1000
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        response = await bridge.post(tg.message(None, extra=_photo("p1", 4003, caption="What plant is this?")))
        assert response.status_code == 200
        await fake.wait_sent(1)
    (asked,) = _asked(sim)
    assert asked["message"] == "What plant is this?"
    (file,) = asked["files"]
    assert file["fileName"].endswith(".jpg")
    stored = sim.files.stored[file["storagePath"]]
    assert (stored["type"], stored["data"]) == ("image/jpeg", fake.files["p1"])
    assert "p1-thumb" not in fake.calls  # the largest size only


async def _one_after_another(bridge: Bridge, fake: tg.FakeTelegram, updates: list[dict[str, Any]]) -> None:
    """Post the updates a moment apart (as Telegram delivers an album), then wait for the answer."""
    for update in updates:
        assert (await bridge.post(update)).status_code == 200
        await asyncio.sleep(0.05)  # pacing, as Telegram delivers an album's messages
    await fake.wait_sent(1)
    await bridge.idle()


def _stored(sim: RaiaSimulator, asked: dict[str, Any]) -> list[bytes]:
    """The bytes of the files a question was sent with, sorted."""
    return sorted(sim.files.stored[f["storagePath"]]["data"] for f in asked["files"])


async def test_telegram_album_becomes_one_question(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Three photos sent together arrive as three updates: one question, three files."""
    fake = tg.FakeTelegram()
    for n in range(3):
        fake.files[f"a{n}"] = f"photo {n}".encode()
    album = [
        tg.message(
            None, extra=_photo(f"a{n}", 7, media_group_id="g-1", **({"caption": "Which is best?"} if n == 0 else {}))
        )
        for n in range(3)
    ]
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await _one_after_another(bridge, fake, album)
    (asked,) = _asked(sim)
    assert asked["message"] == "Which is best?"
    assert _stored(sim, asked) == [b"photo 0", b"photo 1", b"photo 2"]
    assert len(fake.sent) == 1  # one answer


async def test_telegram_group_album_addressed_by_its_caption_brings_all_its_photos(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    """In a group only the album's first photo carries the caption that mentions the bot: the
    others join its question. Another album nobody addressed stays the group's own business."""
    fake = tg.FakeTelegram()
    for n in range(5):
        fake.files[f"g{n}"] = f"photo {n}".encode()
    group = -100555
    caption = f"@{tg.BOT_USERNAME} which is best?"

    def photo(n: int, album: str, **extra: Any) -> dict[str, Any]:
        body = _photo(f"g{n}", 7, media_group_id=album, **extra)
        return tg.message(None, chat_id=group, chat_type="supergroup", extra=body)

    addressed = photo(0, "g-2", caption=caption, caption_entities=tg.mention(caption))
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await _one_after_another(
            bridge, fake, [addressed, photo(1, "g-2"), photo(2, "g-2"), photo(3, "g-3"), photo(4, "g-3")]
        )
    (asked,) = _asked(sim)
    assert asked["message"] == "which is best?"
    assert _stored(sim, asked) == [b"photo 0", b"photo 1", b"photo 2"]
    assert len(fake.sent) == 1  # one answer, nothing said about the other album


async def test_telegram_group_albums_late_photo_becomes_a_question_of_its_own(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    """A photo of an album Ann addressed arrives after the album's question went to the agent:
    it is not dropped without a word but asked on its own (the agent has the conversation
    so far), and the answer replies to that photo."""
    fake = tg.FakeTelegram()
    for n in range(3):
        fake.files[f"l{n}"] = f"photo {n}".encode()
    group = -100556
    caption = f"@{tg.BOT_USERNAME} which is best?"

    def photo(n: int, **extra: Any) -> dict[str, Any]:
        body = _photo(f"l{n}", 7, media_group_id="g-9", **extra)
        return tg.message(None, chat_id=group, chat_type="supergroup", extra=body)

    late = photo(2)
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await _one_after_another(
            bridge, fake, [photo(0, caption=caption, caption_entities=tg.mention(caption)), photo(1)]
        )
        assert (await bridge.post(late)).status_code == 200
        await fake.wait_sent(2)
    first, second = _asked(sim)
    assert first["message"] == "which is best?"
    assert _stored(sim, first) == [b"photo 0", b"photo 1"]
    assert second["message"] == f"📎 photo_{late['message']['message_id']}.jpg"
    assert _stored(sim, second) == [b"photo 2"]
    assert fake.sent[1].params["reply_parameters"]["message_id"] == late["message"]["message_id"]


async def test_telegram_oversized_file_gets_a_note_and_the_words_still_go(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Over FILES_MAX_MB by its declared size, or refused by Telegram's getFile (> 20 MB): a
    note in the person's language at the start of the answer, the caption still asked."""
    fake = tg.FakeTelegram()
    german = tg.user() | {"language_code": "de"}
    fake.files["big"] = b"x" * 3000
    fake.files["huge"] = b"y"
    fake.too_big.add("huge")
    scan = {"file_id": "huge", "file_unique_id": "uh", "file_name": "scan.pdf", "mime_type": "application/pdf"}
    video = {"document": scan, "caption": "Und das?"}
    async with telegram_bridge(sim, fake, tmp_path, files_max_mb=0.002) as bridge:
        await bridge.post(tg.message(None, sender=german, extra=_photo("big", 3000, caption="Was ist das?")))
        await fake.wait_sent(1)
        await bridge.post(tg.message(None, sender=german, extra=video))
        await fake.wait_sent(2)
    notes = [t.split("\n\n")[0] for t in fake.texts() if "MB" in t]  # each answer starts with its note
    assert notes[0].startswith("photo_")
    assert "ist größer als 0.002 MB" in notes[0]
    assert notes[1] == "scan.pdf ist größer als 0.002 MB, deshalb konnte ich es nicht weitergeben."
    assert [(a["message"], a["files"]) for a in _asked(sim)] == [("Was ist das?", []), ("Und das?", [])]
    assert sim.files.uploads == 0


async def test_slack_file_share_reaches_raia_with_the_bot_token(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        shared = fake.file(bridge.api, "F1", b"a,b\n1,2\n", "numbers.csv", "text/csv")
        event = slack.dm("Sum the columns?") | {"subtype": "file_share", "files": [shared]}
        assert (await bridge.event(event)).status_code == 200
        await fake.wait_posts(1)
    (asked,) = _asked(sim)
    assert asked["message"] == "Sum the columns?"
    (file,) = asked["files"]
    assert sim.files.stored[file["storagePath"]]["data"] == b"a,b\n1,2\n"
    assert json.dumps(asked).count("xoxb-") == 0


async def test_telegram_stalled_download_costs_the_file_not_the_question(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Telegram's file server sends the headers and a first chunk, then nothing: the file is
    left out with the "couldn't fetch" note once half the question's time is spent, the
    words go and are answered within the question's deadline (RAIA_POLL_TIMEOUT 5 s), and
    the person's next question is not held behind it."""
    fake = tg.FakeTelegram()
    fake.files["slow"] = b"\xff\xd8\xff" + b"jpeg" * 1000
    fake.stalled.add("slow")
    loop = asyncio.get_running_loop()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        began = loop.time()
        await bridge.post(tg.message(None, extra=_photo("slow", 4003, caption="What plant is this?")))
        await bridge.post(tg.message("And how often should I water it?"))
        await fake.wait_sent(1, timeout=8)
        assert loop.time() - began < 5  # RAIA_POLL_TIMEOUT
        await fake.wait_sent(2, timeout=8)
    first = fake.texts()[0]
    assert first.startswith("I couldn't fetch photo_")
    assert "What plant is this" in first  # the agent's answer follows the note
    assert [(a["message"], a["files"]) for a in _asked(sim)] == [
        ("What plant is this?", []),
        ("And how often should I water it?", []),
    ]


async def test_telegram_file_longer_than_declared_is_left_out_not_cut(sim: RaiaSimulator, tmp_path: Path) -> None:
    """getFile declares 100 bytes, the file server sends more: FILES_MAX_MB holds on the bytes
    read (a too-big note), and a file merely longer than declared is left out as not
    fetched; neither reaches raia cut to the declared size."""
    fake = tg.FakeTelegram()
    fake.files["big"] = b"b" * 300_000  # over FILES_MAX_MB (0.1 MB), in several chunks
    fake.files["odd"] = b"o" * 150  # within it, but not what getFile said
    fake.declared.update(big=100, odd=100)
    fake.slow.add("big")
    async with telegram_bridge(sim, fake, tmp_path, files_max_mb=0.1) as bridge:
        await bridge.post(tg.message(None, extra=_photo("big", 100, caption="Big?")))
        await fake.wait_sent(1)
        await bridge.post(tg.message(None, extra=_photo("odd", 100, caption="Odd?")))
        await fake.wait_sent(2)
    notes = [t.split("\n\n")[0] for t in fake.texts()]
    assert notes[0].startswith("photo_")
    assert notes[0].endswith("is larger than 0.1 MB, so I couldn't pass it on.")
    assert notes[1].startswith("I couldn't fetch photo_")
    assert [(a["message"], a["files"]) for a in _asked(sim)] == [("Big?", []), ("Odd?", [])]
    assert sim.files.stored == {}


async def test_content_types_with_line_breaks_are_replaced_at_the_edge(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A client's mime_type (Telegram) or mimetype (Slack) carrying CR/LF never reaches a
    header or raia: the file goes with the type its name says, the question is answered."""
    fake = tg.FakeTelegram()
    fake.files["doc"] = b"%PDF-1.7 ..."
    doc = {"file_id": "doc", "file_unique_id": "ud", "file_name": "report.pdf", "file_size": 12,
           "mime_type": "application/pdf\r\nX-Injected: yes"}  # fmt: skip
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message(None, extra={"document": doc, "caption": "Summarise it"}))
        await fake.wait_sent(1)
    slack_fake = slack.FakeSlack()
    (tmp_path / "slack").mkdir()
    async with slack_bridge(sim, slack_fake, tmp_path / "slack") as bridge:
        shared = slack_fake.file(bridge.api, "F1", b"\x89PNG...", "chart.png", "image/png\nX-Injected: yes")
        await bridge.event(slack.dm("What does it show?") | {"subtype": "file_share", "files": [shared]})
        await slack_fake.wait_posts(1)
    asked = _asked(sim)
    assert [a["message"] for a in asked] == ["Summarise it", "What does it show?"]
    stored = [sim.files.stored[f["storagePath"]] for a in asked for f in a["files"]]
    assert [(s["name"], s["type"]) for s in stored] == [("report.pdf", "application/pdf"), ("chart.png", "image/png")]


async def test_a_slack_file_on_another_host_never_gets_the_bot_token(sim: RaiaSimulator, tmp_path: Path) -> None:
    """A file_share whose private URL points at a host that is not Slack's (here a second
    loopback server, beside the fake Slack the bridge is configured with) is never fetched
    with the bot token: the question goes on without it."""
    seen: list[dict[str, str]] = []

    async def anything(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response(b"a,b\n1,2\n", media_type="text/csv")

    elsewhere = Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])
    fake = slack.FakeSlack()
    async with serving(elsewhere) as foreign, slack_bridge(sim, fake, tmp_path) as bridge:
        shared = fake.file(bridge.api, "F1", b"a,b\n1,2\n", "numbers.csv", "text/csv")
        shared |= {"url_private": f"{foreign}/files-pri/F1", "url_private_download": f"{foreign}/files-pri/F1?dl=1"}
        event = slack.dm("Sum the columns?") | {"subtype": "file_share", "files": [shared]}
        assert (await bridge.event(event)).status_code == 200
        await fake.wait_posts(1)
    assert [h.get("authorization") for h in seen if "authorization" in h] == []
    assert not any(slack.BOT_TOKEN in value for headers in seen for value in headers.values())
    (asked,) = _asked(sim)
    assert (asked["message"], asked["files"]) == ("Sum the columns?", [])
    assert sim.files.stored == {}
