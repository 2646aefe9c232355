"""The raia simulator's conversation-message feedbacks: one 👍/👎 per answer and user,
created or updated, checked the way raia's schema requires."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adapters.raia.sim_common import Host, Json, error, now_iso


class Feedbacks:
    def __init__(self, sim: Host) -> None:
        self._sim = sim
        self.recorded: dict[tuple[str, str], dict[str, Any]] = {}  # (message id, user id) -> feedback

    def _answer(self, message_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The assistant message and its conversation."""
        for conversation in self._sim.conversations.values():
            for message in conversation["messages"]:
                if message["id"] == message_id:
                    return message, conversation
        return None

    async def create_or_update(self, request: Request) -> Response:
        refused, late = self._sim.guard(request)
        if refused:
            return refused
        body = await self._sim._json(request)
        if body is None:
            return error(400, "body must be a JSON object")
        for field in ("conversationMessageId", "userId", "voteType", "question"):
            if not isinstance(body.get(field), str) or not body[field]:
                return error(400, f"{field} is required")
        if body["voteType"] not in ("up", "down"):
            return error(400, "voteType must be one of: up, down")
        for field in ("answer", "comment"):
            if field in body and not isinstance(body[field], str):
                return error(400, f"{field} must be a string")
        found = self._answer(body["conversationMessageId"])
        if found is None or found[0]["senderRole"] != "assistant":
            return error(404, "Conversation message not found")
        if found[1]["userId"] != body["userId"]:
            return error(400, "userId is not the user of this conversation")
        key = (body["conversationMessageId"], body["userId"])
        now = now_iso()
        previous = self.recorded.get(key) or {"id": str(uuid.uuid4()), "createdAt": now}
        feedback = {
            **previous,
            "conversationMessageId": key[0],
            "voteType": body["voteType"],
            "question": body["question"],
            "answer": body.get("answer"),
            "comment": body.get("comment", previous.get("comment")),
            "updatedAt": now,
        }
        self.recorded[key] = feedback
        return self._sim._fault_response(late) if late else Json(feedback, status_code=201)
