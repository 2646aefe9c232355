"""Answers kept for 👍/👎 in PostgreSQL (``FEEDBACK_DAYS``): a mixin of ``PostgresStore``,
which provides the pool and clock. They are kept with the answer, in the same step
(``mark_finished``, in ``store.pg_life``)."""

from __future__ import annotations

from collections.abc import Callable

from bridge.ports.store import KeptAnswer
from store.pg_pool import Pool
from store.sqlite_feedback import kept_from_row


class PgKeptAnswers:
    _clock: Callable[[], float]

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

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
