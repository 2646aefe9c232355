"""What watching for takeovers costs, and how quickly a staff member's words reach the chat.

    python bench/takeover.py            # 1,000 known conversations; 60 s idle, 60 s with 20 taken over
    python bench/takeover.py --quick    # 200 conversations, 40 s each

The raia simulator (on loopback), the bridge's runtime on a fresh SQLite database and a
recording outbound run in this process, with default settings (HANDOFF_SCAN=30). First
every person asks once (so the bridge knows their conversations) and the first listing
pages through them (it looks back an hour after a start; reported apart); then, with none
taken over, the raia requests spent on watching are counted (target: <= 10 a minute). Then
20 conversations are taken over and their staff members write 3 messages each at random
moments: the delay from a staff message to the chat (once the takeover is noticed) is measured (p50 / p99; target:
within 10 s, as watched conversations are looked at at most 8 s apart), and the
requests per minute again.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.raia.simulator import RaiaSimulator  # noqa: E402
from bridge.app.runtime import open_runtime  # noqa: E402
from bridge.app.settings import Settings  # noqa: E402
from bridge.models import InboundMessage, Origin, PlatformUser, Reply  # noqa: E402
from bridge.ports.outbound import DeliveryProgress, LiveText  # noqa: E402
from tests.fakes.server import serving  # noqa: E402

KEY = "bench-key-0123456789"
WATCHING = ("/external/conversations",)  # the listing, a conversation, its messages


class Chat:
    """Records when each text reached the chat."""

    platform = "bench"

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.count = 0
        self.notices = 0  # takeovers noticed

    async def deliver(self, origin: Origin, reply: Reply, progress: DeliveryProgress) -> None:
        self.at.setdefault(reply.text, time.time())
        self.count += 1
        self.notices += reply.text.startswith("Dana from the support team")
        await progress.part_delivered(1)

    @asynccontextmanager
    async def working(self, origin: Origin) -> AsyncIterator[None]:
        yield

    async def profile(self, user: PlatformUser) -> PlatformUser:
        return user

    def live(self, origin: Origin, language: str = "en", key: str = "") -> LiveText | None:
        return None


def watching_calls(sim: RaiaSimulator) -> int:
    return sum(1 for method, path in sim.calls if method == "GET" and path.startswith(WATCHING))


async def main(people: int, window: float) -> None:
    sim = RaiaSimulator(api_key=KEY, delay=lambda _: 0.0)
    chat = Chat()
    with tempfile.TemporaryDirectory() as work:
        async with serving(sim) as raia:
            settings = Settings(_env_file=None, raia_api_key=KEY, raia_base_url=raia, raia_poll_interval=0.05)
            async with open_runtime(settings, database=Path(work) / "b.db") as rt:
                rt.service.register(chat)
                async with rt.service.running(5):
                    for i in range(people):
                        user = PlatformUser(f"bench:{i}", f"P{i}", "Bench")
                        await rt.service.receive(
                            InboundMessage("bench", user, Origin(chat=f"c{i}"), f"question {i}", (f"k{i}",))
                        )
                    while chat.count < people:
                        await asyncio.sleep(0.1)
                    # The first listing after a start looks back an hour: here it pages through
                    # every conversation just asked (a one-off, counted apart).
                    while not sim.takeover.pages:
                        await asyncio.sleep(0.1)
                    settled = -1
                    while settled != len(sim.takeover.pages):
                        settled = len(sim.takeover.pages)
                        await asyncio.sleep(1.0)
                    first_pages = settled
                    print(f"{people} conversations known; watching for {window:.0f} s with none taken over…")
                    before, began = watching_calls(sim), time.monotonic()
                    await asyncio.sleep(window)
                    idle = (watching_calls(sim) - before) / ((time.monotonic() - began) / 60)

                    rng = random.Random(7)
                    taken = rng.sample(sorted(sim.conversations), 20)
                    taken_at = time.monotonic()
                    for cid in taken:
                        sim.takeover.take(cid, staff="Dana")
                    while chat.notices < len(taken):  # idle conversations: found by the listing
                        await asyncio.sleep(0.1)
                    found = time.monotonic() - taken_at
                    written: dict[str, float] = {}
                    moments = sorted((rng.uniform(0, window), cid, n) for cid in taken for n in range(3))
                    print(f"20 taken over; 60 staff messages over {window:.0f} s…")
                    before, began = watching_calls(sim), time.monotonic()
                    for at, cid, n in moments:
                        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
                        text = f"staff {cid[:8]} #{n}"
                        sim.takeover.write(cid, text)
                        written[text] = time.time()
                    deadline = time.monotonic() + 30
                    while not all(t in chat.at for t in written) and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                    busy = (watching_calls(sim) - before) / ((time.monotonic() - began) / 60)
    delays = sorted(chat.at[t] - at for t, at in written.items() if t in chat.at)
    print()
    print(f"first listing after the start (looks back an hour): {first_pages} page(s), once")
    print(f"raia requests a minute spent on watching, none taken over: {idle:.1f} (target <= 10)")
    print(f"... with 20 taken over: {busy:.1f}")
    print(f"20 takeovers of idle conversations noticed (one listing) after {found:.1f} s (target <= 60)")
    if delays:
        p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
        print(
            f"staff message -> chat: p50 {statistics.median(delays):.2f} s, p99 {p99:.2f} s, "
            f"max {delays[-1]:.2f} s ({len(delays)}/{len(written)} delivered)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 conversations, 40 s windows")
    args = parser.parse_args()
    asyncio.run(main(200, 40.0) if args.quick else main(1000, 60.0))
