"""The raia simulator's message files: a signed upload URL per file, the upload to it,
the check that a message names only files that were uploaded; and the files the agent
makes with an answer, each fetched through a signed download URL.

raia's OpenAPI documents the upload URL but not how to upload to it. The bridge does what
signed storage URLs (S3, GCS, Supabase) accept: one ``PUT`` of the raw bytes with the
declared ``Content-Type``; the simulator accepts exactly that and refuses anything else
(another method, another content type, an empty body, a used or unknown token)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adapters.raia.demo_agent import MadeFile
from adapters.raia.sim_common import Host, Json, error, now_iso

MAX_BYTES = 50 * 1024 * 1024


class MessageFiles:
    def __init__(self, sim: Host) -> None:
        self._sim = sim
        self._tokens: dict[str, dict[str, Any]] = {}  # upload token -> the file it is for
        self.stored: dict[str, dict[str, Any]] = {}  # storage path -> {name, type, size, data}
        self.upload_urls = 0
        self.uploads = 0
        self.hold_uploads: Any = None  # an asyncio.Event: uploads wait for it (tests)
        self.made: dict[str, dict[str, Any]] = {}  # file id -> a file the agent made: {cid, file}
        self._downloads: dict[str, str] = {}  # signed download token -> file id
        self.downloads = 0  # signed download URLs handed out

    def attach(self, cid: str, made: list[MadeFile]) -> list[dict[str, Any]]:
        """Keep the files the agent made for an answer; their ``files`` entries (raia's
        ``ConversationMessageFileResponseDTO``)."""
        entries = []
        for file in made:
            file_id = f"mf-{secrets.token_hex(6)}"
            self.made[file_id] = {"cid": cid, "file": file}
            entries.append({"id": file_id, "fileName": file.name, "openAIFileId": f"file-{file_id}",
                            "size": len(file.data), "createdAt": now_iso(), "updatedAt": now_iso()})  # fmt: skip
        return entries

    async def signed_url(self, request: Request) -> Response:
        """GET …/message-files/{fileId}/signed-url: a download URL for a file of this conversation."""
        refused, late = self._sim.guard(request)
        if refused:
            return refused
        file_id = request.path_params["fid"]
        kept = self.made.get(file_id)
        if kept is None or kept["cid"] != request.path_params["cid"]:
            return error(404, "File not found")
        token = secrets.token_urlsafe(16)
        self._downloads[token] = file_id
        self.downloads += 1
        signed = f"{str(request.base_url).rstrip('/')}/_storage/download/{token}?signature={secrets.token_hex(8)}"
        return self._sim._fault_response(late) if late else Json({"signedUrl": signed, "fileId": file_id})

    async def download(self, request: Request) -> Response:
        """The signed download URL: no API key (the URL is the authorisation)."""
        if request.headers.get("agent-secret-key"):
            return Response("the API key must not be sent to storage", status_code=400)
        file_id = self._downloads.get(request.path_params["token"])
        if file_id is None or not request.query_params.get("signature"):
            return Response("invalid signature", status_code=403)
        file: MadeFile = self.made[file_id]["file"]
        return Response(file.data, media_type=file.content_type)

    async def upload_url(self, request: Request) -> Response:
        refused, _ = self._sim.guard(request)
        if refused:
            return refused
        cid = request.path_params["cid"]
        if cid not in self._sim.conversations:
            return error(404, "Conversation not found")
        body = await self._sim._json(request)
        if body is None or not all(isinstance(body.get(k), str) and body[k] for k in ("fileName", "contentType")):
            return error(400, "fileName and contentType are required")
        token = secrets.token_urlsafe(16)
        path = f"conversations/{cid}/{token}/{body['fileName']}"
        self._tokens[token] = {"path": path, "name": body["fileName"], "type": body["contentType"], "cid": cid}
        self.upload_urls += 1
        signed = f"{str(request.base_url).rstrip('/')}/_storage/upload/{token}?signature={secrets.token_hex(8)}"
        return Json({"signedUrl": signed, "storagePath": path})

    async def upload(self, request: Request) -> Response:
        """The signed URL: no API key (the URL is the authorisation), one PUT per token."""
        if request.method != "PUT":
            return Response("use PUT", status_code=405)
        if request.headers.get("agent-secret-key"):
            return Response("the API key must not be sent to storage", status_code=400)
        wanted = self._tokens.get(request.path_params["token"])
        if wanted is None or not request.query_params.get("signature"):
            return Response("invalid or used signature", status_code=403)
        if request.headers.get("content-type") != wanted["type"]:
            return Response(f"Content-Type must be {wanted['type']}", status_code=400)
        if self.hold_uploads is not None:
            await self.hold_uploads.wait()
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_BYTES:
                return Response("too large", status_code=413)
        if not data:
            return Response("empty body", status_code=400)
        del self._tokens[request.path_params["token"]]
        self.stored[wanted["path"]] = {"name": wanted["name"], "type": wanted["type"], "data": bytes(data),
                                       "cid": wanted["cid"]}  # fmt: skip
        self.uploads += 1
        return Response(status_code=200)

    def check(self, cid: str, files: Any) -> str | None:
        """Why a message's ``files`` cannot be attached, or None."""
        if files is None:
            return None
        if not isinstance(files, list):
            return "files must be an array"
        for item in files:
            if not isinstance(item, dict) or not isinstance(item.get("fileName"), str):
                return "each file needs fileName and storagePath"
            stored = self.stored.get(item.get("storagePath"))  # type: ignore[arg-type]
            if stored is None or stored["cid"] != cid:
                return f"file {item.get('storagePath')!r} was not uploaded to this conversation"
        return None
