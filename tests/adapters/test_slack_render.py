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
