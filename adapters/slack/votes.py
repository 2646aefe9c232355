"""The 👍/👎 buttons under a Slack answer (pure: rendered with the answer, redrawn after a vote)."""

from __future__ import annotations

from typing import Any

from bridge.ports.feedback import DOWN, UP

VOTE_BLOCK = "raia_feedback"
ACTIONS = {"raia_vote_up": UP, "raia_vote_down": DOWN}


def vote_buttons(key: str, chosen: str | None = None) -> dict[str, Any]:
    """The actions block under an answer; the chosen vote is highlighted (and can change)."""

    def button(action: str, emoji: str, vote: str, style: str) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "action_id": action,
            "value": key,
            "text": {"type": "plain_text", "text": emoji, "emoji": True},
        }
        if chosen == vote:
            element["style"] = style
        return element

    return {
        "type": "actions",
        "block_id": VOTE_BLOCK,
        "elements": [button("raia_vote_up", "👍", UP, "primary"), button("raia_vote_down", "👎", DOWN, "danger")],
    }
