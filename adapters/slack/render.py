"""Reply -> Slack messages: mrkdwn sections, a Sources list, split within Slack's limits.

Markdown is converted with slackify-markdown (markdown-it-py underneath); we escape
what it leaves raw, so ``&``, ``<`` and ``>`` the agent wrote always show literally and
never become mentions (``<@U1>``, ``<!channel>``) or broken links. Only http(s) targets
become links (Slack reads ``<!here|x>``, ``<@U1|x>``, ``<!subteam^S1|x>`` as mentions), and
a bare ``@here``/``@channel``/``@everyone`` carries a word joiner: nothing the agent or a
citation writes can notify anyone.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from slackify_markdown import slackify_markdown

from adapters.graphemes import cut_before, is_boundary
from adapters.markdown import web_url
from adapters.slack import native
from adapters.slack.votes import person_button, vote_buttons
from bridge import texts
from bridge.models import Reply, ReplyKind

_Slackify: Any = slackify_markdown.__globals__["SlackifyMarkdown"]  # the library's renderer class
SECTION_LIMIT = 3000  # characters of text in one section block
MESSAGE_LIMIT = 12000  # block text per message: well inside Slack's 50 blocks / 40k characters
FALLBACK_LIMIT = 3000  # the notification text (``text``) must stay under 4,000

# The agent's own & < > are swapped for private-use characters before conversion and
# turned into entities after it, so the converter can neither drop them as HTML nor
# pass them through raw (where Slack would read "<@U1>" as a mention).
_HIDE = str.maketrans({"&": "\ue000", "<": "\ue001", ">": "\ue002"})
_SHOW = {
    "\ue000": "&amp;",
    "\ue001": "&lt;",
    "\ue002": "&gt;",
    # Inside link targets the converter percent-encodes them.
    "%EE%80%80": "&amp;",
    "%EE%80%81": "%3C",
    "%EE%80%82": "%3E",
}
# Bare special mentions: Slack turns them into real ones when a message is posted with
# link_names (and a reader cannot tell them apart). Not inside words, e-mail addresses or paths.
_BARE_MENTION = re.compile(r"(?<![\w.@/])@(here|channel|everyone)\b", re.IGNORECASE)
WORD_JOINER = "\u2060"
_QUOTE = re.compile(r"^(\s{0,3}(?:>\s?)+)")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class SlackMessage:
    text: str  # plain fallback for notifications and screen readers
    blocks: list[dict[str, Any]] = field(default_factory=list)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defuse(text: str) -> str:
    """``text`` with every bare ``@here``, ``@channel`` and ``@everyone`` still reading so,
    but never taken for a mention (a word joiner after the ``@``)."""
    return _BARE_MENTION.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def _agent_safe(state: StateCore) -> None:
    """A markdown-it core rule for an agent's text: prose (link labels and image texts
    included) is defused; a link to anything but a web URL keeps its words and loses the
    link; an image's likewise. Code stays as written (Slack parses no mentions there
    once ``<`` is escaped)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        links: list[bool] = []  # per open link: whether it stays a link
        for token in block.children:
            if token.type == "text":
                token.content = defuse(token.content)
            elif token.type == "image":
                token.content = defuse(token.content)
                token.attrs["title"] = defuse(str(token.attrs.get("title", "")))
                if not web_url(str(token.attrs.get("src", ""))):
                    token.attrs["src"] = ""  # the renderer shows the words alone
            elif token.type == "link_open":
                links.append(web_url(str(token.attrs.get("href", ""))))
                if not links[-1]:
                    continue
            elif token.type == "link_close" and links and not links.pop():
                continue
            kept.append(token)
        block.children = kept


@functools.cache
def _converter(agent: bool = False) -> MarkdownIt:
    """slackify-markdown's parser, built once: ``slackify_markdown()`` builds a new
    MarkdownIt for every call, half of its CPU (tests/adapters check both agree).
    ``agent``: with ``_agent_safe`` applied to what the parser read."""
    options = {"html": False, "linkify": False, "breaks": False}
    parser = MarkdownIt("gfm-like", renderer_cls=_Slackify, options_update=options).disable("table")
    if agent:
        parser.core.ruler.push("agent_safe", _agent_safe)
    return parser


def slackify(markdown: str, *, agent: bool = False) -> str:
    """``slackify_markdown(markdown)`` on the shared parser (``agent``: made safe, above)."""
    parser = _converter(agent)
    renderer: Any = parser.renderer
    renderer._in_heading, renderer._list_depth = False, 0  # as a fresh renderer starts
    return str(parser.render(markdown.replace(_Slackify.NEW_LINE, "")))


def to_mrkdwn(markdown: str) -> str:
    converted = slackify(_hide_specials(markdown), agent=True).strip()
    for placeholder, entity in _SHOW.items():
        converted = converted.replace(placeholder, entity)
    return converted


def _hide_specials(markdown: str) -> str:
    lines: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opening = _FENCE.match(line)
        if fence is not None or opening:
            if opening and (fence is None or opening.group(1)[0] == fence[0]):
                fence = None if fence is not None else opening.group(1)
            lines.append(line.translate(_HIDE))
            continue
        quote = _QUOTE.match(line)
        head = quote.group(1) if quote else ""  # blockquote markers are Markdown, not text
        lines.append(head + line[len(head) :].translate(_HIDE))
    return "\n".join(lines)


def sources(reply: Reply) -> str:
    lines = [f"*{texts.text('sources', reply.language)}*"]
    for url in reply.urls:
        label = defuse(escape(url.title))
        if web_url(url.url):
            target = url.url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
            lines.append(f"• <{target}|{label.replace('|', '¦')}>")
        else:  # "!here", "@U1", "tg://…": words, never a link (nor a mention)
            lines.append(f"• {label}")
    lines += [f"• :page_facing_up: {defuse(escape(f.filename))}" for f in reply.files]
    return "\n".join(lines)


def render(reply: Reply, *, native: bool = True) -> list[SlackMessage]:
    """One or more messages, in order; together they carry the whole reply: an answer
    that fits in Slack's own Markdown rendering (``adapters.slack.native``) so, anything
    else (and with ``native`` False) converted to mrkdwn."""
    rendered = _native(reply) if native and reply.kind is ReplyKind.ANSWER and reply.text else None
    if rendered is None:
        rendered = _mrkdwn(reply)
    if reply.vote_key:  # 👍/👎 under the answer's last message
        rendered[-1].blocks.append(vote_buttons(reply.vote_key))
    if reply.person_button:  # and "Talk to a person" below them
        rendered[-1].blocks.append(person_button(reply.language))
    return rendered


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _native(reply: Reply) -> list[SlackMessage] | None:
    """``markdown`` blocks (at most ``MARKDOWN_LIMIT`` characters a message) and ``table``
    blocks (one a message), the sources as a mrkdwn list under them; None if the answer
    does not fit (``native.parts``)."""
    found = native.parts(reply.text)
    if found is None:
        return None
    messages: list[SlackMessage] = []
    blocks: list[dict[str, Any]] = []
    said: list[str] = []
    size, table = 0, False

    def close() -> None:
        nonlocal blocks, said, size, table
        if blocks:
            messages.append(SlackMessage(text=_fallback("\n\n".join(said)), blocks=blocks))
        blocks, said, size, table = [], [], 0, False

    for part in found:
        if part.rows:
            if table or len(blocks) >= native.BLOCKS:
                close()
            blocks.append(native.table_block(part.rows))
            said.append(native.table_text(part.rows))
            table = True
            continue
        for chunk in split_mrkdwn(part.markdown, native.MARKDOWN_LIMIT):
            if blocks and (size + len(chunk) > native.MARKDOWN_LIMIT or len(blocks) >= native.BLOCKS):
                close()
            blocks.append({"type": "markdown", "text": chunk})
            said.append(chunk)
            size += len(chunk)
    if reply.has_sources:
        for chunk in split_mrkdwn(sources(reply), SECTION_LIMIT):
            if len(blocks) >= native.BLOCKS:
                close()
            blocks.append(_section(chunk))
            said.append(chunk)
    close()
    return messages


def plain(message: SlackMessage) -> str:
    """The message's words as one mrkdwn text, for when Slack refuses its blocks (an old
    workspace without ``markdown`` or ``table`` blocks, a limit): Markdown converted."""
    out: list[str] = []
    for block in message.blocks:
        if block.get("type") == "section":
            out.append(block["text"]["text"])
        elif block.get("type") == "markdown":
            out.append(to_mrkdwn(block["text"]))
        elif block.get("type") == "table":
            out.append(escape(native.table_text([[c["text"] for c in row] for row in block["rows"]])))
    return "\n\n".join(out)


def _mrkdwn(reply: Reply) -> list[SlackMessage]:
    body = escape(reply.text) if reply.kind is ReplyKind.NOTICE else to_mrkdwn(reply.text)
    chunks = split_mrkdwn(body or "_(empty answer)_", SECTION_LIMIT)
    if reply.kind is ReplyKind.ANSWER and reply.has_sources:
        chunks += split_mrkdwn(sources(reply), SECTION_LIMIT)
    messages: list[list[str]] = [[]]
    size = 0
    for chunk in chunks:
        if messages[-1] and (size + len(chunk) > MESSAGE_LIMIT or len(messages[-1]) >= 45):
            messages.append([])
            size = 0
        messages[-1].append(chunk)
        size += len(chunk)
    return [
        SlackMessage(text=_fallback("\n\n".join(sections)), blocks=[_section(s) for s in sections])
        for sections in messages
    ]


def _fallback(mrkdwn: str) -> str:
    if len(mrkdwn) <= FALLBACK_LIMIT:
        return mrkdwn
    return mrkdwn[: cut_before(mrkdwn, FALLBACK_LIMIT - 1)].rstrip() + "…"


def split_mrkdwn(text: str, limit: int) -> list[str]:
    """Split at paragraph breaks, then line breaks, then spaces, else between grapheme
    clusters; a code block cut in two is closed and reopened so both halves still render
    as code. Nothing is dropped."""
    parts: list[str] = []
    current = ""
    for paragraph in _paragraphs(text):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        # Too big for one section: all pieces but the last are full; the last stays open.
        *full, current = _hard_split(paragraph, limit) or [""]
        parts.extend(full)
    if current:
        parts.append(current)
    return parts


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; a fenced code block counts as one, blank lines and all."""
    out: list[str] = []
    buffer: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if line.count("```") % 2 == 1:
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if buffer:
                out.append("\n".join(buffer))
                buffer = []
            continue
        buffer.append(line)
    if buffer:
        out.append("\n".join(buffer))
    return out


def _hard_split(paragraph: str, limit: int) -> list[str]:
    fenced = paragraph.startswith("```") and paragraph.rstrip().endswith("```") and len(paragraph) > 6
    if fenced:
        inner = paragraph.strip()[3:-3].strip("\n")
        return [f"```\n{piece}\n```" for piece in _split_lines(inner, limit - 8)]
    return _split_lines(paragraph, limit)


def _split_lines(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one enormous line: cut at a space if there is one
            cut = line.rfind(" ", 0, limit)
            if not (cut > limit // 2 and is_boundary(line, cut) and is_boundary(line, cut + 1)):
                cut = cut_before(line, limit)  # never inside an emoji or a letter with its marks
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return pieces
