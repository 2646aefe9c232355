"""The command line as a user runs it: demo, chat (with kill -9 and restart), check."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from store.pg_migrations import MIGRATIONS as PG_MIGRATIONS
from store.postgres import PostgresStore
from tests.conftest import API_KEY
from tests.fakes.server import serving
from tests.pgserver import PASSWORD, PgServer


def _env(**values: str) -> dict[str, str]:
    prefixes = ("RAIA_", "SLACK_", "TELEGRAM_", "BLAIGENT_", "SLUG_", "AGENT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(values)
    return env


async def _run(args: list[str], env: dict[str, str], cwd: Path, stdin: bytes = b"") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", *args,
        cwd=cwd, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_demo_answers_each_line_then_exits(tmp_path: Path) -> None:
    """`raia-bridge demo` with piped input answers every line in order, with sources (links
    and files), Markdown, and a follow-up that remembers what the conversation is about;
    then exits 0."""
    questions = b"How do refunds work?\nand for annual plans?\nCompare the plans\nthanks\n"
    code, out, err = await _run(["demo"], _env(RAIA_POLL_INTERVAL="0.2"), tmp_path, questions)
    assert code == 0, err
    refunds, annual, plans, thanks = _answers(out)
    assert "**full refund within 14 days**" in refunds
    assert "Refund policy — https://docs.northwind.example/billing/refunds" in refunds
    assert "Terms of Service (2026).pdf" in refunds
    assert "For **annual plans** the window is longer" in annual  # remembered: it was about refunds
    assert "| Team | $12 / seat / month |" in plans
    assert thanks.startswith("You're welcome!")
    assert "【" not in out


def _answers(out: str) -> list[str]:
    """The answers of a piped demo, in order (each ends with its sources or a blank line)."""
    starts = ("You can get", "For **annual plans**", "Here are the three plans", "You're welcome")
    positions = [out.index(start) for start in starts]
    return [out[a:b] for a, b in zip(positions, [*positions[1:], len(out)], strict=True)]


@pytest.mark.parametrize("backend", ["raia", "blaigent", "slug"])
async def test_the_demo_of_each_backend_reaches_its_simulator_past_a_proxy(backend: str, tmp_path: Path) -> None:
    """`demo --backend ...` serves that API's simulator on loopback and talks to it there,
    never through the proxy the environment names (nothing listens at that one)."""
    env = _env(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    code, out, err = await _run(["demo", "--backend", backend], env, tmp_path, b"What plans exist?\n")
    assert code == 0, err
    assert "**What plans exist" in out if backend == "blaigent" else "| Starter | $0 | 3 | community |" in out


async def test_chat_survives_kill_9_and_answers_exactly_once(tmp_path: Path) -> None:
    """A chat killed with SIGKILL while waiting delivers the answer once at the next start."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 2.0)
    async with serving(sim) as base:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=base, DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}",
                   RAIA_POLL_INTERVAL="0.1")  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", "chat",
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(b"will you remember me?\n")
        await proc.stdin.drain()
        async with asyncio.timeout(30):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        out, _ = await proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        assert "Sources:" not in out.decode()

        code, out2, err = await _run(["chat"], env, tmp_path, b"")
        assert code == 0, err
        assert out2.count("**will you remember me**") == 1
        assert sim.count("POST", "/messages/async") == 1
        (conversation,) = sim.conversations
        assert sim.user_messages(conversation) == ["will you remember me?"]

        code, out3, _ = await _run(["chat"], env, tmp_path, b"")
        assert code == 0
        assert "remember" not in out3


async def test_check_reports_a_good_and_a_bad_key(tmp_path: Path) -> None:
    """`raia-bridge check` names the agent for a good key and fails clearly for a bad one."""
    sim = RaiaSimulator(api_key=API_KEY)
    async with serving(sim) as base:
        code, out, _ = await _run(["check"], _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=base), tmp_path)
        assert "OK   raia: agent 'Ada (demo agent)'" in out
        assert code == 1  # no platform configured yet
        assert "FAIL platforms" in out
        code, out, err = await _run(["check"], _env(RAIA_API_KEY="wrong-key-xyz", RAIA_BASE_URL=base), tmp_path)
        assert code == 1
        assert "FAIL raia: RAIA_API_KEY was refused (403)" in out
        assert "wrong-key-xyz" not in out + err
    assert not (tmp_path / "bridge.db").exists()  # checking touches no state


async def test_check_reports_telegram_and_slack(tmp_path: Path) -> None:
    """`check` names the Telegram bot and its webhook state, the Slack bot, its scopes and mode."""
    from tests.fakes import slack, telegram

    fake_tg = telegram.FakeTelegram()
    fake_slack = slack.FakeSlack()
    fake_tg.webhook = {"url": "https://old.example.com/telegram/webhook"}
    fake_tg.webhook_error = (int(time.time()) - 30, "Connection refused")
    sim = RaiaSimulator(api_key=API_KEY)
    async with serving(sim) as raia, serving(fake_tg.app()) as tg_base, serving(fake_slack.app()) as slack_base:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, TELEGRAM_BOT_TOKEN=telegram.TOKEN,
                   TELEGRAM_API_URL=f"{tg_base}/bot", PUBLIC_URL="https://bridge.example.com",
                   TELEGRAM_WEBHOOK_SECRET="s3cret", SLACK_BOT_TOKEN=slack.BOT_TOKEN,
                   SLACK_SIGNING_SECRET="x", SLACK_API_URL=f"{slack_base}/api/")  # fmt: skip
        code, out, err = await _run(["check"], env, tmp_path)
    assert "OK   telegram: bot @raia_test_bot" in out
    assert "guest mode on; topics in private chats off" in out  # as getMe reports them
    assert "FAIL telegram mode: webhook https://old.example.com/telegram/webhook" in out
    assert "last error: Connection refused" in out
    assert "expected https://bridge.example.com/telegram/webhook" in out
    assert "OK   slack: bot raia in team Test" in out
    assert "OK   slack scopes: all needed scopes granted" in out
    assert "OK   slack mode: HTTP" in out
    assert code == 1  # the webhook points elsewhere until the bridge starts
    assert telegram.TOKEN not in out + err
    assert slack.BOT_TOKEN not in out + err


async def test_check_never_prints_a_rejected_token(tmp_path: Path) -> None:
    """A Telegram token the Bot API refuses is reported as refused, without repeating it."""
    from tests.fakes import telegram

    fake_tg = telegram.FakeTelegram()
    wrong = "999999:WRONG-token-value-abc"
    sim = RaiaSimulator(api_key=API_KEY)
    async with serving(sim) as raia, serving(fake_tg.app()) as tg_base:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, TELEGRAM_BOT_TOKEN=wrong,
                   TELEGRAM_API_URL=f"{tg_base}/bot")  # fmt: skip
        code, out, err = await _run(["check"], env, tmp_path)
    assert code == 1
    assert "FAIL telegram: TELEGRAM_BOT_TOKEN was refused" in out
    assert wrong not in out + err


async def test_check_tells_unreachable_from_refused(tmp_path: Path) -> None:
    """A raia nobody listens at is "could not reach … connection refused", not a refused key."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = await _run(["check"], _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=f"http://127.0.0.1:{port}"), tmp_path)
    assert code == 1
    assert f"FAIL raia: could not reach http://127.0.0.1:{port}: GET /agents/by-api-key: connection refused" in out


async def test_scripted_demo_exits_non_zero_when_an_answer_failed(tmp_path: Path) -> None:
    """Piped into `demo`, a question the agent fails prints the notice and the exit status is 1."""
    code, out, _ = await _run(["demo"], _env(RAIA_POLL_INTERVAL="0.2"), tmp_path, b"please [fail] now\n")
    assert code == 1
    assert "could not answer that" in out


async def test_check_reports_the_database_without_its_password(tmp_path: Path, pg_server: PgServer) -> None:
    """`check` says which engine, whether it answers and the schema version; a wrong password
    is a FAIL line that does not repeat it; SQLite is only read, never created."""
    sim = RaiaSimulator(api_key=API_KEY)
    url = await pg_server.new_database()
    async with PostgresStore(url):  # the bridge ran once: the schema exists
        pass
    async with serving(sim) as base:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=base, DATABASE_URL=url)
        _, out, err = await _run(["check"], env, tmp_path)
        assert "OK   database: PostgreSQL 15." in out
        assert f", schema {len(PG_MIGRATIONS)} at postgresql://bridge:***@127.0.0.1:" in out
        wrong = url.replace(PASSWORD, "Wrong-Pass-42")
        _, out, err = await _run(["check"], env | {"DATABASE_URL": wrong}, tmp_path)
        assert "FAIL database: postgresql://bridge:***@" in out
        assert "password authentication failed" in out
        assert "Wrong-Pass-42" not in out + err
        env = env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
        _, out, _ = await _run(["check"], env, tmp_path)
        assert "does not exist yet (created at first start)" in out
    assert not (tmp_path / "fresh.db").exists()


async def test_the_simulator_says_where_it_listens_and_can_refuse_a_key(tmp_path: Path) -> None:
    """`python -m adapters.raia.simulator --api-key K` prints its address and refuses other keys,
    so an operator can rehearse `check` with a wrong key offline."""
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.raia.simulator", "--port", str(port), "--api-key", API_KEY,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert f"RAIA_BASE_URL=http://127.0.0.1:{port}" in line
        base = f"http://127.0.0.1:{port}"
        async with asyncio.timeout(20):
            while True:
                try:
                    async with httpx.AsyncClient(base_url=base) as http:
                        good = await http.get("/external/agents/by-api-key", headers={"Agent-Secret-Key": API_KEY})
                        bad = await http.get("/external/agents/by-api-key", headers={"Agent-Secret-Key": "nope-123"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        assert (good.status_code, bad.status_code) == (200, 403)
        code, out, _ = await _run(["check"], _env(RAIA_API_KEY="nope-123", RAIA_BASE_URL=base), tmp_path)
        assert code == 1
        assert "FAIL raia: RAIA_API_KEY was refused" in out
    finally:
        proc.terminate()
        await proc.wait()


async def test_check_verifies_the_configured_backend(tmp_path: Path) -> None:
    """`check` names the backend and proves its key the cheapest way it can; a refused key
    or an unknown slug is a FAIL line naming the setting, never repeating the key."""
    from adapters.blaigent.simulator import BlaigentSimulator
    from adapters.slug.simulator import SlugSimulator

    blaigent, slug = BlaigentSimulator(), SlugSimulator()
    async with serving(blaigent.app()) as bl, serving(slug.app()) as sl:
        bl_env = _env(AGENT_BACKEND="blaigent", BLAIGENT_API_KEY=blaigent.api_key, BLAIGENT_ORG_ID="org_demo",
                      BLAIGENT_BASE_URL=f"{bl}/api/v1")  # fmt: skip
        _, out, _ = await _run(["check"], bl_env, tmp_path)
        assert "OK   blaigent: agent 'customer-service' of organization 'org_demo'" in out
        _, out, err = await _run(["check"], bl_env | {"BLAIGENT_API_KEY": "bl-Wrong-7"}, tmp_path)
        assert "FAIL blaigent: BLAIGENT_API_KEY was refused (401)" in out
        assert "bl-Wrong-7" not in out + err
        sl_env = _env(AGENT_BACKEND="slug", SLUG_API_KEY=slug.api_key, SLUG_AGENT="support-agent",
                      SLUG_API_URL=f"{sl}/v1/api")  # fmt: skip
        _, out, _ = await _run(["check"], sl_env, tmp_path)
        assert "OK   slug: agent 'support-agent'" in out
        _, out, _ = await _run(["check"], sl_env | {"SLUG_AGENT": "no-such-agent"}, tmp_path)
        assert "FAIL slug: SLUG_AGENT 'no-such-agent' names no agent" in out
    assert slug.conversations == {}  # the check ran no agent


async def test_check_says_whether_raias_push_reaches_this_bridge(tmp_path: Path) -> None:
    """With RAIA_PUSH, `check` reads the agent's webhooks (changing nothing) and says whether
    one points at PUBLIC_URL/raia/webhook."""
    sim = RaiaSimulator(api_key=API_KEY)
    async with serving(sim) as base:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=base, RAIA_PUSH="true", PUBLIC_URL="http://127.0.0.1:9")
        _, out, _ = await _run(["check"], env, tmp_path)
        assert "OK   raia push: not registered yet: the bridge registers http://127.0.0.1:9/raia/webhook" in out
        sim.webhooks.append({"url": "http://127.0.0.1:9/raia/webhook", "triggerCondition": "each_message",
                             "headers": {}, "status": "active", "title": "t", "description": "d"})  # fmt: skip
        _, out, _ = await _run(["check"], env, tmp_path)
        assert "OK   raia push: webhook registered at http://127.0.0.1:9/raia/webhook" in out
    assert sim.count("POST", "/agents/webhooks") == 0  # check registers nothing


async def test_the_demo_agent_makes_a_chart_and_a_csv_the_terminal_saves(tmp_path: Path) -> None:
    """Asked for a chart and a CSV, the demo's answer is followed by the path of each file,
    saved whole under a temporary folder (a real PNG, the CSV's rows)."""
    env = _env(RAIA_POLL_INTERVAL="0.2", TMPDIR=str(tmp_path))
    code, out, err = await _run(["demo"], env, tmp_path, b"Make me a chart and a csv of signups\n")
    assert code == 0, err
    saved = {line.split(": ", 1)[0]: Path(line.split(": ", 1)[1]) for line in out.splitlines() if line.startswith("📎")}
    assert set(saved) == {"📎 chart.png", "📎 data.csv"}, out
    assert saved["📎 chart.png"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert saved["📎 data.csv"].read_text().startswith("month,signups\n")
    assert saved["📎 chart.png"].parent.parent == tmp_path  # under the temporary folder
    assert out.index("Here you are") < out.index("📎 chart.png") < out.index("📎 data.csv")
