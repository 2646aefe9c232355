"""The simulator's human-in-the-loop: a conversation's ``mode`` and ``assignedUser``,
``GET /external/conversations[/{id}]``, ``PUT …/mode``, ``POST …/send-manual-message``
(``senderRole: manual_assistant``), the ``manual`` webhook, and an operator's side
(``/_simulator/conversations/{id}/takeover|staff|handback``, or these methods in tests)
to take a conversation over, write as the staff member and hand it back.

What raia's ``response-on`` says about a question while a person has its conversation is
undocumented: ``during_manual`` picks one of the three possibilities (``pending`` forever,
``failed``, or ``empty``: completed without words), or ``answers``: the agent answers
anyway, as if no one had taken over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adapters.raia.sim_common import Host, Json, error, iso

STAFF = {"id": "staff-1", "lastName": "Support", "email": "staff@example.com", "avatarUrl": None, "phoneNumber": None}


def _epoch(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Takeovers:
    def __init__(self, host: Host, clock: Callable[[], float], fire: Callable[[str, dict[str, Any]], None]) -> None:
        self._host = host
        self._clock = clock
        self._fire = fire  # calls the webhooks registered for a trigger
        self.during_manual = "pending"  # "pending" | "failed" | "empty" | "answers"
        # The demo: a request for a person (PUT mode manual) is answered by a simulated
        # staff member after ``auto_staff`` seconds, who hands back a little later. None: off.
        self.auto_staff: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.pages: list[int] = []  # the pages of the conversation listing asked for, in order

    # -- the operator's side (also for tests) -------------------------------------------

    def take(self, cid: str, staff: str | None = "Dana") -> None:
        """A staff member takes the conversation over (``staff`` None: raia names no one)."""
        conversation = self._host.conversations[cid]
        conversation["mode"] = "manual"
        conversation["assignedUser"] = {**STAFF, "firstName": staff} if staff else None
        self._touch(cid)
        self._fire("manual", {"conversationId": cid, "mode": "manual", "timestamp": iso(self._clock())})

    def write(self, cid: str, text: str, files: list[dict[str, Any]] | None = None) -> str:
        """The staff member writes (raia refuses unless the conversation is in manual mode);
        ``files``: the message's ``files`` entries (``sim.files.attach`` makes them)."""
        conversation = self._host.conversations[cid]
        if conversation.get("mode") != "manual":
            raise ValueError("Conversation must be in manual mode")
        mid = str(uuid.uuid4())
        now = self._clock()
        conversation["messages"].append(
            {
                "id": mid,
                "message": text,
                "conversationId": cid,
                "senderRole": "manual_assistant",
                "conversationMessageId": None,
                "source": "api",
                "createdAt": iso(now),
                "isAnonymized": False,
                "fullAIResponse": None,
                "subagentId": None,
                **({"files": files} if files else {}),
            }
        )
        self._touch(cid)
        self._fire("manual", {"conversationId": cid, "messageId": mid, "message": text, "timestamp": iso(now)})
        return mid

    def hand_back(self, cid: str) -> None:
        conversation = self._host.conversations[cid]
        conversation["mode"] = "ai"
        conversation["assignedUser"] = None
        self._touch(cid)

    def holds(self, cid: str) -> bool:
        return self._host.conversations.get(cid, {}).get("mode") == "manual"

    def settle(self, question: dict[str, Any], reply: Callable[[str], dict[str, Any]]) -> None:
        """A question the agent will not answer, because a person has its conversation."""
        if self.during_manual == "failed":
            question["status"] = "failed"
        elif self.during_manual == "empty":
            question["status"] = "completed"
            question["reply"] = reply("")

    def _touch(self, cid: str) -> None:
        self._host.conversations[cid]["updated"] = self._clock()

    def updated_at(self, cid: str) -> float:
        conversation = self._host.conversations[cid]
        last = conversation["messages"][-1]["createdAt"] if conversation["messages"] else None
        times = (conversation.get("updated", 0.0), conversation.get("created", 0.0), _epoch(last) if last else 0.0)
        return float(max(times))

    def dto(self, cid: str) -> dict[str, Any]:
        conversation = self._host.conversations[cid]
        return {
            "id": cid,
            "conversationUserId": conversation["userId"],
            "title": conversation.get("title"),
            "aiConversationId": f"thread_{cid[:8]}",
            "mode": conversation.get("mode", "ai"),
            "assignedUser": conversation.get("assignedUser"),
            "createdAt": iso(conversation.get("created", 0.0)),
            "updatedAt": iso(self.updated_at(cid)),
            "isAnonymized": False,
            "feedbacks": [],
        }

    # -- raia's endpoints ----------------------------------------------------------------

    async def get(self, request: Request) -> Response:
        refused, _ = self._host.guard(request)
        if refused:
            return refused
        cid = request.path_params["cid"]
        if cid not in self._host.conversations:
            return error(404, "Conversation not found")
        conversation = self._host.conversations[cid]
        conversation["mode_looks"] = conversation.get("mode_looks", 0) + 1  # for bench/waiting.py
        return Json(self.dto(cid))

    async def listing(self, request: Request) -> Response:
        refused, _ = self._host.guard(request)
        if refused:
            return refused
        query = request.query_params
        page, size = max(1, int(float(query.get("page", "1")))), max(1, int(float(query.get("pageSize", "10"))))
        since = _epoch(query["startDate"]) if "startDate" in query else 0.0
        self.pages.append(page)
        key = "updatedAt" if query.get("orderBy") == "updatedAt" else "createdAt"
        items = [self.dto(cid) for cid in self._host.conversations]
        items = [i for i in items if _epoch(i["updatedAt"]) >= since]
        items.sort(key=lambda i: _epoch(i[key]), reverse=query.get("orderDirection") != "ASC")
        total = len(items)
        data = items[(page - 1) * size : page * size]
        pages = (total + size - 1) // size
        return Json(
            {
                "currentPage": page,
                "pageSize": size,
                "totalItems": total,
                "totalPages": pages,
                "hasNextPage": page < pages,
                "hasPreviousPage": page > 1,
                "data": data,
            }
        )

    async def set_mode(self, request: Request) -> Response:
        refused, _ = self._host.guard(request)
        if refused:
            return refused
        cid = request.path_params["cid"]
        if cid not in self._host.conversations:
            return error(404, "Conversation not found")
        body = await self._host._json(request)
        mode = body.get("mode") if body else None
        if mode not in ("ai", "manual"):
            return error(400, "mode must be one of manual, ai")
        if mode == "manual":
            self.take(cid, staff=None)
            if self.auto_staff is not None:
                self._later(self._demo_staff(cid, self.auto_staff))
        else:
            self.hand_back(cid)
        return Json(self.dto(cid))

    async def send_manual(self, request: Request) -> Response:
        refused, _ = self._host.guard(request)
        if refused:
            return refused
        cid = request.path_params["cid"]
        if cid not in self._host.conversations:
            return error(404, "Conversation not found")
        body = await self._host._json(request)
        if not body or not isinstance(body.get("message"), str) or not body["message"].strip():
            return error(400, "message is required")
        try:
            mid = self.write(cid, body["message"])
        except ValueError as exc:
            return error(400, str(exc))
        message = next(m for m in self._host.conversations[cid]["messages"] if m["id"] == mid)
        return Json(message)

    # -- the operator's endpoints (not raia's) ---------------------------------------------

    async def operate(self, request: Request) -> Response:
        """``POST /_simulator/conversations/{cid}/{action}``: ``takeover`` ({"staff": name}),
        ``staff`` ({"message": text}), ``handback``. ``cid`` may be ``latest``."""
        cid = request.path_params["cid"]
        if cid == "latest" and self._host.conversations:
            cid = max(self._host.conversations, key=self.updated_at)
        if cid not in self._host.conversations:
            return error(404, "Conversation not found")
        body = await self._host._json(request) or {}
        action = request.path_params["action"]
        if action == "takeover":
            self.take(cid, staff=body.get("staff", "Dana"))
        elif action == "staff":
            try:
                self.write(cid, str(body.get("message", "")))
            except ValueError as exc:
                return error(400, str(exc))
        elif action == "handback":
            self.hand_back(cid)
        else:
            return error(404, "takeover, staff or handback")
        return Json(self.dto(cid))

    def _later(self, work: Any) -> None:
        task = asyncio.create_task(work, name="sim-staff")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _demo_staff(self, cid: str, after: float) -> None:
        await asyncio.sleep(after)
        self.take(cid, staff="Dana")
        self.write(cid, "Hi, I'm **Dana** from the support team (simulated). How can I help?")
        await asyncio.sleep(after * 4)
        self.write(cid, "I'll hand you back to the assistant now. Have a good day!")
        self.hand_back(cid)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
