"""Files the agent made with its answer (a chart, a CSV), delivered after the answer's text.

Each file is a delivery part, recorded in the store like the text's parts: the text's
parts count from 1, a reply with files records ``FILE_PARTS`` once its text is all
posted, and ``FILE_PARTS + n`` once its n-th file is. A restart (``kill -9`` mid-upload,
a lost response) posts neither a part nor a file twice, and the store needed no new
column. A file is fetched from the agent only when it is delivered, and streamed to the
chat a chunk at a time (never whole in memory, never on disk or in the database). A file
over the limit (``FILES_MAX_MB``, or the platform's own) or that cannot be fetched
becomes one short line with its name and size instead, in the person's language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from bridge import texts
from bridge.delivery import Unstored
from bridge.errors import AgentError, DeliveryRetryable, FileUnavailable
from bridge.models import AnswerFile, Origin, Reply
from bridge.ports.agent import GivesFiles
from bridge.ports.outbound import DeliveryProgress, FileSink, Outbound

log = logging.getLogger("bridge.turn")

# The part number a reply's text is recorded done at, when files follow it: far above any
# text's part count (a reply is split into a handful of messages).
FILE_PARTS = 10_000
# One file's fetch and post together, at most: a stalled transfer ends and is retried.
FILE_TIMEOUT = 600.0
MB = 1024 * 1024


def size_text(size: int) -> str:
    """A file's size for people: "850 KB", "63 MB"."""
    if size >= MB:
        return f"{size / MB:.3g} MB"
    return f"{max(1, round(size / 1024))} KB"


def text_done(progress: DeliveryProgress) -> bool:
    """The reply's text was all posted by an earlier attempt (only its files are left)."""
    return progress.done >= FILE_PARTS


class FileDelivery:
    """Posts an answer's files where the answer went, each once."""

    def __init__(self, agent: GivesFiles | None, max_bytes: int, timeout: float = FILE_TIMEOUT) -> None:
        self._agent = agent
        self._max_bytes = max_bytes  # FILES_MAX_MB
        self._timeout = timeout

    async def deliver(self, origin: Origin, reply: Reply, outbound: Outbound, progress: DeliveryProgress) -> None:
        """After the reply's text: each file not posted yet, in order. Raises the platform's
        delivery errors (the core retries the delivery; posted files are skipped)."""
        files = distinct_names(reply.answer_files)
        if not files:
            return
        if progress.done < FILE_PARTS:
            await progress.part_delivered(FILE_PARTS)
        sink = outbound if isinstance(outbound, FileSink) else None
        first = progress.done - FILE_PARTS
        for index in range(first, len(files)):
            file = files[index]
            # Only the file an earlier attempt was at may have been posted without a record.
            uncertain = progress.uncertain and index == first
            line = await self._post(origin, file, sink, key=progress.key, uncertain=uncertain)
            if line is not None:
                await outbound.deliver(origin, texts.localize(line, reply.language), Unstored())
            await progress.part_delivered(FILE_PARTS + index + 1)

    async def _post(
        self, origin: Origin, file: AnswerFile, sink: FileSink | None, *, key: str, uncertain: bool
    ) -> Reply | None:
        """Post one file; or the line to post instead (its name and size)."""
        limit = self._max_bytes if sink is None else min(self._max_bytes, sink.max_file_bytes)
        if file.size is not None and file.size > limit:
            log.info("answer file %r left out: %d bytes is over the %d limit", file.name, file.size, limit)
            return _too_big(file, file.size)
        if sink is None or self._agent is None:
            log.warning("answer file %r left out: this platform or agent takes no files", file.name)
            return _failed(file)
        try:
            async with asyncio.timeout(self._timeout), self._agent.answer_file(file, limit) as download:
                if download.size is not None and download.size > limit:
                    log.info("answer file %r left out: %d bytes is over the %d limit", file.name, download.size, limit)
                    return _too_big(file, download.size)
                await sink.post_file(origin, file, download, key=key, uncertain=uncertain)
        except TimeoutError as exc:
            # Mid-post, the platform may have taken it: the next attempt looks where it can.
            raise DeliveryRetryable(f"answer file {file.name!r} not through in {self._timeout:g}s") from exc
        except FileUnavailable as exc:
            log.warning("answer file %r left out: %s", file.name, exc)
            return _too_big(file, file.size or limit + 1) if exc.reason == "file_too_big" else _failed(file)
        except AgentError as exc:
            if exc.retryable:
                raise DeliveryRetryable(f"answer file {file.name!r}: {exc}", maybe_posted=False) from exc
            log.warning("answer file %r left out: the agent refused it (%s)", file.name, exc)
            return _failed(file)
        return None


def distinct_names(files: Sequence[AnswerFile]) -> list[AnswerFile]:
    """A reply's files, a name that comes again numbered ("report (2).csv"): a retry that
    looks for a file it may have posted finds it by its name (Slack's files carry nothing
    else), and would take an earlier file of the same name for it, the later one then lost.
    The same on every attempt: the reply's files are stored in order."""
    seen: set[str] = set()
    named: list[AnswerFile] = []
    for file in files:
        stem, dot, suffix = file.name.rpartition(".")
        if not stem:  # no extension (or a dot file): the number goes at the end
            stem, dot, suffix = file.name, "", ""
        name, number = file.name, 1
        while name in seen:
            number += 1
            name = f"{stem} ({number}){dot}{suffix}"
        seen.add(name)
        named.append(file if name == file.name else replace(file, name=name))
    return named


def _too_big(file: AnswerFile, size: int) -> Reply:
    return texts.notice("answer_file_too_big", name=file.name, size=size_text(size))


def _failed(file: AnswerFile) -> Reply:
    return texts.notice("answer_file_failed", name=file.name)
