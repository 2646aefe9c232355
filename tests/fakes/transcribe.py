"""A fake OpenAI-compatible transcription server (``POST /v1/audio/transcriptions``): it
checks the key, reads the multipart upload and answers with the text a test set for the
recording's bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes import multipart

API_KEY = "sk-test-transcribe-not-real"


@dataclass
class FakeTranscriber:
    said: dict[bytes, str] = field(default_factory=dict)  # recording bytes -> what is said in it
    requests: list[dict[str, Any]] = field(default_factory=list)  # each request's fields
    statuses: list[int] = field(default_factory=list)  # the next requests answered with these

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/audio/transcriptions", self._transcribe, methods=["POST"])])

    async def _transcribe(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": {"message": "Incorrect API key provided"}}, status_code=401)
        kind = request.headers.get("content-type", "")
        if not kind.startswith("multipart/form-data"):
            return JSONResponse({"error": {"message": "multipart/form-data expected"}}, status_code=400)
        fields = multipart.parse(await request.body(), kind.split("boundary=", 1)[1])
        self.requests.append(fields)
        if self.statuses:
            return JSONResponse({"error": {"message": "try later"}}, status_code=self.statuses.pop(0))
        if "file" not in fields:
            return JSONResponse({"error": {"message": "file is required"}}, status_code=400)
        _, _, data = fields["file"]
        return JSONResponse({"text": self.said.get(data, "")})
