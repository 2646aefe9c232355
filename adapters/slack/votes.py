"""The buttons under a Slack answer (pure): 👍/👎 (rendered with the answer, redrawn after a
vote) and "Talk to a person" (a block of its own, which a vote leaves as it is)."""

from __future__ import annotations

from typing import Any

from bridge import texts
from bridge.ports.feedback import DOWN, UP

VOTE_BLOCK = "raia_feedback"
PERSON_ACTION = "raia_person"  # its block_id too
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


def person_button(language: str) -> dict[str, Any]:
    """ "Talk to a person" under an answer (HANDOFF_BUTTON); the press names only who pressed where."""
    label = texts.text("handover_button", language)[:75]  # Slack's limit for a button's text
    element = {"type": "button", "action_id": PERSON_ACTION, "value": "person",
               "text": {"type": "plain_text", "text": label, "emoji": True}}  # fmt: skip
    return {"type": "actions", "block_id": PERSON_ACTION, "elements": [element]}
