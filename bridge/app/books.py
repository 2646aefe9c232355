"""``MESSAGES_FILE`` read, and every shipped platform's words in the core's catalogue,
whichever platforms this run serves: the file is checked against all of them, so a file
written for Telegram keeps starting a Slack-only bridge, and its typos are found
wherever it is used."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

from adapters.console.words import BOOK as CONSOLE
from adapters.slack.words import BOOK as SLACK
from adapters.telegram.words import BOOK as TELEGRAM
from bridge import texts

BOOKS = (SLACK, TELEGRAM, CONSOLE)


def read_messages(path: Path) -> Any:
    """``MESSAGES_FILE`` parsed (TOML, or YAML by its suffix); ValueError in one line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(raw) or {}
        return tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{path.name} is not valid {'YAML' if path.suffix in ('.yaml', '.yml') else 'TOML'}: {first}"
        ) from None


def register_shipped() -> None:
    """Register every shipped platform's book (again: the same)."""
    for book in BOOKS:
        texts.register(book)


register_shipped()  # on import: whatever the composition root builds finds every platform's words
