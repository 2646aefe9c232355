"""The raia client against the simulator (or a stand-in) on loopback: status mapping,
retries, find-or-create races, no blind re-sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from adapters.raia.client import RaiaClient
from adapters.raia.mapping import reply_from_message
from adapters.raia.simulator import RaiaSimulator
from adapters.raia.wire import Timeouts
from bridge.errors import (
    AgentAuthError,
    AgentProtocolError,
    AgentRateLimited,
    AgentRejectedError,
    AgentServerError,
    AgentTransportError,
)
from bridge.ports.agent import NewUser, ResponseStatus
from tests.conftest import API_KEY
from tests.fakes.raw_http import raw_server, refused_url, silent
from tests.fakes.server import serving

ANN = NewUser("test:ann", "Ann", "Lee", {"lang": "en"})


@asynccontextmanager
async def client_at(base: str, key: str = API_KEY, timeouts: Timeouts | None = None) -> AsyncIterator[RaiaClient]:
    async with aiohttp.ClientSession() as session:
        yield RaiaClient(session, base_url=base + "/", api_key=key, timeouts=timeouts)


@asynccontextmanager
async def client_for(app: ASGIApp, key: str = API_KEY) -> AsyncIterator[RaiaClient]:
    """A client of ``app`` (the simulator, or a stand-in for raia) served on loopback."""
    async with serving(app) as base, client_at(base, key) as client:
        yield client


def standing_in(handler: Callable[[Request], Awaitable[Response]]) -> Starlette:
    """An app answering every request with ``handler``."""
    return Starlette(routes=[Route("/{path:path}", handler, methods=["GET", "POST"])])


async def test_find_or_create_creates_once(sim: RaiaSimulator) -> None:
    """A new fkId is created at once (no search first); raia refusing a second create
    ("already exists") makes the client find the existing user: one user either way."""
    async with client_for(sim) as client:
        first = await client.find_or_create_user(ANN)
        assert sim.count("GET", "/external/users/search") == 0
        assert await client.find_or_create_user(ANN) == first
    assert len(sim.users) == 1
    assert sim.count("GET", "/external/users/search") == 1
    assert sim.users[first]["metadata"]["customData"] == {"lang": "en"}


async def test_already_exists_race_searches_again() -> None:
    """If raia has the user already (another instance created it), we use theirs."""
    searches = 0
    created: list[str] = []

    async def handler(request: Request) -> Response:
        nonlocal searches
        if request.url.path == "/external/users/search":
            searches += 1
            return JSONResponse({"user": {"id": "theirs"}, "conversationIds": []})
        created.append(json.loads(await request.body())["fkId"])
        return JSONResponse({"status": 400, "message": "User already exists", "details": []}, status_code=400)

    async with client_for(standing_in(handler)) as client:
        assert await client.find_or_create_user(ANN) == "theirs"
    assert created == ["test:ann"]
    assert searches == 1


async def test_403_is_an_auth_error_without_the_key(sim: RaiaSimulator) -> None:
    """A refused key raises AgentAuthError; the key is in neither message nor repr."""
    async with client_for(sim, key="wrong-key-123456") as client:
        with pytest.raises(AgentAuthError) as info:
            await client.agent_name()
    assert info.value.status == 403
    assert "wrong-key-123456" not in str(info.value)
    assert "wrong-key-123456" not in repr(client)
    assert sim.count("GET", "/by-api-key") == 1  # not retried


async def test_reads_retry_5xx_and_429_then_succeed(sim: RaiaSimulator) -> None:
    """GETs are retried on 5xx and 429 (bounded) and succeed once raia recovers."""
    sim.fail("GET", "/by-api-key", 503, times=2)
    sim.fail("GET", "/by-api-key", 429, retry_after=1)
    async with client_for(sim) as client:
        assert await client.agent_name() == "Ada (demo agent)"
    assert sim.count("GET", "/by-api-key") == 4


async def test_reads_give_up_after_bounded_attempts(sim: RaiaSimulator) -> None:
    """A raia that keeps failing surfaces AgentServerError after a bounded number of tries."""
    sim.fail("GET", "/by-api-key", 500, times=100)
    async with client_for(sim) as client:
        with pytest.raises(AgentServerError):
            await client.agent_name()
    assert sim.count("GET", "/by-api-key") == 5


async def test_send_is_never_retried_blindly(sim: RaiaSimulator) -> None:
    """A 500 on messages/async surfaces at once: the caller must check before re-sending."""
    async with client_for(sim) as client:
        user = await client.find_or_create_user(ANN)
        conversation = await client.create_conversation(user, "t", {})
        sim.fail("POST", "/messages/async", 500)
        with pytest.raises(AgentServerError):
            await client.send_message(conversation, "hi")
    assert sim.count("POST", "/messages/async") == 1


async def test_transport_errors_say_whether_raia_may_have_acted() -> None:
    """A refused connection is unambiguous; a read timeout (or anything else) is ambiguous."""
    async with client_at(refused_url()) as client:
        with pytest.raises(AgentTransportError) as refused:
            await client.send_message("c", "hi")
    assert refused.value.ambiguous is False
    async with raw_server(silent) as base, client_at(base, timeouts=Timeouts(read=0.2)) as client:
        with pytest.raises(AgentTransportError) as timed_out:
            await client.send_message("c", "hi")
    assert timed_out.value.ambiguous is True


async def test_status_mapping_and_lenient_bodies() -> None:
    """400 is a rejection, 429 carries Retry-After, unknown statuses and fields are tolerated."""
    responses = iter(
        [
            JSONResponse({"message": ["message should not be empty"]}, status_code=400),
            JSONResponse({}, status_code=429, headers={"Retry-After": "7"}),
            JSONResponse({"status": "thinking-harder", "message": None, "error": None, "x": 1}),
            Response("<html>oops</html>", media_type="text/html"),
        ]
    )

    async def handler(request: Request) -> Response:
        return next(responses)

    async with client_for(standing_in(handler)) as client:
        with pytest.raises(AgentRejectedError, match="should not be empty"):
            await client.send_message("c", "")
        with pytest.raises(AgentRateLimited) as limited:
            await client.send_message("c", "x")
        assert limited.value.retry_after == 7.0
        assert (await client.response_on("c", "m")).status is ResponseStatus.PENDING
        with pytest.raises(AgentProtocolError):
            await client.send_message("c", "x")


async def test_full_turn_returns_answer_with_sources(sim: RaiaSimulator) -> None:
    """Send then poll until completed gives the answer text and de-duplicated citations."""
    sim.delay = lambda _: 0.0
    async with client_for(sim) as client:
        user = await client.find_or_create_user(ANN)
        conversation = await client.create_conversation(user, "Telegram chat with Ann", {"platform": "test"})
        message_id = await client.send_message(conversation, "pricing?")
        response = await client.response_on(conversation, message_id)
        listed = await client.list_messages(conversation)
    assert response.status is ResponseStatus.COMPLETED
    assert response.reply is not None
    assert len(response.reply.urls) == 2
    assert len(response.reply.files) == 1
    assert next((m.from_user, m.text) for m in listed) == (True, "pricing?")


async def test_the_answer_is_timed_by_raias_own_clock() -> None:
    """``took`` = the answer's createdAt - the question's, whenever our polls happen."""
    now = [1_700_000_000.0]
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 4.25, clock=lambda: now[0])
    async with serving(sim) as base:
        async with client_at(base) as client:
            user = await client.find_or_create_user(ANN)
            conversation = await client.create_conversation(user, "chat", {})
            message_id = await client.send_message(conversation, "slow one")
            now[0] += 1.0
            assert (await client.response_on(conversation, message_id)).status is ResponseStatus.PENDING
            now[0] += 9.0  # looked again long after the answer was written
            response = await client.response_on(conversation, message_id)
        assert response.status is ResponseStatus.COMPLETED
        assert response.took == pytest.approx(4.25, abs=0.002)
        # A question sent before a restart (its createdAt unknown here) is simply not timed.
        async with client_at(base) as restarted:
            again = await restarted.response_on(conversation, message_id)
    assert again.status is ResponseStatus.COMPLETED
    assert again.took is None


async def test_answer_files_are_read_and_fetched_through_their_signed_url(sim: RaiaSimulator) -> None:
    """The answer's files (not its cited knowledge-base files) come with the reply, named by
    conversation, and stream whole from the signed URL without the API key."""
    sim.delay = lambda _: 0.0
    async with client_for(sim) as client:
        user = await client.find_or_create_user(ANN)
        conversation = await client.create_conversation(user, "chat", {"platform": "test"})
        response = await client.response_on(conversation, await client.send_message(conversation, "a csv please"))
        assert response.reply is not None
        (made,) = response.reply.answer_files
        async with client.answer_file(made, 1024 * 1024) as download:
            data = b"".join([chunk async for chunk in download.chunks])
    assert (made.name, made.conversation, made.size) == ("data.csv", conversation, len(data))
    assert data.startswith(b"month,signups\n")
    assert response.reply.files == ()  # citations are another thing
    assert sim.files.downloads == 1


def test_answer_files_without_an_id_or_a_name_are_skipped() -> None:
    """raia's files entries parsed leniently: odd ones left out, duplicates once."""
    reply = reply_from_message(
        {"id": "m1", "message": "here", "files": [
            {"id": "f1", "fileName": "a.png", "size": 10}, {"id": "f1", "fileName": "a.png"},
            {"fileName": "no-id.csv"}, {"id": "f3", "fileName": " "}, "junk", {"id": "f4", "fileName": "b.csv"},
        ]},
        "c1",
    )  # fmt: skip
    assert [(f.id, f.name, f.size, f.conversation) for f in reply.answer_files] == [
        ("f1", "a.png", 10, "c1"),
        ("f4", "b.csv", None, "c1"),
    ]
