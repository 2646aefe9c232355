"""The simulated agent's side: what it answers (readable Markdown with URL and file
citations, raia's citation markers included) and how long it thinks."""

from __future__ import annotations

import random
import re
import struct
import zlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MadeFile:
    """A file the agent made with its answer (its code interpreter's chart or CSV)."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class SimAnswer:
    text: str
    urls: list[dict[str, str]] = field(default_factory=list)
    files: list[dict[str, str]] = field(default_factory=list)  # knowledge-base citations
    made: list[MadeFile] = field(default_factory=list)  # files on the answer


def chart_png(values: list[int], width: int = 240, height: int = 160) -> bytes:
    """A small bar chart as a PNG, drawn by hand (no imaging library)."""
    bar = width // max(1, len(values))
    top = max(values) or 1
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            index = x // bar
            filled = index < len(values) and x % bar > 3 and height - y <= values[index] * (height - 10) // top
            row += bytes((52, 101, 164) if filled else (250, 250, 250))
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def made_files(question: str) -> list[MadeFile]:
    """What the demo agent makes on request: a chart ("chart") or a table ("csv")."""
    asked = question.lower()
    made = []
    if "chart" in asked:
        made.append(MadeFile("chart.png", "image/png", chart_png([3, 7, 5, 9, 4, 8])))
    if "csv" in asked:
        made.append(MadeFile("data.csv", "text/csv", b"month,signups\nJan,30\nFeb,70\nMar,50\nApr,90\n"))
    return made


def demo_answer(question: str) -> SimAnswer | None:
    """The simulator's default agent: a readable Markdown answer with sources."""
    if "[fail]" in question:
        return None
    topic = question.strip().rstrip("?!.") or "that"
    made = made_files(question)
    if made:
        return SimAnswer(
            text=f"Here you are: {', '.join(f.name for f in made)}, made from this month's numbers.",
            made=made,
        )
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
