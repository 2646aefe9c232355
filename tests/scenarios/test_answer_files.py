"""Files the agent makes (a chart, a CSV) end to end: from the raia simulator's answer,
fetched through its signed download URL, posted to the fake Telegram and Slack APIs after
the answer's text, each exactly once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from adapters.raia.demo_agent import MadeFile, SimAnswer, chart_png
from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.conftest import API_KEY
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.processes import start_bridge, telegram_env
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_telegram import running as telegram_bridge

CSV = b"month,signups\nJan,30\nFeb,70\nMar,50\nApr,90\n"


def _made(sim: RaiaSimulator, name: str) -> bytes:
    return bytes(next(m["file"].data for m in sim.files.made.values() if m["file"].name == name))


async def test_telegram_gets_the_chart_as_a_photo_and_the_csv_as_a_document_after_the_text(
    sim: RaiaSimulator, tmp_path: Path
) -> None:
    """The answer's words first, then each file it made, streamed with its length."""
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        assert (await bridge.post(tg.message("make me a chart and a csv"))).status_code == 200
        await waiting.until(lambda: len(fake.uploads) == 2)
        await bridge.idle()
    (text,) = fake.sent
    assert "chart.png" in text.text
    assert [(u[0], u[2], u[3]) for u in fake.uploads] == [
        ("sendPhoto", "chart.png", "image/png"),
        ("sendDocument", "data.csv", "text/csv"),
    ]
    assert fake.uploads[0][4] == _made(sim, "chart.png")
    assert fake.uploads[1][4] == CSV
    assert fake.calls.index("sendMessage") < fake.calls.index("sendPhoto") < fake.calls.index("sendDocument")
    assert all("content-length" in h for h in fake.upload_headers)  # streamed, its length announced
    assert sim.files.downloads == 2


async def test_slack_gets_the_files_in_the_answers_thread(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Uploaded through files.getUploadURLExternal and completed into the channel and thread."""
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        event = slack.channel_message(
            f"<@{slack.BOT_USER}> a chart and a csv please", kind="app_mention", ts="1700000000.000100"
        )
        assert (await bridge.event(event)).status_code == 200
        await waiting.until(lambda: len(fake.shared()) == 2)
        await bridge.idle()
    text, chart, table = fake.posts
    assert "chart.png" in text.body
    assert not text.files
    assert [p.thread_ts for p in fake.posts] == ["1700000000.000100"] * 3
    assert [f["name"] for _, f in fake.shared()] == ["chart.png", "data.csv"]
    assert sorted(u["data"] for u in fake.uploads.values()) == sorted([_made(sim, "chart.png"), CSV])
    assert all("authorization" not in h for h in fake.upload_headers)  # the upload URL is its own key
    assert chart.ts < table.ts


async def test_slack_lost_completion_response_does_not_post_the_file_twice(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Slack shared the file but its answer was lost: the bridge looks in the thread, finds
    it, and goes on to the next file instead of uploading it again."""
    fake = slack.FakeSlack()
    fake.lose_completes = 1
    async with slack_bridge(sim, fake, tmp_path) as bridge:
        event = slack.channel_message(
            f"<@{slack.BOT_USER}> a chart and a csv please", kind="app_mention", ts="1700000000.000200"
        )
        await bridge.event(event)
        await waiting.until(lambda: len(fake.shared()) >= 2)
        await bridge.idle()
    assert [f["name"] for _, f in fake.shared()] == ["chart.png", "data.csv"]
    assert fake.calls.count("files.completeUploadExternal") == 2


def _big(question: str) -> SimAnswer:
    return SimAnswer(
        "Here is the export.",
        made=[MadeFile("export.bin", "application/octet-stream", b"x" * (3 * 1024 * 1024)),
              MadeFile("chart.png", "image/png", chart_png([1, 2, 3]))],
    )  # fmt: skip


async def test_a_file_over_the_limit_becomes_a_line_with_its_name_and_size(tmp_path: Path) -> None:
    """Over FILES_MAX_MB: not fetched at all, a line in the person's language instead; the
    next file still goes."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05, answer=_big)
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, files_max_mb=1) as bridge:
        await bridge.post(tg.message("export please", sender=tg.user() | {"language_code": "de"}))
        await waiting.until(lambda: len(fake.uploads) == 1)
        await bridge.idle()
    answer, line = fake.texts()
    assert answer == "Here is the export."
    assert line == "📎 export.bin (3 MB) ist zu groß, um es hier zu senden."
    assert [u[2] for u in fake.uploads] == ["chart.png"]
    assert sim.files.downloads == 1  # the big one was never fetched


async def test_kill_9_mid_upload_of_the_second_file_posts_each_file_once(tmp_path: Path) -> None:
    """SIGKILL while the CSV is being sent (the chart already posted): after the restart the
    chart is not sent again, the CSV is, and the words are not repeated."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    fake = tg.FakeTelegram()
    cut = fake.held["sendDocument"] = asyncio.Event()  # the CSV's send hangs: the process dies in it
    async with serving(sim) as raia, serving(fake.app()) as api:
        env = telegram_env(raia, api, tmp_path)
        first = await start_bridge(env, tmp_path)
        fake.push_update(tg.message("a chart and a csv"))
        await waiting.until(lambda: "sendDocument" in fake.calls, timeout=30)
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.communicate(), timeout=20)
        fake.held["sendDocument"] = asyncio.Event()
        fake.held["sendDocument"].set()
        second = await start_bridge(env, tmp_path)
        try:
            await waiting.until(lambda: len(fake.uploads) == 2, timeout=30)
            await waiting.nothing_waiting(f"http://127.0.0.1:{env['PORT']}", timeout=30)
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(second.communicate(), timeout=20)
            uploads = list(fake.uploads)
            cut.set()  # the request the killed process left hanging ends (its answer goes nowhere)
    assert len(fake.sent) == 1
    assert [(u[0], u[2]) for u in uploads] == [("sendPhoto", "chart.png"), ("sendDocument", "data.csv")]
    assert "signature=" not in err.decode()  # no signed URL in the log
    assert tg.TOKEN not in err.decode()


async def test_a_guest_answers_files_go_to_the_private_chat(sim: RaiaSimulator, tmp_path: Path) -> None:
    """Summoned as a guest, the answer goes in place and its chart to the person's private
    chat (a guest answer holds no file); someone the bot cannot write to first just does
    not get it: the answer still counts as delivered."""
    fake = tg.FakeTelegram()
    fake.fail("sendPhoto", 403, "Forbidden: bot can't initiate conversation with a user")
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} a chart please", query="gq-1"))
        await waiting.until(lambda: "gq-1" in fake.guest_answers)
        await bridge.post(tg.guest(f"@{tg.BOT_USERNAME} a chart again", query="gq-2"))
        await waiting.until(lambda: len(fake.uploads) == 1)
        await bridge.idle()
        store = waiting.runtime_of(bridge.app).store
        states = [(await store.question(n)).state.value for n in (1, 2)]
    assert [(u[0], u[1], u[2]) for u in fake.uploads] == [("sendPhoto", 42, "chart.png")]  # the second one
    assert "chart.png" in fake.guest_answers["gq-1"].text
    assert states == ["delivered", "delivered"]
