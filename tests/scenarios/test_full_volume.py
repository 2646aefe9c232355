"""A small SQLite volume that fills under a running bridge (a real tmpfs of a few MB, in a
mount namespace of the bridge's own): every question is answered once, once there is space."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import httpx
import pytest

from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.conftest import API_KEY
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.processes import can_mount, on_volume, start_bridge, telegram_env

QUESTIONS = 60
TEXT = "x" * 2000  # each question's rows take about 15 KB of the volume: 60 take about 1 MB


def _fill(file: Path) -> None:
    """Write zeros to ``file`` until the volume has no byte left."""
    block = bytes(64 * 1024)
    with file.open("wb") as out, contextlib.suppress(OSError):  # ENOSPC: full
        while True:
            out.write(block)
            out.flush()
    os.truncate(file, file.stat().st_size)  # whatever the last write left half-done


@pytest.mark.skipif(not can_mount(), reason="needs a private mount namespace (root, CAP_SYS_ADMIN)")
@pytest.mark.parametrize("case", ["tiny", "filled"])
async def test_a_small_volume_that_fills(tmp_path: Path, case: str) -> None:
    """``tiny``: 60 questions at once on a 2 MB volume, whose write-ahead log filled it
    before the first checkpoint: the log is checkpointed before it outgrows the space, and
    every question is answered. ``filled``: an 8 MB volume that something else fills under
    the running bridge: /healthz says "full", one log line says what and where (and one
    each the retries meanwhile), and once 1.5 MB are freed (less than the log had room to
    grow into) the bridge goes on by itself: every question answered once, the retrying
    writers never refilling the log."""
    volume = tmp_path / "volume"
    volume.mkdir()
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    fake = tg.FakeTelegram()
    log = tmp_path / "stderr.log"
    async with serving(sim) as raia, serving(fake.app()) as api:
        env = telegram_env(raia, api, tmp_path, DATABASE_URL=f"sqlite:///{volume / 'b.db'}")
        base = f"http://127.0.0.1:{env['PORT']}"
        with log.open("wb") as err:
            process = await start_bridge(env, tmp_path, wrapper=on_volume(volume, "2m" if case == "tiny" else "8m"),
                                         stderr=err.fileno())  # fmt: skip
        seen = Path(f"/proc/{process.pid}/root") / volume.relative_to("/")  # the volume, as the bridge sees it
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                await waiting.until(lambda: _store(http, "ok"), timeout=30, what="the bridge ready")
                if case == "filled":
                    await asyncio.to_thread(_fill, seen / "fill")
                for n in range(QUESTIONS):
                    fake.push_update(tg.message(f"question {n} {TEXT}", sender=tg.user(uid=1000 + n)))
                if case == "filled":
                    await waiting.until(lambda: _store(http, "full"), timeout=30, what="/healthz: full")
                    # Full for a few of Telegram's fetches (the refused update fetched again each time).
                    fetched = fake.calls.count("getUpdates") + 4
                    await waiting.until(lambda: fake.calls.count("getUpdates") >= fetched, timeout=30, what="fetches")
                    os.truncate(seen / "fill", (seen / "fill").stat().st_size - 1536 * 1024)
                await fake.wait_sent(QUESTIONS, timeout=90)
                await waiting.nothing_waiting(base, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=20)
    assert sorted(s.chat_id for s in fake.sent) == [1000 + n for n in range(QUESTIONS)]  # each once
    assert all(f"question {s.chat_id - 1000} " in s.text for s in fake.sent)
    lines = log.read_text().splitlines()
    full = [line for line in lines if "is full" in line and "store.sqlite_full" in line]
    again = [line for line in lines if "has space again" in line]
    if case == "filled":
        assert len(full) == 1, full
        assert f"the disk under {volume / 'b.db'} is full" in full[0]
        assert "free some on that volume or make it bigger" in full[0]
        assert len(again) == 1, again
        # The retries meanwhile (the lanes', Telegram fetching an update again) add a line
        # each, not one a second: the outage here lasts less than a minute.
        for retried in ("store unavailable", "fetching it again"):
            assert len([line for line in lines if retried in line]) <= 1, retried
    else:
        assert (full, again) == ([], [])  # it never filled
    assert list(volume.iterdir()) == []  # the tmpfs was the namespace's own


async def _store(http: httpx.AsyncClient, state: str) -> bool:
    """/healthz's store component starts with ``state`` ("ok", "full")."""
    try:
        body = (await http.get("/healthz")).json()
    except (httpx.TransportError, ValueError):
        return False
    return str(body.get("components", {}).get("store", "")).startswith(state)
