"""The core's ``Outbound`` port for Slack: post replies, show the hourglass, name people."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import retry_seconds
from adapters.files import READ_TIMEOUT, limited
from adapters.live import EditedPreview, MessageOps
from adapters.slack import uploads, web
from adapters.slack.render import SlackMessage, plain, render
from adapters.slack.words import PLATFORM
from adapters.slack.working import Background, Working, nowhere
from bridge import texts
from bridge.errors import DeliveryError, DeliveryPermanent, DeliveryRetryable, FileUnavailable
from bridge.models import AnswerFile, Attachment, Origin, PlatformUser, Reply
from bridge.ports.outbound import DeliveryProgress, Download, LiveText

log = logging.getLogger(__name__)

_SLACK_FILE_HOSTS = (".slack.com", ".slack-gov.com")  # where the bot token may go with a file download
MARK = "raia_bridge_reply"  # metadata event type on every answer part we post
PREVIEW = "raia_bridge_preview"  # ... and on every message of a streamed answer's live preview
LOOK_BACK = 50  # messages searched for an earlier copy of a part
NAME_TTL = 3600.0  # seconds a users.info answer is reused
# ... and a passing failure (a timeout, a rate limit, Slack's own fault: a burst of new
# people) stands in for it: the person's next turn asks again instead of an hour later.
NAME_RETRY = 60.0
# users.info answers kept (least recently used dropped first): a workspace of thousands
# would otherwise grow the cache for as long as the bridge runs.
NAMES_KEPT = 4096
LIVE_EVERY = 1.0  # a streamed answer's message is updated at most this often
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
_SLACK_FAULTS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})
_TOO_BIG = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long"})


class SlackOutbound:
    """Posts replies as mrkdwn sections, shows an hourglass while the agent works, and
    names people from users.info."""

    platform = PLATFORM

    def __init__(
        self,
        client: AsyncWebClient,
        api_url: str = "https://slack.com/api/",
        background: Background = nowhere,
        names_kept: int = NAMES_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._clock = clock
        # The bot token goes only to Slack's own file hosts (or the configured API's host).
        self._api_host = urlsplit(api_url).netloc
        self._names: OrderedDict[str, tuple[float, str, str | None, str]] = OrderedDict()
        self._names_kept = names_kept
        self._working = Working(client, background)
        self.sessions = self._working.sessions  # an agent app's sessions (the stop button's "active")

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        asker = origin.extra.get("private")
        if asker:
            await self._deliver_privately(origin, asker, reply, progress)
            return
        messages = render(reply)
        # An earlier attempt may have posted the next part, or (a restart mid-stream) left
        # a preview of this reply half written: one look at the channel tells both.
        latest = await self._latest(origin) if progress.uncertain and progress.key else []
        if progress.done == 0 and latest:
            await self._close_previews(origin, progress.key, reply.language, latest)
        for index in range(progress.done, len(messages)):
            message = messages[index]
            # Each part carries its name in the message metadata, so a part whose post
            # lost its response can be found in the channel instead of posted again.
            mark = (
                {"event_type": MARK, "event_payload": {"reply": progress.key, "part": index}} if progress.key else None
            )
            if index == progress.done and mark and any(m.get("metadata") == mark for m in latest):
                log.info("slack channel=%s reply %s part %d was posted already", origin.chat, progress.key, index)
            else:
                try:
                    await self._post(origin, text=message.text, blocks=message.blocks, mark=mark)
                except _TooBig:
                    # Slack refused the blocks: the same words as one plain mrkdwn message.
                    await self._post(origin, text=plain(message), blocks=None, mark=mark)
            await progress.part_delivered(index + 1)

    max_file_bytes = 1024 * 1024 * 1024  # Slack takes files up to 1 GB: FILES_MAX_MB is the bound

    async def post_file(
        self, origin: Origin, file: AnswerFile, download: Download, *, key: str, uncertain: bool
    ) -> None:
        """A file the agent made, uploaded into the answer's channel and thread; after a
        doubtful earlier attempt, only if the thread does not show it yet."""
        asker = origin.extra.get("private")
        if asker:  # a ``private`` route: with the answer's copy, in the DM
            opened = await self._call(origin, self._client.conversations_open, users=asker)
            channel = opened.get("channel") or {}
            origin = Origin(chat=str(channel.get("id") or asker), extra={"team": origin.extra.get("team", "")})
        if uncertain and key and uploads.posted_already(await self._latest(origin), MARK, key, file.name):
            log.info("slack channel=%s reply %s file %r was posted already", origin.chat, key, file.name)
            return

        async def call(method: Any, **arguments: Any) -> Any:
            return await self._call(origin, method, **arguments)

        await uploads.upload(
            self._client, call, channel=origin.chat, thread=origin.thread, file=file, download=download
        )

    async def _deliver_privately(self, origin: Origin, asker: str, reply: Reply, progress: DeliveryProgress) -> None:
        """A ``private`` route: the answer in place, seen only by the asker (ephemeral, best
        effort: Slack keeps no ephemeral message for later), and its copy in a DM with
        them, delivered like any reply so it is never lost."""
        if progress.done == 0:
            thread = origin.thread if origin.thread != origin.message else None  # a question in a thread
            try:
                for message in render(reply):
                    await self._call(
                        origin,
                        self._client.chat_postEphemeral,
                        channel=origin.chat,
                        user=asker,
                        text=message.text,
                        blocks=message.blocks,
                        thread_ts=thread,
                    )
            except DeliveryError as exc:
                log.info("slack channel=%s ephemeral answer not shown (%s); the DM copy follows", origin.chat, exc)
        opened = await self._call(origin, self._client.conversations_open, users=asker)
        channel = opened.get("channel") or {}
        dm = Origin(chat=str(channel.get("id") or asker), extra={"team": origin.extra.get("team", ""), "direct": "1"})
        await self.deliver(dm, reply, progress)

    async def _latest(self, origin: Origin) -> list[dict[str, Any]]:
        """The latest messages of the thread or channel, with their metadata. If Slack cannot
        tell, none: a part is then posted again (a rare duplicate beats a lost answer)."""
        try:
            if origin.thread:
                page = await self._client.conversations_replies(
                    channel=origin.chat, ts=origin.thread, limit=LOOK_BACK, include_all_metadata=True
                )
            else:
                page = await self._client.conversations_history(
                    channel=origin.chat, limit=LOOK_BACK, include_all_metadata=True
                )
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning("slack channel=%s could not look for an earlier post (%s)", origin.chat, exc)
            return []
        return [m for m in page.get("messages") or [] if isinstance(m, dict)]

    async def _close_previews(self, origin: Origin, key: str, language: str, latest: list[dict[str, Any]]) -> None:
        """Mark the live preview of reply ``key`` that an earlier life left (a restart in
        the middle of a streamed answer) as cut off, so it does not read as a whole answer.
        Best effort: the reply itself follows either way."""
        note = f"_{texts.text('cut_off', language)}_"
        for message in latest:
            meta = message.get("metadata")
            payload = meta.get("event_payload") if isinstance(meta, dict) else None
            if not (meta and meta.get("event_type") == PREVIEW and isinstance(payload, dict)):
                continue
            if payload.get("reply") != key or payload.get("closed"):
                continue
            blocks = message.get("blocks") if isinstance(message.get("blocks"), list) else []
            closed = {"event_type": PREVIEW, "event_payload": {**payload, "closed": True}}
            try:
                await self._call(
                    origin,
                    self._client.chat_update,
                    channel=origin.chat,
                    ts=message.get("ts"),
                    text=f"{message.get('text') or ''}\n\n{note}",
                    blocks=[*blocks, {"type": "section", "text": {"type": "mrkdwn", "text": note}}] if blocks else None,
                    metadata=closed,
                )
            except Exception as exc:
                log.warning("slack channel=%s a preview left by a restart was not marked (%s)", origin.chat, exc)

    async def _post(
        self, origin: Origin, *, text: str, blocks: list[dict[str, Any]] | None, mark: dict[str, Any] | None
    ) -> str:
        """Post a message; returns its ts."""
        response = await self._call(
            origin,
            self._post_message,
            channel=origin.chat,
            thread_ts=origin.thread,
            text=text,
            blocks=blocks,
            metadata=mark,
            unfurl_links=False,
            unfurl_media=False,
        )
        self._working.posted(origin)  # Slack cleared the thread's "is thinking…" with it
        return str(response.get("ts") or "")

    async def _call(self, origin: Origin, method: Any, **kwargs: Any) -> Any:
        """One Web API call, its failure translated into the core's delivery errors."""
        blocks = kwargs.get("blocks")
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            error = error_code(exc)
            where = f"slack team={origin.extra.get('team')} channel={origin.chat} thread={origin.thread}: {error}"
            if error == "ratelimited":
                # The core's delivery retry is the one layer that waits this out.
                # Seconds, or (from a proxy) a date: unreadable, 5 s.
                wait = retry_seconds(exc.response.headers.get("Retry-After"))
                raise DeliveryRetryable(where, retry_after=5.0 if wait is None else wait, maybe_posted=False) from exc
            if error in _TOO_BIG and blocks is not None:
                raise _TooBig(where) from exc
            if error in _PERMANENT:
                raise DeliveryPermanent(where) from exc
            # An error Slack answered is final (nothing was posted); a failure on its side
            # (a 5xx, internal_error, request_timeout) may have posted it all the same.
            status = getattr(exc.response, "status_code", 200)
            maybe_posted = status >= 500 or error in _SLACK_FAULTS
            raise DeliveryRetryable(where, maybe_posted=maybe_posted) from exc
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryRetryable(f"slack: {type(exc).__name__}: {exc}") from exc

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        if origin.extra.get("private"):
            return None  # a preview would show everyone what only the asker may see

        def mark(index: int) -> dict[str, Any] | None:  # so a later life can find a preview a restart left
            return {"event_type": PREVIEW, "event_payload": {"reply": key, "part": index}} if key else None

        ops: MessageOps[SlackMessage, str] = MessageOps(
            render=render,
            post=lambda message, index: self._post(origin, text=message.text, blocks=message.blocks, mark=mark(index)),
            edit=lambda ts, message, index: self._update(origin, ts, message),
            delete=lambda ts: self._call(origin, self._client.chat_delete, channel=origin.chat, ts=ts),
            deliver=lambda reply, progress: self.deliver(origin, reply, progress),
        )
        # chat.update is a Tier 3 method (~50 a minute): one update a second per answer.
        return EditedPreview(ops, interval=LIVE_EVERY, what=f"slack channel={origin.chat}", language=language)

    async def _update(self, origin: Origin, ts: str, message: SlackMessage) -> None:
        await self._call(
            origin, self._client.chat_update, channel=origin.chat, ts=ts, text=message.text, blocks=message.blocks
        )

    def close(self) -> None:
        self._working.close()

    def working(self, origin: Origin) -> AbstractAsyncContextManager[None]:
        """The thread's agent session "processing", "is thinking…", or the hourglass."""
        return self._working.working(origin)

    async def _post_message(self, **arguments: Any) -> dict[str, Any]:
        return await web.call(self._client, "chat.postMessage", **arguments)

    @asynccontextmanager
    async def download(self, attachment: Attachment, limit: int) -> AsyncIterator[Download]:
        """A shared file from its private URL, with the bot token (``files:read``)."""
        session = self._client.session
        if session is None or not _file_host_ok(attachment.ref, self._api_host):
            raise FileUnavailable("not a Slack file URL")
        if attachment.size is not None and attachment.size > limit:
            raise FileUnavailable(f"{attachment.size} bytes is over the limit", reason="file_too_big")
        headers = {"Authorization": f"Bearer {self._client.token}"}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=READ_TIMEOUT)
        try:
            async with session.get(attachment.ref, headers=headers, timeout=timeout, allow_redirects=False) as response:
                # Without files:read Slack answers with its sign-in page (200, HTML) or a redirect.
                html = response.content_type == "text/html" and not attachment.content_type.startswith("text/html")
                if response.status != 200 or html:
                    raise FileUnavailable(f"slack file answered {response.status} {response.content_type}")
                chunks = response.content.iter_chunked(64 * 1024)
                yield Download(limited(chunks, limit, attachment.size), attachment.size)
        except aiohttp.ClientError as exc:
            raise FileUnavailable(f"slack file download failed ({type(exc).__name__})") from None

    async def profile(self, user: PlatformUser) -> PlatformUser:
        """The person's name from users.info, cached for an hour; their id if unavailable."""
        user_id = user.custom_data.get("slackUserId")
        if not user_id:
            return user
        first, last, locale = await self._name(user_id)
        custom = {**user.custom_data, "locale": locale} if locale else user.custom_data
        return replace(user, first_name=first, last_name=last, custom_data=custom)

    def known(self, user: PlatformUser) -> PlatformUser:
        """``user`` with the locale users.info gave for them before (however long ago), without
        asking Slack: for a reply that must go out in the acknowledgement (a slash command)."""
        cached = self._cached(user.custom_data.get("slackUserId", ""))
        if not cached or not cached[3]:
            return user  # never asked: the bridge's default language
        return replace(user, custom_data={**user.custom_data, "locale": cached[3]})

    async def _name(self, user_id: str) -> tuple[str, str | None, str]:
        cached = self._cached(user_id)
        if cached and cached[0] > self._clock():
            return cached[1], cached[2], cached[3]
        first, last, locale = user_id, None, ""
        ttl = NAME_TTL
        try:
            # Bounded (2 s): the name must never hold up the question for long.
            info = await web.read(self._client, "users.info", within=2, user=user_id, include_locale="true")
            person = info.get("user") or {}
            locale = str(person.get("locale") or "")  # "de-DE": the bridge's own words in German
            profile = person.get("profile") or {}
            real = str(profile.get("real_name") or person.get("real_name") or "").strip()
            first = str(profile.get("first_name") or "").strip() or (real.split(" ")[0] if real else "")
            last = str(profile.get("last_name") or "").strip() or (" ".join(real.split(" ")[1:]) if real else "")
            first = first or str(profile.get("display_name") or person.get("name") or user_id)
        except SlackApiError as exc:
            # Without users:read the bridge still works; raia just sees the Slack id.
            code = error_code(exc)
            if code == "ratelimited" or code in _SLACK_FAULTS or code.startswith("http_5"):
                ttl = NAME_RETRY
            log.warning("slack users.info for %s failed (%s); using the id as name", user_id, code)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            ttl = NAME_RETRY
            log.warning("slack users.info for %s failed (%s); using the id as name", user_id, type(exc).__name__)
        self._names[user_id] = (self._clock() + ttl, first, last or None, locale)
        self._names.move_to_end(user_id)
        while len(self._names) > self._names_kept:
            self._names.popitem(last=False)
        return first, last or None, locale

    def _cached(self, user_id: str) -> tuple[float, str, str | None, str] | None:
        cached = self._names.get(user_id)
        if cached is not None:
            self._names.move_to_end(user_id)  # in use: the last to be dropped
        return cached


def _file_host_ok(url: str, api_host: str) -> bool:
    """Slack's own file hosts over https, or the configured API's host (a local fake)."""
    parts = urlsplit(url)
    return parts.netloc == api_host or (parts.scheme == "https" and parts.netloc.endswith(_SLACK_FILE_HOSTS))


class _TooBig(Exception):
    pass


def error_code(exc: SlackApiError) -> str:
    """Slack's error code ("ratelimited", "not_in_channel"...), or the HTTP status."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"http_{getattr(exc.response, 'status_code', 'error')}"
