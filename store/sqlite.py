"""The SQLite store (``StorePort``): one aiosqlite connection, WAL, versioned migrations.

All writes that belong together run in one ``BEGIN IMMEDIATE`` transaction under an
asyncio lock: the connection is shared by every task, and without the lock one task's
COMMIT could commit another task's half-done work.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite

from bridge.models import InboundMessage, QuestionState, Reply
from bridge.ports.store import ConversationRecord, QuestionRecord
from store.migrations import MIGRATIONS
from store.rows import conversation_from_row, profile_json, question_from_row

# Written exactly like the partial index ``questions_open`` so SQLite can use it.
_OPEN_WHERE = "state NOT IN ('delivered', 'undeliverable')"


class SqliteStore:
    """Durable state of the bridge in one SQLite file. Use as ``async with SqliteStore(path) as store``."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

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
        if self._db is not None:
            return
        _create_private(self._path)
        db = await aiosqlite.connect(self._path, isolation_level=None)
        db.row_factory = sqlite3.Row
        await db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across a process crash in WAL mode (only an OS crash can lose
        # the last transactions), which is the failure a PaaS restart produces.
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.execute("PRAGMA foreign_keys=ON")
        self._db = db
        await self._migrate()

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            db = self.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    async def _migrate(self) -> None:
        async with self._transaction() as db:
            await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = await _one(db, "SELECT MAX(version) AS v FROM schema_version")
            current = row["v"] if row and row["v"] is not None else 0
            for version, script in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                for statement in _statements(script):
                    await db.execute(statement)
                await db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    async def schema_version(self) -> int:
        row = await _one(self.db, "SELECT MAX(version) AS v FROM schema_version")
        return int(row["v"]) if row else 0

    async def ping(self) -> None:
        await _one(self.db, "SELECT 1")

    # -- de-duplication --------------------------------------------------------------

    async def first_sighting(self, keys: Sequence[str], ttl: float) -> bool:
        """Record event keys; False if any of them was seen (and has not expired)."""
        if not keys:
            return True
        async with self._transaction() as db:
            return await self._claim(db, keys, ttl)

    async def _claim(self, db: aiosqlite.Connection, keys: Sequence[str], ttl: float) -> bool:
        if not keys:
            return True
        now = self._clock()
        marks = ",".join("?" * len(keys))
        seen = await _one(
            db,
            f"SELECT 1 FROM seen_events WHERE key IN ({marks}) AND expires_at > ?",
            (*keys, now),
        )
        if seen is not None:
            return False
        await db.executemany(
            "INSERT OR REPLACE INTO seen_events (key, expires_at) VALUES (?, ?)",
            [(k, now + ttl) for k in keys],
        )
        return True

    # -- questions -------------------------------------------------------------------

    async def record_question(self, msg: InboundMessage, ttl: float) -> QuestionRecord | None:
        """Durably record a new question, or return None if it is a duplicate."""
        now = self._clock()
        async with self._transaction() as db:
            if not await self._claim(db, msg.dedupe_keys, ttl):
                return None
            conversation_id = await self._current_conversation(db, msg.user.fk_id)
            cursor = await db.execute(
                """INSERT INTO questions (conversation_id, fk_id, platform, route, profile, text,
                                          state, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    conversation_id,
                    msg.user.fk_id,
                    msg.platform,
                    json.dumps(msg.origin.to_json()),
                    profile_json(msg.user),
                    msg.text,
                    QuestionState.RECEIVED.value,
                    now,
                ),
            )
            assert cursor.lastrowid is not None
        return QuestionRecord.new(cursor.lastrowid, conversation_id, msg, now)

    async def _current_conversation(self, db: aiosqlite.Connection, fk_id: str) -> int:
        row = await _one(db, "SELECT id FROM conversations WHERE fk_id = ? AND ended_at IS NULL", (fk_id,))
        if row is not None:
            return int(row["id"])
        cursor = await db.execute("INSERT INTO conversations (fk_id, created_at) VALUES (?, ?)", (fk_id, self._clock()))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def question(self, qid: int) -> QuestionRecord:
        row = await _one(self.db, "SELECT * FROM questions WHERE id = ?", (qid,))
        if row is None:
            raise KeyError(qid)
        return question_from_row(row)

    async def next_open_question(self, conversation_id: int) -> QuestionRecord | None:
        row = await _one(
            self.db,
            f"SELECT * FROM questions WHERE conversation_id = ? AND {_OPEN_WHERE} ORDER BY id LIMIT 1",
            (conversation_id,),
        )
        return question_from_row(row) if row else None

    async def open_conversations(self, platforms: Iterable[str]) -> list[int]:
        """Conversations with unfinished questions from these platforms, oldest first."""
        names = tuple(platforms)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        rows = await self.db.execute_fetchall(
            f"SELECT conversation_id, MIN(id) AS first FROM questions "
            f"WHERE {_OPEN_WHERE} AND platform IN ({marks}) "
            "GROUP BY conversation_id ORDER BY first",
            names,
        )
        return [int(r["conversation_id"]) for r in rows]

    async def answered_in_thread(self, platform: str, fk_id: str, chat: str, thread: str) -> bool:
        """Did this person ask the bot something in this thread (recently)?"""
        row = await _one(
            self.db,
            "SELECT 1 FROM questions WHERE platform = ? AND fk_id = ? "
            "AND json_extract(route, '$.chat') = ? AND json_extract(route, '$.thread') = ? LIMIT 1",
            (platform, fk_id, chat, thread),
        )
        return row is not None

    async def count_open(self, platform: str | None = None) -> int:
        if platform is None:
            row = await _one(self.db, f"SELECT COUNT(*) AS n FROM questions WHERE {_OPEN_WHERE}")
        else:
            row = await _one(
                self.db,
                f"SELECT COUNT(*) AS n FROM questions WHERE {_OPEN_WHERE} AND platform = ?",
                (platform,),
            )
        return int(row["n"]) if row else 0

    async def known_message_ids(self, conversation_id: int) -> set[str]:
        rows = await self.db.execute_fetchall(
            "SELECT raia_message_id FROM questions WHERE conversation_id = ? AND raia_message_id IS NOT NULL",
            (conversation_id,),
        )
        return {r["raia_message_id"] for r in rows}

    async def _update(self, sql: str, params: Sequence[Any]) -> None:
        # One statement is atomic on its own (autocommit): one thread hop, not three.
        # The lock keeps it from landing inside another task's open transaction.
        async with self._lock:
            await self.db.execute(sql, params)

    async def mark_started(self, qid: int) -> float:
        now = self._clock()
        await self._update("UPDATE questions SET started_at = COALESCE(started_at, ?) WHERE id = ?", (now, qid))
        return now

    async def note_send_attempt(self, qid: int) -> float:
        """Written *before* the send: after a crash it says "raia may have this already"."""
        now = self._clock()
        await self._update(
            "UPDATE questions SET send_attempts = send_attempts + 1, send_attempted_at = ? WHERE id = ?", (now, qid)
        )
        return now

    async def clear_send_attempt(self, qid: int) -> None:
        await self._update("UPDATE questions SET send_attempted_at = NULL WHERE id = ?", (qid,))

    async def mark_sent(self, qid: int, raia_message_id: str) -> float:
        now = self._clock()
        await self._update(
            "UPDATE questions SET state = ?, raia_message_id = ?, sent_at = ? WHERE id = ?",
            (QuestionState.SENT.value, raia_message_id, now, qid),
        )
        return now

    async def mark_finished(self, qid: int, state: QuestionState, reply: Reply, error: str | None = None) -> None:
        await self._update(
            "UPDATE questions SET state = ?, reply = ?, error = ?, finished_at = ? WHERE id = ?",
            (state.value, json.dumps(reply.to_json()), error, self._clock(), qid),
        )

    async def mark_parts_delivered(self, qid: int, parts: int) -> None:
        await self._update("UPDATE questions SET parts_delivered = ? WHERE id = ?", (parts, qid))

    async def note_delivery_attempt(self, qid: int, error: str) -> int:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE questions SET delivery_attempts = delivery_attempts + 1, error = ? WHERE id = ?",
                (error, qid),
            )
            row = await _one(db, "SELECT delivery_attempts FROM questions WHERE id = ?", (qid,))
        return int(row["delivery_attempts"]) if row else 0

    async def mark_delivered(
        self, qid: int, state: QuestionState = QuestionState.DELIVERED, error: str | None = None
    ) -> None:
        # The question and answer text are not needed any more: drop them (privacy).
        await self._update(
            "UPDATE questions SET state = ?, delivered_at = ?, text = '', reply = NULL, "
            "error = COALESCE(?, error) WHERE id = ?",
            (state.value, self._clock(), error, qid),
        )

    # -- identities and conversations ------------------------------------------------

    async def raia_user_id(self, fk_id: str) -> str | None:
        row = await _one(self.db, "SELECT raia_user_id FROM identities WHERE fk_id = ?", (fk_id,))
        return str(row["raia_user_id"]) if row else None

    async def save_raia_user(self, fk_id: str, raia_user_id: str) -> None:
        await self._update(
            "INSERT OR REPLACE INTO identities (fk_id, raia_user_id, created_at) VALUES (?, ?, ?)",
            (fk_id, raia_user_id, self._clock()),
        )

    async def conversation(self, conversation_id: int) -> ConversationRecord:
        row = await _one(self.db, "SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise KeyError(conversation_id)
        return conversation_from_row(row)

    async def set_raia_conversation(self, conversation_id: int, raia_conversation_id: str) -> None:
        await self._update(
            "UPDATE conversations SET raia_conversation_id = ? WHERE id = ?",
            (raia_conversation_id, conversation_id),
        )

    async def end_conversation(self, fk_id: str) -> bool:
        """Reset: the identity's next question opens a new conversation. Questions
        already queued stay on the conversation they were asked in."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE conversations SET ended_at = ? WHERE fk_id = ? AND ended_at IS NULL",
                (self._clock(), fk_id),
            )
            return cursor.rowcount > 0

    async def conversation_history(self, fk_id: str) -> list[ConversationRecord]:
        rows = await self.db.execute_fetchall("SELECT * FROM conversations WHERE fk_id = ? ORDER BY id", (fk_id,))
        return [conversation_from_row(r) for r in rows]

    # -- housekeeping ----------------------------------------------------------------

    async def purge(self, keep_finished_for: float) -> None:
        """Forget expired event keys and long-finished questions."""
        now = self._clock()
        async with self._transaction() as db:
            await db.execute("DELETE FROM seen_events WHERE expires_at <= ?", (now,))
            await db.execute(
                "DELETE FROM questions WHERE state IN ('delivered', 'undeliverable') AND delivered_at < ?",
                (now - keep_finished_for,),
            )


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds user ids and text)."""
    if str(path) == ":memory:":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


def _statements(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


async def _one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    # execute_fetchall is one hop to the database thread; execute + fetchone + close are three.
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)
