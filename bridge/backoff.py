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


# Transcribing a recording (bridge.hearing): a safe call, tried a few times in a few seconds.
HEARING = Backoff(first=1.0, longest=8.0)
HEARING_ATTEMPTS = 3
