"""Replicas side by side: one bridge process on SQLite, then one, two and three on PostgreSQL.

    python bench/replicas.py            # 300 people per burst (about 2 minutes)
    python bench/replicas.py --quick    # 100 people per burst (about 1.5 minutes)
    python bench/replicas.py --only 1xsqlite --platform telegram --users 1000
    python bench/replicas.py --only 1xsqlite --users 1000 --senders 32   # the acknowledgement target

Each configuration runs real bridge processes (``python -m bridge``, Slack HTTP mode or the
Telegram webhook, default settings otherwise) on a fresh database, with a fresh raia simulator
(fixed answer delay) and a fresh fake Slack Web API or Telegram Bot API, each in a process of
its own. This process is only the load generator: N new people each send one Slack DM or
Telegram private message at once (or through ``--senders`` concurrent senders, each posting its
share one after the other), the webhook posts spread round-robin over the replicas as a load
balancer would; then the same people ask once more (known users: no raia user or conversation to
create). Before those rounds 30 other people per replica ask once, unmeasured, as in a
bridge that has been running: its poll schedule has learned how long the agent takes
(``--cold``: a new installation, which has not seen an answer yet). A round ends when the fake
platform has every answer (on Slack, also every hourglass reaction removed again).

Bridge CPU is the user + system time of the bridge processes over a round (start-up
excluded); PostgreSQL's is that of its server processes over the same span (one server for
the whole run, a database per configuration). Everything shares this machine's cores
(fakes, load generator, PostgreSQL), so wall time and turns/s are noisy; CPU per turn and
the ratios between configurations are the figures to compare. Polls are raia ``response-on``
calls per answer; overshoot is when the answer reached the platform minus when raia had it.
Webhook acknowledgements are timed by ``bench/sender.py`` (raw requests on connections opened
first), as ``bench/ack_floor.py`` times a server that only answers 200: compare with that floor.
The processes are ``bench/processes.py``'s, the fakes ``bench/replica_fakes.py``, the printout
``bench/replica_report.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import sender  # noqa: E402
from bench.processes import Child, PostgresCpu, RssPeak, cpu_of, free_port, stop_all  # noqa: E402
from bench.replica_report import STRAGGLER, Round, report, table  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from tests.fakes import slack  # noqa: E402
from tests.fakes import telegram as tg  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402

CONFIGS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3))
PLATFORMS = ("slack", "telegram")
PUSH = False  # --push
BRIDGE_ENV: dict[str, str] = {}  # more settings for the bridges (bench/compare.py runs an older version's)
ROUNDS = ("new", "again")  # new people (raia user + conversation created), then the same people again
# Before the rounds, this many other people per replica ask once, as in a bridge that has been
# running for a while: its poll schedule has learned how long the agent takes (--cold skips it).
WARM_UP = 30
PERSON = 100_000  # person i is Slack user U{PERSON + i} in DM D{PERSON + i}, Telegram user and chat PERSON + i
TELEGRAM_SECRET = "bench-webhook-secret"


def bridge_env(platform: str, raia: str, api: str, database: str, port: int) -> dict[str, str]:
    """The bridge's settings: only those of the platform under test (the others stay unset)."""
    own = ("RAIA_", "SLACK_", "TELEGRAM_", "DATABASE_", "LOG_", "PUBLIC_URL", "METRICS_", "HOST", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    env |= {
        "RAIA_API_KEY": "bench", "RAIA_BASE_URL": raia, "HOST": "127.0.0.1", "PORT": str(port),
        "DATABASE_URL": database, "SHUTDOWN_TIMEOUT": "5",
    }  # fmt: skip
    if platform == "telegram":
        env |= {
            "TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{api}/bot",
            "PUBLIC_URL": "https://bridge.example.com", "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        }  # fmt: skip
    else:
        env |= {
            "SLACK_BOT_TOKEN": slack.BOT_TOKEN, "SLACK_SIGNING_SECRET": slack.SIGNING_SECRET,
            "SLACK_API_URL": f"{api}/api/",
        }  # fmt: skip
    if PUSH:  # raia calls each replica's own webhook (the simulator accepts loopback http)
        env |= {"RAIA_PUSH": "true", "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    return env | BRIDGE_ENV


def webhook_post(platform: str, base: str, text: str, i: int) -> sender.Post:
    """Person i's message as the platform would POST it to the bridge at ``base``."""
    if platform == "telegram":
        update = tg.message(text, sender=tg.user(PERSON + i, f"Person{i}", None, f"person{i}"))
        raw = json.dumps(update, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        return sender.post(f"{base}/telegram/webhook", raw, headers)
    event = slack.dm(text, user=f"U{PERSON + i}")
    event["channel"] = f"D{PERSON + i}"
    raw = json.dumps(slack.envelope(event), separators=(",", ":")).encode()
    return sender.post(f"{base}/slack/events", raw, slack.signed(raw))


def person_key(platform: str, i: int) -> str:
    """Where person i's answers are posted: the DM channel or the Telegram chat id."""
    return str(PERSON + i) if platform == "telegram" else f"D{PERSON + i}"


async def fake_state(http: aiohttp.ClientSession, api: str, since: int = 0) -> dict[str, Any]:
    """Answers and duplicate posts the fake platform got (Slack: so far, each answer known by its
    reply key; Telegram: from its ``since``-th message on, one answer per chat), how many messages
    it took in all, and its calls by method."""
    async with http.get(f"{api}/_bench/state", params={"since": str(since)}) as response:
        state: dict[str, Any] = await response.json()
    return state


async def answer_timing(
    result: Round, http: aiohttp.ClientSession, platform: str, api: str, raia: str, since: int, delay: float
) -> None:
    """Polls per answer, overshoot and when raia got each of this round's questions, from the raia
    simulator's books and the times the fake platform took each message (the first in each chat counts)."""
    async with http.get(f"{raia}/_simulator/questions") as response:
        questions: dict[str, dict[str, Any]] = await response.json()
    async with http.get(f"{api}/_bench/posts", params={"since": str(since)}) as response:
        posts: list[list[Any]] = await response.json()
    first: dict[str, float] = {}
    for key, at in posts:
        first.setdefault(str(key), float(at))
    prefix = f"{result.name} question of person "
    for question in questions.values():
        if not question["text"].startswith(prefix):
            continue
        key = person_key(platform, int(question["text"].removeprefix(prefix)))
        result.to_raia.append(float(question["ready_at"]) - delay - result.started)
        if key in first:
            result.polls.append(int(question["polls"]))
            result.overshoot.append(first[key] - float(question["ready_at"]))


async def run_round(
    result: Round,
    http: aiohttp.ClientSession,
    platform: str,
    bridges: list[Child],
    fakes: list[Child],
    pg: PostgresCpu | None,
    delay: float,
    senders: int | None,
) -> None:
    raia, api = fakes[0].base, fakes[1].base
    users = result.asked
    people = range(result.first, result.first + users)
    bodies = [
        webhook_post(platform, bridges[i % len(bridges)].base, f"{result.name} question of person {i}", i)
        for i in people
    ]
    before = await fake_state(http, api)
    since = int(before["posts"])  # Telegram counts this round's answers from here
    answered_before, duplicates_before = (
        (0, 0) if platform == "telegram" else (int(before["answers"]), int(before["duplicates"]))
    )

    processes = [b.ps for b in bridges]
    others = [psutil.Process(), *(f.ps for f in fakes)]
    with RssPeak(processes) as rss:
        pg_before = pg.snapshot() if pg else None
        cpu_before = sum(cpu_of(processes).values())
        others_before = cpu_of(others)
        start, result.started = time.perf_counter(), time.time()
        # Every person's message at once, or each sender posting its share one after the other.
        posted = await sender.burst(bodies, senders)
        result.acks, result.connects = posted.acks, posted.connects
        # Until every answer is there; or, past raia's delay, until none came for STRAGGLER seconds
        # (a question whose send to raia timed out waits RAIA_SEND_SETTLE, 90 s, before it is resent).
        answered, last = answered_before, time.perf_counter()
        while answered < answered_before + users:
            await asyncio.sleep(0.05)
            now = time.perf_counter()
            count = int((await fake_state(http, api, since))["answers"])
            if count > answered:
                answered, last = count, now
            elif now - start > delay and now - last > STRAGGLER:
                break
        result.wall = last - start
        result.answered = answered - answered_before
        if platform == "slack":
            with contextlib.suppress(TimeoutError):  # a turn ends when its hourglass is removed
                async with asyncio.timeout(10 if result.answered == users else 1):
                    while True:
                        calls = (await fake_state(http, api))["calls"]
                        if calls.get("reactions.remove", 0) + users - result.answered >= calls.get("reactions.add", 0):
                            break
                        await asyncio.sleep(0.05)
        else:
            await asyncio.sleep(0.5)  # the delivery's commit after the last sendMessage
        result.bridge_cpu = sum(cpu_of(processes).values()) - cpu_before
        after = await fake_state(http, api, since)
        result.duplicates = int(after["duplicates"]) - duplicates_before
        result.calls = {m: n - int(before["calls"].get(m, 0)) for m, n in after["calls"].items()}
        names = ["load generator", *(f.name for f in fakes)]
        others_after = cpu_of(others)
        result.others = {n: others_after[p.pid] - others_before[p.pid] for n, p in zip(names, others, strict=True)}
        result.pg_cpu = pg.since(pg_before) if pg and pg_before is not None else None
    result.peak_rss = rss.peak
    await answer_timing(result, http, platform, api, raia, since, delay)


async def run_config(
    engine: str,
    replicas: int,
    platform: str,
    users: int,
    delay: float,
    senders: int | None,
    server: PgServer | None,
    pg: PostgresCpu | None,
    tmp: Path,
    warm_up: int,
) -> list[Round]:
    work = tmp / f"{replicas}-{engine}-{platform}"
    work.mkdir(exist_ok=True)
    children: list[Child] = []
    try:
        raia_port, api_port = free_port(), free_port()
        raia, api = f"http://127.0.0.1:{raia_port}", f"http://127.0.0.1:{api_port}"
        sim_args = [sys.executable, "-m", "adapters.raia.simulator", "--port", str(raia_port), "--delay", str(delay)]
        children.append(Child("raia-simulator", sim_args, work, raia))
        fake_args = [sys.executable, str(ROOT / "bench" / "replica_fakes.py"), f"--serve-{platform}", str(api_port)]
        children.append(Child(f"fake-{platform}", fake_args, work, api))
        await asyncio.gather(children[0].ready("/_simulator/questions"), children[1].ready("/_bench/state"))
        if engine == "postgresql":
            assert server is not None
            database = await server.new_database()
        else:
            database = f"sqlite:///{work}/bridge.db"
        bridges = []
        for i in range(replicas):
            port = free_port()
            env = bridge_env(platform, raia, api, database, port)
            bridge = Child(f"bridge{i}", [sys.executable, "-m", "bridge"], work, f"http://127.0.0.1:{port}", env)
            children.append(bridge)
            bridges.append(bridge)
        await asyncio.gather(*(b.ready("/healthz") for b in bridges))
        results = []
        connector = aiohttp.TCPConnector(limit=0)  # every person's event at once
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            if warm_up:
                await asyncio.sleep(1.0)
                # Each replica learns on its own: warm every one (round-robin spreads the people).
                warm = Round(engine, replicas, "warm-up", warm_up * replicas, first=10 * users)
                await run_round(warm, http, platform, bridges, children[:2], None, delay, None)
                print(
                    f"{warm.label:<14} warm-up: {warm.answered}/{warm.asked} answered in {warm.wall:.2f} s", flush=True
                )
            for name in ROUNDS:
                await asyncio.sleep(1.0)  # let start-up (or the previous round's tail) settle
                result = Round(engine, replicas, name, users)
                await run_round(
                    result,
                    http,
                    platform,
                    bridges,
                    children[:2],
                    pg if engine == "postgresql" else None,
                    delay,
                    senders,
                )
                results.append(result)
                report(result)
        return results
    finally:
        stop_all(children[2:])  # the bridges first, while the fakes still answer them
        stop_all(children[:2])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 people per burst instead of 300")
    parser.add_argument("--users", type=int, default=None, help="people per burst (default 300, --quick 100)")
    parser.add_argument("--delay", type=float, default=5.0, help="raia's answer delay in seconds (default 5)")
    parser.add_argument("--platform", choices=PLATFORMS, default="slack", help="where the people write (default slack)")
    parser.add_argument(
        "--senders", type=int, default=None, metavar="N", help="N concurrent senders, each posting its share in turn"
    )
    parser.add_argument("--logs", type=Path, metavar="DIR", help="keep the processes' logs in DIR (default: discard)")
    parser.add_argument("--push", action="store_true", help="RAIA_PUSH=true: raia calls the bridges back")
    parser.add_argument(
        "--cold", action="store_true", help=f"no warm-up ({WARM_UP} answers before the rounds): a new installation"
    )
    parser.add_argument(
        "--only", choices=[f"{n}x{e}" for e, n in CONFIGS], action="append", help="run only these configurations"
    )
    args = parser.parse_args()
    if args.senders is not None and args.senders < 1:
        parser.error("--senders must be at least 1")
    users = args.users or (100 if args.quick else 300)
    global PUSH
    PUSH = args.push
    configs = [(e, n) for e, n in CONFIGS if not args.only or f"{n}x{e}" in args.only]
    # Blocking on purpose: a Ctrl-C meanwhile lands in the try below.
    server = PgServer.start() if any(e == "postgresql" for e, _ in configs) else None
    results: list[Round] = []
    try:
        pg = PostgresCpu(server) if server else None
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
            work = Path(tmp)
            if args.logs:
                work = args.logs.resolve()
                work.mkdir(parents=True, exist_ok=True)
            for engine, replicas in configs:
                results += await run_config(
                    engine, replicas, args.platform, users, args.delay, args.senders, server, pg, work,
                    0 if args.cold else WARM_UP,
                )  # fmt: skip
    finally:
        if server is not None:
            try:
                server.stop()
            except (OSError, subprocess.SubprocessError) as exc:
                print(f"stopping PostgreSQL: {exc}", file=sys.stderr)
        if results:  # also what was measured before an error or Ctrl-C
            table(results, args.platform, users, args.delay, args.senders, PUSH)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a kill stops the children too
    try:
        run_async(main())
    except KeyboardInterrupt:
        sys.exit(130)
