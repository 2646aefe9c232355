"""Slack's renderings: the mrkdwn converter, and answers in Slack's own Markdown (``markdown``
and ``table`` blocks)."""

from __future__ import annotations

from adapters.slack.native import MARKDOWN_LIMIT, WORD_JOINER
from adapters.slack.render import SlackMessage, plain, render
from bridge.models import Reply, ReplyKind, UrlCitation


def test_the_shared_parser_converts_exactly_like_slackify_markdown() -> None:
    """render.slackify reuses one parser; its output must stay the library's own, call after
    call (the renderer's heading and list state start fresh each time)."""
    from slackify_markdown import slackify_markdown

    from adapters.slack.render import slackify

    samples = [
        "Here is **bold**, *italic*, `code` and [a link](https://example.com).",
        "# Heading\n\n- one\n  - nested\n    - deeper\n- two\n\n1. first\n2. second",
        "> quoted\n> more\n\n```python\nx = 1 < 2 && 3\n```\n\n~~gone~~",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "# Unclosed *emphasis\n- list",
        "",
    ]
    for sample in samples * 2:
        assert slackify(sample) == slackify_markdown(sample), sample


def _kinds(message: SlackMessage) -> list[str]:
    return [str(b["type"]) for b in message.blocks]


def test_an_answer_goes_in_a_markdown_block_with_compact_sources() -> None:
    """Standard Markdown goes to Slack as it is (a ``markdown`` block), the sources as one
    mrkdwn list under it; a bare @here is defused as on the mrkdwn way."""
    text = "You get a **full refund** within 14 days.\n\n- monthly\n- [annual](https://e.com/a) @here"
    (message,) = render(Reply(text, urls=(UrlCitation("https://e.com/p", "Policy"),)))
    assert _kinds(message) == ["markdown", "section"]
    assert message.blocks[0]["text"] == text.replace("@here", f"@{WORD_JOINER}here")
    assert message.blocks[1]["text"]["text"] == "*Sources*\n• <https://e.com/p|Policy>"
    assert message.text.startswith("You get a **full refund**")


def test_a_markdown_table_becomes_a_table_block() -> None:
    """A Markdown table is a ``table`` block (header first, cells as plain words), the text
    around it stays Markdown in order; two tables go to two messages (one per message)."""
    table = "| Plan | **Price** |\n| --- | ---: |\n| Basic | 10 € |\n| Pro | `20 €` |"
    messages = render(Reply(f"Plans:\n\n{table}\n\nVAT included.\n\n{table}"))
    assert [_kinds(m) for m in messages] == [["markdown", "table", "markdown"], ["table"]]
    rows = [[cell["text"] for cell in row] for row in messages[0].blocks[1]["rows"]]
    assert rows == [["Plan", "Price"], ["Basic", "10 €"], ["Pro", "20 €"]]
    assert all(cell["type"] == "raw_text" for row in messages[0].blocks[1]["rows"] for cell in row)
    assert messages[0].blocks[0]["text"] == "Plans:"
    assert messages[0].blocks[2]["text"] == "VAT included."


def test_a_table_past_slacks_limits_stays_aligned_as_code() -> None:
    """More than 100 rows: no table block (Slack would refuse it), the pipes as code."""
    table = "| n |\n| --- |\n" + "\n".join(f"| {i} |" for i in range(150))
    (message,) = render(Reply(table))
    assert _kinds(message) == ["markdown"]
    assert message.blocks[0]["text"].startswith("```\n| n |")


def test_what_needs_the_converter_goes_the_mrkdwn_way() -> None:
    """Slack's own syntax (a mention, a mrkdwn link) or a link to anything but the web:
    converted to mrkdwn sections, where it is made harmless; so are the bridge's notices."""
    for text in (
        "Ask <@U123> or <!here>",
        "See <https://e.com|this>",
        "Mail [us](mailto:a@e.com)",
        "![x](https://e.com/i.png)",
    ):
        (message,) = render(Reply(text))
        assert _kinds(message) == ["section"], text
    (notice,) = render(Reply("**not markdown**", kind=ReplyKind.NOTICE))
    assert _kinds(notice) == ["section"]
    assert render(Reply("**x**"), native=False)[0].blocks[0]["type"] == "section"


def test_a_long_answer_is_split_within_the_markdown_limit() -> None:
    """Each message's Markdown stays within the block's limit; nothing is lost or doubled;
    refused blocks fall back to the same words in mrkdwn (``plain``)."""
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 150 for i in range(120))
    messages = render(Reply(text))
    assert len(messages) > 1
    chunks = [b["text"] for m in messages for b in m.blocks if b["type"] == "markdown"]
    assert all(sum(len(b["text"]) for b in m.blocks if b["type"] == "markdown") <= MARKDOWN_LIMIT for m in messages)
    assert [c.split(":")[0] for p in chunks for c in p.split("\n\n")] == [f"Paragraph {i}" for i in range(120)]
    assert plain(messages[0]).startswith("Paragraph 0: word word")
