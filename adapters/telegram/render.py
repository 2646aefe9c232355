"""Reply -> Telegram messages: plain text plus entities, split within 4,096 UTF-16 units.

Text plus ``entities`` (no parse mode) means nothing the agent writes can make Telegram
reject the message for bad markup: there is no markup to get wrong.
telegramify-markdown does the Markdown -> entities conversion; we add the sources list.
Only http(s) URLs become links: a ``tg://user?id=…`` link is a mention of whoever has
that id, so the agent's words and its sources never link to one.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import pairwise

import telegramify_markdown
from telegramify_markdown import MessageEntity, utf16_len

from adapters.graphemes import cut_before, is_boundary
from adapters.markdown import literal_angle_brackets, web_url
from bridge import texts
from bridge.models import Reply, ReplyKind

MAX_MESSAGE = 4096  # UTF-16 code units, counted after entity parsing


@dataclass(frozen=True)
class Part:
    text: str
    entities: tuple[MessageEntity, ...] = ()


def render(reply: Reply, *, limit: int = MAX_MESSAGE) -> list[Part]:
    entities: list[MessageEntity]
    if reply.kind is ReplyKind.NOTICE:
        text, entities = reply.text, []
    else:
        text, entities = telegramify_markdown.convert(literal_angle_brackets(reply.text), latex_escape=False)
        text = text.rstrip()
        # Agents write [here](#anchor) and [doc](docs/x): keep the words, drop a link
        # Telegram would refuse (and with it the whole message), or one that mentions
        # someone ([you](tg://user?id=42)).
        entities = [e for e in entities if e.user is None and (e.type != "text_link" or linkable(e.url))]
    text, entities = _with_sources(text, list(entities), reply)
    if not text.strip():
        text, entities = "(empty answer)", []
    return split(text, entities, limit)


def split(text: str, entities: list[MessageEntity], limit: int) -> list[Part]:
    """``text`` in parts of at most ``limit`` UTF-16 units, cut after the last line break
    that fits, else after a space in the part's second half, else between grapheme
    clusters (never inside an emoji or a flag); an entity spanning a cut is clipped into
    both parts. Nothing is dropped but parts of only whitespace (Telegram refuses them);
    a short text comes back whole."""
    units_in_all = len(text.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate is a unit too
    if units_in_all <= limit:  # most answers: no cut to look for
        whole = _part(text, entities, 0, units_in_all)
        return [whole] if whole is not None else []
    units = [0]  # units[i]: UTF-16 offset of text[i]
    for char in text:
        units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
    cuts = [0]
    while units[-1] - units[cuts[-1]] > limit:
        start = cuts[-1]
        end = max(bisect_right(units, units[start] + limit) - 1, start + 1)  # the most that fits
        cut = text.rfind("\n", start, end) + 1
        if cut <= start:
            cut = text.rfind(" ", start, end) + 1
            if not (cut - start > (end - start) // 2 and is_boundary(text, cut)):
                cut = cut_before(text, end)
                cut = cut if cut > start else end  # one cluster longer than a part: cut it
        cuts.append(cut)
    cuts.append(len(text))
    parts = (_part(text[start:end], entities, units[start], units[end]) for start, end in pairwise(cuts))
    return [part for part in parts if part is not None]


def _part(text: str, entities: list[MessageEntity], low: int, high: int) -> Part | None:
    """The text between UTF-16 offsets ``low`` and ``high``, with the entities clipped to
    it; None if it is only whitespace (Telegram refuses such a message)."""
    if not text.strip():
        return None
    inside = (e for e in entities if e.offset < high and e.offset + e.length > low)
    clipped = (
        e.copy_with(offset=max(e.offset, low) - low, length=min(e.offset + e.length, high) - max(e.offset, low))
        for e in inside
    )
    return Part(text, tuple(clipped))


def linkable(url: str | None) -> bool:
    """Whether an answer's link may point at ``url``: an absolute web URL with a host.
    Telegram refuses relative paths and #anchors, and reads ``tg://user?id=`` as a mention."""
    return web_url(url)


def _with_sources(text: str, entities: list[MessageEntity], reply: Reply) -> tuple[str, list[MessageEntity]]:
    """Append "Sources" with each URL as a link titled by its title, each file by name.
    Built as entities directly, so titles with brackets or asterisks need no escaping."""
    if reply.kind is ReplyKind.NOTICE or not reply.has_sources:
        return text, entities
    text += "\n\n"
    heading = texts.text("sources", reply.language)
    entities.append(MessageEntity(type="bold", offset=utf16_len(text), length=utf16_len(heading)))
    text += heading
    for url in reply.urls:
        text += "\n• "
        if linkable(url.url):
            entities.append(
                MessageEntity(type="text_link", offset=utf16_len(text), length=utf16_len(url.title), url=url.url)
            )
        text += url.title
    for file in reply.files:
        text += f"\n• 📄 {file.filename}"
    return text, entities
