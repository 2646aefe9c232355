"""A long answer shortened into one guest message (adapters.telegram.guest.shortened)."""

from __future__ import annotations

from telegramify_markdown import MessageEntity

from adapters.telegram.guest import shortened
from adapters.telegram.render import MAX_MESSAGE, Part, split


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_shortened_answer_fits_one_message_and_no_formatting_reaches_its_ending() -> None:
    """The beginning of the answer, cut at a line break, plus the ending, within 4,096 units;
    a bold run and a link that span the cut (and the whitespace before it) stop where the
    answer's words stop, so the ending carries no link or bold."""
    line = "word " * 19 + "\n"  # 96 units a line
    text = line * 60
    cut_inside = len(text) // 2
    entities = [
        MessageEntity(type="bold", offset=0, length=len(text)),
        MessageEntity(type="text_link", offset=cut_inside - 10, length=len(text) - cut_inside, url="https://e.com"),
    ]
    parts = split(text, entities, MAX_MESSAGE)
    assert len(parts) == 2
    short = shortened(parts, "en")
    assert _units(short.text) <= MAX_MESSAGE
    assert short.text.endswith("\n\n… the full answer is in our private chat.")
    words_end = _units(short.text[: short.text.rindex("\n\n…")])
    assert short.entities
    assert all(e.offset + e.length <= words_end for e in short.entities)
    assert text.startswith(short.text[: short.text.rindex("\n\n…")])


def test_a_shortened_answer_ends_in_the_persons_language() -> None:
    parts = [Part("a" * 4000 + "\n"), Part("b" * 100)]
    assert shortened(parts, "de").text.endswith("… die vollständige Antwort steht in unserem privaten Chat.")
