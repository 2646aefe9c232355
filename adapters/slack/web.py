"""The Slack Web API calls on every turn (posting an answer, the hourglass reaction) as
plain JSON POSTs on the client's kept-alive aiohttp session. slack_sdk's generic call
path (argument handling, logging, response wrapping) cost more CPU than the exchange;
errors still surface as slack_sdk's ``SlackApiError``, so their handling is unchanged."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

TIMEOUT = aiohttp.ClientTimeout(total=15)


async def call(client: AsyncWebClient, method: str, **arguments: Any) -> dict[str, Any]:
    """POST ``method`` with a JSON body (arguments that are None are left out, as
    slack_sdk does). Falls back to slack_sdk when the client has no session yet."""
    payload = {k: v for k, v in arguments.items() if v is not None}
    session = client.session
    if session is None:
        fallback = await client.api_call(method, json=payload)
        return dict(fallback.data) if isinstance(fallback.data, dict) else {}
    url = client.base_url + method
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json; charset=utf-8"}
    async with session.post(url, data=json.dumps(payload), headers=headers, timeout=TIMEOUT) as response:
        raw = await response.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status >= 300 or not data.get("ok"):
            data.setdefault("ok", False)
            data.setdefault("error", f"http_{response.status}")
            wrapped = AsyncSlackResponse(
                client=client,
                http_verb="POST",
                api_url=url,
                req_args={},
                data=data,
                headers=dict(response.headers),
                status_code=response.status,
            )
            raise SlackApiError(f"The request to the Slack API failed: {data['error']}", wrapped)  # type: ignore[no-untyped-call]
        return data
