"""Acknowledgements first: lanes hold back new work while a webhook waits for its answer."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from adapters.raia.simulator import RaiaSimulator
from bridge.acks import BURST, CROWD, STALE, TRICKLE, AckFirst
from bridge.app.runtime import Runtime
from bridge.app.server import Acknowledging
from tests.conftest import message
from tests.fakes.outbound import RecordingOutbound
from tests.waiting import until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_only_a_request_waiting_too_long_counts_and_its_end_lets_lanes_go() -> None:
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    assert not acks.overdue()
    with acks.receiving():
        assert not acks.overdue()  # just arrived
        clock.now += 0.2
        assert acks.overdue()
        waiting = asyncio.create_task(acks.calm())
        await until(lambda: acks.holding == 1)  # it waits for calm
        assert not waiting.done()  # held back while the request is in flight
        with acks.receiving():  # a newer request does not make the old one less late
            assert acks.overdue()
    await asyncio.wait_for(waiting, 1)  # the late one answered: the lane goes at once
    assert not acks.overdue()


def test_a_crowd_of_requests_in_flight_counts_before_any_is_late() -> None:
    """A burst arriving: more requests in flight than one group commit takes holds lanes back."""
    clock = Clock()
    acks = AckFirst(clock=clock, late=5.0, hold=5.0)
    with contextlib.ExitStack() as requests:
        for _ in range(CROWD):
            requests.enter_context(acks.receiving())
            clock.now += 2 * BURST / CROWD  # arriving slower than a burst does
        assert not acks.overdue()
        with acks.receiving():
            assert acks.overdue()
        assert not acks.overdue()


async def test_a_burst_acknowledged_as_fast_as_it_arrives_holds_lanes_until_it_has_passed() -> None:
    """CROWD requests within BURST seconds are a burst even if each is answered at once (the
    rest of it still waits to be read); once it has passed, waiting lanes go by themselves."""
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    for _ in range(CROWD):
        with acks.receiving():
            pass  # never more than one in flight, none late
    assert acks.overdue()
    waiting = asyncio.create_task(acks.calm())
    await until(lambda: acks.holding == 1)  # it waits for calm
    assert not waiting.done()
    clock.now += BURST  # no request since: the burst is over
    await asyncio.wait_for(waiting, 2)  # let go without another request (hold is 5 s)
    assert not acks.overdue()


async def test_lanes_go_a_few_at_a_time_and_a_webhook_late_again_stops_them() -> None:
    """Once calm, waiting lanes are let go TRICKLE per turn of the event loop, so a webhook
    arriving meanwhile is read between them; overdue again, the rest wait."""
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    with acks.receiving():
        clock.now += 1.0
        lanes = [asyncio.create_task(acks.calm()) for _ in range(3 * TRICKLE)]
        await until(lambda: acks.holding == 3 * TRICKLE)
    assert acks.holding == 2 * TRICKLE  # the first few at once, the rest at the next turns
    with acks.receiving():
        clock.now += 1.0  # late again before the next turn
        await asyncio.sleep(0.05)
        assert acks.holding == 2 * TRICKLE
    await asyncio.wait_for(asyncio.gather(*lanes), 1)  # answered: the rest go
    assert acks.holding == 0


async def test_holding_back_is_bounded_and_ignores_requests_stuck_on_the_clients_side() -> None:
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=0.05)
    with acks.receiving():
        clock.now += 1.0
        await asyncio.wait_for(acks.calm(), 1)  # gives up holding after ``hold``
        clock.now += STALE  # a body still crawling in after seconds is not ours to wait for
        assert not acks.overdue()
    with acks.receiving():
        clock.now += 1.0
        waiting = asyncio.create_task(acks.calm())
        await until(lambda: acks.holding == 1)  # it waits for calm
        acks.wake()  # the service stops
        await asyncio.wait_for(waiting, 1)


async def test_the_server_marks_only_webhook_requests() -> None:
    clock = Clock()
    acks = AckFirst(clock=clock)
    seen: dict[str, bool] = {}

    async def handler(request: Request) -> PlainTextResponse:
        clock.now += 1.0
        seen[request.url.path] = acks.overdue()
        clock.now -= 1.0
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/hook", handler, methods=["POST"]), Route("/healthz", handler)])
    app.add_middleware(Acknowledging, paths=frozenset({"/hook"}), gate=lambda: acks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge.test") as http:
        await http.post("/hook")
        await http.get("/healthz")
    assert seen == {"/hook": True, "/healthz": False}
    assert not acks.overdue()


async def test_a_lane_starts_its_question_once_the_late_acknowledgement_is_sent(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    clock = Clock()
    runtime.service.acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    with runtime.service.acks.receiving():
        clock.now += 0.5  # a burst: this webhook has waited half a second already
        await runtime.service.receive(message("stored first, answered after"))
        await until(lambda: runtime.service.acks.holding == 1)  # the lane holds back
        assert sim.count("POST", "/messages/async") == 0  # stored, not started
    await outbound.wait_for(1)
    assert sim.count("POST", "/messages/async") == 1


async def test_a_stopping_service_does_not_hold_its_lanes() -> None:
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    stopping = asyncio.Event()
    stopping.set()
    with acks.receiving():
        clock.now += 1.0
        await asyncio.wait_for(acks.calm(stopping), 0.5)


async def test_a_backlog_of_lanes_goes_between_webhook_requests_not_during_one() -> None:
    """Lanes let go after a burst wait while a request of its tail is being read, even
    before that request is late: it is acknowledged first; its end lets them go."""
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    with contextlib.ExitStack() as tail:
        with acks.receiving():
            clock.now += 1.0
            lanes = [asyncio.create_task(acks.calm()) for _ in range(TRICKLE)]
            await until(lambda: acks.holding == TRICKLE)
            tail.enter_context(acks.receiving())  # just read: not late
        assert not acks.overdue()
        for _ in range(3):
            await asyncio.sleep(0)
        assert acks.holding == TRICKLE  # none went while the tail's request is in flight
    await asyncio.wait_for(asyncio.gather(*lanes), 1)  # acknowledged: they go


async def test_a_lane_let_go_looks_again_before_its_question_starts() -> None:
    """``again``: not held by the lanes still waiting (it had its turn), but held while an
    acknowledgement is overdue, and then it goes first."""
    clock = Clock()
    acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    order: list[str] = []

    async def lane(name: str, again: bool) -> None:
        await acks.calm(again=again)
        order.append(name)

    with acks.receiving():
        clock.now += 1.0
        first = asyncio.create_task(lane("waiting", again=False))
        await until(lambda: acks.holding == 1)
        second = asyncio.create_task(lane("again", again=True))
        await until(lambda: acks.holding == 2)
    await asyncio.wait_for(asyncio.gather(first, second), 1)
    assert order == ["again", "waiting"]


async def test_a_lane_let_go_holds_its_question_while_an_acknowledgement_became_overdue(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """The lane started with nothing overdue; while it read its question from the store a
    webhook became late: the question's life (typing, store writes, the agent's send) waits."""
    clock = Clock()
    runtime.service.acks = AckFirst(clock=clock, late=0.1, hold=5.0)
    with runtime.service.acks.receiving():
        await runtime.service.receive(message("stored first, answered after"))
        await asyncio.sleep(0)  # one turn: the lane passes its start (nothing late) and reads the store
        clock.now += 0.5  # meanwhile this webhook has waited half a second
        await until(lambda: runtime.service.acks.holding == 1)  # held before its question's life
        assert sim.count("POST", "/messages/async") == 0
    await outbound.wait_for(1)
    assert sim.count("POST", "/messages/async") == 1
