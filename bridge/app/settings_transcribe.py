"""The settings of spoken questions (``bridge.hearing``): a group of ``Settings``
(``bridge.app.settings``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class TranscribeSettings(BaseModel):
    """An OpenAI-compatible /v1/audio/transcriptions endpoint (or its API's base URL);
    unset = recordings go to the agent as files only."""

    transcribe_url: str | None = None
    transcribe_api_key: SecretStr | None = None
    transcribe_model: str = "whisper-1"
    transcribe_max_seconds: float = Field(default=300.0, gt=0, le=7200)
