"""Shared Markdown helpers."""

from __future__ import annotations

from adapters.markdown import literal_angle_brackets


def test_angle_brackets_escaped_outside_code_only() -> None:
    """'<' is escaped in prose and left alone in code spans and fenced blocks."""
    source = "a <b> c `x<y`\n```\nif a < b:\n```\n~~~\n<tag>\n~~~\nafter <z>"
    assert literal_angle_brackets(source) == "a \\<b> c `x<y`\n```\nif a < b:\n```\n~~~\n<tag>\n~~~\nafter \\<z>"
