"""The core's ``Transcriber`` port over an OpenAI-compatible transcription endpoint: one
``multipart/form-data`` POST (``file``, ``model``, ``response_format=json``), the
recording streamed into it as it arrives from the chat platform, ``{"text": …}`` back.

Every HTTP status and transport failure becomes one ``TranscriptionFailed`` here and
nowhere else; the key goes only in the ``Authorization`` header, never in a log line,
an error or a repr."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.files import Multipart
from bridge.errors import FileUnavailable, TranscriptionFailed
from bridge.ports.outbound import Download

PATH = "/audio/transcriptions"
# A minute of speech takes a few seconds to transcribe; a long note, longer.
TIMEOUT = httpx.Timeout(10.0, read=120.0, write=60.0)
CHECK_TIMEOUT = httpx.Timeout(10.0)


def endpoint(url: str) -> str:
    """TRANSCRIBE_URL as the endpoint: given whole (``…/v1/audio/transcriptions``) or as
    the API's base (``https://api.openai.com/v1``), to which the path is added."""
    url = url.rstrip("/")
    return url if url.endswith(PATH) else url + PATH


class TranscriptionClient:
    """Implements ``Transcriber``. The ``httpx.AsyncClient`` is injected."""

    def __init__(self, http: httpx.AsyncClient, *, url: str, api_key: str | None, model: str) -> None:
        self._http = http
        self._url = endpoint(url)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._model = model

    def __repr__(self) -> str:
        return f"TranscriptionClient(url={self._url!r}, model={self._model!r})"

    async def transcribe(self, name: str, content_type: str, download: Download) -> str:
        body = Multipart({"model": self._model, "response_format": "json"}, "file", name, content_type, download)
        try:
            response = await self._http.post(
                self._url, content=body.stream(), headers=self._headers | body.headers(), timeout=TIMEOUT
            )
        except httpx.TimeoutException:
            raise TranscriptionFailed(
                "the transcription service timed out", reason="voice_timeout", retryable=True
            ) from None
        except httpx.HTTPError as exc:
            if body.broken is not None:
                raise body.broken from None
            raise TranscriptionFailed(f"transcription: {type(exc).__name__}", retryable=True) from None
        if body.broken is not None:
            raise FileUnavailable(str(body.broken))
        return _text(response)

    async def check(self) -> tuple[bool, str]:
        """Whether the endpoint accepts the key, without transcribing anything: a request
        with no file is refused as incomplete (400/422) by a server that took the key, and
        as unauthorised (401/403) by one that did not."""
        try:
            response = await self._http.post(
                self._url, files={"model": (None, self._model)}, headers=self._headers, timeout=CHECK_TIMEOUT
            )
        except httpx.HTTPError as exc:
            return False, f"cannot reach {self._url} ({type(exc).__name__})"
        if response.status_code in (401, 403):
            return False, f"{self._url} refused the key ({response.status_code}): check TRANSCRIBE_API_KEY"
        if response.status_code == 404:
            return False, f"{self._url} answered 404: is TRANSCRIBE_URL an /v1/audio/transcriptions endpoint?"
        if response.status_code >= 500:
            return False, f"{self._url} answered {response.status_code}"
        return True, f"{self._url} accepts the key (model {self._model})"


def _text(response: httpx.Response) -> str:
    status = response.status_code
    if status in (401, 403):
        raise TranscriptionFailed(f"the transcription service refused the key ({status})", reason="voice_refused")
    if status == 429 or status >= 500:
        raise TranscriptionFailed(f"the transcription service answered {status}", retryable=True)
    if status >= 300:
        raise TranscriptionFailed(f"the transcription service answered {status}: {_detail(response)}")
    try:
        body: Any = response.json()
    except ValueError:
        raise TranscriptionFailed("the transcription service answered something other than JSON") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise TranscriptionFailed("the transcription service's answer has no text")
    return text


def _detail(response: httpx.Response) -> str:
    """OpenAI's ``{"error": {"message": …}}``, shortened; else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:200] if message else response.reason_phrase
