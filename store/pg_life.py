"""The steps of a question's life in PostgreSQL that decide what people see and what the
agent is asked: fenced by the conversation's lane lease. A mixin of ``PostgresStore``,
which provides the pool, the clock and this process's ``owner`` name.

Each step takes effect only while this replica holds the lease (``lane_owner`` is us and
``lane_until`` lies ahead on the database's clock), checked in the same statement, with
the conversation's row share-locked for it: a takeover (``claim_lane``) either waits for
the step to commit, or the step sees the new owner and writes nothing. A replica whose
lease ran out (a slow or unreachable database, a long pause) can therefore never record
a part posted, an answer or a send over the replica that took the conversation over; it
gets ``LeaseLost`` and its lane stops.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.errors import LeaseLost
from bridge.models import QuestionState, Reply
from store.pg_pool import Pool
from store.pg_replicas import NOW
from store.rows import finish_also

# $1 is the question's id, $2 this replica's owner name; the step's own values follow.
_HELD = f"""EXISTS (SELECT 1 FROM conversations c WHERE c.id = questions.conversation_id
                    AND c.lane_owner = $2 AND c.lane_until > {NOW} FOR SHARE)"""
_KEEP = (
    "INSERT INTO feedback (question_id, fk_id, message_id, question, answer, keep_until) "
    "SELECT id, fk_id, $1, text, $2, $3 FROM questions WHERE id = $4 ON CONFLICT DO NOTHING"
)
# A question a person took over: its agent answer, should one come anyway, is posted once.
_HANDED = (
    "INSERT INTO handed_questions (question_id, conversation_id, agent_message_id, handed_at) "
    "SELECT id, conversation_id, agent_message_id, $1 FROM questions WHERE id = $2 AND agent_message_id IS NOT NULL "
    "ON CONFLICT DO NOTHING"
)


def _fenced(assignments: str) -> str:
    """The step as one statement: 1 if it was written; 0 if the question is not there or
    was stopped (a step of a question that is gone changes nothing, as on SQLite; a stopped
    question stays stopped); -1 if the lease is not ours."""
    return f"""WITH done AS (UPDATE questions SET {assignments}
                             WHERE id = $1 AND state <> 'stopped' AND {_HELD} RETURNING 1)
               SELECT CASE WHEN EXISTS (SELECT 1 FROM done) THEN 1
                           WHEN NOT EXISTS (SELECT 1 FROM questions WHERE id = $1 AND state <> 'stopped') THEN 0
                           ELSE -1 END"""


_SEND_ATTEMPT = _fenced("send_attempts = send_attempts + 1, send_attempted_at = $3")
_SENT = _fenced("state = $3, agent_message_id = $4, sent_at = $5")
_FINISHED = _fenced("state = $3, reply = $4, error = $5, finished_at = $6")
_PARTS = _fenced("parts_delivered = $3")
# The question and answer text are not needed any more: dropped (privacy).
_DELIVERED = _fenced("state = $3, delivered_at = $4, text = '', reply = NULL, error = COALESCE($5, error)")


class PgQuestionLife:
    _clock: Callable[[], float]
    owner: str

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    async def _step(self, sql: str, qid: int, *values: Any) -> bool:
        """True if written; False if the question is gone or stopped; ``LeaseLost`` if not ours."""
        written = await self.pool.fetchval(sql, qid, self.owner, *values)
        if written < 0:
            raise LeaseLost(qid)
        return bool(written)

    async def note_send_attempt(self, qid: int) -> float:
        now = self._clock()
        await self._step(_SEND_ATTEMPT, qid, now)
        return now

    async def mark_sent(self, qid: int, agent_message_id: str) -> float:
        now = self._clock()
        await self._step(_SENT, qid, QuestionState.SENT.value, agent_message_id, now)
        return now

    async def mark_finished(
        self, qid: int, state: QuestionState, reply: Reply, error: str | None = None, *, keep_until: float | None = None
    ) -> bool:
        now = self._clock()
        values: tuple[Any, ...] = (state.value, json.dumps(reply.to_json()), error, now)
        also = finish_also(_KEEP, _HANDED, qid, state, reply, now, keep_until)
        if not also:
            return await self._step(_FINISHED, qid, *values)
        async with self.pool.transaction() as conn:
            written = await conn.fetchval(_FINISHED, qid, self.owner, *values)
            if written < 0:
                raise LeaseLost(qid)  # rolled back: nothing written
            if written:
                for sql, params in also:
                    await conn.execute(sql, *params)
            return bool(written)

    async def mark_parts_delivered(self, qid: int, parts: int) -> None:
        await self._step(_PARTS, qid, parts)

    async def mark_delivered(
        self, qid: int, state: QuestionState = QuestionState.DELIVERED, error: str | None = None
    ) -> None:
        await self._step(_DELIVERED, qid, state.value, self._clock(), error)
