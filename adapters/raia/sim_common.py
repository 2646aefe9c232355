"""What the raia simulator's parts share: JSON as raia writes it, its error bodies, faults."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    apply: bool  # perform the operation anyway, then answer with the error (ambiguous)
    retry_after: float | None


class Json(JSONResponse):
    """JSON as raia sends it: anything UTF-8 cannot carry (a lone surrogate) is escaped."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def iso(at: float) -> str:
    """Epoch seconds as raia writes timestamps (UTC, milliseconds, Z)."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(status: int, message: str) -> JSONResponse:
    names = {400: "BAD_REQUEST", 403: "FORBIDDEN_ERROR", 404: "NOT_FOUND_ERROR", 429: "TOO_MANY_REQUESTS"}
    return Json(
        {"status": status, "name": names.get(status, "INTERNAL_SERVER_ERROR"), "message": message, "details": []},
        status_code=status,
    )


def questions_report(sim: Host) -> dict[str, dict[str, Any]]:
    """``GET /_simulator/questions``, not part of raia: when each question was asked, its
    answer ready and first seen, how often it was polled and its conversation's mode asked
    for (``bench/``)."""
    keys = ("text", "asked_at", "ready_at", "seen_at")
    return {
        mid: {k: q.get(k) for k in keys}
        | {"polls": q.get("polls", 0), "mode_looks": sim.conversations[q["cid"]].get("mode_looks", 0)}
        for mid, q in sim.questions.items()
    }


class Host(Protocol):
    """What the simulator's parts (feedbacks, message files) use of the simulator itself."""

    conversations: dict[str, dict[str, Any]]
    questions: dict[str, dict[str, Any]]

    def guard(self, request: Request) -> tuple[Response | None, Fault | None]: ...

    async def _json(self, request: Request) -> dict[str, Any] | None: ...

    def _fault_response(self, fault: Fault) -> Response: ...
