"""Slack's "Add to Slack" for many workspaces: one app, installed by OAuth v2.

With ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET``, ``SLACK_STATE_SECRET`` and
``SLACK_SIGNING_SECRET`` (no bot token):

- ``GET /slack/install`` redirects to Slack's ``oauth/v2/authorize`` with the client id,
  the bot scopes and a signed, short-lived state;
- ``GET /slack/oauth_redirect`` checks the state (a forged, missing or stale one gets a
  400), exchanges the code at ``oauth.v2.access`` and stores the installation (bot token,
  team, enterprise) through ``Installations`` (encrypted at rest by the app layer);
- every workspace's events arrive at ``/slack/events`` and are answered with that
  workspace's token: each installation is served by a ``SlackPlatform`` of its own,
  opened when its first event arrives (any replica finds it in the database);
- ``app_uninstalled`` and ``tokens_revoked`` delete the installation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.base import Allowlist, CheckResult, ReplyPolicy, mention_everywhere, read_json
from adapters.slack.config import SlackConfig
from adapters.slack.installed import Installation, Installations
from adapters.slack.platform import NEEDED_SCOPES, SlackPlatform
from adapters.slack.words import PLATFORM
from bridge.errors import DeliveryPermanent
from bridge.models import AnswerFile, Attachment, Origin, PlatformUser, Reply
from bridge.ports.inbox import Inbox
from bridge.ports.outbound import DeliveryProgress, Download, LiveText

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
EVENTS_PATH = "/slack/events"
STATE_TTL = 600.0  # seconds from "Add to Slack" to Slack's redirect back
REMOVED = frozenset({"app_uninstalled", "tokens_revoked"})


@dataclass(frozen=True)
class InstallConfig:
    client_id: str
    client_secret: SecretStr
    state_secret: SecretStr
    signing_secret: SecretStr
    api_url: str
    public_url: str | None
    allow: Allowlist
    suggested_prompts: tuple[str, ...] = ()
    dm_threads: bool = True  # SLACK_DM_THREADS, for every workspace alike
    policy: ReplyPolicy = mention_everywhere


class StateSigner:
    """OAuth ``state``: when it was made and a nonce, signed with ``SLACK_STATE_SECRET``."""

    def __init__(self, secret: SecretStr, ttl: float = STATE_TTL, clock: Callable[[], float] = time.time) -> None:
        self._key, self._ttl, self._clock = secret.get_secret_value().encode(), ttl, clock

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self) -> str:
        payload = f"{int(self._clock())}.{secrets.token_urlsafe(12)}"
        return f"{payload}.{self._sign(payload)}"

    def valid(self, state: str) -> bool:
        payload, _, signature = state.rpartition(".")
        made = payload.split(".", 1)[0]
        if not payload or not made.isdigit() or not hmac.compare_digest(signature, self._sign(payload)):
            return False
        return 0 <= self._clock() - int(made) <= self._ttl


class InstalledSlack:
    """The Slack platform of an app installed in many workspaces (see the module)."""

    name = PLATFORM

    def __init__(self, config: InstallConfig, installations: Installations) -> None:
        self._config = config
        self.installations = installations
        self._state = StateSigner(config.state_secret)
        self._teams: dict[tuple[str, str], SlackPlatform] = {}
        self._inbox: Inbox | None = None
        self._status = "starting"
        self._signing_key = config.signing_secret.get_secret_value().encode()
        self.outbound = InstalledOutbound(self)

    # -- Platform ------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [
            Route(INSTALL_PATH, self._install, methods=["GET"]),
            Route(REDIRECT_PATH, self._redirected, methods=["GET"]),
            Route(EVENTS_PATH, self._events, methods=["POST"]),
        ]

    async def start(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self._status = "ok"

    async def stop_intake(self) -> None:
        self._status = "stopping"
        for team in list(self._teams.values()):
            await team.stop_intake()

    async def close(self) -> None:
        teams, self._teams = list(self._teams.values()), {}
        for team in teams:
            await team.close()

    def status(self) -> str:
        return f"ok ({len(self._teams)} workspace(s) active, add to Slack)" if self._status == "ok" else self._status

    def sole_consumer(self) -> tuple[str, str] | None:
        return None

    async def introduce(self, agent: str) -> None:
        return None

    async def check(self) -> list[CheckResult]:
        """What can be told without a workspace's code: where people install the app and
        where Slack must send them back and send the events (the installations themselves
        are in the database, which ``check`` does not open)."""
        base = self._config.public_url.rstrip("/") if self._config.public_url else "PUBLIC_URL"
        detail = (
            f"Add to Slack at {base}{INSTALL_PATH}; Redirect URL {base}{REDIRECT_PATH}, Request URL {base}{EVENTS_PATH}"
        )
        return [CheckResult("slack installs", self._config.public_url is not None, detail)]

    # -- OAuth ---------------------------------------------------------------------------

    @property
    def redirect_uri(self) -> str | None:
        return self._config.public_url.rstrip("/") + REDIRECT_PATH if self._config.public_url else None

    def authorize_url(self) -> str:
        api = urlsplit(self._config.api_url)
        query = {
            "client_id": self._config.client_id,
            "scope": ",".join(sorted(NEEDED_SCOPES)),
            "state": self._state.issue(),
        }
        if self.redirect_uri:
            query["redirect_uri"] = self.redirect_uri
        return f"{api.scheme}://{api.netloc}/oauth/v2/authorize?{urlencode(query)}"

    async def _install(self, request: Request) -> Response:
        return RedirectResponse(self.authorize_url(), status_code=302)

    async def _redirected(self, request: Request) -> Response:
        state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
        if not self._state.valid(state):
            return _page("This install link is invalid or has expired. Start again from the install page.", 400)
        if request.query_params.get("error"):
            return _page("The app was not installed (Slack said: access denied).", 400)
        if not code:
            return _page("Slack sent no code: start again from the install page.", 400)
        form = {
            "client_id": self._config.client_id,
            "client_secret": self._config.client_secret.get_secret_value(),
            "code": code,
            **({"redirect_uri": self.redirect_uri} if self.redirect_uri else {}),
        }
        try:  # the client's credentials in the POST body, as Slack allows (no SDK client per install)
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http,
                http.post(self._config.api_url.rstrip("/") + "/oauth.v2.access", data=form) as response,
            ):
                answer = read_json(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("slack install: oauth.v2.access failed (%s)", type(exc).__name__)
            return _page("Slack could not be reached; try again in a minute.", 502)
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else "unreadable answer"
            log.warning("slack install refused at oauth.v2.access: %s", error)
            return _page("Slack refused the installation; start again from the install page.", 400)
        team, enterprise = answer.get("team") or {}, answer.get("enterprise") or {}
        installation = Installation(
            team="" if answer.get("is_enterprise_install") else str(team.get("id") or ""),
            enterprise=str(enterprise["id"]) if enterprise.get("id") else None,
            bot_token=SecretStr(str(answer.get("access_token") or "")),
            bot_user=str(answer.get("bot_user_id") or ""),
            team_name=str(team.get("name") or enterprise.get("name") or ""),
        )
        if not installation.bot_token.get_secret_value().startswith("xoxb-"):
            return _page("Slack gave no bot token; check the app's bot scopes.", 400)
        await self.installations.save(installation)
        await self._forget(installation.team, installation.enterprise)  # a reinstall's new token from now on
        log.info("slack: installed in %s (%s)", installation.team or installation.enterprise, installation.team_name)
        return _page(f"Installed in {installation.team_name or 'your workspace'}. You can close this page.", 200)

    # -- events --------------------------------------------------------------------------

    def _signed(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        expected = "v0=" + hmac.new(self._signing_key, b"v0:%s:%s" % (timestamp.encode(), body), "sha256").hexdigest()
        return hmac.compare_digest(expected, signature)

    async def _events(self, request: Request) -> Response:
        body = await request.body()  # read once; the workspace's platform reads the same bytes
        if not self._signed(request, body):
            return PlainTextResponse("invalid signature", status_code=401)
        team, enterprise, parsed = _team_of(request, body)
        if isinstance(parsed, dict) and parsed.get("type") == "url_verification":
            return PlainTextResponse(str(parsed.get("challenge") or ""))
        event = parsed.get("event") if isinstance(parsed, dict) else None
        kind = event.get("type") if isinstance(event, dict) else None  # an odd one: the platform refuses it
        if kind in REMOVED:
            if await self.installations.delete(team, enterprise):
                log.info("slack: %s removed from %s; its installation is deleted", kind, team or enterprise)
            await self._forget(team, enterprise)
            return Response(status_code=200)
        platform = await self._platform(team, enterprise)
        if platform is None:
            log.info("slack event from %s, where the app is not installed; acknowledged", team or enterprise)
            return Response(status_code=200)
        return await platform._http(request)

    async def _platform(self, team: str, enterprise: str | None) -> SlackPlatform | None:
        key = (team, enterprise or "")
        platform = self._teams.get(key)
        if platform is not None:
            return platform
        installation = await self.installations.find(team, enterprise)
        if installation is None or self._inbox is None:
            return None
        platform = SlackPlatform(
            SlackConfig(
                bot_token=installation.bot_token,
                signing_secret=self._config.signing_secret,
                app_token=None,
                api_url=self._config.api_url,
                public_url=self._config.public_url,
                allow=self._config.allow,
                suggested_prompts=self._config.suggested_prompts,
                dm_threads=self._config.dm_threads,
                policy=self._config.policy,
            )
        )
        try:
            await platform.start(self._inbox)
        except Exception:
            await platform.close()
            raise
        existing = self._teams.setdefault(key, platform)
        if existing is not platform:  # another event opened it meanwhile
            await platform.close()
        return existing

    async def _forget(self, team: str, enterprise: str | None) -> None:
        platform = self._teams.pop((team, enterprise or ""), None)
        if platform is not None:
            await platform.close()

    async def team_outbound(self, origin: Origin) -> SlackPlatform:
        platform = await self._platform(origin.extra.get("team", ""), origin.extra.get("enterprise") or None)
        if platform is None:
            raise DeliveryPermanent(f"slack team={origin.extra.get('team')}: the app is no longer installed there")
        return platform


class InstalledOutbound:
    """Each reply posted with its workspace's token."""

    platform = PLATFORM

    def __init__(self, slack: InstalledSlack) -> None:
        self._slack = slack

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        await (await self._slack.team_outbound(origin)).outbound.deliver(origin, reply, progress)

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        try:
            outbound = (await self._slack.team_outbound(origin)).outbound
        except DeliveryPermanent:
            yield
            return
        async with outbound.working(origin):
            yield

    async def profile(self, user: PlatformUser) -> PlatformUser:
        origin = Origin(chat="", extra={"team": user.custom_data.get("team", "")})
        try:
            outbound = (await self._slack.team_outbound(origin)).outbound
        except DeliveryPermanent:
            return user
        return await outbound.profile(user)

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        platform = self._slack._teams.get((origin.extra.get("team", ""), origin.extra.get("enterprise", "")))
        return platform.outbound.live(origin, language, key) if platform is not None else None

    max_file_bytes = 1024 * 1024 * 1024  # as SlackOutbound's

    async def post_file(
        self, origin: Origin, file: AnswerFile, download: Download, *, key: str, uncertain: bool
    ) -> None:
        outbound = (await self._slack.team_outbound(origin)).outbound
        await outbound.post_file(origin, file, download, key=key, uncertain=uncertain)

    def download(self, attachment: Attachment, limit: int) -> AbstractAsyncContextManager[Download]:
        return self._download(attachment, limit)

    @asynccontextmanager
    async def _download(self, attachment: Attachment, limit: int) -> AsyncIterator[Download]:
        # Files only come with a question, whose workspace has an open platform by then;
        # Slack's file URLs name it (``/files-pri/T…-F…/name``).
        segment = next((part for part in urlsplit(attachment.ref).path.split("/") if part.startswith("T")), "")
        team = segment.split("-", 1)[0]
        teams = self._slack._teams
        platform = next((p for (t, _), p in teams.items() if t == team), next(iter(teams.values()), None))
        if platform is None:
            from bridge.errors import FileUnavailable

            raise FileUnavailable("no workspace is open")
        async with platform.outbound.download(attachment, limit) as download:
            yield download


def _team_of(request: Request, body: bytes) -> tuple[str, str | None, Any]:
    """The workspace (and enterprise) an Events API body, slash command or interaction is from."""
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            parsed = read_json(body)
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            parsed = read_json(form["payload"]) if "payload" in form else form
    except (ValueError, UnicodeDecodeError):
        return "", None, None
    if not isinstance(parsed, dict):
        return "", None, parsed
    # Events carry team_id (and enterprise_id); commands team_id; interactions team.id.
    team = parsed.get("team_id") or _id_of(parsed.get("team"))
    enterprise = parsed.get("enterprise_id") or _id_of(parsed.get("enterprise"))
    return str(team or ""), str(enterprise) if enterprise else None, parsed


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else None


def _page(text: str, status: int) -> HTMLResponse:
    body = f"<!doctype html><meta charset=utf-8><title>raia-bridge</title><p>{html.escape(text)}</p>"
    return HTMLResponse(body, status_code=status)
