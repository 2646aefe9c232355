"""Spoken questions heard: a voice note, an audio message, a video note or a Slack audio
clip transcribed (``TRANSCRIBE_URL``) before the question is sent, so the agent gets
words it can answer.

The transcript is kept with the question in the store (on its recording), so a restart
between transcription and send never transcribes twice. The person sees what was heard
in one short line before the answer ("🎤 I heard: …"). A recording that cannot be
transcribed (a refused key, a timeout, too long, nothing heard) gives the person one
short line and the operator one log line; a question with no words left is not sent.
Retryable failures are tried again a few times (``bridge.backoff.HEARING``), each time
fetching the recording from the platform afresh (it is streamed, never kept).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from bridge.backoff import HEARING, HEARING_ATTEMPTS, Backoff
from bridge.errors import FileUnavailable, TranscriptionFailed
from bridge.models import Attachment, Words
from bridge.ports.hearing import Transcriber
from bridge.ports.outbound import FileSource, Outbound
from bridge.ports.store import QuestionRecord

log = logging.getLogger("bridge.turn")

MB = 1024 * 1024
MAX_BYTES = 25 * MB  # what OpenAI's transcription endpoint takes in one request
SHOWN = 300  # characters of a transcript shown back in the "I heard" line


def waiting(q: QuestionRecord) -> bool:
    """The question has a recording not transcribed yet."""
    return any(a.spoken and a.transcript is None for a in q.attachments)


def heard_notes(q: QuestionRecord) -> list[Words]:
    """The "🎤 I heard: …" lines for the question's transcribed recordings."""
    lines = []
    for a in q.attachments:
        if a.transcript:
            shown = a.transcript if len(a.transcript) <= SHOWN else a.transcript[: SHOWN - 1].rstrip() + "…"
            lines.append(Words("voice_heard", (("text", shown),)))
    return lines


@dataclass
class Heard:
    attachments: tuple[Attachment, ...]
    failures: list[Words] = field(default_factory=list)  # one line per recording not heard
    changed: bool = False  # a transcript was added: store it before sending


class Hearing:
    """Transcribes a question's recordings (TRANSCRIBE_MAX_SECONDS at most each)."""

    def __init__(
        self,
        transcriber: Transcriber,
        max_seconds: float,
        *,
        sleep: Callable[[float], Awaitable[None]],
        max_bytes: int = MAX_BYTES,
        backoff: Backoff = HEARING,
        attempts: int = HEARING_ATTEMPTS,
    ) -> None:
        self._transcriber = transcriber
        self._max_seconds = max_seconds
        self._sleep = sleep  # raises ShuttingDown when the service stops
        self._max_bytes = max_bytes
        self._backoff, self._attempts = backoff, attempts

    async def hear(self, q: QuestionRecord, outbound: Outbound) -> Heard:
        source = outbound if isinstance(outbound, FileSource) else None
        heard = Heard(q.attachments)
        found = list(q.attachments)
        for index, attachment in enumerate(q.attachments):
            if not attachment.spoken or attachment.transcript is not None:
                continue
            try:
                text = await self._one(attachment, source)
            except TranscriptionFailed as exc:
                log.warning("question=%d recording %r not transcribed: %s", q.id, attachment.name, exc)
                heard.failures.append(Words(exc.reason, (("seconds", f"{self._max_seconds:g}"),)))
                continue
            found[index] = replace(attachment, transcript=text)
            heard.changed = True
        heard.attachments = tuple(found)
        return heard

    async def _one(self, attachment: Attachment, source: FileSource | None) -> str:
        if attachment.duration is not None and attachment.duration > self._max_seconds:
            raise TranscriptionFailed(
                f"{attachment.duration:g}s is over TRANSCRIBE_MAX_SECONDS ({self._max_seconds:g})",
                reason="voice_too_long",
            )
        if source is None:
            raise TranscriptionFailed("this platform's files cannot be fetched")
        failures = 0
        while True:
            try:
                async with source.download(attachment, self._max_bytes) as download:
                    text = (
                        await self._transcriber.transcribe(attachment.name, attachment.content_type, download)
                    ).strip()
            except FileUnavailable as exc:
                raise TranscriptionFailed(f"the recording could not be fetched: {exc}") from exc
            except TranscriptionFailed as exc:
                failures += 1
                if not exc.retryable or failures >= self._attempts:
                    raise
                await self._sleep(self._backoff.wait(failures))
                continue
            if not text:
                raise TranscriptionFailed("the transcript is empty", reason="voice_empty")
            return text
