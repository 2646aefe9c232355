"""👍/👎 on Slack: the buttons under answers (``block_actions``), the comment form after
👎 (a modal, ``view_submission``), and what the voter sees afterwards.

Both arrive signed on ``/slack/events`` (or over Socket Mode) and are acknowledged at
once; the vote itself is recorded in the background (the agent API may take longer
than Slack's 3 s). The button's value is only a key: the core checks that the person
who pressed it asked the question.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import read_json
from adapters.slack.events import person
from adapters.slack.outbound import SlackOutbound
from adapters.slack.votes import ACTIONS, VOTE_BLOCK, vote_buttons
from adapters.slack.words import PLATFORM
from bridge import texts
from bridge.ports.feedback import DOWN, Ratings, Vote, Voted
from bridge.ports.inbox import Inbox

log = logging.getLogger(__name__)

COMMENT_VIEW = "raia_feedback_comment"
COMMENT_LIMIT = 2000
_CALL_TIMEOUT = 5.0


@dataclass(frozen=True)
class _Press:
    """A button press, read defensively from the interaction payload."""

    team: str
    user: str
    choice: str
    key: str
    channel: str
    ts: str
    thread: str | None
    trigger: str | None
    blocks: list[Any]
    text: str


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _press(body: Mapping[str, Any]) -> _Press | None:
    def text_of(value: Any) -> str:
        return value if isinstance(value, str) else ""

    user, channel, message, team = (_obj(body.get(k)) for k in ("user", "channel", "message", "team"))
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    action = _obj(actions[0] if actions else None)
    press = _Press(
        team=text_of(user.get("team_id")) or text_of(team.get("id")),
        user=text_of(user.get("id")),
        choice=ACTIONS.get(text_of(action.get("action_id")), ""),
        key=text_of(action.get("value")),
        channel=text_of(channel.get("id")),
        ts=text_of(message.get("ts")),
        thread=text_of(message.get("thread_ts")) or None,
        trigger=text_of(body.get("trigger_id")) or None,
        blocks=list(message["blocks"]) if isinstance(message.get("blocks"), list) else [],
        text=text_of(message.get("text")),
    )
    return press if press.user and press.team and press.choice and press.key and press.channel else None


class SlackFeedback:
    """Registers the interaction listeners on bolt's app; votes go to the core's ``Ratings``."""

    def __init__(self, client: AsyncWebClient, outbound: SlackOutbound, inbox: Callable[[], Inbox | None]) -> None:
        self._client = client
        self._outbound = outbound
        self._inbox = inbox

    def register(self, app: AsyncApp) -> None:
        app.action(re.compile(r"^raia_vote_(up|down)$"))(self._on_vote)
        app.view(COMMENT_VIEW)(self._on_comment)

    def _ratings(self) -> tuple[Inbox, Ratings] | None:
        inbox = self._inbox()
        ratings = inbox.ratings if inbox is not None else None
        return (inbox, ratings) if inbox is not None and ratings is not None else None

    async def _language(self, team: str, user: str) -> str:
        return texts.language_of((await self._outbound.profile(person(team, user))).custom_data)

    # -- a button ------------------------------------------------------------------------

    async def _on_vote(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        press = _press(body)
        wired = self._ratings()
        if press is None or wired is None:
            log.info("slack vote ignored: %s", "unreadable payload" if press is None else "feedback is off")
            return
        inbox, ratings = wired
        inbox.background(self._vote(ratings, press), name=f"slack-vote-{press.channel}")

    async def _vote(self, ratings: Ratings, press: _Press) -> None:
        language = await self._language(press.team, press.user)
        vote = Vote(PLATFORM, person(press.team, press.user).fk_id, press.key, press.choice, None, language)

        async def ask_for_a_comment() -> None:
            if press.choice == DOWN and press.trigger:
                await self._open_form(press, language)

        result = await ratings.vote(vote, ask_for_a_comment)
        if result.status is not Voted.RECORDED:
            await self._ephemeral(press.channel, press.user, press.thread, result.note)
            return
        if not result.changed:
            return  # pressed again: the buttons show this vote already (chat.update is Tier 3)
        blocks = [
            vote_buttons(press.key, result.choice) if isinstance(b, Mapping) and b.get("block_id") == VOTE_BLOCK else b
            for b in press.blocks
        ]
        try:
            await asyncio.wait_for(
                self._client.chat_update(channel=press.channel, ts=press.ts, text=press.text, blocks=blocks),
                _CALL_TIMEOUT,
            )
        except Exception as exc:  # the vote is recorded; only the highlight is missing
            log.info("slack channel=%s vote buttons not updated (%s)", press.channel, type(exc).__name__)

    async def _open_form(self, press: _Press, language: str) -> None:
        view = {
            "type": "modal",
            "callback_id": COMMENT_VIEW,
            "private_metadata": json.dumps({"key": press.key, "channel": press.channel, "thread": press.thread}),
            "title": {"type": "plain_text", "text": texts.text("feedback_modal_title", language)[:24]},
            "submit": {"type": "plain_text", "text": texts.text("feedback_modal_submit", language)[:24]},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "comment",
                    "optional": True,
                    "label": {"type": "plain_text", "text": texts.text("feedback_modal_label", language)[:2000]},
                    "element": {
                        "type": "plain_text_input",
                        "action_id": "comment",
                        "multiline": True,
                        "max_length": COMMENT_LIMIT,
                    },
                }
            ],
        }
        try:
            # The trigger is valid for 3 s after the click: bounded well inside that.
            await asyncio.wait_for(self._client.views_open(trigger_id=press.trigger, view=view), 2.5)
        except Exception as exc:  # the vote still counts, without a comment
            log.info("slack comment form not opened (%s)", type(exc).__name__)

    # -- the comment form --------------------------------------------------------------

    async def _on_comment(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # closes the form
        wired = self._ratings()
        view, user = _obj(body.get("view")), _obj(body.get("user"))
        try:
            where = read_json(str(view.get("private_metadata") or "{}"))
            comment = view["state"]["values"]["comment"]["comment"].get("value") or ""
            team, user_id = str(user.get("team_id") or ""), str(user["id"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.info("slack comment form with an unreadable payload ignored")
            return
        if wired is None or not isinstance(where, dict) or not str(comment).strip():
            return  # sent empty: the 👎 stands as it is
        inbox, ratings = wired
        inbox.background(
            self._comment(ratings, team, user_id, where, str(comment)[:COMMENT_LIMIT]), name="slack-feedback-comment"
        )

    async def _comment(self, ratings: Ratings, team: str, user: str, where: dict[str, Any], comment: str) -> None:
        language = await self._language(team, user)
        vote = Vote(PLATFORM, person(team, user).fk_id, str(where.get("key") or ""), None, comment, language)
        result = await ratings.vote(vote)
        channel = where.get("channel")
        if isinstance(channel, str) and channel:
            thread = where.get("thread") if isinstance(where.get("thread"), str) else None
            await self._ephemeral(channel, user, thread, result.note)

    async def _ephemeral(self, channel: str, user: str, thread: str | None, text: str) -> None:
        try:
            await asyncio.wait_for(
                self._client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread),
                _CALL_TIMEOUT,
            )
        except Exception as exc:
            log.info("slack channel=%s note to the voter not posted (%s)", channel, type(exc).__name__)
