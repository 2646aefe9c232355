"""Every shipped platform's words in the core's catalogue, whichever platforms this run
serves: ``MESSAGES_FILE`` is checked against all of them, so a file written for Telegram
keeps starting a Slack-only bridge, and its typos are found wherever it is used."""

from __future__ import annotations

from adapters.console.words import BOOK as CONSOLE
from adapters.slack.words import BOOK as SLACK
from adapters.telegram.words import BOOK as TELEGRAM
from bridge import texts

BOOKS = (SLACK, TELEGRAM, CONSOLE)


def register_shipped() -> None:
    """Register every shipped platform's book (again: the same)."""
    for book in BOOKS:
        texts.register(book)


register_shipped()  # on import: whatever the composition root builds finds every platform's words
