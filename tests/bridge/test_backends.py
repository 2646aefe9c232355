"""One conversation suite over all three agent backends (raia, Blaigent, slug), each
against its simulator served on loopback, through the real core and store."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.blaigent.simulator import BlaigentSimulator
from adapters.raia.simulator import RaiaSimulator
from adapters.slug.simulator import SlugSimulator
from bridge import texts
from bridge.app.runtime import Runtime
from bridge.app.settings import Settings
from bridge.models import Intent, ReplyKind
from bridge.ports.inbox import Receipt
from tests import waiting
from tests.conftest import API_KEY, make_settings, message, started
from tests.fakes.outbound import RecordingOutbound


@dataclass
class Backend:
    """A backend's settings and simulator, with what the suite asks of any of them."""

    name: str
    settings: Settings
    sim: Any
    asked: Callable[[], list[list[str]]]  # each conversation's questions, as the agent got them
    fail_next: Callable[[int, float | None], None]  # the next ask answers with this status

    @property
    def app(self) -> Any:
        return self.sim if isinstance(self.sim, RaiaSimulator) else self.sim.app()

    def slow(self, seconds: float) -> None:
        self.sim.delay = lambda _: seconds


def _raia() -> Backend:
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05)
    return Backend(
        "raia",
        make_settings(),
        sim,
        lambda: [sim.user_messages(c) for c in sim.conversations],
        lambda status, retry: sim.fail("POST", "/messages/async$", status, retry_after=retry),
    )


def _blaigent() -> Backend:
    sim = BlaigentSimulator(delay=lambda _: 0.05)
    settings = make_settings(
        agent_backend="blaigent", raia_api_key=None, blaigent_api_key=sim.api_key,
        blaigent_org_id=sim.organization, blaigent_base_url="http://blaigent.test/api/v1",
    )  # fmt: skip
    return Backend("blaigent", settings, sim, sim.asked, lambda s, r: sim.faults.append((s, "simulated", r)))


def _slug() -> Backend:
    sim = SlugSimulator(delay=lambda _: 0.05, chunk_every=0.0)
    settings = make_settings(
        agent_backend="slug", raia_api_key=None, slug_api_key=sim.api_key, slug_agent="support-agent",
        slug_api_url="http://slug.test/v1/api",
    )  # fmt: skip
    return Backend("slug", settings, sim, sim.asked, lambda s, r: sim.faults.append((s, "Simulated", "simulated", r)))


@pytest.fixture(params=["raia", "blaigent", "slug"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return {"raia": _raia, "blaigent": _blaigent, "slug": _slug}[str(request.param)]()


def running(
    backend: Backend, db: Path, outbound: RecordingOutbound, *, drain: float = 2.0, **config: Any
) -> AbstractAsyncContextManager[Runtime]:
    return started(backend.app, db, outbound, settings=backend.settings, drain=drain, **config)


async def test_a_conversation_continues_and_people_never_share_one(
    backend: Backend, db_path: Path, outbound: RecordingOutbound
) -> None:
    """First message, a follow-up in the same conversation, and another person in their own."""
    async with running(backend, db_path, outbound) as rt:
        assert await rt.service.receive(message("hello")) is Receipt.ACCEPTED
        await outbound.wait_for(1)
        assert await rt.service.receive(message("and again")) is Receipt.ACCEPTED
        assert await rt.service.receive(message("mine", user="u2")) is Receipt.ACCEPTED
        await outbound.wait_for(3)
    assert sorted(backend.asked()) == [["hello", "and again"], ["mine"]]
    assert all(r.kind is ReplyKind.ANSWER for r in outbound.replies)
    assert "hello" in outbound.replies[0].text


async def test_reset_starts_a_new_conversation(backend: Backend, db_path: Path, outbound: RecordingOutbound) -> None:
    async with running(backend, db_path, outbound) as rt:
        await rt.service.receive(message("before"))
        await outbound.wait_for(1)
        reset = dataclasses.replace(message("reset", keys=()), intent=Intent.RESET)
        assert await rt.service.receive(reset) is Receipt.HANDLED
        await rt.service.receive(message("after"))
        await outbound.wait_for(3)  # the answer, the reset's note, the answer
    assert sorted(backend.asked()) == [["after"], ["before"]]


async def test_an_agent_error_becomes_one_short_notice(
    backend: Backend, db_path: Path, outbound: RecordingOutbound
) -> None:
    """A request the agent refuses (400): the person gets one notice, nothing is retried."""
    backend.fail_next(400, None)
    async with running(backend, db_path, outbound) as rt:
        await rt.service.receive(message("refused"))
        await outbound.wait_for(1)
    (reply,) = outbound.replies
    assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.REJECTED)


async def test_a_rate_limit_is_waited_out(backend: Backend, db_path: Path, outbound: RecordingOutbound) -> None:
    """429 with Retry-After, then the answer: asked once, answered once."""
    backend.fail_next(429, 0.05)
    async with running(backend, db_path, outbound) as rt:
        await rt.service.receive(message("busy?"))
        await outbound.wait_for(1)
    assert outbound.replies[0].kind is ReplyKind.ANSWER
    assert backend.asked() == [["busy?"]]


async def test_an_agent_slower_than_the_timeout(backend: Backend, db_path: Path, outbound: RecordingOutbound) -> None:
    """No answer within RAIA_POLL_TIMEOUT: the person hears it took too long."""
    backend.slow(3.0)
    async with running(backend, db_path, outbound, poll_timeout=0.5) as rt:
        await rt.service.receive(message("slow one"))
        await outbound.wait_for(1)
    (reply,) = outbound.replies
    assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.TIMEOUT)


async def test_a_restart_mid_question_never_asks_twice(
    backend: Backend, db_path: Path, outbound: RecordingOutbound
) -> None:
    """Stopped while the agent works on the question. raia: the answer is polled after the
    restart; Blaigent: it is found in the conversation's history; slug (no history): the
    person is told to ask again. The agent gets the question once in every case."""
    backend.slow(1.5)
    async with running(backend, db_path, RecordingOutbound(), drain=0.2) as rt:
        await rt.service.receive(message("cut short"))
        await waiting.until(lambda: any(backend.asked()), what="the agent to have the question")  # at work on it
    async with running(backend, db_path, outbound, send_settle=10.0) as rt:
        await outbound.wait_for(1)
    (reply,) = outbound.replies
    if backend.name == "slug":
        assert (reply.kind, reply.text) == (ReplyKind.NOTICE, texts.INTERRUPTED)
    else:
        assert reply.kind is ReplyKind.ANSWER
        assert "cut short" in reply.text
    assert backend.asked() == [["cut short"]]
