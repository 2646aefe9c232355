"""Markdown helpers shared by the platform renderers."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def web_url(url: str | None) -> bool:
    """Whether ``url`` may become a link in an answer: an absolute http(s) URL with a host.
    Anything else an agent or a citation carries (Slack's ``!here``, ``@U1``, ``!subteam^S1``;
    Telegram's ``tg://user?id=1``; relative paths, #anchors, mailto:) is shown as text:
    those would mention people or be refused."""
    if not url:
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an invalid IPv6 host: "http://[x"
        return False


def literal_angle_brackets(markdown: str) -> str:
    """Escape ``<`` outside code so Markdown parsers never treat agent text such as
    ``<your-name>`` or ``a <b> c`` as HTML (and silently drop it)."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            out.append(line)
            continue
        if match:
            fence = match.group(1)
            out.append(line)
            continue
        out.append(_escape_outside_spans(line))
    return "\n".join(out)


def _escape_outside_spans(line: str) -> str:
    pieces: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(line):
        pieces.append(_escape(line[last : span.start()]))
        pieces.append(span.group(0))
        last = span.end()
    pieces.append(_escape(line[last:]))
    return "".join(pieces)


def _escape(text: str) -> str:
    # Already-escaped "\<" stays as it is.
    return re.sub(r"(?<!\\)<", r"\\<", text)
