"""Long answers are cut into parts only between grapheme clusters (what a reader sees as one character)."""

from __future__ import annotations

from itertools import accumulate, cycle, islice

from adapters.graphemes import cut_before, is_boundary
from adapters.slack.render import render as slack_render
from adapters.slack.render import split_mrkdwn
from adapters.telegram.render import render as telegram_render
from bridge.models import Reply

CLUSTERS = (
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family: four people joined by ZWJs
    "\U0001f1e9\U0001f1ea",  # flag of Germany: two regional indicators
    "\U0001f44d\U0001f3fd",  # thumbs up, medium skin tone
    "e\u0301",  # e with a combining acute accent
    "\u2764\ufe0f",  # heart with the emoji variation selector
    "1\ufe0f\u20e3",  # keycap 1
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland: tags
    "\U0001f469\U0001f3fe\u200d\U0001f4bb",  # woman technologist, skin tone, ZWJ
    "\U0001f1eb\U0001f1f7",  # flag of France
    "x",
)


def answer(count: int) -> tuple[str, set[int]]:
    """``count`` clusters without a space or line break, and the offsets between them."""
    clusters = list(islice(cycle(CLUSTERS), count))
    return "".join(clusters), {0, *accumulate(len(c) for c in clusters)}


def test_the_rules_keep_each_cluster_whole() -> None:
    """Cuts fall only between clusters; flags pair up from the start of a run of indicators."""
    for cluster in CLUSTERS:
        text = f"a{cluster}b"
        assert [i for i in range(len(text) + 1) if is_boundary(text, i)] == [0, 1, 1 + len(cluster), len(text)]
    flags = "\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7\U0001f1ee\U0001f1f9"  # DE FR IT
    assert [i for i in range(len(flags) + 1) if is_boundary(flags, i)] == [0, 2, 4, 6]
    assert is_boundary("a\r\nb", 1)
    assert not is_boundary("a\r\nb", 2)
    # One cluster longer than any part (a letter under hundreds of marks) is cut where it must be.
    zalgo = "a" + "\u0301" * 500
    assert cut_before(zalgo, 100) == 100


def test_slack_parts_never_tear_a_cluster() -> None:
    """A long line of emoji sequences, flags, skin tones and accents is cut between clusters
    only, within the limit, and nothing is lost."""
    text, boundaries = answer(700)
    for limit in (100, 101, 333):
        parts = split_mrkdwn(text, limit)
        assert len(parts) > 3
        assert "".join(parts) == text
        assert all(len(p) <= limit for p in parts)
        assert set(accumulate(len(p) for p in parts)) <= boundaries


def test_slack_notification_text_is_shortened_between_clusters() -> None:
    """The plain-text fallback of a message past 3,000 characters ends in whole clusters and "…"."""
    text, boundaries = answer(1200)
    for message in slack_render(Reply(text)):
        shown = message.text.removesuffix("…")
        assert text.find(shown) in {0, *boundaries}
        assert text.find(shown) + len(shown) in boundaries


def test_telegram_parts_never_tear_a_cluster() -> None:
    """Telegram's parts stay within the limit in UTF-16 units and are cut between clusters only."""
    text, boundaries = answer(2000)
    for limit in (100, 101, 4096):
        parts = telegram_render(Reply(text), limit=limit)
        assert len(parts) > 1
        assert "".join(p.text for p in parts) == text
        assert all(len(p.text.encode("utf-16-le")) // 2 <= limit for p in parts)
        assert set(accumulate(len(p.text) for p in parts)) <= boundaries


def test_telegram_prefers_line_breaks_then_spaces_and_clips_entities() -> None:
    """A part ends at its last line break, else at a space in its second half; bold text
    spanning a cut is bold in both parts."""
    words = " ".join(f"w{i:05d}" for i in range(40))  # 279 characters, a space every 7
    parts = telegram_render(Reply(f"**{words}**\n{'y' * 80}"), limit=120)
    assert [len(p.text) for p in parts] == [119, 119, 42, 80]
    assert [p.text[-7:] for p in parts[:3]] == ["w00016 ", "w00033 ", "w00039\n"]
    assert [[(e.type, e.offset, e.length) for e in p.entities] for p in parts] == [
        [("bold", 0, 119)],
        [("bold", 0, 119)],
        [("bold", 0, 41)],
        [],
    ]
