"""Answers kept for 👍/👎 in PostgreSQL (``FEEDBACK_DAYS``): a mixin of ``PostgresStore``,
which provides the pool and clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.models import QuestionState, Reply
from bridge.ports.store import KeptAnswer
from store.pg_pool import Pool
from store.sqlite_feedback import kept_from_row

_FINISH = "UPDATE questions SET state = $1, reply = $2, error = $3, finished_at = $4 WHERE id = $5"
_KEEP = (
    "INSERT INTO feedback (question_id, fk_id, message_id, question, answer, keep_until) "
    "SELECT id, fk_id, $1, text, $2, $3 FROM questions WHERE id = $4 ON CONFLICT DO NOTHING"
)


class PgKeptAnswers:
    _clock: Callable[[], float]

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    async def mark_finished(
        self, qid: int, state: QuestionState, reply: Reply, error: str | None = None, *, keep_until: float | None = None
    ) -> None:
        finish: tuple[Any, ...] = (state.value, json.dumps(reply.to_json()), error, self._clock(), qid)
        if keep_until is None or state is not QuestionState.ANSWERED or not reply.message_id:
            await self.pool.execute(_FINISH, *finish)
            return
        async with self.pool.transaction() as conn:
            await conn.execute(_FINISH, *finish)
            await conn.execute(_KEEP, reply.message_id, reply.text, keep_until, qid)

    async def kept_answer(self, qid: int) -> KeptAnswer | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM feedback WHERE question_id = $1 AND keep_until > $2", qid, self._clock()
        )
        return kept_from_row(row) if row else None

    async def save_vote(self, qid: int, vote: str | None, comment: str | None) -> None:
        await self.pool.execute(
            "UPDATE feedback SET vote = COALESCE($1, vote), comment = COALESCE($2, comment) WHERE question_id = $3",
            vote,
            comment,
            qid,
        )

    async def note_comment_prompt(self, qid: int, where: str) -> None:
        await self.pool.execute("UPDATE feedback SET prompt = $1 WHERE question_id = $2", where, qid)

    async def prompted_answer(self, where: str) -> KeptAnswer | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM feedback WHERE prompt = $1 AND keep_until > $2", where, self._clock()
        )
        return kept_from_row(row) if row else None
