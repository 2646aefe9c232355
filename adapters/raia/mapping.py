"""raia's JSON -> the core's values. Parsed leniently where the API may grow (unknown
fields are ignored), strictly where the bridge cannot go on without a value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bridge.errors import AgentProtocolError
from bridge.models import AnswerFile, FileCitation, Reply, UrlCitation, clean
from bridge.ports.agent import AgentMessage, AgentResponse, ResponseStatus

# OpenAI file-search markers such as 【4:0†source】 or 【12:3†guide.pdf】 mean nothing to a
# reader; the sources list replaces them. Also take the space the marker leaves behind.
_MARKER = re.compile(r"[ \t]?【[^】\n]{0,200}】")


def strip_citation_markers(text: str) -> str:
    return _MARKER.sub("", text)


def reply_from_message(message: Mapping[str, Any], conversation: str = "") -> Reply:
    """Build a Reply from raia's ConversationMessageResponseDTO (parsed leniently);
    ``conversation``: the conversation it was read from (its files are fetched through it)."""
    full = message.get("fullAIResponse") or {}
    if not isinstance(full, Mapping):
        full = {}
    text = message.get("message")
    if not isinstance(text, str) or not text.strip():
        text = full.get("outputText") if isinstance(full.get("outputText"), str) else ""
    return Reply(
        text=clean(strip_citation_markers(str(text))).strip(),
        urls=_url_citations(full.get("urlCitations")),
        files=_file_citations(full.get("fileCitations")),
        message_id=message["id"] if isinstance(message.get("id"), str) else None,
        answer_files=answer_files(message.get("files"), conversation or str(message.get("conversationId") or "")),
    )


def answer_files(raw: Any, conversation: str) -> tuple[AnswerFile, ...]:
    """The files on an answer (``ConversationMessageFileResponseDTO``: id, fileName, size),
    once each; an entry without an id or a name is skipped."""
    found: dict[str, AnswerFile] = {}
    for item in _items(raw):
        file_id, name, size = item.get("id"), item.get("fileName"), item.get("size")
        if not (isinstance(file_id, str) and file_id and isinstance(name, str) and name.strip()):
            continue
        sized = int(size) if isinstance(size, int | float) and not isinstance(size, bool) and size >= 0 else None
        found.setdefault(file_id, AnswerFile(file_id, clean(name.strip()), sized, conversation))
    return tuple(found.values())


def created_at(message: Mapping[str, Any]) -> float | None:
    """A message's ``createdAt`` as epoch seconds (raia's clock); None if absent or odd."""
    value = message.get("createdAt")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def response_from(body: Any, asked_at: float | None = None, conversation: str = "") -> AgentResponse:
    """One ``response-on`` body; ``asked_at`` is the question's ``createdAt``, if known;
    ``conversation``: the one asked about."""
    data = mapping(body, "response")
    status = data.get("status")
    error = data.get("error") if isinstance(data.get("error"), str) else None
    if status == ResponseStatus.COMPLETED:
        message = data.get("message")
        if not isinstance(message, Mapping):
            raise AgentProtocolError("response-on: completed without a message")
        answered_at = created_at(message)
        took = answered_at - asked_at if answered_at is not None and asked_at is not None else None
        reply = reply_from_message(message, conversation)
        return AgentResponse(ResponseStatus.COMPLETED, reply=reply, took=took)
    if status == ResponseStatus.FAILED:
        return AgentResponse(ResponseStatus.FAILED, error=error or "failed")
    # "pending", or a status this version does not know yet: keep waiting.
    return AgentResponse(ResponseStatus.PENDING, error=error)


def messages_from(body: Any) -> list[AgentMessage]:
    """A conversation's message list (used to check an ambiguous send)."""
    items = mapping(body, "messages").get("messages")
    result: list[AgentMessage] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            continue
        text = item.get("message")
        result.append(
            AgentMessage(
                id=item["id"],
                from_user=item.get("senderRole") == "conversation_user",
                text=text if isinstance(text, str) else "",
            )
        )
    return result


def agent_name_from(body: Any) -> str | None:
    data = mapping(body, "agent")
    for key in ("publicName", "name"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def webhooks_from(body: Any) -> set[tuple[str, str | None]]:
    """(url, trigger) of the agent's webhooks: ``skills[]`` with ``systemName`` WEBHOOK list
    them under ``webhooks[]`` (the only place raia shows them; there is no list endpoint). A
    hook listed without its trigger counts as any trigger (never piled up)."""
    found: set[tuple[str, str | None]] = set()
    skills = mapping(body, "agent").get("skills")
    for skill in skills if isinstance(skills, list) else []:
        if not isinstance(skill, Mapping) or skill.get("systemName") != "WEBHOOK":
            continue
        hooks = skill.get("webhooks")
        for hook in hooks if isinstance(hooks, list) else []:
            if isinstance(hook, Mapping) and isinstance(hook.get("url"), str):
                trigger = hook.get("triggerCondition")
                found.add((hook["url"].rstrip("/"), trigger if isinstance(trigger, str) else None))
    return found


def webhook_urls_from(body: Any) -> set[str]:
    """The URLs of the agent's webhooks, whatever their trigger."""
    return {url for url, _ in webhooks_from(body)}


def error_text(body: Any) -> str | None:
    """raia's error ``message`` (a string or a list of them), shortened."""
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)[:300]
        if message:
            return str(message)[:300]
    return None


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AgentProtocolError(f"unexpected {what} body from raia")
    return value


def text_field(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise AgentProtocolError(f"raia response has no {key!r}")
    return value


def _items(raw: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(raw, list):
        yield from (item for item in raw if isinstance(item, Mapping))


def _url_citations(raw: Any) -> tuple[UrlCitation, ...]:
    seen: dict[str, UrlCitation] = {}
    for item in _items(raw):
        url = item.get("url")
        if not isinstance(url, str) or not url.strip():
            continue
        url = clean(url.strip())
        title = item.get("title")
        title = clean(title.strip()) if isinstance(title, str) and title.strip() else url
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
        seen[key] = FileCitation(file_id=str(key), filename=clean(name.strip()))
    return tuple(seen.values())
