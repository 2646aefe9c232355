"""Asking for a person (``/human`` on Telegram, ``/raia human`` and "human" in a Slack DM)
and ``HANDOFF=off`` (today's behaviour: takeovers ignored, no commands)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.scenarios.test_cli import _env
from tests.scenarios.test_slack import running as slack_bridge
from tests.scenarios.test_takeover import FAST, only_conversation, states, until
from tests.scenarios.test_telegram import running as telegram_bridge

ASKED = "Okay — a person from the support team will take over here shortly."


async def test_telegram_human_sets_the_mode_and_the_staff_reply_follows(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.post(tg.message("/human"))  # no conversation yet
        await fake.wait_sent(1)
        await bridge.post(tg.message("What does it cost?"))
        await fake.wait_sent(2)
        cid = only_conversation(sim)
        sim.fail("PUT", "/mode", 500)  # raia refuses once
        await bridge.post(tg.message("/human"))
        await fake.wait_sent(3)
        assert sim.conversations[cid].get("mode", "ai") == "ai"
        await bridge.post(tg.message("/human"))
        await fake.wait_sent(4)
        assert sim.conversations[cid]["mode"] == "manual"
        sim.takeover.take(cid, staff="Dana")  # someone picks it up in raia's inbox
        sim.takeover.write(cid, "Hello, Dana here.")
        await fake.wait_sent(5)
    texts = fake.texts()
    assert texts[0] == "Ask your question first; then a person from the team can take it over."
    assert texts[2] == "Sorry — I couldn't reach a person just now. Please try again in a moment."
    assert texts[3:] == [ASKED, "Hello, Dana here."]  # the confirmation was the takeover's one notice


async def test_slack_raia_human_and_human_in_a_dm(sim: RaiaSimulator, tmp_path: Path) -> None:
    fake = slack.FakeSlack()
    async with slack_bridge(sim, fake, tmp_path, **FAST) as bridge:
        await bridge.event(slack.dm("What does it cost?"))
        await fake.wait_posts(1)
        cid = only_conversation(sim)
        response = await bridge.command("human")
        assert response.json() == {"response_type": "ephemeral", "text": ASKED}
        assert sim.conversations[cid]["mode"] == "manual"
        sim.takeover.hand_back(cid)
        await fake.wait_posts(2)  # "You're back with …"
        await bridge.event(slack.dm("human"))
        await fake.wait_posts(3)
        assert sim.conversations[cid]["mode"] == "manual"
    assert fake.posts[1].text == "You're back with Ada (demo agent)."
    assert fake.posts[2].text == ASKED
    assert sim.user_messages(cid) == ["What does it cost?"]  # "human" was not a question


async def test_handoff_off_ignores_takeovers_and_has_no_command(tmp_path: Path) -> None:
    sim = RaiaSimulator(api_key="sk-test-0123456789abcdef", delay=lambda _: 60.0)
    fake = tg.FakeTelegram()
    async with telegram_bridge(sim, fake, tmp_path, handoff=False, raia_poll_timeout=1.0) as bridge:
        await bridge.post(tg.message("I need to change my booking"))
        await until(lambda: sim.conversations and sim.user_messages(only_conversation(sim)))
        cid = only_conversation(sim)
        sim.takeover.take(cid, staff="Dana")
        sim.takeover.write(cid, "Hi, I'm Dana.")
        await fake.wait_sent(1)
        await until(lambda: states(tmp_path) == ["delivered"])
        await bridge.post(tg.message("/human"))
        await fake.wait_sent(2)
    assert fake.texts() == [
        "Sorry — the assistant took too long to answer. Please try again in a moment.",
        "I don't know that command. Try /help.",
    ]
    assert sim.count("GET", f"/external/conversations/{cid}") == 0  # nothing watches
    assert sim.count("GET", "/external/conversations") == 0
    assert [c["command"] for c in fake.commands] == ["start", "help", "reset", "new", "stop"]  # no /human in the menu
    assert all("human" not in [c["command"] for c in menu] for menu in fake.menus.values())


async def test_human_is_in_the_menu_and_the_help_in_every_language(sim: RaiaSimulator, tmp_path: Path) -> None:
    """With HANDOFF, Telegram's command menu (each language's) and the help name /human;
    Slack's `/raia help` names `/raia human`."""
    fake = tg.FakeTelegram()
    german = tg.user()
    german["language_code"] = "de"
    async with telegram_bridge(sim, fake, tmp_path) as bridge:
        await bridge.post(tg.message("/help"))
        await bridge.post(tg.message("/help", sender=german))
        await fake.wait_sent(2)
    assert sorted(fake.menus) == ["", "de", "es", "fr", "pt"]
    for language, menu in fake.menus.items():
        human = [c["description"] for c in menu if c["command"] == "human"]
        assert human, language
        assert language in ("", "en") or human[0] != "Talk to a person from the support team"
    assert {t.splitlines()[-1] for t in fake.texts()} == {
        "/human — talk to a person from the support team",
        "/human — mit einem Menschen aus dem Support-Team sprechen",
    }
    slack_fake = slack.FakeSlack()
    (tmp_path / "slack").mkdir()
    async with slack_bridge(sim, slack_fake, tmp_path / "slack") as bridge:
        helped = (await bridge.command("help")).json()["text"]
    assert helped.endswith("`/raia human` (or `human` in a DM) asks for a person from the support team.")


async def test_the_demo_shows_a_takeover_on_request(tmp_path: Path) -> None:
    """`raia-bridge demo`: /human hands the conversation to a simulated staff member, whose
    message arrives in the terminal; a question asked meanwhile reaches them (no answer
    is waited for, no timeout), and the assistant is back after the staff member leaves."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "demo", cwd=tmp_path, env=_env(RAIA_POLL_INTERVAL="0.2"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdin is not None
    assert proc.stdout is not None
    out = ""

    async def say(line: str, then: str) -> None:
        nonlocal out
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(line.encode() + b"\n")
        await proc.stdin.drain()
        try:
            async with asyncio.timeout(30):
                while then not in out:
                    out += (await proc.stdout.readline()).decode()
        except TimeoutError:
            raise AssertionError(f"{then!r} not in {out!r}") from None

    try:
        await say("What plans exist?", "Sources:")
        await say("/human", ASKED)
        await say("Can I get a refund?", "I'm **Dana** from the support team")
        await say("Thanks!", "You're back with Ada (demo agent).")
    finally:
        proc.stdin.close()
        await asyncio.wait_for(proc.wait(), timeout=30)
    assert proc.returncode == 0
    assert "took too long" not in out
    assert "**Can I get a refund**" not in out  # it went to the staff member, not the agent


async def test_the_simulators_staff_cli(sim: RaiaSimulator) -> None:
    """`python -m adapters.raia.simulator --take/--write/--hand-back` act on a running simulator."""
    import httpx

    from tests.conftest import API_KEY
    from tests.fakes.server import serving

    async with serving(sim) as base, httpx.AsyncClient(base_url=base, headers={"Agent-Secret-Key": API_KEY}) as http:
        user = (await http.post("/external/users", json={"firstName": "A", "lastName": "B", "fkId": "x"})).json()
        await http.post("/external/conversations", json={"conversationUserId": user["id"]})
        cid = only_conversation(sim)
        port = base.rsplit(":", 1)[1]
        for args in (["--take", "latest", "--staff", "Sam"], ["--write", cid, "Hello from Sam"], ["--hand-back", cid]):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "adapters.raia.simulator", "--port", port, *args,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
            assert proc.returncode == 0
            if args[0] == "--take":
                assert out.decode().strip() == f"conversation {cid}: mode manual, with Sam"
                assert (await http.get(f"/external/conversations/{cid}")).json()["assignedUser"]["firstName"] == "Sam"
        listed = (await http.get("/external/conversations", params={"orderBy": "updatedAt"})).json()
    assert [m["message"] for m in sim.conversations[cid]["messages"]] == ["Hello from Sam"]
    assert sim.conversations[cid]["messages"][0]["senderRole"] == "manual_assistant"
    assert [(c["id"], c["mode"]) for c in listed["data"]] == [(cid, "ai")]
