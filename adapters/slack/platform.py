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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any, TypeVar

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.base import CheckResult, read_json
from adapters.slack import sessions
from adapters.slack.config import SlackConfig
from adapters.slack.events import (
    MESSAGES,
    TITLE_LENGTH,
    BotIdentity,
    Ignored,
    classify,
    classify_command,
    malformed,
    pressed_for_person,
    session_stopped,
)
from adapters.slack.feedback import SlackFeedback
from adapters.slack.outbound import SlackOutbound, error_code
from adapters.slack.surfaces import SlackSurfaces
from adapters.slack.votes import PERSON_ACTION
from adapters.slack.words import PLATFORM
from bridge.errors import CredentialRefused, ServiceUnreachable, ShuttingDown, StartupError, StoreError
from bridge.models import InboundMessage, Reply
from bridge.ports.inbox import Inbox, Receipt

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
_FRESH_THREADS = 10_000  # assistant threads remembered until their first question names them


class SlackPlatform:
    """Slack events in (HTTP or Socket Mode) -> the core's inbox; replies out via ``SlackOutbound``."""

    name = PLATFORM

    def __init__(self, config: SlackConfig) -> None:
        self.name = config.name
        self._path = config.path
        self._policy = config.policy
        self._app_token = config.app_token
        self._allow = config.allow
        self._public_url = config.public_url
        self._prompts = config.suggested_prompts
        self._dm_threads = config.dm_threads
        self._fresh_threads: dict[tuple[str, str], None] = {}
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
        self.app.event("assistant_thread_started")(self._on_assistant_thread)
        self.app.event("agent_session_stopped")(self._on_session_stopped)
        self.app.event("app_home_opened")(self._on_home_opened)
        self.app.event("app_context_changed")(self._ignore)  # what the person looks at: not used
        # Over HTTP these go straight to their listener, bypassing bolt (Socket Mode: via bolt).
        self._direct: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            **dict.fromkeys(MESSAGES, self._on_event),
            "agent_session_stopped": self._on_session_stopped,
            "app_home_opened": self._on_home_opened,
            "app_context_changed": self._ignore,
        }
        self.app.event("app_mention")(self._on_event)
        self.app.event("message")(self._on_event)
        # Anything else subscribed by mistake is acknowledged, never answered with 404
        # (Slack would retry it and eventually disable the subscription).
        self.app.event(re.compile(".*"))(self._ignore)
        self.app.command("/raia")(self._on_command)
        self.app.action(PERSON_ACTION)(self._on_person)
        self.outbound = SlackOutbound(self.client, config.api_url, self._background)
        self.surfaces = SlackSurfaces(self.client, self.outbound, lambda: self._inbox, lambda: self._bot, config.allow)
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
        expected = "v0=" + hmac.new(self._signing_key, b"v0:%s:%s" % (timestamp.encode(), body), "sha256").hexdigest()
        if not hmac.compare_digest(expected, signature):
            return PlainTextResponse("invalid signature", status_code=401)
        parsed: Any = None
        try:
            text = body.decode()
            if _is_json(request):
                parsed = read_json(text)
            problem = malformed(parsed) if _is_json(request) else None
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
        direct = self._direct.get(kind or "")
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

    async def _ignore(self, body: dict[str, Any]) -> None:
        log.debug("slack event %s ignored", (body.get("event") or {}).get("type"))

    async def _on_event(self, body: dict[str, Any]) -> None:
        """Runs before the acknowledgement: it goes out only once the core has committed."""
        assert self._inbox is not None
        assert self._bot is not None
        message = classify(body, self._bot, self._allow, self._policy, dm_threads=self._dm_threads)
        if isinstance(message, Ignored):
            log.debug("slack event %s ignored: %s", body.get("event_id"), message.reason)
            return
        receipt = await self._inbox.receive(message)
        key = (message.origin.chat, message.origin.thread or "")
        if receipt is Receipt.ACCEPTED and key in self._fresh_threads:
            # An assistant thread's first question names it in the thread list.
            del self._fresh_threads[key]
            title = message.text if len(message.text) <= TITLE_LENGTH else message.text[: TITLE_LENGTH - 1] + "…"
            await self._assistant_call(
                self.client.assistant_threads_setTitle(channel_id=key[0], thread_ts=key[1], title=title)
            )

    async def _on_assistant_thread(self, body: dict[str, Any]) -> None:
        """Someone opened the app's assistant pane: offer the configured prompts, and
        remember the thread so its first question can title it."""
        thread = (body.get("event") or {}).get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not (isinstance(channel, str) and isinstance(thread_ts, str)):
            return
        self._fresh_threads[(channel, thread_ts)] = None
        while len(self._fresh_threads) > _FRESH_THREADS:
            self._fresh_threads.pop(next(iter(self._fresh_threads)))
        if self._prompts:
            await self._assistant_call(
                self.client.assistant_threads_setSuggestedPrompts(
                    channel_id=channel, thread_ts=thread_ts, prompts=self._offered()
                )
            )

    async def _on_home_opened(self, body: dict[str, Any]) -> None:
        """A DM with the app opened (the agent messaging experience: ``tab`` "messages"):
        offer the configured prompts. Agent apps set them for the DM, without a thread
        (Slack ignores a ``thread_ts`` there)."""
        self.surfaces.home(body)  # the Home tab, if that is the one opened
        event = body.get("event") or {}
        channel = event.get("channel")
        if event.get("tab") != "messages" or not isinstance(channel, str) or not self._prompts:
            return
        await self._assistant_call(
            self.client.assistant_threads_setSuggestedPrompts(channel_id=channel, prompts=self._offered())
        )

    def _offered(self) -> list[dict[str, str]]:
        return [{"title": p if len(p) <= 75 else p[:74] + "…", "message": p} for p in self._prompts[:4]]

    async def _on_session_stopped(self, body: dict[str, Any]) -> None:
        """Slack's stop button: the person's question in that thread is stopped (stored
        before the acknowledgement) and one line in their language says so; the session
        leaves "processing" (Slack leaves that to the app)."""
        assert self._inbox is not None
        assert self._bot is not None
        message = session_stopped(body, self._bot)
        if isinstance(message, Ignored):
            log.info("slack stop ignored: %s", message.reason)
            return
        user = await self.outbound.profile(message.user)  # their language (cached, bounded)
        await self._inbox.receive(replace(message, user=user))
        self._inbox.background(self._session_done(message), name=f"slack-session-{message.origin.chat}")

    async def _session_done(self, message: InboundMessage) -> None:
        await self.outbound.sessions.set(message.origin, sessions.ACTIVE)

    async def _assistant_call(self, call: Awaitable[Any]) -> None:
        """Best effort and bounded (it runs before the event's acknowledgement)."""
        try:
            await asyncio.wait_for(call, timeout=2)
        except Exception as exc:
            log.info("slack assistant call failed (%s); the answer is not affected", type(exc).__name__)

    async def _on_person(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """ "Talk to a person" pressed: acknowledged at once; asked for like ``/raia human``
        (the person's language from users.info first), confirmed in the answer's thread."""
        await ack()
        inbox = self._inbox
        press = pressed_for_person(body, self._bot, self._allow) if self._bot is not None else Ignored("starting")
        if inbox is None or isinstance(press, Ignored):
            log.info("slack person button ignored: %s", press.reason if isinstance(press, Ignored) else "starting")
            return

        async def ask(message: InboundMessage) -> None:
            user = await self.outbound.profile(message.user)
            await inbox.receive(replace(message, user=user))

        inbox.background(ask(press), name=f"slack-person-{press.origin.chat}")

    async def _on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        assert self._inbox is not None
        assert self._bot is not None

        async def ephemeral(reply: Reply) -> None:
            await ack(response_type="ephemeral", text=reply.text)

        command = classify_command(body, self._bot)
        # Replied in the acknowledgement: in the language already known for the person
        # (no users.info call on the way to Slack's 3 s limit).
        await self._inbox.receive(replace(command, user=self.outbound.known(command.user)), respond=ephemeral)


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
