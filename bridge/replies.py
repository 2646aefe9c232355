"""Turn an agent message into the neutral ``Reply`` every adapter renders."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bridge.models import FileCitation, Reply, UrlCitation

# OpenAI file-search markers such as 【4:0†source】 or 【12:3†guide.pdf】 mean nothing to a
# reader; the sources list replaces them. Also take the space the marker leaves behind.
_MARKER = re.compile(r"[ \t]?【[^】\n]{0,200}】")


def strip_citation_markers(text: str) -> str:
    return _MARKER.sub("", text)


def reply_from_message(message: Mapping[str, Any]) -> Reply:
    """Build a Reply from raia's ConversationMessageResponseDTO (parsed leniently)."""
    full = message.get("fullAIResponse") or {}
    if not isinstance(full, Mapping):
        full = {}
    text = message.get("message")
    if not isinstance(text, str) or not text.strip():
        text = full.get("outputText") if isinstance(full.get("outputText"), str) else ""
    return Reply(
        text=strip_citation_markers(str(text)).strip(),
        urls=_url_citations(full.get("urlCitations")),
        files=_file_citations(full.get("fileCitations")),
    )


def _items(raw: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(raw, list):
        yield from (item for item in raw if isinstance(item, Mapping))


def _url_citations(raw: Any) -> tuple[UrlCitation, ...]:
    seen: dict[str, UrlCitation] = {}
    for item in _items(raw):
        url = item.get("url")
        if not isinstance(url, str) or not url.strip():
            continue
        url = url.strip()
        title = item.get("title")
        title = title.strip() if isinstance(title, str) and title.strip() else url
        # Keep the first occurrence, but prefer a real title over the bare URL.
        if url not in seen or seen[url].title == url:
            seen[url] = UrlCitation(url=url, title=title)
    return tuple(seen.values())


def _file_citations(raw: Any) -> tuple[FileCitation, ...]:
    seen: dict[str, FileCitation] = {}
    names: set[str] = set()
    for item in _items(raw):
        name = item.get("filename")
        if not isinstance(name, str) or not name.strip():
            continue
        file_id = item.get("fileId")
        key = file_id if isinstance(file_id, str) and file_id else name
        # The same file is often cited many times, sometimes under several ids.
        if key in seen or name.strip() in names:
            continue
        names.add(name.strip())
        seen[key] = FileCitation(file_id=str(key), filename=name.strip())
    return tuple(seen.values())
