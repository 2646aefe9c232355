"""Slack as a platform: slack-bolt's AsyncApp inside our server, Events API over HTTP
(``/slack/events``) or Socket Mode when ``SLACK_APP_TOKEN`` is set.

Listeners run before the HTTP response (``process_before_response``, so bolt starts no
untracked task of its own) and only hand the event to a tracked task of ours: Slack
gets its 200 at once, whatever users.info or the database are doing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as HttpRoute

from adapters.slack_events import PLATFORM, Allowlist, BotIdentity, Candidate, Command, Ignore, Refuse, classify
from adapters.slack_render import escape, render
from bridge.errors import DeliveryPermanent, DeliveryRetryable
from bridge.models import PlatformUser, Reply, Route
from bridge.outbound import DeliveryProgress
from bridge.platform import CheckResult
from bridge.service import ConversationService
from bridge.settings import Settings
from bridge.tasks import TaskSet

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
WORKING_REACTION = "hourglass_flowing_sand"
NEEDED_SCOPES = frozenset(
    {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "chat:write",
        "reactions:write",
        "users:read",
        "commands",
    }
)
# Errors that will not go away by retrying: logged with ids, the reply is given up.
_PERMANENT = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "restricted_action",
        "cannot_dm_bot",
        "user_not_found",
        "missing_scope",
        "ekm_access_denied",
    }
)
_TOO_BIG = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long"})
HELP = (
    "Ask me anything: in a direct message just write, in a channel mention me and I answer in a thread "
    "(follow-ups in that thread need no mention). `/raia reset` (or `reset` in a DM) starts a new "
    "conversation; `/raia help` shows this."
)
RESET_DONE = "Done — your next question starts a new conversation. I won't remember what we discussed before."


class SlackOutbound:
    platform = PLATFORM

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def deliver(self, route: Route, reply: Reply, progress: DeliveryProgress) -> None:
        messages = render(reply)
        for index in range(progress.done, len(messages)):
            message = messages[index]
            try:
                await self._post(route, text=message.text, blocks=message.blocks)
            except _TooBig:
                # Slack refused the blocks: post each section as plain mrkdwn text instead.
                for block in message.blocks:
                    await self._post(route, text=block["text"]["text"], blocks=None)
            await progress.part_delivered(index + 1)

    async def send_text(self, route: Route, text: str) -> None:
        """A direct answer of the adapter (commands, refusals): logged, never raised."""
        try:
            await self._post(route, text=escape(text), blocks=None)
        except Exception as exc:
            log.warning("slack channel=%s could not send a notice: %s", route.chat, exc)

    async def _post(self, route: Route, *, text: str, blocks: list[dict[str, Any]] | None) -> None:
        try:
            await self._client.chat_postMessage(
                channel=route.chat,
                thread_ts=route.thread,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            error = _error_code(exc)
            where = f"slack team={route.extra.get('team')} channel={route.chat} thread={route.thread}: {error}"
            if error == "ratelimited":
                retry_after = float(exc.response.headers.get("Retry-After", 5) or 5)
                raise DeliveryRetryable(where, retry_after=retry_after) from exc
            if error in _TOO_BIG and blocks is not None:
                raise _TooBig(where) from exc
            if error in _PERMANENT:
                raise DeliveryPermanent(where) from exc
            raise DeliveryRetryable(where) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryRetryable(f"slack: {type(exc).__name__}: {exc}") from exc

    @asynccontextmanager
    async def working(self, route: Route) -> AsyncIterator[None]:
        """An hourglass reaction on the question while the agent works (best effort)."""
        added = route.message is not None and await self._react("reactions_add", route)
        try:
            yield
        finally:
            if added:
                await self._react("reactions_remove", route)

    async def _react(self, method: str, route: Route) -> bool:
        try:
            await asyncio.wait_for(
                getattr(self._client, method)(channel=route.chat, timestamp=route.message, name=WORKING_REACTION),
                timeout=5,
            )
            return True
        except Exception as exc:
            log.debug("slack %s failed: %s", method, exc)
            return False


class _TooBig(Exception):
    pass


def _error_code(exc: SlackApiError) -> str:
    """Slack's error code ("ratelimited", "not_in_channel"...), or the HTTP status."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"


class SlackPlatform:
    name = PLATFORM

    def __init__(self, settings: Settings) -> None:
        assert settings.slack_bot_token is not None
        self._app_token = settings.slack_app_token
        users, channels = settings.slack_allowlist
        self._allow = Allowlist(users=users, channels=channels)
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=15,
            retry_handlers=[
                AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncConnectionErrorRetryHandler(max_retry_count=2),
            ],
        )
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            process_before_response=True,
            request_verification_enabled=not self.socket_mode,
            logger=logging.getLogger("slack_bolt"),
        )
        self.app.event("app_mention")(self._on_event)
        self.app.event("message")(self._on_event)
        # Anything else subscribed by mistake is acknowledged, never answered with 404
        # (Slack would retry it and eventually disable the subscription).
        self.app.event(re.compile(".*"))(self._ignore)
        self.app.command("/raia")(self._on_command)
        self._http_handler = AsyncSlackRequestHandler(self.app)
        self._socket: AsyncSocketModeHandler | None = None
        self.outbound = SlackOutbound(self.client)
        self._service: ConversationService | None = None
        self._bot: BotIdentity | None = None
        self._names: dict[str, tuple[float, str, str | None]] = {}
        self._intake_open = False
        self._tasks = TaskSet()
        self._state = "starting"

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    def routes(self) -> list[BaseRoute]:
        return [] if self.socket_mode else [HttpRoute(EVENTS_PATH, self._http, methods=["POST"])]

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, service: ConversationService) -> None:
        self._service = service
        auth = await self.client.auth_test()  # fails fast on a bad token
        self._bot = BotIdentity(user_id=auth["user_id"], bot_id=auth.get("bot_id") or "", team_id=auth["team_id"])
        if self._app_token is not None:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token.get_secret_value(), web_client=self.client)
            # Bounded: a blocked WebSocket must fail the start, not hang it.
            await asyncio.wait_for(self._socket.connect_async(), timeout=30)  # type: ignore[no-untyped-call]
        self._intake_open = True
        self._state = "ok"
        log.info(
            "slack: bot %s in team %s ready (%s)",
            auth.get("user"),
            auth.get("team"),
            "Socket Mode" if self.socket_mode else "HTTP",
        )

    async def stop_intake(self) -> None:
        self._intake_open = False
        if self._socket is not None:
            await self._socket.disconnect_async()  # type: ignore[no-untyped-call]
        await self._tasks.drain(5)  # events already acknowledged are recorded before we stop
        self._state = "stopping"

    async def close(self) -> None:
        await self.stop_intake()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None

    def status(self) -> str:
        return f"ok ({'socket mode' if self.socket_mode else 'http'})" if self._state == "ok" else self._state

    async def check(self) -> list[CheckResult]:
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            return [CheckResult("slack", False, f"SLACK_BOT_TOKEN was refused: {_error_code(exc)}")]
        results = [CheckResult("slack", True, f"bot {auth.get('user')} in team {auth.get('team')} ({auth.get('url')})")]
        granted = {s.strip() for s in (auth.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
        missing = sorted(NEEDED_SCOPES - granted)
        if granted:
            detail = "all needed scopes granted" if not missing else f"missing {', '.join(missing)}: reinstall the app"
            results.append(CheckResult("slack scopes", not missing, detail))
        mode = (
            "Socket Mode (SLACK_APP_TOKEN)"
            if self.socket_mode
            else f"HTTP: Request URL must be <PUBLIC_URL>{EVENTS_PATH}"
        )
        results.append(CheckResult("slack mode", True, mode))
        return results

    # -- inbound -----------------------------------------------------------------------

    async def _http(self, request: Request) -> Response:
        if not self._intake_open or self._service is None or not self._service.accepting:
            return PlainTextResponse("shutting down, retry later", status_code=503)  # Slack retries
        response: Response = await self._http_handler.handle(request)
        return response

    async def _ignore(self, body: dict[str, Any]) -> None:
        log.debug("slack event %s ignored", (body.get("event") or {}).get("type"))

    async def _on_event(self, body: dict[str, Any]) -> None:
        self._tasks.spawn(self._handle_event(body), name=f"slack-{body.get('event_id')}")

    async def _handle_event(self, body: dict[str, Any]) -> None:
        assert self._service is not None
        assert self._bot is not None
        service = self._service
        action = classify(body, self._bot, self._allow)
        if isinstance(action, Ignore):
            log.debug("slack event %s ignored: %s", body.get("event_id"), action.reason)
        elif isinstance(action, Refuse):
            if await service.first_sighting((f"{PLATFORM}:refusal:{body.get('event_id')}",)):
                await self.outbound.send_text(action.route, action.text)
        elif isinstance(action, Command):
            if await service.first_sighting(action.message.dedupe_keys):
                if action.name == "reset":
                    await service.reset(action.message.user)
                await self.outbound.send_text(action.message.route, RESET_DONE if action.name == "reset" else HELP)
        elif isinstance(action, Candidate):
            message = action.message
            if action.needs_thread_check and not await service.asked_in_thread(message):
                return  # someone else's thread talk: they need to mention the bot
            first, last = await self._name(action.slack_user)
            user = replace(message.user, first_name=first, last_name=last)
            await service.submit(replace(message, user=user))

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        assert self._service is not None
        assert self._bot is not None
        words = str(body.get("text") or "").strip().lower().split()
        team = str(body.get("team_id") or self._bot.team_id)
        user_id = str(body.get("user_id"))
        if words[:1] == ["reset"]:
            await self._service.reset(PlatformUser(fk_id=f"{PLATFORM}:{team}:{user_id}", first_name=user_id))
            await ack(response_type="ephemeral", text=RESET_DONE)
        else:
            await ack(response_type="ephemeral", text=HELP)

    async def _name(self, user_id: str) -> tuple[str, str | None]:
        """The person's name from users.info, cached for an hour; their id if unavailable."""
        cached = self._names.get(user_id)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        first, last = user_id, None
        try:
            info = await asyncio.wait_for(self.client.users_info(user=user_id), timeout=2)
            user = info.get("user") or {}
            profile = user.get("profile") or {}
            real = str(profile.get("real_name") or user.get("real_name") or "").strip()
            first = str(profile.get("first_name") or "").strip() or (real.split(" ")[0] if real else "")
            last = str(profile.get("last_name") or "").strip() or (" ".join(real.split(" ")[1:]) if real else "")
            first = first or str(profile.get("display_name") or user.get("name") or user_id)
        except SlackApiError as exc:
            # Without users:read the bridge still works; raia just sees the Slack id.
            log.warning("slack users.info for %s failed (%s); using the id as name", user_id, _error_code(exc))
        except (TimeoutError, OSError) as exc:
            log.warning("slack users.info for %s failed (%s); using the id as name", user_id, type(exc).__name__)
        self._names[user_id] = (time.monotonic() + 3600, first, last or None)
        return first, last or None
