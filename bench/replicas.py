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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import pct  # noqa: E402
from bridge.app.cli import run_async  # noqa: E402
from tests.fakes import slack  # noqa: E402
from tests.fakes import telegram as tg  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402

CONFIGS = (("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3))
PLATFORMS = ("slack", "telegram")
PUSH = False  # --push
BRIDGE_ENV: dict[str, str] = {}  # more settings for the bridges (bench/compare.py runs an older version's)
STRAGGLER = 15.0  # seconds without a new answer after which a round stops waiting
ROUNDS = ("new", "again")  # new people (raia user + conversation created), then the same people again
# Before the rounds, this many other people per replica ask once, as in a bridge that has been
# running for a while: its poll schedule has learned how long the agent takes (--cold skips it).
WARM_UP = 30
PERSON = 100_000  # person i is Slack user U{PERSON + i} in DM D{PERSON + i}, Telegram user and chat PERSON + i
TELEGRAM_SECRET = "bench-webhook-secret"
TELEGRAM_RATE = 30  # messages a second Telegram lets one bot send, about
ACK_TARGET = 1.0  # p99 of the webhook acknowledgements, seconds
SLACK_OVER_DELAY = 3.0  # 300 Slack DMs with 5 s answers all answered within 8 s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wall_target(platform: str, users: int, delay: float) -> float:
    """When the last answer should be there: raia's delay plus the platform's own floor."""
    if platform == "telegram":
        return 1.15 * (delay + users / TELEGRAM_RATE)
    return delay + SLACK_OVER_DELAY


def serve_slack(port: int) -> None:
    """The fake Slack Web API of the test suite, plus ``/_bench/state`` (what it was sent) and
    ``/_bench/posts?since=N`` (channel and time of each post from the N-th on)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    fake = slack.FakeSlack()

    async def state(_: Request) -> JSONResponse:
        # An answer is a reply the bridge marked (its key in the message metadata); posts beyond
        # one per reply part would be duplicates.
        marks = [json.dumps(p.metadata["event_payload"], sort_keys=True) if p.metadata else None for p in fake.posts]
        replies = {json.loads(m)["reply"] for m in marks if m} | {i for i, m in enumerate(marks) if m is None}
        duplicates = len(marks) - len({m for m in marks if m}) - marks.count(None)
        return JSONResponse(
            {
                "answers": len(replies),
                "duplicates": duplicates,
                "posts": len(fake.posts),
                "calls": dict(Counter(fake.calls)),
            }
        )

    async def posts(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", 0))
        return JSONResponse([[p.channel, p.at] for p in fake.posts[since:]])

    routes = [Route("/_bench/state", state), Route("/_bench/posts", posts), *fake.app().routes]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")


@dataclass
class TimedTelegram(tg.FakeTelegram):
    """The fake Bot API of the test suite, noting when each message was sent."""

    sent_at: list[float] = field(default_factory=list)

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        result = await super()._m_sendMessage(params)
        self.sent_at.append(time.time())
        return result


def serve_telegram(port: int) -> None:
    """The fake Telegram Bot API, plus ``/_bench/state`` and ``/_bench/posts?since=N`` as for Slack."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    fake = TimedTelegram()

    async def state(request: Request) -> JSONResponse:
        # Private chats are not threaded: a chat's messages from the N-th on (?since=N, this
        # round's start) are its answer, and any beyond the first per chat are duplicates
        # (an answer of several parts would count as such; the simulator's are one part).
        chats = [s.chat_id for s in fake.sent[int(request.query_params.get("since", 0)) :]]
        answers = len(set(chats))
        return JSONResponse(
            {
                "answers": answers,
                "duplicates": len(chats) - answers,
                "posts": len(fake.sent),
                "calls": dict(Counter(fake.calls)),
            }
        )

    async def posts(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", 0))
        return JSONResponse(
            [[str(s.chat_id), at] for s, at in zip(fake.sent[since:], fake.sent_at[since:], strict=True)]
        )

    routes = [Route("/_bench/state", state), Route("/_bench/posts", posts), *fake.app().routes]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")


class Child:
    """A process this benchmark started; its stderr goes to a log file."""

    def __init__(self, name: str, args: list[str], cwd: Path, base: str, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.base = base  # http://127.0.0.1:PORT
        self.log_path = cwd / f"{name}.log"
        with self.log_path.open("w") as log:
            self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
        self.ps = psutil.Process(self.popen.pid)

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def ready(self, path: str, timeout: float = 40) -> None:
        async with asyncio.timeout(timeout), aiohttp.ClientSession() as http:
            while True:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.base + path) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)


def stop_all(children: list[Child], timeout: float = 15) -> None:
    """SIGTERM to all at once, then wait; whoever is still there after ``timeout`` gets SIGKILL."""
    for child in children:
        if child.popen.poll() is None:
            child.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.popen.kill()
            child.popen.wait(5)


def cpu_of(processes: list[psutil.Process]) -> dict[int, float]:
    """User + system seconds of each process that is still there, by pid."""
    found = {}
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = process.cpu_times()
            found[process.pid] = times.user + times.system
    return found


class PostgresCpu:
    """CPU of the PostgreSQL server: the postmaster and its children (backends, checkpointer...)."""

    def __init__(self, server: PgServer) -> None:
        self.root = psutil.Process(int((server.directory / "postmaster.pid").read_text().split()[0]))

    def snapshot(self) -> dict[int, float]:
        return cpu_of([self.root, *self.root.children(recursive=True)])

    def since(self, before: dict[int, float]) -> float:
        # A backend that ended within the span is missed; the bridges keep pooled connections.
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in self.snapshot().items())


@dataclass
class Round:
    config: str
    replicas: int
    name: str
    asked: int
    answered: int = 0
    duplicates: int = 0
    wall: float = 0.0
    bridge_cpu: float = 0.0
    pg_cpu: float | None = None
    others: dict[str, float] = field(default_factory=dict)  # CPU seconds of the load generator and the fakes
    acks: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)  # raia response-on calls, per answered question
    overshoot: list[float] = field(default_factory=list)  # answer at the platform minus answer ready at raia
    to_raia: list[float] = field(default_factory=list)  # question sent to raia, seconds after the burst began
    started: float = 0.0  # time.time() when the burst began
    first: int = 0  # the first person's number (the others follow)

    @property
    def label(self) -> str:
        return f"{self.replicas} x {self.config}"

    @property
    def late_acks(self) -> int:
        """Webhook answers slower than Slack's 3 s: Slack would have sent those events again."""
        return sum(1 for ack in self.acks if ack > 3.0)

    def per_turn(self, seconds: float) -> float:
        return 1000 * seconds / max(self.answered, 1)

    @property
    def polls_text(self) -> str:
        return f"{sum(self.polls) / len(self.polls):.2f}" if self.polls else "-"

    @property
    def overshoot_text(self) -> str:
        return mean_max(self.overshoot)

    @property
    def to_raia_text(self) -> str:
        return mean_max(self.to_raia)


def mean_max(values: list[float]) -> str:
    return f"{sum(values) / len(values):.2f}/{max(values):.2f}" if values else "-"


class RssPeak:
    """Samples each bridge's resident memory every 0.1 s while a round runs."""

    def __init__(self, processes: list[psutil.Process]) -> None:
        self.processes = processes
        self.peak = [0] * len(processes)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for i, process in enumerate(self.processes):
                with contextlib.suppress(psutil.NoSuchProcess):
                    self.peak[i] = max(self.peak[i], process.memory_info().rss)
            await asyncio.sleep(0.1)

    def __enter__(self) -> RssPeak:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


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


def webhook_post(platform: str, bridge: Child, text: str, i: int) -> tuple[str, bytes, dict[str, str]]:
    """Person i's message as the platform would POST it to the bridge: url, body, headers."""
    if platform == "telegram":
        update = tg.message(text, sender=tg.user(PERSON + i, f"Person{i}", None, f"person{i}"))
        raw = json.dumps(update, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        return f"{bridge.base}/telegram/webhook", raw, headers
    event = slack.dm(text, user=f"U{PERSON + i}")
    event["channel"] = f"D{PERSON + i}"
    raw = json.dumps(slack.envelope(event), separators=(",", ":")).encode()
    return f"{bridge.base}/slack/events", raw, slack.signed(raw)


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
        webhook_post(platform, bridges[i % len(bridges)], f"{result.name} question of person {i}", i) for i in people
    ]
    before = await fake_state(http, api)
    since = int(before["posts"])  # Telegram counts this round's answers from here
    answered_before, duplicates_before = (
        (0, 0) if platform == "telegram" else (int(before["answers"]), int(before["duplicates"]))
    )

    async def post(url: str, raw: bytes, headers: dict[str, str]) -> float:
        start = time.perf_counter()
        async with http.post(url, data=raw, headers=headers) as response:
            response.raise_for_status()
            await response.read()
        return time.perf_counter() - start

    async def sender(share: list[tuple[str, bytes, dict[str, str]]]) -> list[float]:
        return [await post(*b) for b in share]

    processes = [b.ps for b in bridges]
    others = [psutil.Process(), *(f.ps for f in fakes)]
    with RssPeak(processes) as rss:
        pg_before = pg.snapshot() if pg else None
        cpu_before = sum(cpu_of(processes).values())
        others_before = cpu_of(others)
        start, result.started = time.perf_counter(), time.time()
        if senders:  # each sender posts its share one after the other
            shares = await asyncio.gather(*(sender(bodies[s::senders]) for s in range(senders)))
            result.acks = [ack for share in shares for ack in share]
        else:  # every person's message at once
            result.acks = list(await asyncio.gather(*(post(*b) for b in bodies)))
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
        result.duplicates = int((await fake_state(http, api, since))["duplicates"]) - duplicates_before
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
        fake_args = [sys.executable, str(ROOT / "bench" / "replicas.py"), f"--serve-{platform}", str(api_port)]
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


def report(r: Round) -> None:
    pg = f", PostgreSQL {r.per_turn(r.pg_cpu):.1f} ms/turn" if r.pg_cpu is not None else ""
    rss = "/".join(f"{b / 2**20:.0f}" for b in r.peak_rss)
    print(
        f"{r.label:<14} {r.name:<5}: {r.answered}/{r.asked} answered in {r.wall:.2f} s "
        f"({r.answered / r.wall:.1f} turns/s), bridge CPU {r.per_turn(r.bridge_cpu):.1f} ms/turn{pg}, "
        f"ack p50/p99 {1000 * pct(r.acks, 50):.0f}/{1000 * pct(r.acks, 99):.0f} ms ({r.late_acks} over 3 s), "
        f"{r.duplicates} duplicate posts, peak RSS {rss} MB",
        flush=True,
    )
    print(
        f"{'':<21}  raia got the questions after {r.to_raia_text} s (mean/max), polls per answer {r.polls_text}, "
        f"overshoot mean/max {r.overshoot_text} s",
        flush=True,
    )
    others = ", ".join(f"{name} {r.per_turn(seconds):.1f}" for name, seconds in r.others.items())
    print(f"{'':<21}  CPU elsewhere, ms/turn: {others}", flush=True)


def table(results: list[Round], platform: str, users: int, delay: float, senders: int | None) -> None:
    base = {r.name: r.per_turn(r.bridge_cpu) for r in results if r.replicas == 1 and r.config == "sqlite"}
    target = wall_target(platform, users, delay)
    head = (
        f"{'config':<14} {'round':<5} {'answered':>9} {'dup':>3} {'wall s':>7} {'turns/s':>8} {'bridge ms/turn':>15} "
        f"{'vs sqlite':>9} {'pg ms/turn':>10} {'total ms/turn':>13} {'ack p50/p99 ms':>15} {'>3 s':>4} "
        f"{'to raia s':>9} {'polls':>5} {'overshoot s':>11}  peak RSS MB"
    )
    how = f"{senders} concurrent senders" if senders else "all at once"
    push = "raia pushes (RAIA_PUSH)" if PUSH else "the bridge polls raia"
    print()
    print(
        f"{platform}: {users} people per burst ({how}), raia answers after {delay:g} s, {push}, "
        f"default bridge settings otherwise, {os.cpu_count()} cores"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        bridge = r.per_turn(r.bridge_cpu)
        pg = r.per_turn(r.pg_cpu) if r.pg_cpu is not None else 0.0
        ratio = f"{bridge / base[r.name]:.2f}x" if base.get(r.name) else "-"
        acks = f"{1000 * pct(r.acks, 50):.0f}/{1000 * pct(r.acks, 99):.0f}"
        pg_text = f"{pg:.1f}" if r.pg_cpu is not None else "-"
        rss = "/".join(f"{b / 2**20:.0f}" for b in r.peak_rss)
        print(
            f"{r.label:<14} {r.name:<5} {f'{r.answered}/{r.asked}':>9} {r.duplicates:>3} {r.wall:>7.2f} "
            f"{r.answered / r.wall:>8.1f} {bridge:>15.1f} {ratio:>9} {pg_text:>10} {bridge + pg:>13.1f} "
            f"{acks:>15} {r.late_acks:>4} {r.to_raia_text:>9} {r.polls_text:>5} {r.overshoot_text:>11}  {rss}"
        )
    print()
    floor = f"1.15 x ({delay:g} s + {users}/{TELEGRAM_RATE} s)" if platform == "telegram" else f"{delay:g} s + 3 s"
    print(f"Targets: all answered within {target:.1f} s ({floor}); webhook ack p99 <= {1000 * ACK_TARGET:.0f} ms.")
    for r in results:
        wall = "met" if r.answered == r.asked and r.wall <= target else "MISSED"
        ack = "met" if pct(r.acks, 99) <= ACK_TARGET else "MISSED"
        p99 = 1000 * pct(r.acks, 99)
        print(f"  {r.label:<14} {r.name:<5}: wall {wall} ({r.wall:.2f} s), ack p99 {ack} ({p99:.0f} ms)")
    print()
    if any(r.answered < r.asked for r in results):
        print(
            f"Where fewer were answered, the round stopped waiting {STRAGGLER:g} s after the last answer (wall s and\n"
            "turns/s count up to that answer): a question whose send to raia timed out waits RAIA_SEND_SETTLE\n"
            "(90 s by default) before it is sent again; see the bridges' log (--logs DIR)."
        )
    print(
        "Wall time, turns/s and acks are noisy: the bridges, PostgreSQL, the fakes and the load generator\n"
        "share this machine's cores, and a burst cannot end before raia's answer delay. Compare CPU per turn\n"
        "(bridge: all bridge processes of the configuration; pg: the PostgreSQL server) and the ratios.\n"
        "dup: answers posted more than once; >3 s: webhook acks slower than Slack waits before resending;\n"
        "to raia: question sent to raia, after the burst began; polls: raia response-on calls per answer;\n"
        "overshoot: answer at the platform minus ready at raia (mean/max, seconds)."
    )


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
            table(results, args.platform, users, args.delay, args.senders)


if __name__ == "__main__":
    if "--serve-slack" in sys.argv:
        serve_slack(int(sys.argv[sys.argv.index("--serve-slack") + 1]))
    elif "--serve-telegram" in sys.argv:
        serve_telegram(int(sys.argv[sys.argv.index("--serve-telegram") + 1]))
    else:
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # a kill stops the children too
        try:
            run_async(main())
        except KeyboardInterrupt:
            sys.exit(130)
