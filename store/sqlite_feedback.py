"""Answers kept for 👍/👎 in SQLite (``FEEDBACK_DAYS``): a mixin of ``SqliteStore``, which
provides its thread (``_run``), clock and transactions."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bridge.models import QuestionState, Reply
from bridge.ports.store import KeptAnswer
from store.migrations import Transaction
from store.rows import finish_also

T = TypeVar("T")

_KEEP = (
    "INSERT OR IGNORE INTO feedback (question_id, fk_id, message_id, question, answer, keep_until) "
    "SELECT id, fk_id, ?, text, ?, ? FROM questions WHERE id = ?"
)
# A question a person took over: its agent answer, should one come anyway, is posted once.
_HANDED = (
    "INSERT OR IGNORE INTO handed_questions (question_id, conversation_id, agent_message_id, handed_at) "
    "SELECT id, conversation_id, agent_message_id, ? FROM questions WHERE id = ? AND agent_message_id IS NOT NULL"
)


def kept_from_row(row: Any) -> KeptAnswer:
    return KeptAnswer(
        question_id=int(row["question_id"]),
        fk_id=row["fk_id"],
        message_id=row["message_id"],
        question=row["question"],
        answer=row["answer"],
        vote=row["vote"],
        comment=row["comment"],
    )


class KeptAnswers:
    _clock: Callable[[], float]

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    async def _update(self, sql: str, params: Sequence[Any]) -> int:
        raise NotImplementedError

    def _transaction(self) -> Transaction:
        raise NotImplementedError

    async def mark_finished(
        self, qid: int, state: QuestionState, reply: Reply, error: str | None = None, *, keep_until: float | None = None
    ) -> bool:
        now = self._clock()
        # A stopped question stays stopped: its answer is never recorded, so never posted.
        finish = (
            "UPDATE questions SET state = ?, reply = ?, error = ?, finished_at = ? WHERE id = ? AND state <> 'stopped'",
            (state.value, json.dumps(reply.to_json()), error, now, qid),
        )
        also = finish_also(_KEEP, _HANDED, qid, state, reply, now, keep_until)
        if not also:
            return bool(await self._update(*finish))

        def finish_and_more() -> bool:
            with self._transaction() as db:
                if not db.execute(*finish).rowcount:
                    return False
                for statement in also:
                    db.execute(*statement)
                return True

        return await self._run(finish_and_more)

    async def kept_answer(self, qid: int) -> KeptAnswer | None:
        row = await self._one("SELECT * FROM feedback WHERE question_id = ? AND keep_until > ?", (qid, self._clock()))
        return kept_from_row(row) if row else None

    async def save_vote(self, qid: int, vote: str | None, comment: str | None) -> None:
        await self._update(
            "UPDATE feedback SET vote = COALESCE(?, vote), comment = COALESCE(?, comment) WHERE question_id = ?",
            (vote, comment, qid),
        )

    async def note_comment_prompt(self, qid: int, where: str) -> None:
        await self._update("UPDATE feedback SET prompt = ? WHERE question_id = ?", (where, qid))

    async def prompted_answer(self, where: str) -> KeptAnswer | None:
        row = await self._one("SELECT * FROM feedback WHERE prompt = ? AND keep_until > ?", (where, self._clock()))
        return kept_from_row(row) if row else None
