"""Intake in PostgreSQL: event keys claimed once across replicas, and each new question
(or an album's next photo) recorded with them in one transaction. A mixin of
``PostgresStore``, which provides the pool and clock (``store.sqlite_intake`` is SQLite's)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bridge.models import InboundMessage
from bridge.ports.store import QuestionRecord
from store.housekeeping import ACTIVE_EVERY
from store.pg_pool import Pool
from store.rows import album_joined, files_json, question_from_row, question_values


class PgIntake:
    _clock: Callable[[], float]

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    # -- de-duplication --------------------------------------------------------------

    async def first_sighting(self, keys: Sequence[str], ttl: float) -> bool:
        if not keys:
            return True
        try:
            async with self.pool.transaction() as conn:
                return await self._claim(conn, keys, ttl, self._clock())
        except _Seen:
            return False

    @staticmethod
    async def _claim(conn: Any, keys: Sequence[str], ttl: float, now: float) -> bool:
        """Inside a transaction. A key inserted by a concurrent transaction blocks here
        until that one commits, then counts as seen: two replicas never both win."""
        fresh = await conn.fetchval(
            """WITH claimed AS (
                   INSERT INTO seen_events (key, expires_at) SELECT k, $2 FROM unnest($1::text[]) AS k
                   ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
                   WHERE seen_events.expires_at <= $3
                   RETURNING 1)
               SELECT count(*) FROM claimed""",
            sorted(set(keys)),  # one order for everyone: concurrent claims never deadlock
            now + ttl,
            now,
        )
        if fresh != len(set(keys)):
            raise _Seen
        return True

    async def record_question(self, msg: InboundMessage, ttl: float) -> QuestionRecord | None:
        now = self._clock()
        try:
            async with self.pool.transaction() as conn:
                if msg.dedupe_keys:
                    await self._claim(conn, msg.dedupe_keys, ttl, now)
                if msg.album is not None:
                    joined = await join_album(conn, msg)
                    if joined is not None:
                        return joined
                    if not msg.addressed and not await album_asked(conn, msg):
                        return None  # an album's unaddressed photo, and nobody asked about the album
                    # Addressed, or a late photo of an album this person asked about (its
                    # question is already on its way): a question of its own.
                # Its last activity, and the person's, refreshed at most daily (PEOPLE_DAYS).
                row = await conn.fetchrow(
                    """INSERT INTO conversations (fk_id, created_at, last_active_at, agent) VALUES ($1, $2, $2, $4)
                       ON CONFLICT (agent, fk_id) WHERE ended_at IS NULL DO UPDATE SET last_active_at =
                           CASE WHEN conversations.last_active_at > $2 - $3 THEN conversations.last_active_at
                                ELSE EXCLUDED.last_active_at END
                       RETURNING id, last_active_at = $2""",
                    msg.scope_key,  # the person, or the thread in CONVERSATION_SCOPE=thread
                    now,
                    ACTIVE_EVERY,
                    msg.agent,
                )
                assert row is not None  # an upsert returns its row
                conversation_id, refreshed = row
                if refreshed:
                    await conn.execute(
                        "UPDATE identities SET last_active_at = $1 WHERE agent = $3 AND fk_id = $2",
                        now,
                        msg.user.fk_id,
                        msg.agent,
                    )
                qid = await conn.fetchval(
                    """INSERT INTO questions (conversation_id, fk_id, platform, route, profile, text, state, created_at,
                                              files, album)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
                    *question_values(msg, int(conversation_id), now),
                )
        except _Seen:  # rolled back: nothing of this message was written
            return None
        return QuestionRecord.new(int(qid), int(conversation_id), msg, now)


async def join_album(conn: Any, msg: InboundMessage) -> QuestionRecord | None:
    """Add ``msg`` to its album's question if that one is not started yet (row locked)."""
    row = await conn.fetchrow(
        """SELECT * FROM questions WHERE album = $1 AND fk_id = $2 AND state = 'received' AND started_at IS NULL
           FOR UPDATE""",
        msg.album,
        msg.user.fk_id,
    )
    if row is None:
        return None
    files, text = album_joined(row, msg)
    await conn.execute("UPDATE questions SET files = $1, text = $2 WHERE id = $3", files_json(files), text, row["id"])
    return replace(question_from_row(row), attachments=files, text=text)


async def album_asked(conn: Any, msg: InboundMessage) -> bool:
    """Whether this person already asked a question with ``msg``'s album."""
    found = await conn.fetchval(
        "SELECT 1 FROM questions WHERE album = $1 AND fk_id = $2 LIMIT 1", msg.album, msg.user.fk_id
    )
    return found is not None


class _Seen(Exception):
    """A dedupe key was already claimed: roll the transaction back."""
