"""The port through which the core has a recording transcribed (``TRANSCRIBE_URL``: an
OpenAI-compatible ``/v1/audio/transcriptions`` endpoint; ``adapters/transcribe``)."""

from __future__ import annotations

from typing import Protocol

from bridge.ports.outbound import Download


class Transcriber(Protocol):
    async def transcribe(self, name: str, content_type: str, download: Download) -> str:
        """What is said in the recording, streamed from ``download``. Raises
        ``TranscriptionFailed`` (``bridge.errors``); a failure of the download itself
        (``FileUnavailable``) passes through."""
        ...
