"""Reply model: citation markers removed, sources de-duplicated, lenient parsing."""

from __future__ import annotations

from adapters.raia.mapping import reply_from_message, strip_citation_markers
from bridge.models import FileCitation, UrlCitation


def test_markers_are_removed() -> None:
    """OpenAI markers like 【4:0†source】 disappear along with the space before them."""
    assert strip_citation_markers("Yes 【4:0†source】. See【12:3†guide.pdf】 too.") == "Yes. See too."


def test_sources_are_deduplicated_and_titled() -> None:
    """Repeated URLs and files appear once; a missing title falls back to the URL."""
    reply = reply_from_message(
        {
            "message": "Answer 【1:0†source】",
            "fullAIResponse": {
                "urlCitations": [
                    {"url": "https://a.example", "title": ""},
                    {"url": "https://a.example", "title": "A"},
                    {"url": "https://b.example", "title": "B"},
                    {"title": "no url"},
                ],
                "fileCitations": [
                    {"fileId": "f1", "filename": "x.pdf"},
                    {"fileId": "f1", "filename": "x.pdf"},
                    {"fileId": "f2", "filename": "x.pdf"},
                    {"fileId": "f3", "filename": "y.md"},
                ],
                "reasoning": ["..."],
                "somethingNew": True,
            },
        }
    )
    assert reply.text == "Answer"
    assert reply.urls == (UrlCitation("https://a.example", "A"), UrlCitation("https://b.example", "B"))
    assert reply.files == (FileCitation("f1", "x.pdf"), FileCitation("f3", "y.md"))


def test_lenient_parsing_of_odd_shapes() -> None:
    """Null citations, a missing fullAIResponse or non-list values never raise."""
    assert reply_from_message({"message": "hi", "fullAIResponse": None}).urls == ()
    assert (
        reply_from_message({"message": "hi", "fullAIResponse": {"urlCitations": None, "fileCitations": "x"}}).files
        == ()
    )
    assert reply_from_message({"message": "", "fullAIResponse": {"outputText": "from output"}}).text == "from output"
