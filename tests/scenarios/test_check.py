"""`raia-bridge check` (`python -m bridge check`) in the operator's first hour: what it
finds besides the credentials, run as the real program against fakes on loopback."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.raia.simulator import RaiaSimulator
from bridge.app.environment import PLATFORM_URLS, PREFIXES
from tests.conftest import API_KEY
from tests.fakes import slack, telegram
from tests.fakes.server import serving
from tests.fakes.transcribe import API_KEY as TRANSCRIBE_KEY
from tests.fakes.transcribe import FakeTranscriber
from tests.pgserver import PgServer

OURS = (*PREFIXES, "AGENT_", "PUBLIC_URL", *(name for name, _ in PLATFORM_URLS))


def _env(**values: str) -> dict[str, str]:
    """The test process's environment without anything the bridge would read as its own."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(OURS)}
    return env | values


def _real(path: Path) -> Path:
    """The directory as the process sees it as its working directory (symbolic links resolved)."""
    return path.resolve()


async def _check(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "check", *args,
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_refused_socket_mode_token_fails_the_check(tmp_path: Path) -> None:
    """SLACK_APP_TOKEN is tried as the Socket Mode client would (apps.connections.open): a
    refused one is a FAIL line naming the setting, without repeating it."""
    fake = slack.FakeSlack()
    async with serving(RaiaSimulator(api_key=API_KEY)) as raia, serving(fake.app()) as api:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, SLACK_BOT_TOKEN=slack.BOT_TOKEN,
                   SLACK_APP_TOKEN=slack.APP_TOKEN, SLACK_API_URL=f"{api}/api/")  # fmt: skip
        code, out, _ = await _check(env, tmp_path)
        assert "OK   slack mode: Socket Mode: SLACK_APP_TOKEN accepted" in out
        assert code == 0, out
        wrong = "xapp-1-A0-wrong-app-token-77"
        code, out, err = await _check(env | {"SLACK_APP_TOKEN": wrong}, tmp_path)
    assert "FAIL slack mode: Socket Mode: SLACK_APP_TOKEN was refused: invalid_auth" in out
    assert code == 1
    assert wrong not in out + err
    assert fake.calls.count("apps.connections.open") == 2


async def test_telegrams_delivery_error_fails_the_check_in_its_own_words(tmp_path: Path) -> None:
    """The webhook points at PUBLIC_URL, but Telegram reports it cannot deliver there: FAIL
    with Telegram's last_error_message. An old error with nothing waiting was overcome."""
    fake = telegram.FakeTelegram()
    fake.webhook = {"url": "https://bridge.example.com/telegram/webhook"}
    words = "Wrong response from the webhook: 502 Bad Gateway"
    async with serving(RaiaSimulator(api_key=API_KEY)) as raia, serving(fake.app()) as api:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, TELEGRAM_BOT_TOKEN=telegram.TOKEN,
                   TELEGRAM_API_URL=f"{api}/bot", PUBLIC_URL="https://bridge.example.com",
                   TELEGRAM_WEBHOOK_SECRET="s3cret")  # fmt: skip
        code, out, _ = await _check(env, tmp_path)
        assert "OK   telegram mode: webhook https://bridge.example.com/telegram/webhook; pending updates 0" in out
        assert code == 0, out

        fake.webhook_error = (int(time.time()) - 90, words)
        code, out, _ = await _check(env, tmp_path)
        assert re.search(
            rf"FAIL telegram mode: webhook https://bridge.example.com/telegram/webhook; pending updates 0; "
            rf"last error: {words} \(9\d s ago\): Telegram cannot deliver to PUBLIC_URL",
            out,
        ), out
        assert code == 1

        fake.webhook_error = (int(time.time()) - 3 * 3600, words)
        code, out, _ = await _check(env, tmp_path)
        assert f"OK   telegram mode: webhook https://bridge.example.com/telegram/webhook; pending updates 0; " \
               f"last error: {words} (3 h ago)" in out  # fmt: skip
        assert code == 0, out
        fake.webhook_pending = 4  # Telegram still holds updates it could not deliver
        code, out, _ = await _check(env, tmp_path)
        assert "FAIL telegram mode: webhook https://bridge.example.com/telegram/webhook; pending updates 4" in out
        assert code == 1


async def test_the_platforms_public_url_is_the_default(tmp_path: Path) -> None:
    """On Render (RENDER_EXTERNAL_URL) PUBLIC_URL need not be set: check says where it comes
    from and expects Telegram's webhook there."""
    fake = telegram.FakeTelegram()
    fake.webhook = {"url": "https://raia-bridge.onrender.com/telegram/webhook"}
    async with serving(RaiaSimulator(api_key=API_KEY)) as raia, serving(fake.app()) as api:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, TELEGRAM_BOT_TOKEN=telegram.TOKEN,
                   TELEGRAM_API_URL=f"{api}/bot", TELEGRAM_WEBHOOK_SECRET="s3cret",
                   RENDER_EXTERNAL_URL="https://raia-bridge.onrender.com")  # fmt: skip
        code, out, _ = await _check(env, tmp_path)
    assert "OK   public URL: https://raia-bridge.onrender.com (from RENDER_EXTERNAL_URL)" in out
    assert "OK   telegram mode: webhook https://raia-bridge.onrender.com/telegram/webhook" in out
    assert code == 0, out


async def test_misspelled_settings_are_named_and_the_allowlists_shown(tmp_path: Path) -> None:
    """A variable that looks like a setting but is none is a WARN line naming the nearest
    setting, from the environment or the .env file; check says which .env it read and who
    may use each bot."""
    fake_tg, fake_slack = telegram.FakeTelegram(), slack.FakeSlack()
    sim = RaiaSimulator(api_key=API_KEY)
    async with serving(sim) as raia, serving(fake_tg.app()) as tg, serving(fake_slack.app()) as api:
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, TELEGRAM_BOT_TOKEN=telegram.TOKEN,
                   TELEGRAM_API_URL=f"{tg}/bot", TELEGRAM_ALLOWED_USER="42", SLACK_BOT_TOKEN=slack.BOT_TOKEN,
                   SLACK_SIGNING_SECRET="s", SLACK_API_URL=f"{api}/api/", SLACK_ALLOWED_USERS="U1,U2")  # fmt: skip
        code, out, _ = await _check(env, tmp_path)
        assert f"OK   settings: read from the environment only (no .env file in the working directory, " \
               f"{_real(tmp_path)})" in out  # fmt: skip
        assert "WARN settings: TELEGRAM_ALLOWED_USER is not a setting of the bridge and is ignored: " \
               "did you mean TELEGRAM_ALLOWED_USERS?" in out  # fmt: skip
        assert "OK   telegram access: everyone, everywhere (TELEGRAM_ALLOWED_USERS and TELEGRAM_ALLOWED_CHATS " \
               "are empty)" in out  # fmt: skip
        assert "OK   slack access: only U1, U2 (SLACK_ALLOWED_USERS), in any of the bot's channels" in out
        # HTTP mode without PUBLIC_URL: said in words, no placeholder printed as if it were the URL.
        assert "OK   slack mode: HTTP: the app's Request URL must be this bridge's public https address + " \
               "/slack/events (set PUBLIC_URL and this line names it)" in out  # fmt: skip
        assert "<PUBLIC_URL>" not in out
        assert out.strip().endswith("All checks passed, with 1 warning(s).")
        assert code == 0, out

        (tmp_path / ".env").write_text("TELEGRAM_ALLOWED_CHAT=-100123\nTELEGRAM_ALLOWED_USERS=42,@ann\n")
        code, out, _ = await _check(env, tmp_path)
    assert f"OK   settings: read from the environment and {_real(tmp_path) / '.env'}" in out
    assert "WARN settings: TELEGRAM_ALLOWED_CHAT is not a setting of the bridge and is ignored: " \
           "did you mean TELEGRAM_ALLOWED_CHATS?" in out  # fmt: skip
    assert "OK   telegram access: only 42, @ann (TELEGRAM_ALLOWED_USERS), in any of the bot's chats" in out
    assert code == 0, out


async def test_an_unreachable_raia_is_tried_twice_at_most_and_logs_nothing(tmp_path: Path) -> None:
    """raia answering 503: check tries twice at most, prints its verdicts and no log lines."""
    calls: list[str] = []

    async def down(request: Request) -> JSONResponse:
        calls.append(request.url.path)
        return JSONResponse({"message": "Service Unavailable"}, status_code=503)

    app = Starlette(routes=[Route("/{path:path}", down, methods=["GET", "POST"])])
    async with serving(app) as raia:
        started = time.monotonic()
        code, out, err = await _check(_env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia), tmp_path)
        took = time.monotonic() - started
    assert code == 1
    assert f"FAIL raia: {raia} answered with an error: GET /agents/by-api-key: 503" in out
    assert 1 <= len(calls) <= 2
    assert err == ""  # verdicts only: no retry lines between them
    assert took < 30


async def test_a_password_with_a_hash_and_the_servers_full_version(tmp_path: Path, pg_server: PgServer) -> None:
    """A password pasted with '#', '/' and '?' in it reaches the database (it is not cut at
    the '#' into "names no database"), and check shows the server's version as it is."""
    password, role = "Pa#ss/wo?rd-9", f"r_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_server.url())
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        await admin.execute(f"CREATE DATABASE {role} OWNER {role}")
        version = str(await admin.fetchval("SHOW server_version")).split()[0]
    finally:
        await admin.close()
    url = f"postgresql://{role}:{password}@127.0.0.1:{pg_server.port}/{role}"
    async with serving(RaiaSimulator(api_key=API_KEY)) as raia:
        _, out, err = await _check(_env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, DATABASE_URL=url), tmp_path)
    assert f"OK   database: PostgreSQL {version}, empty (the bridge creates its tables at start) at " \
           f"postgresql://{role}:***@127.0.0.1:{pg_server.port}/{role}" in out  # fmt: skip
    assert password not in out + err


async def test_the_transcription_endpoint_is_asked_whether_it_takes_the_key(tmp_path: Path) -> None:
    """With TRANSCRIBE_URL, check says whether the endpoint accepts TRANSCRIBE_API_KEY
    (without transcribing anything) and never prints the key."""
    heard = FakeTranscriber()
    async with serving(RaiaSimulator(api_key=API_KEY)) as raia, serving(heard.app()) as stt, \
            serving(telegram.FakeTelegram().app()) as api:  # fmt: skip
        env = _env(RAIA_API_KEY=API_KEY, RAIA_BASE_URL=raia, TELEGRAM_BOT_TOKEN=telegram.TOKEN,
                   TELEGRAM_API_URL=f"{api}/bot", TRANSCRIBE_URL=f"{stt}/v1")  # fmt: skip
        code, out, _ = await _check(env | {"TRANSCRIBE_API_KEY": TRANSCRIBE_KEY}, tmp_path)
        assert re.search(r"^OK   transcription: .*/v1/audio/transcriptions accepts the key", out, re.M), out
        assert code == 0, out
        code, out, _ = await _check(env | {"TRANSCRIBE_API_KEY": "sk-wrong-key"}, tmp_path)
        assert "FAIL transcription: " in out
        assert "refused the key (401): check TRANSCRIBE_API_KEY" in out
        assert "sk-wrong-key" not in out
        assert code == 1
    assert [r.get("file") for r in heard.requests] == [None]  # the refused one never got in
