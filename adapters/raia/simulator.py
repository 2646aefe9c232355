"""A built-in raia simulator: an ASGI app that follows raia's OpenAPI document for the
endpoints the bridge uses (users, conversations, async send, response-on, messages,
agents/by-api-key), with realistic answer delays and URL/file citations.

It powers ``raia-bridge demo`` (no account; served on loopback), the test suite's fake
raia (served on loopback) and the benchmark. Tests can inject faults with ``fail(...)``.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.raia.demo_agent import SimAnswer, demo_answer, demo_delay
from adapters.raia.sim_common import Fault, Json, error, iso, now_iso, questions_report
from adapters.raia.sim_feedback import Feedbacks
from adapters.raia.sim_files import MessageFiles
from adapters.raia.sim_takeover import Takeovers
from adapters.raia.sim_webhooks import Webhooks


class RaiaSimulator:
    """State of a simulated raia agent; ``app`` is the ASGI application."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        agent_name: str = "Ada (demo agent)",
        delay: Callable[[str], float] = demo_delay,
        answer: Callable[[str], SimAnswer | None] = demo_answer,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key = api_key  # None: any non-empty key is accepted
        self.agent_name = agent_name
        self.delay = delay
        self.answer = answer
        # An agent that remembers (the demo's): given the person's earlier messages in the
        # conversation too. Used instead of ``answer`` when set.
        self.converse: Callable[[str, list[str]], SimAnswer | None] | None = None
        self.clock = clock
        self.users: dict[str, dict[str, Any]] = {}
        self._by_fk_id: dict[str, str] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.questions: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str]] = []
        self.hooks = Webhooks()  # POST /external/agents/webhooks, and raia's calls to them
        self.feedback = Feedbacks(self)  # POST /external/conversation-message-feedbacks
        self.files = MessageFiles(self)  # message-files/upload-url, the uploads, files on messages
        self.takeover = Takeovers(self, clock, self.hooks.fire)  # manual mode: staff take over
        manual = self.takeover
        self.app = Starlette(
            routes=[
                Route("/external/agents/by-api-key", self._agent, methods=["GET"]),
                Route("/external/agents/webhooks", self._create_webhook, methods=["POST"]),
                Route("/external/users", self._create_user, methods=["POST"]),
                Route("/external/users/search", self._search_user, methods=["GET"]),
                Route("/external/conversations", self._create_conversation, methods=["POST"]),
                Route("/external/conversations/{cid}", manual.get, methods=["GET"]),
                Route("/external/conversations", manual.listing, methods=["GET"]),
                Route("/external/conversations/{cid}/mode", manual.set_mode, methods=["PUT"]),
                Route("/external/conversations/{cid}/send-manual-message", manual.send_manual, methods=["POST"]),
                Route("/_simulator/conversations/{cid}/{action}", manual.operate, methods=["POST"]),
                Route("/external/conversations/{cid}/messages", self._list_messages, methods=["GET"]),
                Route("/external/conversations/{cid}/messages/async", self._send, methods=["POST"]),
                Route("/external/conversations/{cid}/messages/{mid}/response-on", self._response_on, methods=["GET"]),
                Route("/external/conversation-message-feedbacks", self.feedback.create_or_update, methods=["POST"]),
                Route(
                    "/external/conversations/{cid}/message-files/upload-url", self.files.upload_url, methods=["POST"]
                ),
                Route("/_storage/upload/{token}", self.files.upload, methods=["PUT", "POST", "GET"]),
                Route(
                    "/external/conversations/{cid}/message-files/{fid}/signed-url",
                    self.files.signed_url,
                    methods=["GET"],
                ),
                Route("/_storage/download/{token}", self.files.download, methods=["GET"]),
                Route("/_simulator/questions", self._questions, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:  # served (uvicorn): pushes in flight end, their client closes
            await self.takeover.aclose()
            await self.hooks.aclose()

    @property
    def webhooks(self) -> list[dict[str, Any]]:
        return self.hooks.registered

    @property
    def pushed(self) -> list[tuple[float, str, int]]:
        return self.hooks.calls

    # -- test hooks ------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        apply: bool = False,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        self.faults.append(Fault(method.upper(), re.compile(path), status, times, apply, retry_after))

    def count(self, method: str, suffix: str) -> int:
        """How many ``method`` requests had a path ending in ``suffix``."""
        return sum(1 for m, p in self.calls if m == method and p.endswith(suffix))

    def user_messages(self, conversation_id: str) -> list[str]:
        return [
            m["message"]
            for m in self.conversations[conversation_id]["messages"]
            if m["senderRole"] == "conversation_user"
        ]

    # -- plumbing --------------------------------------------------------------------

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def guard(self, request: Request) -> tuple[Response | None, Fault | None]:
        self.calls.append((request.method, request.url.path))
        key = request.headers.get("agent-secret-key", "")
        if not key or (self.api_key is not None and key != self.api_key):
            return error(403, "INVALID_CREDENTIALS"), None
        for fault in self.faults:
            if fault.method == request.method and fault.pattern.search(request.url.path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return (None, fault) if fault.apply else (self._fault_response(fault), None)
        return None, None

    @staticmethod
    def _fault_response(fault: Fault) -> Response:
        response = error(fault.status, "Simulated failure")
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    @staticmethod
    async def _json(request: Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # -- endpoints -------------------------------------------------------------------

    async def _agent(self, request: Request) -> Response:
        refused, _ = self.guard(request)
        if refused:
            return refused
        return Json(
            {
                "organizationId": "org-1",
                "organizationName": "Demo Org",
                "id": "agent-1",
                "name": self.agent_name,
                "publicName": self.agent_name,
                "role": "assistant",
                "vectorStoreId": "vs-1",
                "aiConfig": {},
                "status": "active",
                "skills": [{"systemName": "WEBHOOK", "status": "active", "name": "Webhooks", "webhooks": self.webhooks}]
                if self.webhooks
                else [],
                # The real API echoes the key: the bridge must never log this body.
                "apiKey": request.headers.get("agent-secret-key"),
            }
        )

    async def _create_webhook(self, request: Request) -> Response:
        refused, _ = self.guard(request)
        if refused:
            return refused
        hook = self.hooks.add(await self._json(request))
        if isinstance(hook, str):
            return error(400, hook)
        return Json({"id": str(uuid.uuid4()), "agentId": "agent-1", **hook, "createdAt": now_iso()}, status_code=201)

    def _pushed_payload(self, mid: str) -> dict[str, Any]:
        """``each_message`` after the AI answered: the payload raia's n8n node expects (the
        real one is undocumented)."""
        question = self._settle(mid)
        reply = question.get("reply") or {}
        return {
            "conversationId": question["cid"],
            "messageId": reply.get("id"),
            "userId": self.conversations[question["cid"]].get("userId"),
            "message": reply.get("message"),
            "timestamp": now_iso(),
        }

    def _user_dto(self, user: dict[str, Any]) -> dict[str, Any]:
        return {**user, "isAnonymized": False, "newFieldFromTheFuture": 1}

    async def _create_user(self, request: Request) -> Response:
        refused, late = self.guard(request)
        if refused:
            return refused
        body = await self._json(request)
        if body is None or not all(isinstance(body.get(k), str) and body[k] for k in ("firstName", "lastName", "fkId")):
            return error(400, "firstName, lastName and fkId are required")
        if body["fkId"] in self._by_fk_id:
            return error(400, "User already exists")
        uid = str(uuid.uuid4())
        self._by_fk_id[body["fkId"]] = uid
        self.users[uid] = {
            "id": uid,
            "firstName": body["firstName"],
            "lastName": body["lastName"],
            "fkId": body["fkId"],
            "metadata": {"customData": body.get("customData") or {}},
        }
        return self._fault_response(late) if late else Json(self._user_dto(self.users[uid]), status_code=201)

    async def _search_user(self, request: Request) -> Response:
        refused, _ = self.guard(request)
        if refused:
            return refused
        fk_id = request.query_params.get("fkId")
        if not fk_id:
            return error(400, "Provide email, phoneNumber or fkId")
        uid = self._by_fk_id.get(fk_id)
        if uid is None:
            return error(404, "User not found")
        user = self.users[uid]
        ids = [cid for cid, c in self.conversations.items() if c["userId"] == uid]
        random.shuffle(ids)  # the order is undocumented: do not rely on it
        return Json({"user": self._user_dto(user), "conversationIds": ids})

    async def _create_conversation(self, request: Request) -> Response:
        refused, late = self.guard(request)
        if refused:
            return refused
        body = await self._json(request)
        if body is None or body.get("conversationUserId") not in self.users:
            return error(400, "conversationUserId is not a user of this agent")
        cid = str(uuid.uuid4())
        self.conversations[cid] = {
            "userId": body["conversationUserId"],
            "title": body.get("title"),
            "messages": [],
            "created": self.clock(),
        }
        dto = {
            "id": cid,
            "conversationUserId": body["conversationUserId"],
            "title": body.get("title"),
            "aiConversationId": f"thread_{cid[:8]}",
            "user": self._user_dto(self.users[body["conversationUserId"]]),
            "createdAt": now_iso(),
            "updatedAt": now_iso(),
            "isAnonymized": False,
            "mode": "ai",
        }
        return self._fault_response(late) if late else Json(dto, status_code=201)

    async def _send(self, request: Request) -> Response:
        refused, late = self.guard(request)
        if refused:
            return refused
        cid = request.path_params["cid"]
        conversation = self.conversations.get(cid)
        if conversation is None:
            return error(404, "Conversation not found")
        body = await self._json(request)
        if body is None or not isinstance(body.get("message"), str) or not body["message"].strip():
            return error(400, "message is required")
        problem = self.files.check(cid, body.get("files"))
        if problem:
            return error(400, problem)
        mid = str(uuid.uuid4())
        now = self.clock()
        message = self._message_dto(mid, cid, "conversation_user", body["message"], at=now)
        message["files"] = body.get("files") or []
        conversation["messages"].append(message)
        self.questions[mid] = {
            "cid": cid,
            "text": body["message"],
            "asked_at": now,
            "ready_at": now + self.delay(body["message"]),
        }
        self.hooks.after(self.questions[mid]["ready_at"] - now, lambda: self._pushed_payload(mid))
        return self._fault_response(late) if late else Json(message, status_code=201)

    def _message_dto(self, mid: str, cid: str, role: str, text: str, full: Any = None, *, at: float) -> dict[str, Any]:
        return {
            "id": mid,
            "message": text,
            "conversationId": cid,
            "senderRole": role,
            "conversationMessageId": mid,
            "source": "api",
            "createdAt": iso(at),  # raia's clock: the agent wrote its answer when it was ready
            "isAnonymized": False,
            "fullAIResponse": full,
            "subagentId": None,
        }

    def _settle(self, mid: str) -> dict[str, Any]:
        question = self.questions[mid]
        # A person has it (and the agent stands back, unless it answers anyway).
        held = self.takeover.holds(question["cid"]) and self.takeover.during_manual != "answers"
        if "status" not in question and held:
            self.takeover.settle(
                question,
                lambda text: self._message_dto(str(uuid.uuid4()), question["cid"], "assistant", text, at=self.clock()),
            )
        if "status" not in question and self.clock() >= question["ready_at"] and not held:
            if self.converse is not None:
                earlier = self.user_messages(question["cid"])
                answer = self.converse(question["text"], earlier[: earlier.index(question["text"])])
            else:
                answer = self.answer(question["text"])
            if answer is None:
                question["status"] = "failed"
            else:
                question["status"] = "completed"
                full = {
                    "reasoning": None,
                    "outputText": answer.text,
                    "urlCitations": answer.urls or None,
                    "fileCitations": answer.files or None,
                }
                reply = self._message_dto(
                    str(uuid.uuid4()), question["cid"], "assistant", answer.text, full, at=question["ready_at"]
                )
                reply["conversationMessageId"] = mid
                reply["files"] = self.files.attach(question["cid"], answer.made)
                question["reply"] = reply
                self.conversations[question["cid"]]["messages"].append(reply)
        return question

    async def _response_on(self, request: Request) -> Response:
        refused, _ = self.guard(request)
        if refused:
            return refused
        mid = request.path_params["mid"]
        if mid not in self.questions or self.questions[mid]["cid"] != request.path_params["cid"]:
            return error(404, "Message not found")
        question = self._settle(mid)
        question["polls"] = question.get("polls", 0) + 1
        status = question.get("status", "pending")
        if status != "pending":
            question.setdefault("seen_at", self.clock())  # the look that found it (how late, for bench/)
        return Json(
            {
                "status": status,
                "message": question.get("reply"),
                "error": "The model run failed" if status == "failed" else None,
            }
        )

    async def _questions(self, request: Request) -> Response:  # on the loop: the books change meanwhile
        return Json(questions_report(self))

    async def _list_messages(self, request: Request) -> Response:
        refused, _ = self.guard(request)
        if refused:
            return refused
        conversation = self.conversations.get(request.path_params["cid"])
        if conversation is None:
            return error(404, "Conversation not found")
        return Json({"messages": conversation["messages"]})


def main() -> None:
    """Serve the simulator on loopback (``python -m adapters.raia.simulator --port 8099``),
    or act as a running one's staff (``--take``, ``--write``, ``--hand-back``)."""
    from adapters.raia.sim_main import main as run

    run()


if __name__ == "__main__":
    main()
