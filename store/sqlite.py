"""The SQLite store (``StorePort``): one connection on one thread of its own.

Every method is one trip to that thread, where it runs all its statements (and its
transaction) at once: a trip costs the event loop a wake-up, and under a burst those
wake-ups, not SQLite, decide how fast webhooks are acknowledged. The thread also
serialises the transactions, so no two can interleave on the shared connection.

New questions are committed in groups (``store.sqlite_intake``); housekeeping goes a few
milliseconds per trip (``store.sqlite_housekeeping``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from bridge.errors import ConversationGone, QuestionGone
from bridge.models import Attachment, InboundMessage, QuestionState
from bridge.ports.store import ConversationRecord, QuestionRecord, StoppedQuestion
from store import sqlite_file
from store.agents import AgentScoped
from store.checkpoint import Checkpointer
from store.errors import from_sqlite
from store.installs import SqliteInstalls
from store.languages import SqliteLanguages
from store.migrations import Transaction
from store.rows import QUESTION_WITH_AGENT_IDS, conversation_from_row, files_json, question_from_row, times_from
from store.sqlite_feedback import KeptAnswers
from store.sqlite_full import SpaceGuard
from store.sqlite_housekeeping import Housekeeping
from store.sqlite_intake import GroupCommit, claim, record_group
from store.sqlite_takeover import Handovers
from store.topics import SqliteTopics

T = TypeVar("T")

# Written exactly like the partial index ``questions_open`` so SQLite can use it.
_OPEN_WHERE = "state NOT IN ('delivered', 'undeliverable', 'stopped')"
BUSY_TIMEOUT = 5.0  # another process holding the write lock: wait this long (s), then fail


class SqliteStore(AgentScoped, KeptAnswers, Handovers, SqliteInstalls, SqliteTopics, SqliteLanguages, Housekeeping):
    """Durable state of the bridge in one SQLite file. Use as ``async with SqliteStore(path) as store``."""

    engine = "sqlite"

    def __init__(
        self, path: Path, *, clock: Callable[[], float] = time.time, busy_timeout: float = BUSY_TIMEOUT
    ) -> None:
        self._path = path
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._checkpoints: Checkpointer | None = None
        self._space = SpaceGuard(path)  # a full disk: calls refused until the log is copied
        self._group = GroupCommit(lambda group: self._run(self._record_group, group))

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        if self._thread is not None:
            return
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        await self._run(self._open)

    def _open(self) -> None:
        self._conn = self._space.conn = sqlite_file.connect(self._path, self._busy_timeout)
        self._checkpoints = Checkpointer(self._path, self._busy_timeout)
        self._checkpoints.start()

    inspect = staticmethod(sqlite_file.inspect)

    async def close(self) -> None:
        await self._group.drain()
        if self._checkpoints is not None:  # first: the store's connection closes last and checkpoints the rest
            checkpoints, self._checkpoints = self._checkpoints, None
            await asyncio.to_thread(checkpoints.stop)
        if self._thread is not None:
            thread, self._thread = self._thread, None
            if self._conn is not None:
                await asyncio.get_running_loop().run_in_executor(thread, self._conn.close)
                self._conn = self._space.conn = None
            thread.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """One trip to the database thread; the one place where the driver's errors
        become the core's ``StoreError`` (``store.errors``)."""
        if self._thread is None:
            raise RuntimeError("store is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._space.call, fn, *args)
        except sqlite3.Error as exc:
            raise from_sqlite(exc) from exc

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def _transaction(self) -> Transaction:
        return Transaction(self._db)

    async def schema_version(self) -> int:
        return int(await self._run(lambda: self._db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]))

    # -- de-duplication --------------------------------------------------------------

    async def first_sighting(self, keys: Sequence[str], ttl: float) -> bool:
        """Record event keys; False if any of them was seen (and has not expired)."""
        if not keys:
            return True

        def claim_keys() -> bool:
            with self._transaction() as db:
                return claim(db, keys, ttl, self._clock())

        return await self._run(claim_keys)

    # -- questions -------------------------------------------------------------------

    async def record_question(self, msg: InboundMessage, ttl: float) -> QuestionRecord | None:
        """Durably record a new question, or return None if it is a duplicate. Returns
        only once the question is committed (in a group with any that came meanwhile)."""
        return await self._group.record(msg, ttl)

    def _record_group(self, group: list[tuple[InboundMessage, float]]) -> list[QuestionRecord | None]:
        with self._transaction() as db:
            return record_group(db, group, self._clock())

    async def question(self, qid: int) -> QuestionRecord:
        row = await self._one(f"{QUESTION_WITH_AGENT_IDS} WHERE id = ?", (qid,))
        if row is None:
            raise QuestionGone(qid)
        return question_from_row(row)

    async def next_open_question(self, conversation_id: int) -> QuestionRecord | None:
        first = await self.open_questions(conversation_id, 1)
        return first[0] if first else None

    async def open_questions(self, conversation_id: int, limit: int) -> list[QuestionRecord]:
        rows = await self._all(
            f"{QUESTION_WITH_AGENT_IDS} WHERE conversation_id = ? AND {_OPEN_WHERE} ORDER BY id LIMIT ?",
            (conversation_id, limit),
        )
        return [question_from_row(row) for row in rows]

    async def open_conversations(self, platforms: Iterable[str]) -> list[int]:
        """Conversations with unfinished questions from these platforms, oldest first."""
        names = tuple(platforms)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        rows = await self._all(
            f"SELECT conversation_id, MIN(id) AS first FROM questions "
            f"WHERE {_OPEN_WHERE} AND platform IN ({marks}) "
            "AND conversation_id IN (SELECT id FROM conversations WHERE agent = ?) "
            "GROUP BY conversation_id ORDER BY first",
            (*names, self.agent),
        )
        return [int(r["conversation_id"]) for r in rows]

    async def answered_in_thread(self, platform: str, fk_id: str, chat: str, thread: str) -> bool:
        """Did this person ask the bot something in this thread (recently)?"""
        row = await self._one(
            "SELECT 1 FROM questions WHERE platform = ? AND fk_id = ? "
            "AND json_extract(route, '$.chat') = ? AND json_extract(route, '$.thread') = ? LIMIT 1",
            (platform, fk_id, chat, thread),
        )
        return row is not None

    async def thread_agent(self, platform: str, chat: str, thread: str) -> str | None:
        row = await self._one(
            "SELECT c.agent FROM questions q JOIN conversations c ON c.id = q.conversation_id "
            "WHERE q.platform = ? AND json_extract(q.route, '$.chat') = ? AND json_extract(q.route, '$.thread') = ? "
            "ORDER BY q.id DESC LIMIT 1",
            (platform, chat, thread),
        )
        return str(row["agent"]) if row else None

    async def question_agent(self, qid: int) -> str | None:
        row = await self._one(
            "SELECT c.agent FROM questions q JOIN conversations c ON c.id = q.conversation_id WHERE q.id = ?", (qid,)
        )
        return str(row["agent"]) if row else None

    async def count_open(self, platform: str | None = None) -> int:
        if platform is None:
            row = await self._one(f"SELECT COUNT(*) AS n FROM questions WHERE {_OPEN_WHERE}")
        else:
            row = await self._one(
                f"SELECT COUNT(*) AS n FROM questions WHERE {_OPEN_WHERE} AND platform = ?", (platform,)
            )
        return int(row["n"]) if row else 0

    async def known_message_ids(self, conversation_id: int) -> set[str]:
        rows = await self._all(
            "SELECT agent_message_id FROM questions WHERE conversation_id = ? AND agent_message_id IS NOT NULL",
            (conversation_id,),
        )
        return {r["agent_message_id"] for r in rows}

    async def mark_started(self, qid: int) -> float:
        now = self._clock()
        await self._update("UPDATE questions SET started_at = COALESCE(started_at, ?) WHERE id = ?", (now, qid))
        return now

    async def mark_heard(self, qid: int, attachments: Sequence[Attachment]) -> None:
        await self._update("UPDATE questions SET files = ? WHERE id = ?", (files_json(tuple(attachments)), qid))

    async def note_send_attempt(self, qid: int) -> float:
        """Written *before* the send: after a crash it says "raia may have this already"."""
        now = self._clock()
        await self._update(
            "UPDATE questions SET send_attempts = send_attempts + 1, send_attempted_at = ? WHERE id = ?", (now, qid)
        )
        return now

    async def clear_send_attempt(self, qid: int) -> None:
        await self._update("UPDATE questions SET send_attempted_at = NULL WHERE id = ?", (qid,))

    async def mark_sent(self, qid: int, agent_message_id: str) -> float:
        now = self._clock()
        await self._update(
            "UPDATE questions SET state = ?, agent_message_id = ?, sent_at = ? WHERE id = ? AND state <> 'stopped'",
            (QuestionState.SENT.value, agent_message_id, now, qid),
        )
        return now

    async def mark_parts_delivered(self, qid: int, parts: int) -> None:
        await self._update("UPDATE questions SET parts_delivered = ? WHERE id = ? AND state <> 'stopped'", (parts, qid))

    async def note_delivery_attempt(self, qid: int, error: str) -> int:
        def note() -> int:
            with self._transaction() as db:
                db.execute(
                    "UPDATE questions SET delivery_attempts = delivery_attempts + 1, error = ? WHERE id = ?",
                    (error, qid),
                )
                row = db.execute("SELECT delivery_attempts FROM questions WHERE id = ?", (qid,)).fetchone()
            return int(row["delivery_attempts"]) if row else 0

        return await self._run(note)

    async def mark_delivered(
        self, qid: int, state: QuestionState = QuestionState.DELIVERED, error: str | None = None
    ) -> None:
        # The question and answer text are not needed any more: drop them (privacy).
        await self._update(
            "UPDATE questions SET state = ?, delivered_at = ?, text = '', reply = NULL, "
            "error = COALESCE(?, error) WHERE id = ? AND state <> 'stopped'",
            (state.value, self._clock(), error, qid),
        )

    # -- identities and conversations ------------------------------------------------

    async def agent_user_id(self, fk_id: str) -> str | None:
        row = await self._one("SELECT agent_user_id FROM identities WHERE agent = ? AND fk_id = ?", (self.agent, fk_id))
        return str(row["agent_user_id"]) if row else None

    async def save_agent_user(self, fk_id: str, agent_user_id: str) -> None:
        await self._update(
            "INSERT OR REPLACE INTO identities (agent, fk_id, agent_user_id, created_at, last_active_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.agent, fk_id, agent_user_id, now := self._clock(), now),
        )

    async def answer_times(self) -> list[float]:
        if self.agent:  # a routes file's agent: its own row (the one of answer_times is the single agent's)
            row = await self._one("SELECT seconds FROM agent_answer_times WHERE agent = ?", (self.agent,))
        else:
            row = await self._one("SELECT seconds FROM answer_times WHERE id = 1")
        return times_from(row["seconds"]) if row else []

    async def save_answer_times(self, seconds: Sequence[float]) -> None:
        if self.agent:
            await self._update(
                "INSERT OR REPLACE INTO agent_answer_times (agent, seconds, saved_at) VALUES (?, ?, ?)",
                (self.agent, json.dumps(list(seconds)), self._clock()),
            )
            return
        await self._update(
            "INSERT OR REPLACE INTO answer_times (id, seconds, saved_at) VALUES (1, ?, ?)",
            (json.dumps(list(seconds)), self._clock()),
        )

    async def conversation(self, conversation_id: int) -> ConversationRecord:
        row = await self._one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise ConversationGone(conversation_id)
        return conversation_from_row(row)

    async def set_agent_conversation(self, conversation_id: int, agent_conversation_id: str) -> None:
        await self._update(
            "UPDATE conversations SET agent_conversation_id = ? WHERE id = ?", (agent_conversation_id, conversation_id)
        )

    async def end_conversation(self, fk_id: str) -> bool:
        """Reset: the identity's next question opens a new conversation. Questions
        already queued stay on the conversation they were asked in."""
        now = self._clock()
        changed = await self._run(
            lambda: (
                self._db.execute(
                    "UPDATE conversations SET ended_at = ? WHERE agent = ? AND fk_id = ? AND ended_at IS NULL",
                    (now, self.agent, fk_id),
                ).rowcount
            )
        )
        return bool(changed)

    async def stop_questions(self, platform: str, fk_id: str, chat: str, thread: str | None) -> list[StoppedQuestion]:
        where = "platform = ? AND fk_id = ? AND json_extract(route, '$.chat') = ? AND state IN ('received', 'sent')" + (
            " AND json_extract(route, '$.thread') = ?" if thread is not None else ""
        )
        params: tuple[Any, ...] = (platform, fk_id, chat) + ((thread,) if thread is not None else ())
        now = self._clock()

        def stop() -> list[StoppedQuestion]:
            with self._transaction() as db:
                rows = db.execute(f"SELECT id, conversation_id FROM questions WHERE {where}", params).fetchall()
                db.executemany(
                    "UPDATE questions SET state = 'stopped', finished_at = ?, delivered_at = ?, text = '', "
                    "reply = NULL WHERE id = ?",
                    [(now, now, row["id"]) for row in rows],
                )
            return [StoppedQuestion(int(row["id"]), int(row["conversation_id"])) for row in rows]

        return await self._run(stop)

    async def conversation_history(self, fk_id: str) -> list[ConversationRecord]:
        rows = await self._all(
            "SELECT * FROM conversations WHERE agent = ? AND fk_id = ? ORDER BY id", (self.agent, fk_id)
        )
        return [conversation_from_row(r) for r in rows]

    # -- lanes: one process owns the file (``store.lock``), so every lane is its own ------

    @property
    def shared(self) -> bool:
        return False

    @property
    def clock(self) -> Callable[[], float]:
        """The clock of every time this store writes or compares: the service uses it too."""
        return self._clock

    async def claim_lane(self, conversation_id: int, ttl: float) -> bool:
        return True

    async def renew_lanes(self, conversation_ids: Collection[int], ttl: float) -> set[int]:
        return set(conversation_ids)

    async def release_lane(self, conversation_id: int) -> None:
        return None

    async def unclaimed_conversations(self, platforms: Iterable[str]) -> list[int]:
        return await self.open_conversations(platforms)

    # -- one trip each -----------------------------------------------------------------

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self._run(lambda: self._db.execute(sql, params).fetchone())

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self._run(lambda: self._db.execute(sql, params).fetchall())

    async def _update(self, sql: str, params: Sequence[Any]) -> int:
        """One statement (atomic on its own: autocommit); returns the rows it changed."""
        cursor = await self._run(self._db.execute, sql, params)
        return int(cursor.rowcount)
