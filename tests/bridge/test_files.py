"""Files with questions, in the core: uploaded to raia as the question is sent (again after
a restart, never sent twice), within the limits, with a note for every file left out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.files import limited
from adapters.raia.client import RaiaClient
from adapters.raia.simulator import RaiaSimulator
from bridge.app.runtime import Runtime
from bridge.errors import FileUnavailable
from bridge.files import FilePolicy
from bridge.models import Attachment, ReplyKind
from bridge.ports.agent import NewUser
from bridge.ports.inbox import Receipt
from bridge.ports.outbound import Download
from tests import waiting
from tests.conftest import API_KEY, message, started
from tests.fakes.outbound import RecordingOutbound
from tests.fakes.server import serving
from tests.fakes.tamper import Tamper

PHOTO = Attachment("photo.jpg", "image/jpeg", 3_000, "ref-photo")
PDF = Attachment("report.pdf", "application/pdf", 2_500, "ref-pdf")


def _sent(sim: RaiaSimulator) -> list[dict[str, Any]]:
    return [m for c in sim.conversations.values() for m in c["messages"] if m["senderRole"] == "conversation_user"]


def _with(text: str, *files: Attachment, user: str = "u1") -> Any:
    return replace(message(text, user=user), attachments=files)


async def test_files_reach_raia_with_the_question(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    outbound.files = {"ref-photo": b"\xff\xd8" + b"j" * 2_998, "ref-pdf": b"%PDF" + b"p" * 2_496}
    async with started(sim, db_path, outbound, files=FilePolicy()) as rt:
        assert await rt.service.receive(_with("What is this?", PHOTO, PDF)) is Receipt.ACCEPTED
        await outbound.wait_for(1)
    (sent,) = _sent(sim)
    assert sent["message"] == "What is this?"
    assert [f["fileName"] for f in sent["files"]] == ["photo.jpg", "report.pdf"]
    stored = {s["name"]: s for s in sim.files.stored.values()}
    assert stored["photo.jpg"]["data"] == outbound.files["ref-photo"]  # byte for byte, streamed in chunks
    assert stored["report.pdf"]["type"] == "application/pdf"
    assert outbound.replies[0].kind is ReplyKind.ANSWER


async def test_a_file_alone_is_sent_by_its_name(sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound) -> None:
    outbound.files = {"ref-photo": b"jpeg"}
    async with started(sim, db_path, outbound, files=FilePolicy()) as rt:
        assert await rt.service.receive(_with("", PHOTO)) is Receipt.ACCEPTED
        await outbound.wait_for(1)
    (sent,) = _sent(sim)
    assert (sent["message"], len(sent["files"])) == ("📎 photo.jpg", 1)


async def test_files_over_the_limits_are_left_out_with_a_note(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """Too big (declared, or found while reading), a type not allowed, one too many, one that
    cannot be fetched: each left out with a line of the note the answer starts with; the
    words still go."""
    outbound.files = {"ref-photo": b"j" * 1_000, "ref-big": b"b" * 5_000, "ref-liar": b"l" * 5_000}
    files = (
        PHOTO,
        Attachment("huge.png", "image/png", 5_000, "ref-big"),
        Attachment("liar.png", "image/png", 10, "ref-liar"),  # its declared size is wrong
        Attachment("movie.mp4", "video/mp4", 100, "ref-movie"),
        Attachment("gone.jpg", "image/jpeg", 100, "ref-gone"),
        Attachment("extra.jpg", "image/jpeg", 100, "ref-photo"),
    )
    policy = FilePolicy(max_bytes=4_000, max_count=5)
    async with started(sim, db_path, outbound, files=policy) as rt:
        await rt.service.receive(_with("Look at these", *files))
        await outbound.wait_for(1)
    (answer,) = outbound.replies  # the note is part of the answer, before the agent's words
    note, words = answer.text.split("\n\n", 1)
    assert words
    lines = note.splitlines()
    assert lines[0] == "huge.png is larger than 0.00381 MB, so I couldn't pass it on."
    assert lines[1] == "liar.png is larger than 0.00381 MB, so I couldn't pass it on."
    assert lines[2:] == [
        "I can't pass on files like movie.mp4 (video/mp4).",
        "I couldn't fetch gone.jpg, so it was not passed on.",
        "Only the first 5 files were passed on.",
    ]
    (sent,) = _sent(sim)
    assert [f["fileName"] for f in sent["files"]] == ["photo.jpg"]
    assert sent["message"] == "Look at these"
    assert answer.kind is ReplyKind.ANSWER


async def test_only_files_and_none_passes_gets_the_note_not_the_agent(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    async with started(sim, db_path, outbound, files=FilePolicy()) as rt:
        await rt.service.receive(_with("", Attachment("gone.jpg", "image/jpeg", 100, "ref-gone")))
        await outbound.wait_for(1)
    (reply,) = outbound.replies
    assert reply.text == "I couldn't fetch gone.jpg, so it was not passed on."
    assert sim.count("POST", "/messages/async") == 0


async def test_files_off_words_go_and_a_file_alone_gets_the_text_only_note(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    outbound.files = {"ref-photo": b"jpeg"}
    async with started(sim, db_path, outbound, files=None) as rt:
        await rt.service.receive(_with("With a photo", PHOTO))
        await rt.service.receive(_with("", PHOTO, user="u2"))
        await outbound.wait_for(3)
    texts = sorted(r.text for r in outbound.replies)
    assert "This assistant can't read files, so only your text was passed on." in texts
    assert "Sorry, I can only read text messages for now. Please type your question." in texts
    (sent,) = _sent(sim)
    assert (sent["message"], sent["files"]) == ("With a photo", [])
    assert outbound.downloads == []


async def test_a_stalled_download_is_left_out_within_half_the_questions_time(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """A platform's download that stops mid-file: the file is left out once its share of
    half the time the question has (RAIA_POLL_TIMEOUT 5 s here) is spent; the other file
    and the words go."""
    outbound.files = {"ref-photo": b"j" * 3_000, "ref-pdf": b"%PDF" + b"p" * 2_496}
    outbound.stalls.add("ref-photo")
    loop = asyncio.get_running_loop()
    async with started(sim, db_path, outbound, files=FilePolicy()) as rt:
        began = loop.time()
        await rt.service.receive(_with("What is this?", PHOTO, PDF))
        await outbound.wait_for(1)
        took = loop.time() - began
    assert 1.25 <= took < 5
    (answer,) = outbound.replies
    assert answer.text.startswith("I couldn't fetch photo.jpg, so it was not passed on.\n\n")
    (sent,) = _sent(sim)
    assert [f["fileName"] for f in sent["files"]] == ["report.pdf"]
    assert sent["message"] == "What is this?"


async def test_a_restart_between_upload_and_send_uploads_again_and_sends_once(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    """The send is cut off by a restart after the upload: the next life uploads the file
    again (its earlier upload is not trusted) and sends the question once, with the file."""
    outbound.files = {"ref-photo": b"j" * 3_000}
    tamper = Tamper(sim, stall={"/messages/async$": 60})
    async with started(tamper, db_path, outbound, files=FilePolicy(), drain=0.1) as rt:
        await rt.service.receive(_with("What is this?", PHOTO))
        async with asyncio.timeout(5):
            while sim.files.uploads < 1:
                await asyncio.sleep(0.01)
        # The upload done, the send on its way (noted before it goes; raia stalls it).
        await waiting.until(lambda: _send_noted(rt), what="the send attempt noted")
    assert sim.count("POST", "/messages/async") == 0
    async with started(sim, db_path, outbound, files=FilePolicy()):
        await outbound.wait_for(1)
    assert sim.files.uploads == 2
    assert sim.count("POST", "/messages/async") == 1
    (sent,) = _sent(sim)
    assert len(sent["files"]) == 1
    assert sent["files"][0]["storagePath"] in sim.files.stored


async def test_a_file_growing_past_its_limit_mid_upload_is_the_files_fault_over_real_http(
    sim: RaiaSimulator,
) -> None:
    """Over real HTTP (aiohttp, as in production), a download that breaks the
    limit half-way is reported as the file's failure, not as raia being unreachable."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1_000
            await asyncio.sleep(0)

    async with serving(sim) as base, aiohttp.ClientSession() as http:
        client = RaiaClient(http, base_url=base, api_key=API_KEY)
        user = await client.find_or_create_user(NewUser("t:1", "Ann", "Lee", {}))
        conversation = await client.create_conversation(user, "t", {})
        with pytest.raises(FileUnavailable) as caught:
            await client.upload_file(conversation, "a.png", "image/png", Download(limited(chunks(), 4_000), None))
        assert caught.value.reason == "file_too_big"
        ok = await client.upload_file(conversation, "b.png", "image/png", Download(limited(chunks(), 20_000), None))
    assert sim.files.stored[ok.storage_path]["data"] == b"x" * 10_000


async def _send_noted(rt: Runtime) -> bool:
    return (await rt.store.question(1)).send_attempts >= 1
