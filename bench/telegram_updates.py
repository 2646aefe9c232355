"""CPU per Telegram update read and translated: python-telegram-bot's objects (before) and
the bridge's own reading of the JSON (``adapters.telegram.wire``, after), side by side.

    python bench/telegram_updates.py [--before 47e2ffb] [--rounds 20000]

"Before" is that commit's ``adapters/telegram/events.py`` (extracted with ``git show``)
fed by ``telegram.Update.de_json``, as the webhook did; "after" is this checkout's
``events.classify`` fed by ``wire.Update``. Both get the same updates, already parsed from
JSON (that step is the same for both): a private question, a group mention, a reply to
the bot in a forum topic, a photo with a caption, a command and a guest question. Printed:
CPU microseconds per update for each kind and for the mix, and the ratio after / before.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402

from adapters.base import Allowlist  # noqa: E402
from adapters.telegram import events, wire  # noqa: E402
from tests.fakes import telegram as tg  # noqa: E402


def updates() -> dict[str, dict[str, Any]]:
    group = -100_123
    text = f"@{tg.BOT_USERNAME} what does the premium plan include?"
    photo = {
        "photo": [
            {"file_id": "s", "file_unique_id": "u1", "width": 90, "height": 90, "file_size": 900},
            {"file_id": "b", "file_unique_id": "u2", "width": 1280, "height": 960, "file_size": 90_000},
        ],
        "caption": "What is in this picture?",
    }
    topic = {"message_thread_id": 77, "is_topic_message": True}
    return {
        "private question": tg.message("How do refunds work for annual plans?"),
        "group mention": tg.message(text, chat_id=group, chat_type="supergroup", entities=tg.mention(text)),
        "reply in a topic": tg.message(
            "and for monthly ones?", chat_id=group, chat_type="supergroup", reply_to_bot=True, extra=topic
        ),
        "photo": tg.message(None, extra=photo),
        "command": tg.message("/help"),
        "guest question": tg.guest(text),
    }


def before_module(commit: str) -> Any:
    source = subprocess.run(  # noqa: S603
        ["git", "-C", str(ROOT), "show", f"{commit}:adapters/telegram/events.py"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-tg-")) / "events_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("events_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["events_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cpu_per_update(read: Callable[[dict[str, Any]], object], data: dict[str, Any], rounds: int) -> float:
    """CPU microseconds per call (the best of three runs: the least disturbed)."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(rounds):
            read(data)
        best = min(best, time.process_time() - start)
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="47e2ffb", help="the commit whose events.py read PTB's objects")
    parser.add_argument("--rounds", type=int, default=20_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # PTB's deprecation notes, as the webhook silenced them
    old = before_module(args.before)
    allow = Allowlist()
    old_bot = old.BotIdentity(id=tg.BOT_ID, username=tg.BOT_USERNAME)
    new_bot = events.BotIdentity(id=tg.BOT_ID, username=tg.BOT_USERNAME)

    def before(data: dict[str, Any]) -> object:
        update = Update.de_json(data, None)
        if update.guest_message is not None and not hasattr(old, "_guest"):
            return None  # a version without guest mode: not comparable
        return old.classify(update, old_bot, allow)

    def after(data: dict[str, Any]) -> object:
        return events.classify(wire.Update(data), new_bot, allow)

    print(f"CPU per update, microseconds (best of 3 x {args.rounds:,}); before = {args.before} (PTB objects)")
    print(f"{'update':<20} {'before':>8} {'after':>8} {'after/before':>13}")
    totals = [0.0, 0.0]
    for name, data in updates().items():
        assert type(before(data)) is not type(None)
        pair = (cpu_per_update(before, data, args.rounds), cpu_per_update(after, data, args.rounds))
        totals = [totals[0] + pair[0], totals[1] + pair[1]]
        print(f"{name:<20} {pair[0]:8.1f} {pair[1]:8.1f} {pair[1] / pair[0]:12.2f}x")
    count = len(updates())
    mix = (totals[0] / count, totals[1] / count)
    print(f"{'mix (mean)':<20} {mix[0]:8.1f} {mix[1]:8.1f} {mix[1] / mix[0]:12.2f}x")


if __name__ == "__main__":
    main()
