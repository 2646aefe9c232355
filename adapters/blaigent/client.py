"""Blaigent's REST API (seed 003) as a ``DirectAgentPort``.

``POST /agents/{agent}/chat`` answers synchronously with ``response``, ``intent``,
``confidence`` and the ``session_id`` that continues the person's conversation (stored
like raia's conversation id; a reset starts a new session). Calls are paced to the plan's
per-minute limit (60 on Starter) so a burst of people is served in order rather than
refused; a 429 that still comes is honoured by the core's backoff. After a call cut off
by a restart, ``GET /platform/conversations/{id}/messages`` tells whether it arrived and
what the agent answered.

``channel`` takes only ``web``, ``whatsapp``, ``sms``, ``email`` or ``voice``: Slack and
Telegram are neither, so the bridge sends ``web`` (a typed chat, as on the web widget,
with the same formatting) and names the real platform in ``metadata.platform``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiolimiter import AsyncLimiter

from adapters.agent_http import status_error, transport_error
from adapters.base import read_json
from bridge.errors import AgentProtocolError
from bridge.models import Reply
from bridge.ports.agent import Asked, Lookup, Person

CHANNEL = "web"
DEFAULT_BASE_URL = "https://blaigent.up.railway.app/api/v1"
# Agents may think for a while; the chat call is the whole answer, so its read timeout is long.
TIMEOUT = httpx.Timeout(connect=5.0, read=120.0, write=10.0, pool=60.0)
_CUSTOMER = ("customer", "user", "human")


class BlaigentClient:
    """Implements ``DirectAgentPort`` for Blaigent. The ``httpx.AsyncClient`` is injected."""

    backend = "blaigent"
    can_look_up = True
    streams = False

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        organization: str,
        agent: str,
        per_minute: int = 60,
        timeout: httpx.Timeout = TIMEOUT,
        observe: Callable[[str, str], None] | None = None,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._organization = organization
        self._agent = agent
        self._timeout = timeout
        self._observe = observe
        # The plan's limit is per organization and minute: spread the calls over it.
        self._pace = AsyncLimiter(per_minute, 60)

    def __repr__(self) -> str:
        return f"BlaigentClient(base={self._base!r}, agent={self._agent!r})"

    async def _request(self, method: str, path: str, *, json: Any = None, paced: bool = False) -> Any:
        what = f"{method} {path}"
        status = "transport"
        try:
            if paced:
                await self._pace.acquire()
            try:
                response = await self._http.request(
                    method, self._base + path, json=json, headers=self._headers, timeout=self._timeout
                )
            except httpx.TransportError as exc:
                raise transport_error(what, exc) from exc
            status = str(response.status_code)
            if response.status_code >= 300:
                raise status_error(what, response, _detail(response))
            try:
                return read_json(response.content)
            except ValueError as exc:
                raise AgentProtocolError(f"{what}: body is not JSON", status=response.status_code) from exc
        finally:
            if self._observe is not None:
                self._observe(f"{method} {path.split('/conversations/')[0]}", status)

    async def agent_name(self) -> str | None:
        # No endpoint names the agent; its path segment does ("customer-service").
        return self._agent.replace("-", " ").replace("_", " ").strip().capitalize() or None

    async def ask(
        self,
        person: Person,
        session: str | None,
        text: str,
        on_text: Callable[[str], Awaitable[None]] | None = None,
    ) -> Asked:
        payload: dict[str, Any] = {
            "message": text,
            "customer_id": person.fk_id,
            "organization_id": self._organization,
            "channel": CHANNEL,
            "metadata": {
                "platform": person.platform,
                "first_name": person.first_name,
                "last_name": person.last_name or "",
                **person.custom_data,
            },
        }
        if session:
            payload["session_id"] = session
        body = await self._request("POST", f"/agents/{self._agent}/chat", json=payload, paced=True)
        if not isinstance(body, dict) or not isinstance(body.get("response"), str):
            raise AgentProtocolError("chat: no response text in the answer")
        new_session = body.get("session_id")
        detail = ""
        if body.get("intent") is not None:
            detail = f"intent={body['intent']} confidence={body.get('confidence')}"
        return Asked(
            session=new_session if isinstance(new_session, str) and new_session else session,
            reply=Reply(body["response"]),
            detail=detail,
        )

    async def look_up(self, fk_id: str, session: str | None, text: str) -> Lookup:
        if session is None:
            # A first question: the conversation it opened (if it arrived) is the person's newest.
            session = await self._newest_session(fk_id)
            if session is None:
                return Lookup(asked=False)
        body = await self._request("GET", f"/platform/conversations/{session}/messages")
        messages = body.get("messages") if isinstance(body, dict) else body
        if not isinstance(messages, list):
            raise AgentProtocolError("conversation messages: not a list")
        thread = [(_is_customer(m), _text(m)) for m in messages if isinstance(m, dict)]
        # Questions go out one at a time per person: ours is the last customer message.
        last = max((i for i, (customer, _) in enumerate(thread) if customer), default=None)
        if last is None or thread[last][1].strip() != text.strip():
            return Lookup(asked=False)
        answers = [t for customer, t in thread[last + 1 :] if not customer and t]
        return Lookup(asked=True, reply=Reply("\n\n".join(answers)) if answers else None, session=session)

    async def _newest_session(self, fk_id: str) -> str | None:
        """``GET /platform/conversations`` lists the organization's conversations; the seed
        does not show its fields, so ids and customers are read under their likely names."""
        body = await self._request("GET", "/platform/conversations")
        items = body.get("conversations", body.get("items")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise AgentProtocolError("conversations: not a list")
        found = None
        for item in items:  # newest last, or sorted by created_at when it is given
            if isinstance(item, dict) and item.get("customer_id") == fk_id:
                ident = item.get("id") or item.get("conversation_id") or item.get("session_id")
                if isinstance(ident, str) and (found is None or str(item.get("created_at", "")) >= found[0]):
                    found = (str(item.get("created_at", "")), ident)
        return found[1] if found else None

    async def check(self) -> str:
        """The cheapest authenticated call: the organization's summary."""
        await self._request("GET", "/platform/analytics/summary")
        return f"agent {self._agent!r} of organization {self._organization!r} at {self._base}"


def _detail(response: httpx.Response) -> str:
    try:
        body = read_json(response.content)
    except ValueError:
        return response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # validation errors: a list of {"msg": ...}
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)[:300]
    return str(detail)[:300] if detail else response.reason_phrase


def _is_customer(message: dict[str, Any]) -> bool:
    role = message.get("role") or message.get("sender") or message.get("from") or ""
    return str(role).lower() in _CUSTOMER


def _text(message: dict[str, Any]) -> str:
    for key in ("content", "message", "text"):
        value = message.get(key)
        if isinstance(value, str):
            return value
    return ""
