"""Slack's agent sessions (the agent messaging experience, 2026): a thread's session shows
"processing" with a native stop button while the agent works, and is titled after the
question that opened it (``agents.sessions.setStatus``; the stop button sends
``agent_session_stopped``, handled by the platform).

Only apps declared as agents have sessions. The first refusal that says the app is not
one (a missing scope, an unknown method...) turns them off for the process: the older
assistant-thread status and the hourglass reaction take over, one call per turn as before.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import web
from bridge.models import Origin

log = logging.getLogger(__name__)

PROCESSING = "processing"  # shows the stop button
ACTIVE = "active"  # the answer is there (or the question was stopped): the session waits for more
# Refusals about this one call or thread (or Slack itself): sessions stay on for the next.
_PASSING = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "request_timeout",
        "service_unavailable",
        "channel_not_found",
        "thread_not_found",
        "message_not_found",
        "invalid_thread_ts",
        "not_in_channel",
    }
)
TIMEOUT = 5.0  # seconds: a status must never hold up the answer


class AgentSessions:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self.available: bool | None = None  # None: not known yet whether the app is an agent

    async def set(self, origin: Origin, status: str) -> bool:
        """Set the status of the session of ``origin``'s thread (created on the first call,
        with the thread's title); True if Slack took it. Best effort, never raises."""
        if self.available is False or not origin.thread:
            return False
        title = origin.extra.get("title") if status == PROCESSING else None
        try:
            await web.call(
                self._client,
                "agents.sessions.setStatus",
                within=TIMEOUT,
                status=status,
                channel_id=origin.chat,
                thread_ts=origin.thread,
                title=title,
            )
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "")
            if code not in _PASSING:
                if self.available is None:  # said once
                    log.info("slack agent sessions unavailable (%s): the older status indicators are used", code)
                self.available = False
            return False
        except Exception as exc:  # the network, a timeout: this once
            log.debug("slack agent session status failed: %s", exc)
            return False
        self.available = True
        return True
