"""Webhook posts straight to their endpoint (``bridge.app.direct``) answer as Starlette's
own routes do when the endpoint raises an ``HTTPException``: its status, detail and
headers, and no error (Starlette's error middleware would make it a 500)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.app.direct import Direct, Endpoints


@pytest.mark.parametrize("status", [409, 304])
async def test_an_http_exception_is_its_status_and_detail_as_on_starlettes_way(status: int) -> None:
    async def refusing(request: Request) -> Response:
        raise HTTPException(status, "taken already", headers={"X-Why": "twice"})

    # The same endpoint at a path Direct takes and at one that goes Starlette's way.
    app = Starlette(routes=[Route(path, refusing, methods=["POST"]) for path in ("/direct", "/routed")])
    app.add_middleware(Direct, paths=frozenset({"/direct"}), direct=Endpoints({"/direct": refusing}))
    # An exception that escapes the app fails the test (raise_app_exceptions).
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bridge.test") as http:
        direct, routed = [await http.post(path, content=b"{}") for path in ("/direct", "/routed")]
    assert direct.status_code == routed.status_code == status
    assert direct.text == routed.text == ("taken already" if status == 409 else "")
    assert direct.headers["x-why"] == routed.headers["x-why"] == "twice"
