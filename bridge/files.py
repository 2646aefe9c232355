"""Files sent with a question, passed on to the agent as the question is sent.

A question's files are platform references (``Attachment``), stored with it. Only when
the question is sent are they fetched from the platform and streamed into the agent's
storage, one at a time, each a chunk at a time: a restart before the send redoes the
uploads (cheap), never the send. A file over a limit, of a type the operator did not
allow, or that cannot be fetched is left out, and the answer starts with a short note
saying so; the question goes on without it. Fetching them takes at most half the time
the question has left (``FILES_SHARE``): a platform's file server that stalls costs the
file, never the question (nor the person's next ones, which wait in its lane).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from bridge import texts
from bridge.errors import AgentError, FileUnavailable
from bridge.models import Attachment, Reply, ReplyKind, Words
from bridge.ports.agent import SentFile, TakesFiles
from bridge.ports.outbound import FileSource, Outbound
from bridge.ports.store import QuestionRecord

log = logging.getLogger("bridge.turn")

MB = 1024 * 1024
# The share of the time a question has left (until RAIA_POLL_TIMEOUT) its files may take:
# the agent keeps the rest to answer.
FILES_SHARE = 0.5
# What agents read well: pictures, documents, text and sound. Video and archives are left
# out unless the operator allows them (FILES_TYPES).
DEFAULT_TYPES = (
    "image/*",
    "audio/*",
    "text/*",
    "application/pdf",
    "application/json",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.oasis.opendocument.*",
    "application/rtf",
)


@dataclass(frozen=True)
class FilePolicy:
    """FILES_MAX_MB, FILES_MAX_COUNT, FILES_TYPES."""

    max_bytes: int = 20 * MB  # Telegram lets bots download up to 20 MB
    max_count: int = 10  # Telegram albums hold up to 10
    types: tuple[str, ...] = DEFAULT_TYPES  # content types, "image/*" patterns

    def allows(self, content_type: str) -> bool:
        kind = content_type.split(";")[0].strip().lower()
        return any(fnmatch.fnmatchcase(kind, pattern.lower()) for pattern in self.types)


def sent_words(q: QuestionRecord) -> bool:
    """The question has words of its own: a text, or what was heard in a recording."""
    return bool(q.text or any(a.transcript for a in q.attachments))


def sent_text(q: QuestionRecord) -> str:
    """What the agent gets as the message: the question (a caption first, then what was
    heard in its recordings), or for files alone their names (the agent API needs a text)."""
    heard = [a.transcript for a in q.attachments if a.transcript]
    if heard:
        return "\n\n".join([q.text, *heard] if q.text else heard)
    return q.text or "📎 " + ", ".join(a.name for a in q.attachments)


@dataclass
class Passed:
    """The outcome of passing a question's files on."""

    files: list[SentFile] = field(default_factory=list)
    notes: list[Words] = field(default_factory=list)  # one line per file left out, for the person


class FilePassing:
    def __init__(self, policy: FilePolicy, agent: TakesFiles) -> None:
        self._policy = policy
        self._agent = agent

    async def upload(
        self, q: QuestionRecord, conversation: str, outbound: Outbound, within: float | None = None
    ) -> Passed:
        """Upload the files the policy allows, all of them within ``within`` seconds, each
        in its share of the time still left (a file not through by then is left out as not
        fetched: one that stalls costs itself, not the others). Raises a retryable
        ``AgentError`` (the send step is retried as a whole); anything else about one file
        leaves that file out."""
        passed = Passed()
        policy = self._policy
        source = outbound if isinstance(outbound, FileSource) else None
        loop = asyncio.get_running_loop()
        until = None if within is None else loop.time() + within
        count = min(len(q.attachments), policy.max_count)
        for index, attachment in enumerate(q.attachments):
            if index >= policy.max_count:
                passed.notes.append(Words("file_too_many", (("count", str(policy.max_count)),)))
                break
            reason = self._refusal(attachment, source)
            if reason is None:
                share = None if until is None else loop.time() + max(0.0, until - loop.time()) / (count - index)
                try:
                    async with asyncio.timeout_at(share):
                        passed.files.append(await self._pass(attachment, conversation, source))
                    continue
                except TimeoutError:
                    log.warning("question=%d file %r left out: not fetched in time", q.id, attachment.name)
                    reason = "file_failed"
                except FileUnavailable as exc:
                    log.warning("question=%d file %r left out: %s", q.id, attachment.name, exc)
                    reason = exc.reason
                except AgentError as exc:
                    if exc.retryable:
                        raise
                    log.warning("question=%d file %r refused by the agent: %s", q.id, attachment.name, exc)
                    reason = "file_refused"
            else:
                log.info("question=%d file %r left out: %s", q.id, attachment.name, reason)
            values = {"name": attachment.name, "type": attachment.content_type, "limit": f"{policy.max_bytes / MB:.3g}"}
            wanted = texts.placeholders(texts.ENGLISH[reason])
            passed.notes.append(Words(reason, tuple((k, v) for k, v in values.items() if k in wanted)))
        return passed

    def _refusal(self, attachment: Attachment, source: FileSource | None) -> str | None:
        if source is None:
            return "file_failed"
        if not self._policy.allows(attachment.content_type):
            return "file_type"
        if attachment.size is not None and attachment.size > self._policy.max_bytes:
            return "file_too_big"
        return None

    async def _pass(self, attachment: Attachment, conversation: str, source: FileSource | None) -> SentFile:
        assert source is not None
        async with source.download(attachment, self._policy.max_bytes) as download:
            return await self._agent.upload_file(conversation, attachment.name, attachment.content_type, download)


def notes_reply(notes: Sequence[Words]) -> Reply:
    """The reply to a question of files alone, none of which could be passed on."""
    english = "\n".join(texts.text(n.key, "en", **dict(n.values)) for n in notes)
    return Reply(english, ReplyKind.NOTICE, words=tuple(notes))


async def pass_files(
    files: FilePassing | None, q: QuestionRecord, conversation: str, outbound: Outbound, time_left: float
) -> Passed:
    """Upload the question's files (``files`` None: FILES=off, or an agent API that takes
    none) in a share of the ``time_left`` before the question's deadline; ``notes`` say
    which were left out, for the reply."""
    if files is None:
        return Passed(notes=[Words("files_unsupported")])
    return await files.upload(q, conversation, outbound, max(0.0, time_left) * FILES_SHARE)
