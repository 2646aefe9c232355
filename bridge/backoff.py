"""Waits between attempts of the core's durable loops (delivery, reaching the agent,
a lane that hit an error).

Why not stamina, which retries the agent client's safe calls: these loops persist their
progress (delivery attempts are counted in the store; reaching the agent runs against a
stored deadline) and resume it after a restart, so the attempt count lives outside any
retry decorator. What they share is declared here once: doubling waits, a ceiling, a
server's hint honoured (but capped), and jitter so a thousand waiting conversations do
not retry in step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    first: float  # the wait after the first failure ...
    longest: float  # ... doubling up to this

    def wait(self, attempt: int, *, hint: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based). A server's
        ``hint`` (Retry-After) is obeyed as given, up to ``longest``."""
        if hint is not None:
            return min(self.longest, max(0.0, hint))
        ceiling = min(self.longest, self.first * 2 ** max(0, attempt - 1))
        # "Equal jitter": never less than half the ceiling, so waits still grow.
        return random.uniform(ceiling / 2, ceiling)


class RateLimits:
    """A platform's own word to wait (a 429 with Retry-After, nothing posted) is not a
    failed delivery attempt: a burst of them (Retry-After 0 or 1, over and over) would
    spend a delivery's attempts in seconds and give up an answer nothing was wrong with.
    Its word is obeyed instead, never sooner than ``RATE_LIMITED.first`` (jittered: no
    busy loop on Retry-After 0), for ``RATE_LIMITED_FOR`` seconds in all per delivery;
    past that, attempts count again (so a platform that never lets up still ends it)."""

    def __init__(self) -> None:
        self.waited = 0.0

    def pause(self, hint: float | None, maybe_posted: bool) -> float | None:
        """Seconds to wait without spending an attempt, or None: this failure is an attempt."""
        if hint is None or maybe_posted or self.waited >= RATE_LIMITED_FOR:
            return None
        wait = max(RATE_LIMITED.wait(1, hint=hint), RATE_LIMITED.wait(1))
        self.waited += wait
        return wait


# Deliveries under a platform's rate limit (RateLimits): at least a second apart, at most a minute.
RATE_LIMITED = Backoff(first=1.0, longest=60.0)
RATE_LIMITED_FOR = 900.0

# Transcribing a recording (bridge.hearing): a safe call, tried a few times in a few seconds.
HEARING = Backoff(first=1.0, longest=8.0)
HEARING_ATTEMPTS = 3

# The SQLite store on a full disk (store.sqlite_full): how often it tries to copy its log
# into the database and so take calls again; each try writes until the space runs out.
DISK_FULL = Backoff(first=0.5, longest=5.0)
