"""The simulated agent's side: what it answers (readable Markdown with URL and file
citations, raia's citation markers included) and how long it thinks."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SimAnswer:
    text: str
    urls: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, str]] = field(default_factory=list)


def demo_answer(question: str) -> SimAnswer | None:
    """The simulator's default agent: a readable Markdown answer with sources."""
    if "[fail]" in question:
        return None
    topic = question.strip().rstrip("?!.") or "that"
    return SimAnswer(
        text=(
            f"Here is what I found about **{topic}**【4:0†source】:\n\n"
            "- The *short* answer: it depends on your plan.\n"
            "- Details are in the handbook, section 2.\n\n"
            "```\nexample: value < 10 && ok\n```\n\n"
            "Ask me a follow-up any time."
        ),
        urls=[
            {"url": "https://docs.example.com/handbook", "title": "Team handbook"},
            {"url": "https://docs.example.com/handbook", "title": "Team handbook"},
            {"url": "https://example.com/pricing", "title": "Pricing & plans"},
        ],
        files=[
            {"fileId": "file-1", "filename": "handbook.pdf"},
            {"fileId": "file-1", "filename": "handbook.pdf"},
        ],
    )


def demo_delay(_: str) -> float:
    return random.uniform(1.0, 3.0)


_DELAY_IN_TEXT = re.compile(r"delay=(\d+(?:\.\d+)?)")


def delay_from_text(question: str) -> float:
    """For benchmarks: a question containing ``delay=12.5`` is answered after 12.5 s."""
    found = _DELAY_IN_TEXT.search(question)
    return float(found.group(1)) if found else 0.0
