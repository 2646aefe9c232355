"""A fake Slack Web API on loopback (SLACK_API_URL points here) and Events API payloads."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

BOT_TOKEN = "xoxb-test-not-a-real-token"
APP_TOKEN = "xapp-test-not-a-real-token"
SIGNING_SECRET = "test-signing-secret"
TEAM = "T0001"
BOT_USER = "UBOT001"
BOT_ID = "B0001"
SCOPES = (
    "app_mentions:read,channels:history,groups:history,im:history,chat:write,reactions:write,users:read,commands,"
    "files:read,files:write"
)


@dataclass
class Post:
    channel: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None = None
    ts: str = ""
    at: float = field(default_factory=time.time)  # when it was posted
    files: list[dict[str, Any]] = field(default_factory=list)  # files shared with it (files.completeUploadExternal)
    token: str = BOT_TOKEN  # the bot token it was posted with (one per workspace)

    @property
    def body(self) -> str:
        said: list[str] = []
        for block in self.blocks:
            if block.get("type") == "section":
                said.append(block["text"]["text"])
            elif block.get("type") == "markdown":  # standard Markdown, rendered by Slack
                said.append(block["text"])
            elif block.get("type") == "table":
                said.append("\n".join(" | ".join(c["text"] for c in row) for row in block["rows"]))
        return "\n\n".join(said) if self.blocks else self.text

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The 👍/👎 buttons under this message ([] if it has none)."""
        return [e for b in self.blocks if b.get("type") == "actions" for e in b.get("elements", [])]


@dataclass
class FakeSlack:
    posts: list[Post] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    reactions: list[tuple[str, str, str]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=lambda: {"U1": ("Ann", "Lee"), "U2": ("Bob", "")})
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    sockets: list[WebSocket] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    # Posts that Slack takes, but whose response is lost: a 500 after storing the message.
    lose_responses: int = 0
    updates: list[tuple[float, str, str]] = field(default_factory=list)
    assistant: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # assistant.threads.* calls
    agent: bool = False  # the app is declared as an agent (agents.sessions.* work)
    homes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # views.publish: (user, view)
    locales: dict[str, str] = field(default_factory=dict)  # users.info's locale by user ("de-DE")
    sessions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # agents.sessions.* calls
    assistant_error: str = ""  # set: the app has no assistant feature  # (time, channel, ts) of chat.update
    deleted: list[str] = field(default_factory=list)  # ts of deleted messages
    views: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # views.open: (trigger_id, view)
    files: dict[str, bytes] = field(default_factory=dict)  # url_private contents by file id
    ephemerals: list[tuple[str, str, str]] = field(default_factory=list)  # chat.postEphemeral: (channel, user, text)
    # Files the bot uploads: file id -> {name, length, data (None until uploaded)}.
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_headers: list[dict[str, str]] = field(default_factory=list)  # the headers each upload came with
    lose_completes: int = 0  # files.completeUploadExternal calls Slack takes, whose response is lost
    # Bot tokens Slack accepts, each with its workspace ("Add to Slack": one per install).
    tokens: dict[str, str] = field(default_factory=lambda: {BOT_TOKEN: TEAM})
    # oauth.v2.access: what each code is exchanged for (the installing workspace's grant).
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    exchanged: list[dict[str, Any]] = field(default_factory=list)  # the oauth.v2.access calls' parameters

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/{method}", self._handle, methods=["POST", "GET"]),
                Route("/files-pri/{file_id}", self._file, methods=["GET"]),
                Route("/upload/{file_id}", self._upload, methods=["POST"]),
                WebSocketRoute("/socket", self._socket),
            ]
        )

    async def _file(self, request: Request) -> Response:
        """A private file URL: only with the bot token (else Slack's sign-in page)."""
        content = self.files.get(request.path_params["file_id"])
        if request.headers.get("authorization") not in {f"Bearer {t}" for t in self.tokens} or content is None:
            return Response("<html>sign in</html>", media_type="text/html")
        return Response(content, media_type="application/octet-stream")

    async def _upload(self, request: Request) -> Response:
        """files.getUploadURLExternal's URL: the bytes, exactly the length announced."""
        wanted = self.uploads.get(request.path_params["file_id"])
        if wanted is None:
            return Response("unknown upload", status_code=404)
        self.upload_headers.append(dict(request.headers))
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
        if len(data) != wanted["length"]:
            return Response("length mismatch", status_code=400)
        wanted["data"] = bytes(data)
        return Response("OK - " + str(len(data)))

    def shared(self) -> list[tuple[Post, dict[str, Any]]]:
        """Every file the bot shared, with the message it shows in."""
        return [(p, f) for p in self.posts for f in p.files]

    def file(self, base: str, file_id: str, content: bytes, name: str, mimetype: str) -> dict[str, Any]:
        """Store a file and describe it as a ``file_share`` event's ``files`` entry."""
        self.files[file_id] = content
        url = f"{base}/files-pri/{file_id}"
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "size": len(content),
                "url_private": url, "url_private_download": url + "?download=1"}  # fmt: skip

    async def _socket(self, websocket: WebSocket) -> None:
        """Socket Mode: say hello, then collect the client's acknowledgements."""
        await websocket.accept()
        await websocket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}})
        self.sockets.append(websocket)
        try:
            while True:
                self.acks.append(json.loads(await websocket.receive_text()))
        except WebSocketDisconnect:
            self.sockets.remove(websocket)

    async def push(self, body: dict[str, Any], envelope_id: str) -> None:
        """Deliver an Events API body over the Socket Mode connection."""
        async with asyncio.timeout(10):
            while not self.sockets:
                await asyncio.sleep(0.01)
        envelope = {"envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
                    "retry_attempt": 0, "retry_reason": "", "payload": body}  # fmt: skip
        await self.sockets[0].send_json(envelope)

    def fail(self, method: str, error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.failures.setdefault(method, []).append((status, {"ok": False, "error": error}, headers or {}))

    async def wait_posts(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.posts) < count:
                await asyncio.sleep(0.01)

    async def _handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        self.calls.append(method)
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        accepted = {APP_TOKEN} if method == "apps.connections.open" else set(self.tokens)
        if method == "oauth.v2.access":  # the app's client id and secret, not a token
            exchange = dict(parse_qsl((await request.body()).decode()))
            self.exchanged.append(exchange)
            grant = self.grants.get(exchange.get("code", ""))
            return JSONResponse(grant or {"ok": False, "error": "invalid_code"})
        if given not in accepted:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        if method == "apps.connections.open":
            return JSONResponse({"ok": True, "url": f"ws://{request.url.netloc}/socket"})
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(raw or b"{}")
        else:
            params = dict(parse_qsl(raw.decode()))
        params |= dict(request.query_params)
        queued = self.failures.get(method)
        if queued:
            status, body, headers = queued.pop(0)
            return JSONResponse(body, status_code=status, headers=headers)
        if method == "auth.test":
            return JSONResponse(
                {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "raia",
                 "team_id": self.tokens.get(given, TEAM),
                 "user_id": BOT_USER, "bot_id": BOT_ID},
                headers={"x-oauth-scopes": SCOPES},
            )  # fmt: skip
        if method == "chat.postMessage":
            blocks = params.get("blocks") or []
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            metadata = params.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            if _refused(blocks):
                return JSONResponse({"ok": False, "error": "invalid_blocks"})
            ts = f"{time.time():.0f}.{next(self._ts):06d}"
            self.posts.append(
                Post(params["channel"], params.get("thread_ts"), params["text"], blocks, metadata, ts, token=given)
            )
            if self.lose_responses:
                self.lose_responses -= 1
                return JSONResponse({"ok": False, "error": "internal_error"}, status_code=500)
            return JSONResponse({"ok": True, "channel": params["channel"], "ts": ts})
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):07d}"
            self.uploads[file_id] = {"name": params["filename"], "length": int(params["length"]), "data": None}
            base = str(request.base_url).rstrip("/")
            return JSONResponse({"ok": True, "upload_url": f"{base}/upload/{file_id}", "file_id": file_id})
        if method == "files.completeUploadExternal":
            entries = params["files"]
            entries = json.loads(entries) if isinstance(entries, str) else entries
            shown = []
            for entry in entries:
                upload = self.uploads.get(entry["id"])
                if upload is None or upload["data"] is None:
                    return JSONResponse({"ok": False, "error": "file_not_found"})
                shown.append({"id": entry["id"], "name": upload["name"], "title": entry.get("title"),
                              "size": upload["length"]})  # fmt: skip
            ts = f"{time.time():.0f}.{next(self._ts):06d}"
            self.posts.append(Post(params["channel_id"], params.get("thread_ts"), "", [], None, ts, files=shown))
            if self.lose_completes:
                self.lose_completes -= 1
                return JSONResponse({"ok": False, "error": "internal_error"}, status_code=500)
            return JSONResponse({"ok": True, "files": shown})
        if method == "views.publish":
            view = params["view"]
            self.homes.append((params["user_id"], json.loads(view) if isinstance(view, str) else view))
            return JSONResponse({"ok": True, "view": {"id": "VH1"}})
        if method == "views.open":
            view = params["view"]
            self.views.append((params["trigger_id"], json.loads(view) if isinstance(view, str) else view))
            return JSONResponse({"ok": True, "view": {"id": "V1"}})
        if method == "conversations.open":  # a DM with the person: its id is D + their id here
            return JSONResponse({"ok": True, "channel": {"id": f"D{params['users']}"}})
        if method == "chat.postEphemeral":
            self.ephemerals.append((params["channel"], params["user"], params["text"]))
            return JSONResponse({"ok": True, "message_ts": next_ts()})
        if method.startswith("agents.sessions."):
            # An app declared as an agent has sessions; any other lacks the scope for them.
            if not self.agent:
                return JSONResponse({"ok": False, "error": "missing_scope", "needed": "assistant:write"})
            self.sessions.append((method, params))
            return JSONResponse({"ok": True, "status": params.get("status"), "title": params.get("title")})
        if method.startswith("assistant.threads."):
            self.assistant.append((method, params))
            if self.assistant_error:
                return JSONResponse({"ok": False, "error": self.assistant_error})
            return JSONResponse({"ok": True})
        if method in ("chat.update", "chat.delete"):
            post = next((p for p in self.posts if p.ts == params["ts"] and p.channel == params["channel"]), None)
            if post is None:
                return JSONResponse({"ok": False, "error": "message_not_found"})
            if method == "chat.delete":
                self.posts.remove(post)
                self.deleted.append(post.ts)
                return JSONResponse({"ok": True, "channel": post.channel, "ts": post.ts})
            blocks = params.get("blocks") or []
            post.blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            post.text = params.get("text", post.text)
            if params.get("metadata"):  # Slack replaces a message's metadata when chat.update gives one
                metadata = params["metadata"]
                post.metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
            self.updates.append((time.monotonic(), post.channel, post.ts))
            return JSONResponse({"ok": True, "channel": post.channel, "ts": post.ts, "text": post.text})
        if method in ("conversations.history", "conversations.replies"):
            found = [p for p in self.posts if p.channel == params["channel"]]
            if method == "conversations.replies":
                found = [p for p in found if p.thread_ts == params["ts"]]
            with_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
            messages = [{"type": "message", "ts": p.ts, "text": p.text, "bot_id": BOT_ID,
                         **({"blocks": p.blocks} if p.blocks else {}),
                         **({"files": p.files} if p.files else {}),
                         **({"metadata": p.metadata} if with_metadata and p.metadata else {})}
                        for p in reversed(found)]  # fmt: skip
            return JSONResponse({"ok": True, "messages": messages[: int(params.get("limit") or 100)]})
        if method in ("reactions.add", "reactions.remove"):
            self.reactions.append((method, params["channel"], params["timestamp"]))
            return JSONResponse({"ok": True})
        if method == "users.info":
            first, last = self.names.get(params["user"], ("", ""))
            real = f"{first} {last}".strip()
            return JSONResponse({"ok": True, "user": {"id": params["user"], "name": params["user"].lower(),
                                 "real_name": real, **({"locale": self.locales[params["user"]]}
                                 if params["user"] in self.locales else {}),
                                 "profile": {"real_name": real, "first_name": first,
                                 "last_name": last}}})  # fmt: skip
        return JSONResponse({"ok": False, "error": "unknown_method"})


def _refused(blocks: list[dict[str, Any]]) -> bool:
    """What Slack refuses in a message's blocks: more than 50, markdown blocks over 12,000
    characters together, more than one table, a table over 100 rows or 20 cells a row."""
    tables = [b for b in blocks if b.get("type") == "table"]
    markdown = sum(len(b.get("text", "")) for b in blocks if b.get("type") == "markdown")
    too_big = any(len(t["rows"]) > 100 or any(len(row) > 20 for row in t["rows"]) for t in tables)
    return len(blocks) > 50 or markdown > 12_000 or len(tables) > 1 or too_big


_events = itertools.count(1)
_ts = itertools.count(1)


def next_ts() -> str:
    return f"1700000000.{next(_ts):06d}"


def envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_events):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def dm(
    text: str, *, user: str = "U1", ts: str | None = None, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    event = {"type": "message", "channel_type": "im", "channel": "D0001", "user": user, "text": text,
             "ts": ts or next_ts(), "team": TEAM, **extra}  # fmt: skip
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def channel_message(text: str, *, user: str = "U1", ts: str | None = None, thread_ts: str | None = None,
                    kind: str = "message", channel: str = "C0001", **extra: Any) -> dict[str, Any]:  # fmt: skip
    event = {"type": kind, "channel": channel, "user": user, "text": text, "ts": ts or next_ts(), "team": TEAM, **extra}
    if kind == "message":
        event["channel_type"] = "channel"
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def signed(body: bytes, *, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    signature = "v0=" + hmac.new(secret.encode(), b"v0:%s:%s" % (timestamp.encode(), body), "sha256").hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": "application/json"}


def press(post: Post, vote: str, *, user: str = "U1") -> dict[str, Any]:
    """A ``block_actions`` payload: ``user`` pressed 👍 (``up``) or 👎 (``down``) under ``post``."""
    (button,) = [b for b in post.buttons if b["action_id"] == f"raia_vote_{vote}"]
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM},
        "api_app_id": "A0001",
        "trigger_id": f"trigger-{next(_events)}",
        "container": {"type": "message", "message_ts": post.ts, "channel_id": post.channel},
        "channel": {"id": post.channel},
        "message": {"type": "message", "ts": post.ts, "text": post.text, "blocks": post.blocks,
                    **({"thread_ts": post.thread_ts} if post.thread_ts else {})},
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "raia_feedback",
                     "value": button["value"], "action_ts": next_ts()}],
    }  # fmt: skip


def submission(view: dict[str, Any], comment: str, *, user: str = "U1") -> dict[str, Any]:
    """A ``view_submission`` payload: the comment form sent with ``comment``."""
    state = {"values": {"comment": {"comment": {"type": "plain_text_input", "value": comment}}}}
    return {"type": "view_submission", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
            "view": {**view, "id": "V1", "state": state}}  # fmt: skip


def interaction(payload: dict[str, Any], *, secret: str = SIGNING_SECRET) -> tuple[bytes, dict[str, str]]:
    """An interaction as Slack posts it: a form with one ``payload`` field, signed."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return body, signed(body, secret=secret) | {"Content-Type": "application/x-www-form-urlencoded"}
