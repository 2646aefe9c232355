"""raia's human-in-the-loop, as the core's ``HandsOver`` ability: a conversation's ``mode``
(``ai`` | ``manual``) and ``assignedUser``, the messages staff wrote
(``senderRole: manual_assistant``), pages of recently updated conversations,
``PUT …/mode`` to ask for a person, and the agent's answer to a question a person took
over (``response-on``), should it answer anyway. A mixin of ``RaiaClient``, which provides the calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.raia.mapping import created_at, mapping, reply_from_message
from bridge.errors import AgentNotFoundError
from bridge.models import Reply
from bridge.ports.agent import AgentResponse, Handling, ResponseStatus, StaffMessage

STAFF_ROLE = "manual_assistant"


def handling_from(data: Any) -> Handling | None:
    """A ConversationResponseDTO (parsed leniently); None without an id."""
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
        return None
    assigned = data.get("assignedUser")
    staff = None
    if isinstance(assigned, Mapping):
        first = assigned.get("firstName")
        staff = first.strip() if isinstance(first, str) and first.strip() else None
    updated = created_at({"createdAt": data.get("updatedAt")})
    return Handling(data["id"], data.get("mode") == "manual", staff, updated)


def staff_messages_from(body: Any, conversation: str = "") -> list[StaffMessage]:
    items = mapping(body, "messages").get("messages")
    found: list[StaffMessage] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or item.get("senderRole") != STAFF_ROLE:
            continue
        if not isinstance(item.get("id"), str):
            continue
        reply = reply_from_message(item, conversation)
        if not reply.text and not reply.has_sources and not reply.answer_files:
            continue
        found.append(StaffMessage(item["id"], created_at(item) or 0.0, reply))
    return sorted(found, key=lambda m: m.created_at)


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RaiaHandover:
    async def _retrying(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        raise NotImplementedError

    async def _request(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        raise NotImplementedError

    async def response_on(self, conversation_id: str, message_id: str) -> AgentResponse:
        raise NotImplementedError

    async def handling(self, conversation_id: str) -> Handling:
        found = handling_from(await self._retrying("GET", f"/conversations/{conversation_id}"))
        return found or Handling(conversation_id, by_person=False)

    async def staff_messages(self, conversation_id: str) -> list[StaffMessage]:
        body = await self._retrying("GET", f"/conversations/{conversation_id}/messages")
        return staff_messages_from(body, conversation_id)

    async def recently_updated(self, since: float, limit: int, page: int = 1) -> list[Handling]:
        params = {
            "orderBy": "updatedAt",
            "orderDirection": "DESC",
            "page": str(page),
            "pageSize": str(limit),
            "startDate": _iso(since),
        }
        body = mapping(await self._retrying("GET", "/conversations", params=params), "conversations")
        data = body.get("data")
        found = [h for h in (handling_from(item) for item in (data if isinstance(data, list) else [])) if h]
        # startDate is a filter raia documents, but a hint all the same: judge by updatedAt.
        return [h for h in found if h.updated_at is None or h.updated_at >= since]

    async def hand_over(self, conversation_id: str) -> None:
        await self._request("PUT", f"/conversations/{conversation_id}/mode", json={"mode": "manual"})

    async def late_answer(self, conversation_id: str, message_id: str) -> tuple[bool, Reply | None]:
        # raia's response-on for a question asked during a takeover is undocumented: pending
        # forever, failed and an empty answer all mean "nothing to post".
        try:
            response = await self.response_on(conversation_id, message_id)
        except AgentNotFoundError:
            return True, None
        if response.status == ResponseStatus.COMPLETED:
            reply = response.reply
            return True, reply if reply is not None and (reply.text or reply.has_sources) else None
        return response.status == ResponseStatus.FAILED, None
