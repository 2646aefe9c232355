"""What ``bench/replicas.py`` measured in a round, and how it prints it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from bench.run import pct

TELEGRAM_RATE = 30  # messages a second Telegram lets one bot send, about
ACK_TARGET = 1.0  # p99 of the webhook acknowledgements, seconds
SLACK_OVER_DELAY = 3.0  # 300 Slack DMs with 5 s answers all answered within 8 s
STRAGGLER = 15.0  # seconds without a new answer after which a round stops waiting


def wall_target(platform: str, users: int, delay: float) -> float:
    """When the last answer should be there: raia's delay plus the platform's own floor."""
    if platform == "telegram":
        return 1.15 * (delay + users / TELEGRAM_RATE)
    return delay + SLACK_OVER_DELAY


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
    acks: list[float] = field(default_factory=list)  # each post, from its write to its whole response
    connects: list[float] = field(default_factory=list)  # each connection the posts opened first
    peak_rss: list[int] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)  # raia response-on calls, per answered question
    overshoot: list[float] = field(default_factory=list)  # answer at the platform minus answer ready at raia
    to_raia: list[float] = field(default_factory=list)  # question sent to raia, seconds after the burst began
    calls: dict[str, int] = field(default_factory=dict)  # the fake platform's calls over the round, by method
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


def p50_p99(seconds: list[float]) -> str:
    return f"{1000 * pct(seconds, 50):.0f}/{1000 * pct(seconds, 99):.0f}" if seconds else "-"


def report(r: Round) -> None:
    pg = f", PostgreSQL {r.per_turn(r.pg_cpu):.1f} ms/turn" if r.pg_cpu is not None else ""
    rss = "/".join(f"{b / 2**20:.0f}" for b in r.peak_rss)
    print(
        f"{r.label:<14} {r.name:<5}: {r.answered}/{r.asked} answered in {r.wall:.2f} s "
        f"({r.answered / r.wall:.1f} turns/s), bridge CPU {r.per_turn(r.bridge_cpu):.2f} ms/turn{pg}, "
        f"ack p50/p99 {p50_p99(r.acks)} ms ({r.late_acks} over 3 s; connect p50/p99 {p50_p99(r.connects)} ms), "
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
    calls = ", ".join(f"{m} {n / max(r.answered, 1):.2f}" for m, n in sorted(r.calls.items()) if n)
    print(f"{'':<21}  platform calls per answer: {calls or '-'}", flush=True)


def table(results: list[Round], platform: str, users: int, delay: float, senders: int | None, push: bool) -> None:
    base = {r.name: r.per_turn(r.bridge_cpu) for r in results if r.replicas == 1 and r.config == "sqlite"}
    target = wall_target(platform, users, delay)
    head = (
        f"{'config':<14} {'round':<5} {'answered':>9} {'dup':>3} {'wall s':>7} {'turns/s':>8} {'bridge ms/turn':>15} "
        f"{'vs sqlite':>9} {'pg ms/turn':>10} {'total ms/turn':>13} {'ack p50/p99 ms':>15} {'>3 s':>4} "
        f"{'to raia s':>9} {'polls':>5} {'overshoot s':>11}  peak RSS MB"
    )
    how = f"{senders} concurrent senders" if senders else "all at once"
    print()
    print(
        f"{platform}: {users} people per burst ({how}), raia answers after {delay:g} s, "
        f"{'raia pushes (RAIA_PUSH)' if push else 'the bridge polls raia'}, "
        f"default bridge settings otherwise, {os.cpu_count()} cores"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        bridge = r.per_turn(r.bridge_cpu)
        pg = r.per_turn(r.pg_cpu) if r.pg_cpu is not None else 0.0
        ratio = f"{bridge / base[r.name]:.2f}x" if base.get(r.name) else "-"
        pg_text = f"{pg:.1f}" if r.pg_cpu is not None else "-"
        rss = "/".join(f"{b / 2**20:.0f}" for b in r.peak_rss)
        print(
            f"{r.label:<14} {r.name:<5} {f'{r.answered}/{r.asked}':>9} {r.duplicates:>3} {r.wall:>7.2f} "
            f"{r.answered / r.wall:>8.1f} {bridge:>15.2f} {ratio:>9} {pg_text:>10} {bridge + pg:>13.1f} "
            f"{p50_p99(r.acks):>15} {r.late_acks:>4} {r.to_raia_text:>9} {r.polls_text:>5} "
            f"{r.overshoot_text:>11}  {rss}"
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
        "Acks are timed from each request's write on an open connection to its whole response (bench/sender.py;\n"
        "bench/ack_floor.py measures the same against a server that only answers 200): compare with that floor.\n"
        "dup: answers posted more than once; >3 s: webhook acks slower than Slack waits before resending;\n"
        "to raia: question sent to raia, after the burst began; polls: raia response-on calls per answer;\n"
        "overshoot: answer at the platform minus ready at raia (mean/max, seconds)."
    )
