"""The terminal's own words: the greeting (which says when the agent cannot be reached),
the help and the reset confirmation, in English. The composition root registers them
with the core's catalogue (``bridge.texts.register``); ``MESSAGES_FILE`` overrides them
by these keys."""

from __future__ import annotations

from bridge import texts
from bridge.models import Intent

PLATFORM = "console"

# Placeholders: {agent}, {help} (the help text), {first_name}.
ENGLISH = {
    "console_help": "Type a question and press Enter. Commands: /stop (stop waiting for the answer), /reset (start "
    "a new conversation), /human (talk to a person), /help, /quit.",
    "console_start": "Connected to {agent}. {help}",
    "console_start_unreachable": "The assistant cannot be reached right now; questions you type are kept and "
    "answered when it is back. {help}",
    "console_reset": "Started a new conversation. The assistant will not remember earlier messages.",
}


def answer(saying: texts.Saying, language: str) -> str:
    """The greeting at start (not claiming a connection it does not have), /help and /reset."""
    if saying.intent is Intent.START:
        key = "console_start" if saying.reachable else "console_start_unreachable"
    else:
        key = "console_reset" if saying.intent is Intent.RESET else "console_help"
    return texts.text(key, language, help=texts.text("console_help", language), **saying.values())


BOOK = texts.Book(PLATFORM, ENGLISH, answer=answer)
