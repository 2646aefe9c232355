"""CPU per answer of Slack's two renderings, side by side.

    python bench/slack_render.py [--rounds 2000]

Renders the same answers (short, with a list and a link, a Markdown table, a long one
split over messages; each with sources) the native way (``markdown`` and ``table``
blocks, ``adapters.slack.native``) and the mrkdwn way (the converter), and prints the
CPU time per answer and the ratio native / mrkdwn. Render only: posting is the same.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.slack.render import render  # noqa: E402
from bridge.models import FileCitation, Reply, UrlCitation  # noqa: E402

SOURCES = {
    "urls": (UrlCitation("https://docs.example.com/refunds", "Refund policy"),),
    "files": (FileCitation("f1", "handbook.pdf"),),
}
TABLE = "| plan | price | seats |\n| --- | ---: | --- |\n" + "\n".join(
    f"| Plan {i} | {i * 10} € | {i * 5} |" for i in range(1, 9)
)
ANSWERS = {
    "short": "You can get a **full refund** within 14 days of purchase.",
    "list+link": "Refunds:\n\n- **Monthly** plans: within 14 days\n- *Annual* plans: pro rata\n\n"
    "See [the policy](https://docs.example.com/refunds) for details, or ask `billing`.",
    "table": "Here are the plans:\n\n" + TABLE + "\n\nAll prices include VAT.",
    "long": "\n\n".join(
        f"## Step {i}\n\nDo **this** and then *that*; check `setting_{i}` and read "
        f"[page {i}](https://docs.example.com/p{i}). " + "More words follow here. " * 30
        for i in range(1, 40)
    ),
}


def cpu_per(reply: Reply, *, native: bool, rounds: int) -> float:
    render(reply, native=native)  # warm caches (the parsers are built once)
    start = time.process_time()
    for _ in range(rounds):
        render(reply, native=native)
    return (time.process_time() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'answer':<10} {'chars':>6} {'native µs':>10} {'mrkdwn µs':>10} {'native/mrkdwn':>14}")
    for name, text in ANSWERS.items():
        reply = Reply(text, **SOURCES)  # type: ignore[arg-type]
        rounds = max(20, args.rounds // (1 + len(text) // 2000))
        native = cpu_per(reply, native=True, rounds=rounds)
        mrkdwn = cpu_per(reply, native=False, rounds=rounds)
        print(f"{name:<10} {len(text):>6} {native * 1e6:>10.1f} {mrkdwn * 1e6:>10.1f} {native / mrkdwn:>13.2f}×")


if __name__ == "__main__":
    main()
