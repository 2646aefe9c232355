"""The real server process (`python -m bridge`) stopped mid-turn by SIGTERM or SIGKILL."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest

from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.conftest import API_KEY
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.processes import bridge_process, free_port, start_bridge, telegram_env


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
async def test_server_stopped_mid_wait_answers_once_after_restart(tmp_path: Path, stop: signal.Signals) -> None:
    """A question waiting for raia survives SIGTERM and SIGKILL of the server and is answered exactly once."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 3.0)
    fake = tg.FakeTelegram()
    async with serving(sim) as raia, serving(fake.app()) as api:
        env = telegram_env(raia, api, tmp_path)
        first = await start_bridge(env, tmp_path)
        fake.push_update(tg.message("survive the signal"))
        async with asyncio.timeout(30):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.02)
        first.send_signal(stop)
        _, err = await asyncio.wait_for(first.communicate(), timeout=20)
        assert fake.sent == []
        if stop == signal.SIGTERM:
            assert "kept for the next start" in err.decode()
        async with bridge_process(env, tmp_path):
            await fake.wait_sent(1, timeout=30)
            # Every question final in the store: a second answer, if any, is posted by now.
            await waiting.nothing_waiting(f"http://127.0.0.1:{env['PORT']}", timeout=30)
    assert len(fake.sent) == 1
    assert "survive the signal" in fake.sent[0].text
    assert sim.count("POST", "/messages/async") == 1
    assert tg.TOKEN not in err.decode()


@pytest.mark.parametrize("timeout", ["0.5", "2"])
async def test_sigterm_exits_within_the_shutdown_timeout(tmp_path: Path, timeout: str) -> None:
    """SIGTERM with a question waiting on raia and a client mid-request: the process is gone within
    SHUTDOWN_TIMEOUT plus about a second, never waiting forever, never twice the timeout."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 60.0)
    fake = tg.FakeTelegram()
    async with serving(sim) as raia, serving(fake.app()) as api:
        port = free_port()
        env = telegram_env(raia, api, tmp_path, PORT=str(port), SHUTDOWN_TIMEOUT=timeout)
        proc = await start_bridge(env, tmp_path)
        fake.push_update(tg.message("a long one"))
        async with asyncio.timeout(30):
            while not sim.count("POST", "/messages/async"):
                await asyncio.sleep(0.02)
        # A client that sent its headers and is slow with the body keeps a request in flight.
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /telegram/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        # The server takes connections in order: once it has answered a later one, it has the slow client's.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status_code in (200, 503)
        loop = asyncio.get_running_loop()
        began = loop.time()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), timeout=30)
        took = loop.time() - began
        writer.close()
    # The bound is the behaviour (it never waits forever, nor for twice its timeout), kept
    # generous for a loaded machine; how fast it stops is not what this measures.
    assert took < float(timeout) + 3.0, took
