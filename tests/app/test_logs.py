"""Logging never shows a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bridge.app.logs import JsonLines, Redactor, RedactSecrets


def test_known_secrets_are_redacted_from_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """A token inside a URL or an exception text is replaced before the line is written."""
    token = "123456:AAE-secret-token-value"
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactSecrets([token, "x"]))  # too-short values are not treated as secrets
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/sendMessage failed")
    except RuntimeError:
        logger.exception("request to %s failed", f"https://api.telegram.org/bot{token}/getMe")
    (record,) = [r for r in caplog.records if r.name == "test.redact"]
    assert token not in record.getMessage()
    assert "[redacted]" in record.getMessage()
    assert record.exc_text is not None
    assert token not in record.exc_text
    assert "[redacted]" in record.exc_text


def test_json_lines_keep_the_redaction() -> None:
    """LOG_FORMAT=json writes one JSON object per line, secrets redacted from message and traceback."""
    token = "xoxb-secret-token-value"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RedactSecrets([token]))
    logger = logging.getLogger("test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad {token}")
        except ValueError:
            logger.exception("turn %s failed", token)
        logger.warning("plain line")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "ERROR"
    assert first["logger"] == "test.json"
    assert first["message"] == "turn [redacted] failed"
    assert "ValueError: bad [redacted]" in first["exception"]
    assert second["message"] == "plain line"
    assert token not in stream.getvalue()


def test_a_password_that_is_a_common_word_is_redacted_only_where_it_is_the_password() -> None:
    """DATABASE_URL=postgres://postgres:postgres@db/bridge: the password goes, the scheme, the
    user, the database name and every other "postgres" in a line stay; short secrets too."""
    redact = Redactor(["postgres", "pw", "xoxb-secret-token-value"])
    line = "connecting to postgres://postgres:postgres@db:5432/postgres (PostgreSQL) password=postgres"
    assert redact(line) == (
        "connecting to postgres://postgres:[redacted]@db:5432/postgres (PostgreSQL) password=[redacted]"
    )
    assert redact("the postgres server at db said: password authentication failed") == (
        "the postgres server at db said: password authentication failed"
    )
    assert redact("postgres://bridge:pw@db/bridge and Authorization: Bearer pw") == (
        "postgres://bridge:[redacted]@db/bridge and Authorization: Bearer [redacted]"
    )
    assert redact("a typo, pw, in a word: pwned") == "a typo, pw, in a word: pwned"
    assert redact("token xoxb-secret-token-value/and inside-xoxb-secret-token-value") == (
        "token [redacted]/and inside-[redacted]"
    )
