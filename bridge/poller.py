"""When to ask ``response-on`` again.

The backbone: the next wait is a fixed fraction (``growth``) of the time already waited,
between ``first`` and ``cap``. Answering late by a fraction of the time already spent is
what people barely notice (a 2 s answer is late by at most 0.6 s, a 60 s one by at most
``cap``), and the number of calls grows only with the log of the wait until the cap.

Learned aims: most agents take about as long as they took for the last questions. Once
``AnswerTimes`` knows enough recent answer times (timed by the agent's own clock, so our
polling does not blur them), polls also land just past the typical times (quartiles and
the 95th percentile), and while an answer would be rarer than one in twenty (before the
5th percentile) the backbone stretches its waits up to ``cap``. A 5 s agent is then asked
about twice per answer instead of eight times, and answers ~0.05 s after it is ready
instead of up to 1.5 s. After the first look (``first``, RAIA_POLL_INTERVAL) every wait
stays within ``cap``, so an answer is still never more than ``cap`` late, however unusual;
and an answer earlier than usual among the last few ends the stretched waits at once (an
agent that got faster). See ``bench/run.py``.

Answers long in coming: past ``cap / slow`` (29 s) the waits are a tenth of the time
already waited, up to ``max_wait`` (RAIA_POLL_MAX_WAIT, 12 s): a question waiting for
minutes costs 5 looks a minute instead of 20 (``bench/waiting.py``), and its answer is
late by at most a tenth of its time, never more than ``max_wait``.

On the clock's ticks: a backbone wait of two ticks or more ends on a ``tick`` of the clock
(at the question's ``phase`` within it, one of ``PHASES``), half a tick to one and a half
early, so the questions that wait long look together, a few dozen to a loop turn, instead
of one by one. A look spread on its own cost 0.64 ms of CPU, one among others on a 1 s tick
0.20 ms (a thousand questions looking every 12 s, ``bench/looks.py``). The phases keep each
batch a quarter of the looks of a second, and the half tick lets it drain before a look is
late: 10,000 questions on one tick drained in up to 1.6 s, and 1 % of their answers were
found later than the schedule allows (``bench/waiting.py --many``). Learned aims stay exact.

Short waits on shared slots: before the pace is learned (a new installation's first burst:
everyone starts waiting before any answer is in) a question looks every 0.3-2 s, eight
looks for a 5 s answer. Such a wait ends on a slot of a grid of halvings of a tick (the
coarsest that is at most ``SHARE`` of the wait, down to ``1 / SLOTS`` of a tick), at most
that share early and never later, so a burst's questions, sent at different instants, look
in a few loop turns per step instead of one each; the answers are found sooner too.
``RAIA_POLL_INTERVAL`` stays the first look, exact.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

MARGIN = 0.05  # aim this far past a typical answer time (raia's timestamps are in ms)
LATEST = 5  # an answer among the last this many earlier than usual ends the stretched waits
PHASES = 4  # a tick's batches of looks (``PollSchedule.phase``)
SLOTS = 32  # a short wait ends on a slot of a tick cut in up to this many (``PollSchedule.slot``)
SHARE = 0.25  # ... of a grid at most this share of the wait, so it ends at most that much early


class AnswerTimes:
    """The agent's recent answer times in seconds: the last ``keep``, used once there are
    ``enough``. The service saves them now and then (``recent``) and restores them at start,
    so a restarted bridge polls well at once."""

    def __init__(self, keep: int = 256, enough: int = 20) -> None:
        self._recent: deque[float] = deque(maxlen=keep)
        self._enough = enough
        self._marks: tuple[float, tuple[float, ...]] | None = None
        self._stale = False
        self.unsaved = 0  # recorded since the service last saved them

    def record(self, seconds: float) -> None:
        if 0.0 <= seconds < 24 * 3600:  # a wrong clock on the agent's side is not a time
            self._recent.append(seconds)
            self._stale = True
            self.unsaved += 1

    def recent(self) -> list[float]:
        return list(self._recent)

    def restore(self, saved: Iterable[float]) -> None:
        """Times saved by an earlier run, oldest first, before any of this run's."""
        mine = list(self._recent)
        self._recent.clear()
        for seconds in [*saved, *mine]:
            if 0.0 <= seconds < 24 * 3600:
                self._recent.append(seconds)
        self._stale = True

    def marks(self) -> tuple[float, tuple[float, ...]] | None:
        """``(early, aims)``: before ``early`` answers are rare; ``aims`` are the times worth
        a look, ascending. None until enough answers are known."""
        if self._stale:
            self._stale = False
            self._marks = self._compute() if len(self._recent) >= self._enough else None
        return self._marks

    def _compute(self) -> tuple[float, tuple[float, ...]]:
        ordered = sorted(self._recent)

        def at(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

        aims: list[float] = []
        for p in (0.25, 0.5, 0.75, 0.95):
            aim = at(p) + MARGIN
            if not aims or aim - aims[-1] > 2 * MARGIN:  # one look serves answers this close
                aims.append(aim)
        # An agent that just got faster shows it in its last answers long before they are
        # one in twenty of the window: from then on, look early again.
        latest = list(itertools.islice(reversed(self._recent), LATEST))
        return min(at(0.05), *latest), tuple(aims)


@dataclass(frozen=True)
class PollSchedule:
    first: float  # RAIA_POLL_INTERVAL: wait before the first poll
    growth: float = 0.3  # next wait = growth x time waited so far ...
    cap: float = 2.9  # ... but not longer than this (so at most 3 s late) ...
    slow: float = 0.1  # ... until ``slow`` x time waited is longer (past 29 s): answers long in coming ...
    max_wait: float = 12.0  # ... are looked for that often, up to RAIA_POLL_MAX_WAIT apart
    tick: float = 1.0  # waits of two ticks or more end on a whole tick of the clock (a little early)

    def spaced(self, elapsed: float) -> float:
        """The longest wait ``elapsed`` seconds into a wait: ``slow`` x the time waited,
        at most ``max_wait``. A question waiting for minutes costs 5 looks a minute, not 20."""
        return min(self.max_wait, self.slow * elapsed)

    def phase(self, key: int) -> float:
        """Where in a tick the question ``key`` (its id) looks."""
        return (key % PHASES) * self.tick / PHASES

    def slot(self, wait: float) -> float:
        """The grid a short ``wait`` ends on: the coarsest halving of a tick that is at most
        ``SHARE`` of it (0 when even ``1 / SLOTS`` of a tick is more). Every such grid's slots
        are also slots of the finer ones, so waits of different lengths still meet."""
        slot = self.tick
        while slot > SHARE * wait:
            slot /= 2
            if slot < self.tick / SLOTS:
                return 0.0
        return slot

    def next_wait(
        self, elapsed: float, learned: AnswerTimes | None = None, at: float | None = None, phase: float = 0.0
    ) -> float:
        """Seconds to wait before the next poll, ``elapsed`` seconds after the send; ``at``:
        the clock now, to end a long wait on its tick, at ``phase`` seconds into it."""
        elapsed = max(0.0, elapsed)  # another replica's clock may be a little ahead of ours
        if elapsed < self.first:
            wait = self.first - elapsed
        else:
            wait = max(min(self.cap, max(self.first * self.growth, self.growth * elapsed)), self.spaced(elapsed))
            if at is not None and wait >= 2 * self.tick:
                latest = at + wait - self.tick / 2  # half a tick for the batch to drain
                wait = math.floor((latest - phase) / self.tick) * self.tick + phase - at
            elif at is not None:
                slot = self.slot(wait)
                if slot > 0.0:
                    wait = math.floor((at + wait) / slot) * slot - at
        marks = learned.marks() if learned is not None else None
        if marks is None:
            return wait
        early, aims = marks
        # RAIA_POLL_INTERVAL stays the first look: aims before it are not taken.
        ahead = [aim - elapsed for aim in aims if aim >= self.first and aim - elapsed > 0.01]
        if elapsed + wait < early:  # an answer by then would be rare: look less often
            wait = max(wait, min(self.cap, ahead[0] if ahead else self.cap))
        if ahead:
            wait = min(wait, ahead[0])
        return wait
