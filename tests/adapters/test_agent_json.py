"""JSON nested beyond reason from an agent API (or in a webhook body): one shared reader
(``adapters.base.read_json``) refuses it like any malformed JSON, so every client raises
its ``AgentError`` instead of letting a ``RecursionError`` escape."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from adapters.base import MAX_JSON_DEPTH, read_json
from adapters.blaigent.client import BlaigentClient
from adapters.slug.client import SlugClient
from bridge.errors import AgentProtocolError, AgentRejectedError
from bridge.ports.agent import Person
from tests.adapters.test_raia import client_for, standing_in
from tests.fakes.server import serving

DEEP = b"[" * 5000 + b"]" * 5000  # json.loads raises RecursionError on this
ANN = Person("test:ann", "test", "Ann", "Lee", {})


def nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def test_read_json_refuses_depth_past_the_limit_with_a_value_error() -> None:
    assert read_json(nested(MAX_JSON_DEPTH)) is not None
    assert read_json('{"a": [1, {"b": "c"}], "d": null}') == {"a": [1, {"b": "c"}], "d": None}
    for body in (nested(MAX_JSON_DEPTH + 1), DEEP, b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(ValueError, match="nested too deeply"):
            read_json(body)
    with pytest.raises(ValueError, match="utf-8"):
        read_json(b'"\xff"')
    with pytest.raises(ValueError, match="Expecting"):
        read_json(b"{")


def _answering(status: int, body: bytes, media: str = "application/json") -> object:
    async def handler(request: Request) -> Response:
        return Response(body, status_code=status, media_type=media)

    return standing_in(handler)


@pytest.mark.parametrize("status", [200, 400])
async def test_raia_answers_nested_beyond_reason_are_agent_errors(status: int) -> None:
    """A 200 is a protocol error (transient); a 400 is still a rejection, its body unread."""
    async with client_for(_answering(status, DEEP)) as client:  # type: ignore[arg-type]
        expected = AgentProtocolError if status == 200 else AgentRejectedError
        with pytest.raises(expected):
            await client.response_on("c", "m")
        with pytest.raises(expected):
            await client.send_message("c", "hi")


@pytest.mark.parametrize("status", [200, 400])
async def test_blaigent_answers_nested_beyond_reason_are_agent_errors(status: int) -> None:
    async with serving(_answering(status, DEEP)) as base, httpx.AsyncClient() as http:
        client = BlaigentClient(http, base_url=base, api_key="k", organization="o", agent="a")
        with pytest.raises(AgentProtocolError if status == 200 else AgentRejectedError):
            await client.ask(ANN, None, "hi")


@pytest.mark.parametrize(
    ("status", "body", "media"),
    [
        (200, DEEP, "application/json"),
        (400, DEEP, "application/json"),
        (200, b'data: {"chunk": "a"}\n\ndata: ' + DEEP + b"\n\ndata: [DONE]\n\n", "text/event-stream"),
    ],
    ids=["whole", "refused", "streamed"],
)
async def test_slug_answers_nested_beyond_reason_are_agent_errors(status: int, body: bytes, media: str) -> None:
    async with serving(_answering(status, body, media)) as base, httpx.AsyncClient() as http:
        client = SlugClient(http, base_url=base, api_key="k", slug="s", stream=media == "text/event-stream")
        with pytest.raises(AgentProtocolError if status == 200 else AgentRejectedError):
            await client.ask(ANN, "conversation-1", "hi")
