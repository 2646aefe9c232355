"""Logging: one format, secrets redacted wherever they might appear."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable

# A secret that reads like a word ("postgres", "bridge", "secret1"), or is too short to be
# told from one, would blank that word everywhere (the URL scheme, the database name, any
# sentence). Such secrets are redacted only where they stand as a value: after ":" or "="
# (a URL's user:password@, key=value) or "Bearer ", up to a delimiter.
_WORDLIKE = re.compile(r"[A-Za-z]+\d{0,4}")
_AS_VALUE = r"(?:(?<=[:=])|(?<=Bearer ))(?:{})(?=[@&\s\"',;)/]|$)"


class Redactor:
    """Replaces every known secret value in a text with ``[redacted]``: everywhere it
    appears, or, for a secret that reads like a word or is shorter than six characters,
    wherever it stands as a value (``user:secret@``, ``password=secret``)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if s}
        anywhere = {s for s in unique if len(s) >= 6 and not _WORDLIKE.fullmatch(s)}
        self._anywhere = sorted(anywhere, key=len, reverse=True)
        valued = sorted(unique - anywhere, key=len, reverse=True)
        self._as_value = re.compile(_AS_VALUE.format("|".join(map(re.escape, valued)))) if valued else None

    def __bool__(self) -> bool:
        return bool(self._anywhere) or self._as_value is not None

    def __call__(self, text: str) -> str:
        for secret in self._anywhere:
            text = text.replace(secret, "[redacted]")
        return self._as_value.sub("[redacted]", text) if self._as_value is not None else text


class RedactSecrets(logging.Filter):
    """Replaces every known secret value in a record's final text with ``[redacted]``.

    The code never logs secrets on purpose; this is the net under it (a Telegram token
    is part of every Bot API URL, and libraries log URLs)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._redact:
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self._redact(record.getMessage()), None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True


class JsonLines(logging.Formatter):
    """``LOG_FORMAT=json``: one JSON object per line, for log platforms that parse them.
    Applied after the redaction filter, so secrets are gone from message and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _Unused(logging.Filter):
    """slack_bolt warns that the token "will be unused" whenever SLACK_BOT_TOKEN is in the
    environment and a client is given, which is exactly how the bridge means it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def configure_logging(level: str, secrets: Iterable[str] = (), *, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLines() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(_Unused())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore", "telegram.ext", "slack_bolt", "slack_sdk", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def instrument_retries() -> None:
    """stamina's retries of raia calls: counted for /metrics and logged as a sentence
    (its default log line is a bare "stamina.retry_scheduled")."""
    from stamina.instrumentation import PrometheusOnRetryHook, RetryDetails, set_on_retry_hooks

    retry_log = logging.getLogger("bridge.retry")

    def log_retry(details: RetryDetails) -> None:
        # The cause names the call ("GET /agents/by-api-key: 503 ..."), never the key.
        cause = f"{type(details.caused_by).__name__}: {details.caused_by}"
        retry_log.warning("retrying a raia call (retry %d) in %.1fs: %s", details.retry_num, details.wait_for, cause)

    set_on_retry_hooks([PrometheusOnRetryHook, log_retry])
