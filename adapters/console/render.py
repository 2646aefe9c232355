"""Reply -> terminal: plain text for scripts and pipes, rich Markdown for a person.

Plain: the Markdown as written, then a numbered sources list (what a script can parse).
Rich: the same content through ``rich``'s Markdown renderer (bold, lists, code blocks,
links), the sources as a dimmed numbered list under it.
"""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text

from bridge import texts
from bridge.models import Reply, ReplyKind

# What would drive the terminal rather than show: escape sequences whole (CSI, like a
# screen clear; OSC, like a window title or a clipboard write), then any other control
# character but a line break or a tab. rich's Markdown lets them through.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[@-_]?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """``text`` (the agent's) as the terminal may print it."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def _sources(reply: Reply) -> list[str]:
    lines: list[str] = []
    if reply.kind is ReplyKind.ANSWER and reply.has_sources:
        number = 0
        for url in reply.urls:
            number += 1
            lines.append(f"  [{number}] {url.title} — {url.url}" if url.title != url.url else f"  [{number}] {url.url}")
        for file in reply.files:
            number += 1
            lines.append(f"  [{number}] {file.filename}")
    return [shown(line) for line in lines]


def render(reply: Reply) -> str:
    sources = _sources(reply)
    heading = texts.text("sources", reply.language) + ":"
    return "\n".join([shown(reply.text), "", heading, *sources] if sources else [shown(reply.text)])


def render_rich(reply: Reply, *, prefix: str) -> RenderableType:
    parts: list[RenderableType] = [Text(prefix.strip(), style="bold cyan")]
    # A notice is the bridge's own words: show it as it is, not as Markdown.
    text = shown(reply.text)
    parts.append(Markdown(text) if reply.kind is ReplyKind.ANSWER else Text(text, style="yellow"))
    sources = _sources(reply)
    if sources:
        heading = texts.text("sources", reply.language)
        parts.append(Text(f"\n{heading}:\n" + "\n".join(sources), style="dim"))
    return Group(*parts)
