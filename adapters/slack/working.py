"""What a Slack person sees while the agent works: the thread's agent session
"processing" (an agent app), else "is thinking…" in an assistant thread (Slack's AI-apps
feature), else an hourglass reaction on the question. All best effort: a failed indicator
never delays or loses an answer.

"is thinking…" clears itself when the app posts in the thread (platform notes), so the
bridge does not clear it when the answer follows: a call per turn less (of about six
exchanges). Where no post follows (the person stopped the question, staff took it over,
the delivery waits for a retry) it is cleared ``CLEAR_AFTER`` seconds after the asking
ended, unless a post in that thread came first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import sessions, web
from bridge.models import Origin

log = logging.getLogger(__name__)

WORKING_REACTION = "hourglass_flowing_sand"
STATUS_THINKING = "is thinking…"
TIMEOUT = 5.0  # seconds an indicator call may take: it must never hold up the answer
# Seconds from the asking's end to an explicit clear of "is thinking…" where no post came:
# long enough for the answer's post in a busy burst, short enough for a stopped question.
CLEAR_AFTER = 3.0
# Starts tracked background work (the platform's inbox); False when there is none (starting
# or stopped): the status is then cleared by Slack itself, after two minutes at most.
Background = Callable[[Coroutine[Any, Any, None], str], bool]
_OFF = frozenset({"missing_scope", "not_allowed_token_type", "feature_not_enabled"})


def nowhere(work: Coroutine[Any, Any, None], name: str) -> bool:
    work.close()
    return False


class Working:
    def __init__(self, client: AsyncWebClient, background: Background = nowhere) -> None:
        self._client = client
        self._background = background
        self._assistant: bool | None = None  # None: not known yet whether the app has the feature
        self.sessions = sessions.AgentSessions(client)  # an agent app's sessions (tried first)
        self._clears: dict[tuple[str, str], asyncio.TimerHandle] = {}  # status clears due, by thread

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        if await self.sessions.set(origin, sessions.PROCESSING):
            try:
                yield
            finally:
                await self.sessions.set(origin, sessions.ACTIVE)  # the stop button goes
            return
        assistant_thread = origin.extra.get("direct") and origin.thread and self._assistant is not False
        if assistant_thread and origin.thread is not None:
            key = (origin.chat, origin.thread)
            self.posted(origin)  # a clear still due from the thread's last question would undo this
            if await self._status(origin, STATUS_THINKING):
                self._assistant = True
                try:
                    yield
                finally:
                    # No await here: a lane cancelled now stops at once.
                    self.posted(origin)
                    loop = asyncio.get_running_loop()
                    self._clears[key] = loop.call_later(CLEAR_AFTER, self._clear, origin, key)
                return
        added = origin.message is not None and await self._react("reactions.add", origin)
        try:
            yield
        finally:
            if added:
                await self._react("reactions.remove", origin)

    def posted(self, origin: Origin) -> None:
        """A message went into ``origin``'s thread: Slack cleared its status itself."""
        if self._clears and origin.thread is not None:
            handle = self._clears.pop((origin.chat, origin.thread), None)
            if handle is not None:
                handle.cancel()

    def close(self) -> None:
        """Stopping: clears still due are left to Slack (two minutes at most)."""
        for handle in self._clears.values():
            handle.cancel()
        self._clears.clear()

    def _clear(self, origin: Origin, key: tuple[str, str]) -> None:
        self._clears.pop(key, None)
        self._background(self._status_quietly(origin), f"slack-status-{origin.chat}")

    async def _status_quietly(self, origin: Origin) -> None:
        await self._status(origin, "")

    async def _status(self, origin: Origin, status: str) -> bool:
        assert origin.thread is not None
        try:
            await web.call(
                self._client,
                "assistant.threads.setStatus",
                within=TIMEOUT,
                channel_id=origin.chat,
                thread_ts=origin.thread,
                status=status,
            )
            return True
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "")
            if code in _OFF:
                self._assistant = False  # the app has no assistant feature: reactions from now on
            log.debug("slack assistant status failed: %s", code)
            return False
        except Exception as exc:
            log.debug("slack assistant status failed: %s", exc)
            return False

    async def _react(self, method: str, origin: Origin) -> bool:
        try:
            await web.call(
                self._client,
                method,
                within=TIMEOUT,
                channel=origin.chat,
                timestamp=origin.message,
                name=WORKING_REACTION,
            )
            return True
        except Exception as exc:
            log.debug("slack %s failed: %s", method, exc)
            return False
