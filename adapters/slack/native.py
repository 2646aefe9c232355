"""Answers in Slack's own Markdown rendering: the agent's standard Markdown goes into
``markdown`` blocks (Slack renders it, up to 12,000 characters per message) and its
Markdown tables become ``table`` blocks instead of pipe soup.

An answer fits when nothing in it needs the mrkdwn converter's care: Slack's own syntax
(``<@U1>``, ``<!here>``, ``<url|label>``), which a ``markdown`` block might read as a
mention or link, or a link or image to anything but a web address (the converter keeps
their words and drops the target). Those answers, and the bridge's own notices, go the
mrkdwn way (``adapters.slack.render``). Bare ``@here``/``@channel``/``@everyone`` are
defused alike. Only an answer that may hold a table or a link is parsed at all: for the
rest (most short answers) the text goes as it is, which is what makes the native way
cheaper than converting (``bench/slack_render.py``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from adapters.markdown import web_url

MARKDOWN_LIMIT = 11_000  # markdown block text per message (Slack: 12,000 in all, with margin)
TABLE_ROWS = 100  # Slack's table block: at most 100 rows of at most 20 cells
TABLE_COLUMNS = 20
BLOCKS = 45  # per message (Slack: 50), room left for the sources and the buttons
# Slack's own syntax: a mention, a special mention, a channel, a mrkdwn link.
_SLACK_SYNTAX = re.compile(r"<[@!#]|<[^<>\s|]+\|")
_BARE_MENTION = re.compile(r"(?<![\w.@/])@(here|channel|everyone)\b", re.IGNORECASE)
WORD_JOINER = "\u2060"


@dataclass
class Part:
    """A run of Markdown (``markdown``) or a table (``rows``, header first)."""

    markdown: str = ""
    rows: list[list[str]] = field(default_factory=list)


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like", options_update={"html": False, "linkify": False})


def defuse(text: str) -> str:
    return _BARE_MENTION.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def parts(text: str) -> list[Part] | None:
    """``text`` as Markdown runs and tables, in order; None if it does not fit (above)."""
    if _SLACK_SYNTAX.search(text):
        return None
    if "|" not in text and "](" not in text:  # no table, no link: nothing to look at
        return [Part(markdown=defuse(text))]
    tokens = _parser().parse(text)
    if not _links_safe(tokens):
        return None
    lines = text.split("\n")
    found: list[Part] = []
    taken = 0
    for index, token in enumerate(tokens):
        if token.type != "table_open" or token.level != 0 or token.map is None:
            continue
        start, end = token.map
        before = "\n".join(lines[taken:start]).strip()
        if before:
            found.append(Part(markdown=defuse(before)))
        rows = list(_rows(tokens, index))
        if len(rows) <= TABLE_ROWS and all(len(row) <= TABLE_COLUMNS for row in rows):
            found.append(Part(rows=rows))
        else:  # too big for a table block: the pipes, as code, still line up
            found.append(Part(markdown="```\n" + "\n".join(lines[start:end]) + "\n```"))
        taken = end
    rest = "\n".join(lines[taken:]).strip()
    if rest:
        found.append(Part(markdown=defuse(rest)))
    return found


def _links_safe(tokens: list[Token]) -> bool:
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open" and not web_url(str(child.attrs.get("href", ""))):
                return False
            if child.type == "image":
                return False  # an image in a message: the converter's words-only way
    return True


def _rows(tokens: list[Token], start: int) -> Iterator[list[str]]:
    """The table's rows from ``table_open`` at ``start``: each cell's words, as text."""
    row: list[str] = []
    for token in tokens[start + 1 :]:
        if token.type == "table_close":
            return
        if token.type == "tr_open":
            row = []
        elif token.type == "inline":
            row.append(defuse(_words(token)))
        elif token.type == "tr_close":
            yield row


def _words(inline: Token) -> str:
    return "".join(
        c.content if c.type in ("text", "code_inline") else " " if c.type == "softbreak" else ""
        for c in inline.children or ()
    ).strip()


def table_block(rows: list[list[str]]) -> dict[str, Any]:
    width = max(len(row) for row in rows)
    cells = [[{"type": "raw_text", "text": cell or " "} for cell in row + [""] * (width - len(row))] for row in rows]
    return {"type": "table", "rows": cells, "column_settings": [{"is_wrapped": True}] * width}


def table_text(rows: list[list[str]]) -> str:
    """A table in a message's notification text (and the plain fallback)."""
    return "\n".join(" | ".join(row) for row in rows)
