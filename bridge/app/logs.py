"""Logging: one format, secrets redacted wherever they might appear."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable


class Redactor:
    """Replaces every known secret value in a text with ``[redacted]``. Values shorter
    than six characters are left alone: they would match ordinary words."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


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


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore", "telegram.ext", "slack_bolt", "slack_sdk", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
