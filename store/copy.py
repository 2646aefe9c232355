"""``raia-bridge migrate-db``: copy a SQLite database into PostgreSQL, idempotently.

Rows keep their ids, so questions still point at their conversations and a second run
finds everything there and copies nothing. The copy is one PostgreSQL transaction: an
interrupted run leaves the target as it was. The source is read only after its own
schema is brought up to date, under its instance lock (no bridge may be serving it).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import DatabaseUnavailable, InstanceLockTaken
from store.lock import InstanceLock
from store.postgres import PostgresStore
from store.sqlite import SqliteStore

# Table -> columns, parents before children (questions reference conversations).
TABLES: dict[str, tuple[str, ...]] = {
    "identities": ("agent", "fk_id", "agent_user_id", "created_at", "last_active_at"),
    "conversations": ("id", "agent", "fk_id", "agent_conversation_id", "created_at", "ended_at", "last_active_at"),
    "seen_events": ("key", "expires_at"),
    "questions": (
        "id", "conversation_id", "fk_id", "platform", "route", "profile", "text", "state", "agent_message_id",
        "send_attempts", "send_attempted_at", "reply", "error", "parts_delivered", "delivery_attempts",
        "created_at", "started_at", "sent_at", "finished_at", "delivered_at", "files", "album",
    ),
    "feedback": (
        "question_id", "fk_id", "message_id", "question", "answer", "vote", "comment", "prompt", "keep_until",
    ),
    # Takeovers: who handles each conversation and what was posted for it, so the new
    # database neither posts a staff message again nor skips one. Which process watches
    # (watch_owner) is not copied: the first replica to look claims it.
    "handovers": (
        "conversation_id", "agent_conversation_id", "by_person", "staff", "episode", "since", "platform", "route",
        "profile", "watch_until",
    ),
    "handover_posts": (
        "conversation_id", "key", "seq", "reply", "parts_delivered", "delivery_attempts", "created_at", "delivered_at",
    ),
    "handed_questions": ("question_id", "conversation_id", "agent_message_id", "handed_at", "settled_at"),
    # "Add to Slack" workspaces: the bot token is copied as stored, sealed with
    # BRIDGE_SECRET_KEY (never opened here), so the new deployment needs the same key.
    "slack_installations": ("team", "enterprise", "bot_token", "bot_user", "team_name", "installed_at"),
    # Topics /new opened and no question has named yet: otherwise they stay "New conversation".
    "unnamed_topics": ("platform", "chat", "thread", "opened_at"),
    # Recent answer times (the single agent's row, each routed agent's): one small row per
    # agent, so the poll schedule need not relearn them from 20 answers. A target's own
    # rows (replicas already running on it) are newer and win.
    "answer_times": ("id", "seconds", "saved_at"),
    "agent_answer_times": ("agent", "seconds", "saved_at"),
    # The language a lookup told for each person (Slack): their first /raia after the move
    # is in it, not in English.
    "person_languages": ("fk_id", "locale", "saved_at"),
}  # fmt: skip

# What is deliberately not copied, and why (a test holds every table and column of the
# SQLite schema to be copied or listed here, so a new migration cannot be forgotten).
LEFT_OUT: dict[str, str] = {
    "schema_version": "each engine counts its own migrations",
    "handovers.watch_owner": "the first replica to look claims the watch",
    "handovers.watch_owner_until": "the first replica to look claims the watch",
}


@dataclass(frozen=True)
class CopyReport:
    copied: dict[str, int]
    present: dict[str, int]  # already in the target (an earlier run)
    open_questions: int

    def summary(self) -> str:
        parts = [f"{self.copied[t]} {t}" for t in TABLES]
        line = f"copied {', '.join(parts)}"
        if any(self.present.values()):
            line += f"; {sum(self.present.values())} row(s) were already there"
        line = f"{line}. {self.open_questions} unfinished question(s) will resume when the bridge starts."
        installs = self.copied["slack_installations"] + self.present["slack_installations"]
        if installs:
            line += (
                f" {installs} Slack installation(s) keep their bot tokens sealed with BRIDGE_SECRET_KEY: "
                "set the same key on the new deployment, or they cannot be opened."
            )
        return line


def _read(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall() for t, cols in TABLES.items()}
    finally:
        conn.close()


async def copy_sqlite_to_postgres(source: Path, target_url: str) -> CopyReport:
    if not await asyncio.to_thread(source.exists):
        raise DatabaseUnavailable(f"--from {source} does not exist")
    try:
        async with InstanceLock(source, wait=0):
            async with SqliteStore(source):  # brings an older file's schema up to date
                pass
            rows = await asyncio.to_thread(_read, source)
    except InstanceLockTaken:
        raise InstanceLockTaken(f"a raia-bridge is serving {source}: stop it before copying its database") from None
    copied: dict[str, int] = {}
    present: dict[str, int] = {}
    async with PostgresStore(target_url) as target:
        async with target.pool.transaction() as conn:
            source_conversations = {row[0] for row in rows["conversations"]}
            foreign = await conn.fetchval(
                "SELECT count(*) FROM conversations WHERE NOT (id = ANY($1::bigint[]))", list(source_conversations)
            )
            if foreign:
                raise DatabaseUnavailable(
                    f"--to already holds {foreign} conversation(s) that are not from {source}: "
                    "migrate-db copies into a new database (or one it copied to before)"
                )
            for table, columns in TABLES.items():
                marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
                before = await conn.fetchval(f"SELECT count(*) FROM {table}")
                await conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                    rows[table],
                )
                after = await conn.fetchval(f"SELECT count(*) FROM {table}")
                copied[table] = int(after - before)
                present[table] = len(rows[table]) - copied[table]
            for table in ("conversations", "questions"):  # new rows continue after the copied ids
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {table}"
                )
        open_questions = await target.count_open()
    return CopyReport(copied, present, open_questions)
