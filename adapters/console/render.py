"""Reply -> terminal: plain text for scripts and pipes, rich Markdown for a person.

Plain: the Markdown as written, then a numbered sources list (what a script can parse).
Rich: the same content through ``rich``'s Markdown renderer (bold, lists, code blocks,
links), the sources as a dimmed numbered list under it.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.text import Text

from bridge import texts
from bridge.models import Reply, ReplyKind


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
    return lines


def render(reply: Reply) -> str:
    sources = _sources(reply)
    heading = texts.text("sources", reply.language) + ":"
    return "\n".join([reply.text, "", heading, *sources] if sources else [reply.text])


def render_rich(reply: Reply, *, prefix: str) -> RenderableType:
    parts: list[RenderableType] = [Text(prefix.strip(), style="bold cyan")]
    # A notice is the bridge's own words: show it as it is, not as Markdown.
    parts.append(Markdown(reply.text) if reply.kind is ReplyKind.ANSWER else Text(reply.text, style="yellow"))
    sources = _sources(reply)
    if sources:
        heading = texts.text("sources", reply.language)
        parts.append(Text(f"\n{heading}:\n" + "\n".join(sources), style="dim"))
    return Group(*parts)
