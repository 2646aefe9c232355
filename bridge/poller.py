"""When to ask ``response-on`` again.

The next wait is a fixed fraction (``growth``) of the time already waited, between
``first`` and ``cap``. Answering late by a fraction of the time already spent is what
people barely notice (a 2 s answer is late by at most 0.6 s, a 60 s one by at most
``cap``), and the number of calls grows only with the log of the wait until the cap.
With the defaults a 60 s answer costs about 27 calls and is never late by more than 3 s:
see ``bench/``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    first: float  # RAIA_POLL_INTERVAL: wait before the first poll
    growth: float = 0.3  # next wait = growth x time waited so far ...
    cap: float = 2.9  # ... but never longer than this (so never > 3 s late)

    def next_wait(self, elapsed: float) -> float:
        """Seconds to wait before the next poll, ``elapsed`` seconds after the send."""
        if elapsed < self.first:
            return self.first - elapsed
        return min(self.cap, max(self.first * self.growth, self.growth * elapsed))
