"""How many looks for answers get through when raia is far away: many questions waiting,
each looking every 12 s (RAIA_POLL_MAX_WAIT), against a fake raia that answers every
request after a fixed delay (its round trip), with different numbers of calls allowed in
flight (RAIA_MAX_IN_FLIGHT).

    python bench/look_rate.py                          # 10,000 questions, 100 ms, 32 and 128
    python bench/look_rate.py --limits 32 64 128 --seconds 30 --rounds 2

Each question looks again 12 s after its last answer, as the bridge's poller does, so a
limit that cannot carry the load shows as fewer looks a second (10,000 questions want
833) and looks later than their time. The fake raia is a process of its own; the CPU is
this process's (user + system) per look. Limits are interleaved, ``--rounds`` times;
medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.raia.client import RaiaClient  # noqa: E402
from bench.processes import Child, free_port, stop_all  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from bridge.app.runtime import RAIA_KEEPALIVE  # noqa: E402

EVERY = 12.0  # seconds from one look's answer to the question's next look
PENDING = b'{"status": "pending", "message": null, "error": null}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(PENDING), PENDING)


async def serve(port: int, latency: float) -> None:
    """The fake raia: every request on a connection answered "pending" after ``latency``."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")  # a GET: no body
                await asyncio.sleep(latency)
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


async def one_limit(base: str, questions: int, seconds: float, limit: int) -> tuple[float, float, float, float]:
    """Looks a second, ms of CPU per look, median and 99th percentile seconds late."""
    async with aiohttp.ClientSession() as session:
        raia = RaiaClient(session, base_url=base, api_key="bench", keepalive=RAIA_KEEPALIVE, max_in_flight=limit)
        looks, late, measuring = 0, [], False

        async def waiting(i: int) -> None:
            nonlocal looks
            due = time.monotonic() + random.random() * EVERY
            while True:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await raia.response_on(f"c{i}", "m1")
                if measuring:
                    looks += 1
                    late.append(time.monotonic() - due)
                due = time.monotonic() + EVERY

        tasks = [asyncio.create_task(waiting(i)) for i in range(questions)]
        try:
            await asyncio.sleep(2 * EVERY)  # every question looking, the queue (if any) built up
            measuring, cpu = True, time.process_time()
            await asyncio.sleep(seconds)
            cpu, made, measuring = time.process_time() - cpu, looks, False
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await raia.aclose()
    late.sort()
    p99 = late[int(0.99 * (len(late) - 1))] if late else 0.0
    return made / seconds, 1000 * cpu / max(1, made), statistics.median(late or [0.0]), p99


async def run(args: argparse.Namespace, work: Path) -> dict[int, list[tuple[float, float, float, float]]]:
    port = free_port()
    fake = [sys.executable, __file__, "--serve", str(port), "--latency", str(args.latency)]
    raia = Child("slow-raia", fake, work, f"http://127.0.0.1:{port}")
    results: dict[int, list[tuple[float, float, float, float]]] = {limit: [] for limit in args.limits}
    try:
        await raia.ready("/ready")
        for _ in range(args.rounds):
            for limit in args.limits:
                results[limit].append(await one_limit(raia.base, args.questions, args.seconds, limit))
                rate, cpu, median, p99 = results[limit][-1]
                print(f"{limit} in flight: {rate:.0f} looks/s, {cpu:.3f} ms CPU per look, "
                      f"late {median:.2f} s median, {p99:.2f} s p99", flush=True)  # fmt: skip
    finally:
        stop_all([raia])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10_000, help="questions waiting (default 10,000)")
    parser.add_argument("--latency", type=float, default=0.1, help="raia's round trip, seconds (default 0.1)")
    parser.add_argument("--limits", type=int, nargs="+", default=[32, 128], help="calls in flight (default 32 128)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per limit (default 30)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (default 1)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the fake raia's process, on this port
    args = parser.parse_args()
    if args.serve is not None:
        run_async(serve(args.serve, args.latency))
        return
    with tempfile.TemporaryDirectory(prefix="bench-look-rate-") as tmp:
        results = run_async(run(args, Path(tmp)))
    wanted = args.questions / (EVERY + args.latency)  # a look every 12 s and its round trip
    print(
        f"\n{args.questions:,} questions, each looking {EVERY:g} s after its last answer (up to {wanted:.0f} looks/s);"
    )
    print(f"raia answers after {1000 * args.latency:.0f} ms; medians of {args.rounds} round(s)")
    print(f"{'in flight':>9} {'looks/s':>8} {'ms CPU/look':>12} {'late median':>12} {'late p99':>9}")
    for limit, runs in results.items():
        rate, cpu, median, p99 = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"{limit:>9} {rate:>8.0f} {cpu:>12.3f} {median:>11.2f}s {p99:>8.2f}s")


if __name__ == "__main__":
    main()
