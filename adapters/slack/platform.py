"""Slack as a platform: slack-bolt's AsyncApp inside our server, Events API over HTTP
(``/slack/events``) or Socket Mode when ``SLACK_APP_TOKEN`` is set.

Listeners run before the HTTP response (``process_before_response``, so bolt starts no
untracked task of its own): an event is translated and committed by the core before
Slack gets its 200, and a failure to commit is a 500, which Slack retries. Requests are
verified here before bolt sees them, so nothing unsigned or malformed costs more than a
header check, and every genuine event gets a 2xx, never bolt's 404.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.base import CheckResult, read_json
from adapters.slack import web
from adapters.slack.config import SlackConfig
from adapters.slack.events import (
    MESSAGES,
    BotIdentity,
    malformed,
    malformed_form,
)
from adapters.slack.feedback import SlackFeedback
from adapters.slack.listeners import SlackListeners
from adapters.slack.outbound import SlackOutbound, error_code
from adapters.slack.surfaces import SlackSurfaces
from adapters.slack.words import PLATFORM
from bridge.errors import CredentialRefused, ServiceUnreachable, ShuttingDown, StartupError, StoreError
from bridge.ports.inbox import Inbox

log = logging.getLogger(__name__)
T = TypeVar("T")

EVENTS_PATH = "/slack/events"
WEB_API_CONNECTIONS = 64  # kept-alive connections to slack.com shared by all calls
# An idle connection is dropped before a server with a 5 s idle timeout (a common default)
# may close it: a POST on a connection the server just closed fails and is not retried.
KEEPALIVE = 4.0
MAX_REQUEST_AGE = 300  # seconds: Slack's own advice against replayed requests
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
        "files:read",  # files people share with a question, passed on to the agent
        "files:write",  # files the agent makes, posted with its answer
    }
)
# Only for Slack's Agents & AI Apps feature (assistant threads): status, prompts, titles.
OPTIONAL_SCOPES = frozenset({"assistant:write"})
# The events bolt's listeners take (messages and mentions go straight to ours); any
# other event is acknowledged and dropped before bolt sees it.
# agent_session_stopped: Slack's stop button; app_home_opened (tab "messages": a DM opened,
# the agent messaging experience's assistant_thread_started); app_context_changed: what the
# person looks at (acknowledged; the agent is not told).
LISTENED = (*MESSAGES, "assistant_thread_started", "agent_session_stopped", "app_home_opened", "app_context_changed")


class SlackPlatform:
    """Slack events in (HTTP or Socket Mode) -> the core's inbox; replies out via ``SlackOutbound``."""

    name = PLATFORM

    def __init__(self, config: SlackConfig) -> None:
        self.name = config.name
        self._path = config.path
        self._app_token = config.app_token
        self._public_url = config.public_url
        self.client = AsyncWebClient(
            token=config.bot_token.get_secret_value(),
            base_url=config.api_url,
            timeout=15,
            # No retry handlers: a retried post may be a second copy of one Slack already
            # took. The core's delivery retry is the one layer (and waits out rate limits).
            retry_handlers=[],
        )
        self._signing_key = config.signing_secret.get_secret_value().encode() if config.signing_secret else b""
        secret = config.signing_secret.get_secret_value() if config.signing_secret else ""
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            process_before_response=True,
            request_verification_enabled=not self.socket_mode,
            logger=logging.getLogger("slack_bolt"),
        )
        self.outbound = SlackOutbound(self.client, config.api_url, self._background)
        self.surfaces = SlackSurfaces(self.client, self.outbound, lambda: self._inbox, lambda: self._bot, config.allow)
        self.listeners = SlackListeners(
            config, self.client, self.outbound, self.surfaces, lambda: self._inbox, lambda: self._bot
        )
        self.listeners.register(self.app)
        # Anything else subscribed by mistake is acknowledged, never answered with 404
        # (Slack would retry it and eventually disable the subscription).
        self.app.event(re.compile(".*"))(_ignore)
        self.surfaces.register(self.app)
        SlackFeedback(self.client, self.outbound, lambda: self._inbox).register(self.app)
        self._http_handler = AsyncSlackRequestHandler(self.app)
        self._socket: AsyncSocketModeHandler | None = None
        self._inbox: Inbox | None = None
        self._bot: BotIdentity | None = None
        self._intake_open = False
        self._state = "starting"

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    def routes(self) -> list[BaseRoute]:
        return [] if self.socket_mode else [Route(self._path, self._http, methods=["POST"])]

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        # One aiohttp session for every Web API call: without it slack_sdk opens (and closes)
        # a session, and a TCP+TLS connection, per call — the largest CPU cost of a turn.
        self.client.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=WEB_API_CONNECTIONS, keepalive_timeout=KEEPALIVE),
            timeout=aiohttp.ClientTimeout(total=15),
        )
        # The calls of every turn on connections of their own (the session serves the rest).
        web.connect(self.client, limit=WEB_API_CONNECTIONS, keepalive=KEEPALIVE)
        auth = await _started("SLACK_BOT_TOKEN", self.client.auth_test())  # fails fast on a bad token
        self._bot = BotIdentity(user_id=auth["user_id"], bot_id=auth.get("bot_id") or "", team_id=auth["team_id"])
        if self._app_token is not None:
            # The app token, told in one line if refused: the Socket Mode client would log
            # the refusal with a traceback and retry until the start timed out.
            app_token = self._app_token.get_secret_value()
            await _started("SLACK_APP_TOKEN", self.client.apps_connections_open(app_token=app_token))
            self._socket = AsyncSocketModeHandler(self.app, app_token, web_client=self.client)
            # Bounded: a blocked WebSocket must fail the start, not hang it.
            connect = asyncio.wait_for(self._socket.connect_async(), timeout=30)  # type: ignore[no-untyped-call]
            await _started("SLACK_APP_TOKEN", connect)
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
        self._state = "stopping"

    async def close(self) -> None:
        self.outbound.close()
        await self.stop_intake()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        web.disconnect(self.client)
        session, self.client.session = self.client.session, None
        if session is not None:
            await session.close()

    def status(self) -> str:
        return f"ok ({'socket mode' if self.socket_mode else 'http'})" if self._state == "ok" else self._state

    def sole_consumer(self) -> tuple[str, str] | None:
        return None  # HTTP events go to any replica; Socket Mode spreads them over all connections

    async def introduce(self, agent: str) -> None:
        # The app's name and description are set in its manifest; the Home tab names the agent.
        self.surfaces.agent = agent

    async def check(self) -> list[CheckResult]:
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            return [CheckResult(self.name, False, f"SLACK_BOT_TOKEN was refused: {error_code(exc)}")]
        except Exception as exc:  # DNS, refused connection, timeout
            return [CheckResult(self.name, False, f"could not reach Slack ({type(exc).__name__}): check SLACK_API_URL")]
        results = [
            CheckResult(self.name, True, f"bot {auth.get('user')} in team {auth.get('team')} ({auth.get('url')})")
        ]
        granted = {s.strip() for s in (auth.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
        missing = sorted(NEEDED_SCOPES - granted)
        if granted:
            detail = "all needed scopes granted" if not missing else f"missing {', '.join(missing)}: reinstall the app"
            results.append(CheckResult(f"{self.name} scopes", not missing, detail))
        results.append(await self._check_mode())
        return results

    async def _check_mode(self) -> CheckResult:
        if self._app_token is None:
            if self._public_url is None:
                return CheckResult(
                    "slack mode",
                    True,
                    f"HTTP: the app's Request URL must be this bridge's public https address + {self._path} "
                    "(set PUBLIC_URL and this line names it)",
                )
            return CheckResult(f"{self.name} mode", True, f"HTTP: the app's Request URL must be {self._events_url}")
        try:
            # What the Socket Mode client asks first: a WebSocket URL, with the app token.
            await self.client.apps_connections_open(app_token=self._app_token.get_secret_value())
        except SlackApiError as exc:
            return CheckResult(
                "slack mode",
                False,
                f"Socket Mode: SLACK_APP_TOKEN was refused: {error_code(exc)} (an app-level token xapp-… with "
                "connections:write, from Basic Information → App-Level Tokens)",
            )
        except Exception as exc:  # DNS, refused connection, timeout
            return CheckResult(f"{self.name} mode", False, f"Socket Mode: could not reach Slack ({type(exc).__name__})")
        return CheckResult(f"{self.name} mode", True, "Socket Mode: SLACK_APP_TOKEN accepted")

    @property
    def _events_url(self) -> str:
        assert self._public_url is not None
        return self._public_url.rstrip("/") + self._path

    # -- inbound -----------------------------------------------------------------------

    async def _http(self, request: Request) -> Response:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp.isdigit() or not signature:
            return PlainTextResponse("unsigned request", status_code=401)
        if abs(time.time() - int(timestamp)) > MAX_REQUEST_AGE:
            return PlainTextResponse("stale request", status_code=401)  # a replay
        body = await request.body()
        # Over the raw bytes: whatever they are, only a signature decides if they are read.
        expected = "v0=" + hmac.digest(self._signing_key, b"v0:%s:%s" % (timestamp.encode(), body), "sha256").hex()
        if not hmac.compare_digest(expected, signature):
            return PlainTextResponse("invalid signature", status_code=401)
        parsed: Any = None
        try:
            text = body.decode()
            json_body = _is_json(request)
            if json_body:
                parsed = read_json(text)
            problem = malformed(parsed) if json_body else malformed_form(text)
        except ValueError:  # not UTF-8, not JSON, or nested beyond reason
            problem = "not UTF-8 JSON"
        if problem is not None:
            log.warning("slack request refused: %s", problem)
            return PlainTextResponse(f"malformed payload: {problem}", status_code=400)
        kind = _event_kind(parsed)
        if kind is not None and kind not in LISTENED:
            # Signed and well-formed, but of a kind the bridge does not handle (channel_created,
            # team_join, tokens_revoked...): taken at once, so Slack neither retries it nor,
            # after enough failures, turns the subscription off.
            log.debug("slack event %s of kind %s ignored", parsed.get("event_id"), kind)
            return Response(status_code=200)
        if not self._intake_open or self._inbox is None or not self._inbox.accepting:
            return PlainTextResponse("shutting down, retry later", status_code=503)  # Slack retries
        direct = self.listeners.direct.get(kind or "")
        if direct is not None:
            # The hot path, straight to the listener: signed and parsed above already, and
            # bolt's middleware chain (a second signature check, a second parse, an auth.test)
            # cost as much as the rest of the acknowledgement.
            try:
                await direct(parsed)
            except ShuttingDown:
                return PlainTextResponse("shutting down, retry later", status_code=503)
            except StoreError as exc:
                log.warning(
                    "slack event %s could not be stored (%s); Slack will resend it", parsed.get("event_id"), exc
                )
                return PlainTextResponse("could not store the event, retry later", status_code=500)
            except Exception:  # a bug: the same answer, with the traceback for the operator
                log.exception("slack event %s could not be stored; Slack will resend it", parsed.get("event_id"))
                return PlainTextResponse("could not store the event, retry later", status_code=500)
            return Response(status_code=200)
        try:
            response: Response = await self._http_handler.handle(request)
        except Exception as exc:  # signed, yet not a payload bolt can read
            log.warning("slack request could not be read (%s); refused", type(exc).__name__)
            return PlainTextResponse("malformed payload", status_code=400)
        if response.status_code == 404:
            # Signed and well-formed, but nothing we listen to (app_rate_limited, a
            # button from another app...): Slack counts a 404 as a failure, so take it.
            log.info("slack request of a kind the bridge does not handle; acknowledged")
            return Response(status_code=200)
        return response

    def _background(self, work: Coroutine[Any, Any, None], name: str) -> bool:
        """Tracked work after the fact (a status cleared); False when nothing runs it."""
        if self._inbox is None:
            work.close()
            return False
        self._inbox.background(work, name=name)
        return True


_REFUSED = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"})


async def _started(setting: str, step: Awaitable[T]) -> T:
    """One start-up call to Slack, its failure told in one line naming the setting."""
    try:
        return await step
    except SlackApiError as exc:
        code = error_code(exc)
        if code in _REFUSED:
            raise CredentialRefused(
                f"{setting} was refused by Slack ({code}): copy it again from the app's settings"
            ) from None
        raise StartupError(f"Slack refused to start with {setting} ({code})") from None
    except Exception as exc:  # DNS, refused connection, timeout: Slack is out of reach
        raise ServiceUnreachable(
            f"cannot reach Slack ({type(exc).__name__}): check the network and SLACK_API_URL"
        ) from None


def _event_kind(body: Any) -> str | None:
    """An Events API callback's event type (``malformed`` passed it), else None."""
    if isinstance(body, dict) and body.get("type") == "event_callback" and isinstance(body.get("event"), dict):
        kind = body["event"].get("type")
        return kind if isinstance(kind, str) else None
    return None


def _is_json(request: Request) -> bool:
    """Events arrive as JSON; slash commands and interactions as a form."""
    return not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")


async def _ignore(body: dict[str, Any]) -> None:
    log.debug("slack event %s ignored", (body.get("event") or {}).get("type"))
