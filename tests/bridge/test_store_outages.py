"""The database failing under a running service (a full disk, an outage): nothing is lost,
nothing is posted twice, the lanes wait for it and go on."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from bridge.app.runtime import agent_of
from bridge.backoff import Backoff
from bridge.config import ServiceConfig
from bridge.errors import DiskFull, StoreError, StoreFault, StoreUnavailable
from bridge.models import QuestionState, ReplyKind
from bridge.ports.inbox import Receipt
from bridge.service import ConversationService
from store.sqlite import SqliteStore
from tests.conftest import API_KEY, FAST, message, started
from tests.fakes.outbound import RecordingOutbound


class FullDisk:
    """A real store whose writes named in ``fail`` are refused (as SQLite's are on a full
    disk) while ``full`` lasts; ``fills_at``: the disk fills at the first call of that one.
    ``blocked`` counts the refusals. Everything else passes through."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        fail: tuple[str, ...],
        fills_at: str | None = None,
        error: type[StoreError] = StoreUnavailable,
    ) -> None:
        self._store = store
        self._error = error
        self._fail = fail
        self._fills_at = fills_at
        self.full = False
        self.blocked = 0
        self.calls: Counter[str] = Counter()  # calls of the methods named in ``fail``

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name not in self._fail:
            return attribute

        async def refused_while_full(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name == self._fills_at:
                self._fills_at, self.full = None, True
            if self.full:
                self.blocked += 1
                raise self._error("database or disk is full")
            return await attribute(*args, **kwargs)

        return refused_while_full


async def _until(condition: Any, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.005)


@asynccontextmanager
async def serving_on(
    tmp_path: Path, sim: RaiaSimulator, out: RecordingOutbound, config: ServiceConfig = FAST, **faults: Any
) -> AsyncIterator[tuple[ConversationService, FullDisk, SqliteStore]]:
    """A service on a real SQLite store behind ``FullDisk(**faults)``, asking ``sim``."""
    async with (
        started(sim, tmp_path / "runtime.db", RecordingOutbound()) as rt,
        SqliteStore(tmp_path / "bridge.db") as real,
    ):
        disk = FullDisk(real, **faults)
        service = ConversationService(disk, agent_of(rt.agent), config)
        service.register(out)
        await service.start()
        try:
            yield service, disk, real
        finally:
            await service.stop(2.0)


async def test_a_posted_part_that_cannot_be_recorded_is_never_posted_again(tmp_path: Path) -> None:
    """The disk fills after the platform took the first part: recording it fails (and so
    would counting a failed delivery). The delivery waits for the record instead of posting
    the part again; once the disk has room each part is posted exactly once."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    out = RecordingOutbound(parts=2)
    writes = ("mark_parts_delivered", "note_delivery_attempt", "mark_delivered")
    async with serving_on(tmp_path, sim, out, fail=writes, fills_at="mark_parts_delivered") as (service, disk, real):
        assert await service.receive(message("a long answer please")) is Receipt.ACCEPTED
        await _until(lambda: disk.blocked >= 3)  # the record was tried again, and again
        assert [p.part for p in out.posted] == [0]  # ... and the part not posted again
        disk.full = False
        await _until(lambda: len(out.posted) == 2)
        async with asyncio.timeout(5):
            while (await real.question(1)).state is not QuestionState.DELIVERED:
                await asyncio.sleep(0.005)
    assert [p.part for p in out.posted] == [0, 1]


async def test_a_lane_waits_out_an_outage_between_questions(tmp_path: Path) -> None:
    """The database cannot be read when the lane looks for the next question: the lane
    waits for it (it does not end, leaving the question unanswered until a restart)."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.01)
    out = RecordingOutbound()
    async with serving_on(tmp_path, sim, out, fail=("open_questions",)) as (service, down, _):
        down.full = True
        assert await service.receive(message("are you there?")) is Receipt.ACCEPTED
        await _until(lambda: down.blocked >= 3)
        down.full = False
        await out.wait_for(1)
    (posted,) = out.posted
    assert "are you there" in posted.reply.text


async def test_lanes_retrying_a_full_disk_say_so_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A full disk refuses a question's answer (its lane retries from the next read), then
    a second conversation's read: both lanes retry every few milliseconds, one warning says
    so (not one a retry), and each question is answered once there is space."""
    caplog.set_level(logging.WARNING, logger="bridge.service")
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.01)
    out = RecordingOutbound()
    faults: dict[str, Any] = {"fail": ("open_questions", "mark_finished"), "fills_at": "mark_finished"}
    async with serving_on(tmp_path, sim, out, error=DiskFull, **faults) as (service, disk, _):
        assert await service.receive(message("first question", user="u1", chat="c1")) is Receipt.ACCEPTED
        await _until(lambda: disk.full)  # its answer cannot be written
        assert await service.receive(message("second question", user="u2", chat="c2")) is Receipt.ACCEPTED
        await _until(lambda: disk.calls["open_questions"] >= 6)  # both lanes, again and again
        disk.full = False
        await out.wait_for(2)
    asked = ("first question", "second question")
    assert sorted(q for p in out.posted for q in asked if q in p.reply.text) == list(asked)  # each once
    lines = [r.getMessage() for r in caplog.records if "store unavailable" in r.getMessage()]
    assert len(lines) == 1, lines


async def test_a_lane_reads_the_store_once_per_question(tmp_path: Path) -> None:
    """The lane reads the next two open questions at once: after the last one it knows none
    is left (none came since) and ends without another trip."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.01)
    out = RecordingOutbound()
    reads = ("open_questions", "next_open_question")
    async with serving_on(tmp_path, sim, out, fail=reads) as (service, disk, _):
        for n in (1, 2):
            assert await service.receive(message(f"question {n}")) is Receipt.ACCEPTED
            await out.wait_for(n)
            await _until(lambda: not service._lanes)
            assert sum(disk.calls.values()) == n


async def test_an_answer_ready_while_the_disk_is_full_is_delivered_after_the_timeout(tmp_path: Path) -> None:
    """raia answered, but the answer cannot be written (full disk) until well past
    RAIA_POLL_TIMEOUT: the lane waits for the disk instead of giving up, and the person
    gets the answer, not "could not answer"."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.01)
    out = RecordingOutbound()
    config = dataclasses.replace(FAST, poll_timeout=0.5)
    async with serving_on(tmp_path, sim, out, config, fail=("mark_finished",), fills_at="mark_finished") as (
        service,
        disk,
        real,
    ):
        assert await service.receive(message("what is new?")) is Receipt.ACCEPTED
        await _until(lambda: disk.blocked >= 1)
        sent_at = (await real.question(1)).sent_at
        assert sent_at is not None
        await _until(lambda: time.time() > sent_at + 3 * config.poll_timeout and disk.blocked >= 3)
        disk.full = False
        await out.wait_for(1)
    (reply,) = out.replies
    assert reply.kind is ReplyKind.ANSWER
    assert "what is new" in reply.text


async def test_the_deadline_holds_for_every_kind_of_error(tmp_path: Path) -> None:
    """A fault an operator must mend (not a passing outage) keeps failing the send: the
    lane gives the question up at its deadline, not a long backoff later, and the person
    hears within RAIA_POLL_TIMEOUT (plus a moment)."""
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.01)
    out = RecordingOutbound()
    config = dataclasses.replace(FAST, poll_timeout=1.0, lane_backoff=Backoff(30.0, 30.0))
    faults = {"fail": ("note_send_attempt",), "fills_at": "note_send_attempt", "error": StoreFault}
    async with serving_on(tmp_path, sim, out, config, **faults) as (service, _, _):
        await service.receive(message("anyone?"))
        await out.wait_for(1, timeout=5)
    (reply,) = out.replies
    assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.FAILED)
