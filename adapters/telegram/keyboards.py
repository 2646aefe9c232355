"""The buttons under a Telegram answer: 👍/👎 and "Talk to a person"."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bridge import texts
from bridge.models import Reply

PERSON_DATA = "h"  # "Talk to a person": the press names nobody's answer, only who pressed where


def vote_keyboard(
    key: str, chosen: str | None = None, rest: Sequence[Sequence[InlineKeyboardButton]] = ()
) -> InlineKeyboardMarkup:
    """👍/👎 under an answer; ``callback_data`` names the answer and the vote (≤ 64 bytes).
    ``rest``: the rows below them (the "Talk to a person" button), kept as they are."""

    def button(emoji: str, vote: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(f"{emoji} ✓" if chosen == vote else emoji, callback_data=f"v:{key}:{vote}")

    return InlineKeyboardMarkup([[button("👍", "up"), button("👎", "down")], *rest])


def person_row(language: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(texts.text("handover_button", language), callback_data=PERSON_DATA)]


def answer_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The buttons under an answer's last part: 👍/👎 (``vote_key``), "Talk to a person"
    (``person_button``), both or none."""
    rest = [person_row(reply.language)] if reply.person_button else []
    if reply.vote_key:
        return vote_keyboard(reply.vote_key, rest=rest)
    return InlineKeyboardMarkup(rest) if rest else None
