"""The buttons under a Telegram answer: 👍/👎 and "Talk to a person", as the Bot API's JSON
(an ``InlineKeyboardMarkup``): built for every answer, so no python-telegram-bot objects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge import texts
from bridge.models import Reply

PERSON_DATA = "h"  # "Talk to a person": the press names nobody's answer, only who pressed where

Button = dict[str, Any]  # an InlineKeyboardButton: {"text": …, "callback_data": …}
Markup = dict[str, Any]  # an InlineKeyboardMarkup: {"inline_keyboard": [[Button, …], …]}


def vote_keyboard(key: str, chosen: str | None = None, rest: Sequence[Sequence[Button]] = ()) -> Markup:
    """👍/👎 under an answer; ``callback_data`` names the answer and the vote (≤ 64 bytes).
    ``rest``: the rows below them (the "Talk to a person" button), kept as they are."""

    def button(emoji: str, vote: str) -> Button:
        return {"text": f"{emoji} ✓" if chosen == vote else emoji, "callback_data": f"v:{key}:{vote}"}

    return {"inline_keyboard": [[button("👍", "up"), button("👎", "down")], *(list(row) for row in rest)]}


def person_row(language: str) -> list[Button]:
    return [{"text": texts.text("handover_button", language), "callback_data": PERSON_DATA}]


def answer_keyboard(reply: Reply) -> Markup | None:
    """The buttons under an answer's last part: 👍/👎 (``vote_key``), "Talk to a person"
    (``person_button``), both or none."""
    rest = [person_row(reply.language)] if reply.person_button else []
    if reply.vote_key:
        return vote_keyboard(reply.vote_key, rest=rest)
    return {"inline_keyboard": rest} if rest else None
