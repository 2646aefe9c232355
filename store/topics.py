"""Telegram topics ``/new`` opened and no question has named yet, on both engines: kept
here, not in the adapter's memory, so a topic opened just before a restart (or by another
replica) is still named from its first question. A topic nobody asks in is forgotten after
``UNNAMED_KEPT`` (the table stays small without housekeeping)."""

from __future__ import annotations

from store.migrations import Transaction
from store.parts import PgPart, SqlitePart

UNNAMED_KEPT = 30 * 86400.0  # seconds a topic waits for its first question to name it


class SqliteTopics(SqlitePart):
    async def keep_unnamed_topic(self, platform: str, chat: str, thread: str) -> None:
        now = self._clock()

        def keep() -> None:
            with Transaction(self._db) as db:
                db.execute("DELETE FROM unnamed_topics WHERE opened_at < ?", (now - UNNAMED_KEPT,))
                db.execute(
                    "INSERT OR REPLACE INTO unnamed_topics (platform, chat, thread, opened_at) VALUES (?, ?, ?, ?)",
                    (platform, chat, thread, now),
                )

        await self._run(keep)

    async def take_unnamed_topic(self, platform: str, chat: str, thread: str) -> bool:
        """True once for a topic kept unnamed: its first question names it."""
        cursor = await self._run(
            self._db.execute,
            "DELETE FROM unnamed_topics WHERE platform = ? AND chat = ? AND thread = ?",
            (platform, chat, thread),
        )
        return bool(cursor.rowcount)


class PgTopics(PgPart):
    async def keep_unnamed_topic(self, platform: str, chat: str, thread: str) -> None:
        now = self._clock()
        await self.pool.execute(
            """WITH gone AS (DELETE FROM unnamed_topics
                           WHERE opened_at < $5 AND NOT (platform = $1 AND chat = $2 AND thread = $3))
               INSERT INTO unnamed_topics (platform, chat, thread, opened_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (platform, chat, thread) DO UPDATE SET opened_at = EXCLUDED.opened_at""",
            platform,
            chat,
            thread,
            now,
            now - UNNAMED_KEPT,
        )

    async def take_unnamed_topic(self, platform: str, chat: str, thread: str) -> bool:
        """True once for a topic kept unnamed: its first question names it."""
        status = await self.pool.execute(
            "DELETE FROM unnamed_topics WHERE platform = $1 AND chat = $2 AND thread = $3", platform, chat, thread
        )
        return status != "DELETE 0"
