"""Housekeeping's deletions, shared by both engines: small indexed batches.

A clean-up that deletes an hour's (or, after a downtime, a day's) finished rows in one
statement holds SQLite's only thread, and every webhook acknowledgement queued behind it,
for seconds. Each step here deletes at most ``BATCH`` rows found through an index on the
time that expires them (migration 8 on SQLite, 6 on PostgreSQL), one short transaction per
batch, and the store lets other work go between batches: a trip never waits for more than
one batch (a few milliseconds; ``bench/housekeeping.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

BATCH = 250  # rows per batch: about 2-4 ms of SQLite's thread
PAUSE = 0.002  # seconds between batches, so trips queued meanwhile go first
CHECKPOINT_EVERY = 20  # SQLite: batches between checkpoints (``store.checkpoint``)


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
ACTIVE_EVERY = 86400.0  # a question refreshes its conversation's and person's last activity this seldom


def steps(now: float, keep_finished_for: float, keep_people_for: float | None = None) -> list[tuple[Step, float]]:
    """What one round deletes, with each step's cut-off time (finished questions before the
    conversations they belonged to)."""
    due = [(SEEN, now), (KEPT, now), (FINISHED, now - keep_finished_for)]
    if keep_people_for is not None:
        due += [(GONE_CONVERSATIONS, now - keep_people_for), (GONE_PEOPLE, now - keep_people_for)]
    return due
