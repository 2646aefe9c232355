"""Reply -> terminal text: the Markdown as written, then a numbered sources list."""

from __future__ import annotations

from bridge.models import Reply, ReplyKind


def render(reply: Reply) -> str:
    lines = [reply.text]
    if reply.kind is ReplyKind.ANSWER and reply.has_sources:
        lines += ["", "Sources:"]
        number = 0
        for url in reply.urls:
            number += 1
            lines.append(f"  [{number}] {url.title} — {url.url}" if url.title != url.url else f"  [{number}] {url.url}")
        for file in reply.files:
            number += 1
            lines.append(f"  [{number}] {file.filename}")
    return "\n".join(lines)
