"""SQLite intake: event keys claimed once, and new questions committed in groups.

``record_question`` calls that arrive while a commit is under way wait for the next one,
which takes all of them in one transaction (one trip to the store's thread, one commit)
and answers each caller only after it is durable. The SQL runs on that thread, inside
the caller's transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bridge.models import InboundMessage
from bridge.ports.store import QuestionRecord
from store.housekeeping import ACTIVE_EVERY
from store.rows import album_joined, files_json, question_from_row, question_values

GROUP_LIMIT = 64  # questions in one group commit at most: a bigger group holds the GIL too long

Group = list[tuple[InboundMessage, float]]


def claim(db: sqlite3.Connection, keys: Sequence[str], ttl: float, now: float) -> bool:
    """Record event keys; False if any of them was seen (and has not expired)."""
    if not keys:
        return True
    marks = ",".join("?" * len(keys))
    seen = db.execute(f"SELECT 1 FROM seen_events WHERE key IN ({marks}) AND expires_at > ?", (*keys, now))
    if seen.fetchone() is not None:
        return False
    db.executemany("INSERT OR REPLACE INTO seen_events (key, expires_at) VALUES (?, ?)", [(k, now + ttl) for k in keys])
    return True


def current_conversation(db: sqlite3.Connection, key: str, person: str, now: float, agent: str = "") -> int:
    """The conversation ``key`` asks in (opened if there is none), and its and the person's
    last activity refreshed (PEOPLE_DAYS; at most daily, so a turn rarely writes more)."""
    row = db.execute(
        "SELECT id, last_active_at FROM conversations WHERE agent = ? AND fk_id = ? AND ended_at IS NULL",
        (agent, key),
    ).fetchone()
    if row is not None:
        conversation_id = int(row["id"])
        if row["last_active_at"] is not None and row["last_active_at"] > now - ACTIVE_EVERY:
            return conversation_id
        db.execute("UPDATE conversations SET last_active_at = ? WHERE id = ?", (now, conversation_id))
    else:
        cursor = db.execute(
            "INSERT INTO conversations (agent, fk_id, created_at, last_active_at) VALUES (?, ?, ?, ?)",
            (agent, key, now, now),
        )
        assert cursor.lastrowid is not None
        conversation_id = cursor.lastrowid
    db.execute("UPDATE identities SET last_active_at = ? WHERE agent = ? AND fk_id = ?", (now, agent, person))
    return conversation_id


def record_group(db: sqlite3.Connection, group: Group, now: float) -> list[QuestionRecord | None]:
    """Each new question of ``group`` (None for a duplicate), inside one transaction."""
    records: list[QuestionRecord | None] = []
    for msg, ttl in group:
        if not claim(db, msg.dedupe_keys, ttl, now):
            records.append(None)
            continue
        if msg.album is not None:
            joined = join_album(db, msg)
            if joined is not None:
                records.append(joined)
                continue
        if not msg.addressed and msg.album is not None and not album_asked(db, msg):
            records.append(None)  # an album's unaddressed photo, and nobody asked about the album
            continue
        # Addressed, or a late photo of an album this person asked about (its question is
        # already on its way): a question of its own.
        # The person's conversation, or the thread's in CONVERSATION_SCOPE=thread.
        conversation_id = current_conversation(db, msg.scope_key, msg.user.fk_id, now, msg.agent)
        cursor = db.execute(
            """INSERT INTO questions (conversation_id, fk_id, platform, route, profile, text, state, created_at,
                                      files, album)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            question_values(msg, conversation_id, now),
        )
        assert cursor.lastrowid is not None
        records.append(QuestionRecord.new(cursor.lastrowid, conversation_id, msg, now))
    return records


def join_album(db: sqlite3.Connection, msg: InboundMessage) -> QuestionRecord | None:
    """Add ``msg`` to its album's question if that one is not started yet."""
    row = db.execute(
        "SELECT * FROM questions WHERE album = ? AND fk_id = ? AND state = 'received' AND started_at IS NULL",
        (msg.album, msg.user.fk_id),
    ).fetchone()
    if row is None:
        return None
    files, text = album_joined(row, msg)
    db.execute("UPDATE questions SET files = ?, text = ? WHERE id = ?", (files_json(files), text, row["id"]))
    return replace(question_from_row(row), attachments=files, text=text)


def album_asked(db: sqlite3.Connection, msg: InboundMessage) -> bool:
    """Whether this person already asked a question with ``msg``'s album."""
    found = db.execute("SELECT 1 FROM questions WHERE album = ? AND fk_id = ? LIMIT 1", (msg.album, msg.user.fk_id))
    return found.fetchone() is not None


class GroupCommit:
    """Collects ``record`` calls and commits them together through ``commit`` (one trip)."""

    def __init__(self, commit: Callable[[Group], Awaitable[list[QuestionRecord | None]]]) -> None:
        self._commit = commit
        self._pending: list[tuple[InboundMessage, float, asyncio.Future[QuestionRecord | None]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, msg: InboundMessage, ttl: float) -> QuestionRecord | None:
        done: asyncio.Future[QuestionRecord | None] = asyncio.get_running_loop().create_future()
        self._pending.append((msg, ttl, done))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush(), name="sqlite-group-commit")
        return await done

    async def drain(self) -> None:
        """Let a commit under way finish (at close)."""
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)

    async def _flush(self) -> None:
        try:
            while self._pending:
                group, self._pending = self._pending[:GROUP_LIMIT], self._pending[GROUP_LIMIT:]
                try:
                    records = await self._commit([(m, t) for m, t, _ in group])
                except BaseException as exc:  # the whole group failed: every caller hears it
                    for _, _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, _, done), record in zip(group, records, strict=True):
                    if not done.done():
                        done.set_result(record)
        finally:
            self._flushing = None
