"""CONVERSATION_SCOPE: one agent conversation per person (default) or per thread."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from adapters.raia.simulator import RaiaSimulator
from bridge.models import InboundMessage, Intent, Origin
from bridge.ports.inbox import Receipt
from tests.conftest import message, started
from tests.fakes.outbound import RecordingOutbound


def said(text: str, user: str, chat: str, thread: str | None) -> InboundMessage:
    return replace(message(text, user=user), origin=Origin(chat=chat, thread=thread, message=text))


async def test_thread_scope_shares_a_thread_and_separates_threads(sim: RaiaSimulator, db_path: Path) -> None:
    """Two people in one thread continue one conversation; the same person in another
    thread starts another; a reset ends only its own thread's conversation."""
    outbound = RecordingOutbound()
    async with started(sim, db_path, outbound, scope="thread") as rt:
        service = rt.service
        await service.receive(said("ann in t1", "u1", "c1", "t1"))
        await outbound.wait_for(1)
        await service.receive(said("bob in t1", "u2", "c1", "t1"))
        await service.receive(said("ann in t2", "u1", "c1", "t2"))
        await outbound.wait_for(3)
        reset = replace(said("reset", "u2", "c1", "t1"), intent=Intent.RESET, dedupe_keys=())
        assert await service.receive(reset) is Receipt.HANDLED
        await service.receive(said("bob after reset", "u2", "c1", "t1"))
        await service.receive(said("ann again in t2", "u1", "c1", "t2"))
        await outbound.wait_for(6)
    threads = sorted(sim.user_messages(c) for c in sim.conversations)
    assert threads == [["ann in t1", "bob in t1"], ["ann in t2", "ann again in t2"], ["bob after reset"]]
    assert len(sim.users) == 2  # each person is still their own raia user


async def test_user_scope_keeps_one_conversation_across_threads(
    sim: RaiaSimulator, db_path: Path, outbound: RecordingOutbound
) -> None:
    async with started(sim, db_path, outbound) as rt:
        await rt.service.receive(said("in t1", "u1", "c1", "t1"))
        await outbound.wait_for(1)
        await rt.service.receive(said("in t2", "u1", "c2", "t2"))
        await outbound.wait_for(2)
    assert [sim.user_messages(c) for c in sim.conversations] == [["in t1", "in t2"]]
