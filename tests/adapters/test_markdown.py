"""Shared Markdown helpers."""

from __future__ import annotations

from adapters.markdown import literal_angle_brackets, web_url


def test_angle_brackets_escaped_outside_code_only() -> None:
    """'<' is escaped in prose and left alone in code spans and fenced blocks."""
    source = "a <b> c `x<y`\n```\nif a < b:\n```\n~~~\n<tag>\n~~~\nafter <z>"
    assert literal_angle_brackets(source) == "a \\<b> c `x<y`\n```\nif a < b:\n```\n~~~\n<tag>\n~~~\nafter \\<z>"


def test_only_absolute_web_urls_may_become_links() -> None:
    """http(s) with a host may be a link; Slack's and Telegram's mention forms, relative links and others may not."""
    assert web_url("https://e.com/a")
    assert web_url("HTTP://e.com")
    for url in ("!here", "@U1", "!subteam^S1", "#C1", "tg://user?id=5", "mailto:a@b.c", "docs/x", "https://", "", None):
        assert not web_url(url), url
