"""Files a staff member sends during a takeover reach the chat after their words, like
the agent's answer files: each once, within FILES_MAX_MB (a line in the person's language
instead when over it)."""

from __future__ import annotations

from pathlib import Path

from adapters.raia.demo_agent import MadeFile, chart_png
from adapters.raia.simulator import RaiaSimulator
from tests.fakes import telegram as tg
from tests.scenarios.test_takeover import FAST, only_conversation, until
from tests.scenarios.test_telegram import running as telegram_bridge


async def test_staff_files_follow_their_words_once_and_over_the_limit_a_line(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    fake = tg.FakeTelegram()
    german = tg.user() | {"language_code": "de"}
    async with telegram_bridge(sim, fake, tmp_path, files_max_mb=1, **FAST) as bridge:
        await bridge.post(tg.message("What does it cost?", sender=german))
        await fake.wait_sent(1)
        cid = only_conversation(sim)
        sim.takeover.take(cid, staff="Dana")
        await fake.wait_sent(2)
        chart = chart_png([3, 1, 2])
        made = [MadeFile("form.png", "image/png", chart), MadeFile("export.bin", "application/octet-stream",
                                                                    b"x" * (3 * 1024 * 1024))]  # fmt: skip
        sim.takeover.write(cid, "Here is the form.", files=sim.files.attach(cid, made))
        sim.takeover.write(cid, "", files=sim.files.attach(cid, [MadeFile("note.csv", "text/csv", b"a,b\n1,2\n")]))
        sim.takeover.write(cid, "Anything else?")
        await fake.wait_sent(5)
        await until(lambda: len(fake.uploads) == 2)
        # Further looks at the conversation post nothing again.
        looks = sim.count("GET", f"/external/conversations/{cid}/messages")
        await until(lambda: sim.count("GET", f"/external/conversations/{cid}/messages") >= looks + 2)
        await bridge.idle()
    texts = fake.texts()
    too_big = "📎 export.bin (3 MB) ist zu groß, um es hier zu senden."
    assert texts[2:] == ["Here is the form.", too_big, "Anything else?"]
    assert [(u[0], u[2], u[4]) for u in fake.uploads] == [
        ("sendPhoto", "form.png", chart),
        ("sendDocument", "note.csv", b"a,b\n1,2\n"),
    ]
    # Words, then the files in order, then the next message.
    order = [c for c in fake.calls if c in ("sendMessage", "sendPhoto", "sendDocument")]
    assert order[2:] == ["sendMessage", "sendPhoto", "sendMessage", "sendDocument", "sendMessage"]
    assert sim.files.downloads == 2  # the big one was never fetched
