"""Housekeeping's deletions, shared by both engines: small indexed batches.

A clean-up that deletes an hour's (or, after a downtime, a day's) finished rows in one
statement holds SQLite's only thread, and every webhook acknowledgement queued behind it,
for seconds. Each step here deletes a batch of rows found through an index on the time that
expires them (migration 8 on SQLite, 6 on PostgreSQL), one short transaction per batch, and
the store lets other work go between batches: a trip never waits for more than one batch.

A batch is sized by time, not by a fixed count of rows (``Sizer``): a row's cost depends on
its table's indexes and on whether their pages are in memory (a ``questions`` row touches
six indexes at random places; an event key, one), so a fixed 250 rows took 1 ms in one table
and 10-25 ms in another (``bench/housekeeping.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Seconds one batch (or step of giving space back) should hold the store: acknowledgements
# wait behind it. 4 ms measured an acknowledgement p99 of 9-16 ms during a day's clean-up,
# 2 ms 6-12 ms (``bench/housekeeping.py``), for a clean-up a tenth longer.
BUDGET = 0.002
FIRST = 32  # rows in a step's first batch, before its cost is known
LARGEST = 1000  # rows in a batch at most, however cheap they are
SMALLEST = 4  # rows in a batch at least, so a slow disk still makes progress
PAUSE = 0.002  # seconds between batches, so trips queued meanwhile go first


class Sizer:
    """How much the next batch takes on: as much as ``BUDGET`` allows at the rate the last
    batch went. It shrinks at once after a slow batch and at most doubles after a quick one,
    so one lucky batch (its pages all in memory) does not make the next one long."""

    def __init__(self, first: int = FIRST, largest: int = LARGEST, smallest: int = SMALLEST) -> None:
        self.size = first
        self._largest = largest
        self._smallest = smallest

    def took(self, seconds: float, done: int) -> None:
        """The last batch did ``done`` units (rows, pages) in ``seconds``."""
        if done <= 0:
            return
        fits = int(BUDGET * done / seconds) if seconds > 0 else self._largest
        self.size = max(self._smallest, min(fits, 2 * self.size, self._largest))


@dataclass(frozen=True)
class Step:
    """Delete rows of ``table`` (by ``key``) where ``expired`` holds for the cut-off time."""

    table: str
    key: str
    expired: str  # a condition on one parameter, the cut-off, answered by an index

    def sql(self, mark: str, limit: str) -> str:
        """The batch's statement with the engine's placeholders (cut-off, then limit)."""
        where = self.expired.replace("{}", mark)
        batch = f"SELECT {self.key} FROM {self.table} WHERE {where} LIMIT {limit}"
        return f"DELETE FROM {self.table} WHERE {self.key} IN ({batch})"


SEEN = Step("seen_events", "key", "expires_at <= {}")  # cut-off: now
KEPT = Step("feedback", "question_id", "keep_until <= {}")  # cut-off: now
# The state test is implied (only delivery and a stop set delivered_at), kept as a guard.
FINISHED = Step("questions", "id", "delivered_at < {} AND state IN ('delivered', 'undeliverable', 'stopped')")


# PEOPLE_DAYS: conversations and people not active for that long. A conversation that still
# has a question (or a takeover's records) stays, whatever its age: nothing is cut short.
GONE_CONVERSATIONS = Step(
    "conversations",
    "id",
    "last_active_at < {}"
    " AND NOT EXISTS (SELECT 1 FROM questions q WHERE q.conversation_id = conversations.id)"
    " AND NOT EXISTS (SELECT 1 FROM handovers h WHERE h.conversation_id = conversations.id)"
    " AND NOT EXISTS (SELECT 1 FROM handover_posts p WHERE p.conversation_id = conversations.id)",
)
GONE_PEOPLE = Step("identities", "fk_id", "last_active_at < {}")
GONE_LANGUAGES = Step("person_languages", "fk_id", "saved_at < {}")  # saved again daily while looked up
ACTIVE_EVERY = 86400.0  # a question refreshes its conversation's and person's last activity this seldom


def steps(now: float, keep_finished_for: float, keep_people_for: float | None = None) -> list[tuple[Step, float]]:
    """What one round deletes, with each step's cut-off time (finished questions before the
    conversations they belonged to)."""
    due = [(SEEN, now), (KEPT, now), (FINISHED, now - keep_finished_for)]
    if keep_people_for is not None:
        gone = now - keep_people_for
        due += [(GONE_CONVERSATIONS, gone), (GONE_PEOPLE, gone), (GONE_LANGUAGES, gone)]
    return due
