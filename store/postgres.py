"""The PostgreSQL store (``StorePort``) with asyncpg, for PaaS databases and replicas.

asyncpg rather than psycopg 3: it speaks the binary protocol natively on asyncio,
prepares and caches every statement on its connections, and costs noticeably less CPU
per query, which is what bounds one process's turns per second (see bench/). Its
statement cache needs a session-pooling PgBouncer or none at all (see README).

Every method is one statement, or one transaction, on a pooled connection: atomic on
its own, like the SQLite store's. Each reaches the database through ``store.pg_pool``,
which turns asyncpg's errors into the core's ``StoreError``. Several replicas share the
database: what coordinates them (lane leases, database-wide locks, hints between
replicas) is in ``store.pg_replicas``; the steps of a question's life, fenced by the
lease, in ``store.pg_life``; the clock they all keep time by, the server's, in
``store.pg_clock``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from types import TracebackType
from urllib.parse import urlsplit

import asyncpg

from bridge.errors import ConversationGone, DatabaseUnavailable, QuestionGone
from bridge.models import Attachment
from bridge.ports.store import ConversationRecord, QuestionRecord, StoppedQuestion
from store.agents import AgentScoped
from store.errors import PG_ERRORS, describe
from store.installs import PgInstalls
from store.languages import PgLanguages
from store.pg_clock import ServerClock
from store.pg_feedback import PgKeptAnswers
from store.pg_housekeeping import PgHousekeeping
from store.pg_intake import PgIntake
from store.pg_life import PgQuestionLife
from store.pg_migrations import migrate
from store.pg_pool import ACQUIRE_TIMEOUT, Pool, guarded
from store.pg_replicas import NOW, Replicas
from store.pg_takeover import PgHandovers
from store.rows import (
    QUESTION_WITH_AGENT_IDS,
    conversation_from_row,
    files_json,
    question_from_row,
    times_from,
)
from store.topics import PgTopics

log = logging.getLogger(__name__)

_OPEN_WHERE = "state NOT IN ('delivered', 'undeliverable', 'stopped')"
CONNECT_TIMEOUT = 10.0  # reaching the server at start, or a new pooled connection
COMMAND_TIMEOUT = 15.0  # any one statement; a stuck server fails the call instead of hanging a lane


class PostgresStore(
    AgentScoped, PgIntake, PgQuestionLife, PgKeptAnswers, Replicas, PgHandovers, PgInstalls, PgTopics, PgLanguages,
    PgHousekeeping,
):  # fmt: skip
    """Durable state in PostgreSQL. Use as ``async with PostgresStore(url) as store``."""

    engine = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        clock: Callable[[], float] | None = None,
        local_clock: Callable[[], float] = time.time,
        owner: str | None = None,
    ) -> None:
        """``clock``: where every stored time is read from. By default the database server's
        clock (``store.pg_clock``: ``local_clock``, this host's, corrected by the offset
        measured against the server), which all replicas share; a test may give its own."""
        self._url = url
        self._pool_size = pool_size
        self._clock: Callable[[], float] = clock or ServerClock(local_clock)
        self._server_clock = self._clock if isinstance(self._clock, ServerClock) else None
        self._keeping_time: asyncio.Task[None] | None = None
        self._pool: asyncpg.Pool | None = None
        self._guarded: Pool | None = None
        self._password = _password(url)  # masked in error messages, should a driver repeat it
        self._version = 0
        # Names this process in lane leases; unique even when a restarted replica reuses a pid.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def __repr__(self) -> str:  # the URL carries the password: never print it
        return f"PostgresStore(owner={self.owner!r})"

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            pool = await asyncpg.create_pool(
                self._url,
                min_size=1,
                max_size=self._pool_size,
                timeout=CONNECT_TIMEOUT,
                command_timeout=COMMAND_TIMEOUT,
                max_inactive_connection_lifetime=120,
                reset=keep_session,
            )
        except PG_ERRORS as exc:
            raise DatabaseUnavailable(
                f"DATABASE_URL: cannot open the PostgreSQL database: {describe(exc, redact=self._password)}"
            ) from None
        try:
            async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                self._version = await migrate(conn)
                if self._server_clock is not None:
                    await self._server_clock.measure(lambda: conn.fetchval(f"SELECT {NOW}"))
        except BaseException as exc:
            await pool.close()
            if isinstance(exc, PG_ERRORS):
                raise DatabaseUnavailable(
                    f"DATABASE_URL: could not set up the schema: {describe(exc, redact=self._password)}"
                ) from None
            raise
        self._pool = pool
        self._guarded = Pool(pool, redact=self._password)
        if self._server_clock is not None:
            self._keeping_time = asyncio.create_task(self._server_clock.keep(self._guarded), name="database-clock")

    @classmethod
    async def inspect(cls, url: str) -> str:
        """For ``check``: reach the database and read its schema version, changing nothing.
        Raises ``DatabaseUnavailable`` with one line."""
        try:
            conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT)
        except PG_ERRORS as exc:
            raise DatabaseUnavailable(
                f"cannot open the PostgreSQL database: {describe(exc, redact=_password(url))}"
            ) from None
        try:
            # "15.18 (Debian 15.18-1.pgdg120+1)": asyncpg's version tuple reads 15.18 as 15.0.18.
            server = str(await conn.fetchval("SHOW server_version")).split(" ", 1)[0]
            made = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
            version = await conn.fetchval("SELECT MAX(version) FROM schema_version") if made else None
        except PG_ERRORS as exc:
            raise DatabaseUnavailable(
                f"cannot read the PostgreSQL database: {describe(exc, redact=_password(url))}"
            ) from None
        finally:
            await conn.close()
        schema = f"schema {version}" if version else "empty (the bridge creates its tables at start)"
        return f"PostgreSQL {server}, {schema}"

    async def close(self) -> None:
        if self._keeping_time is not None:
            self._keeping_time.cancel()
            with suppress(asyncio.CancelledError):
                await self._keeping_time
            self._keeping_time = None
        if self._pool is not None:
            pool, self._pool, self._guarded = self._pool, None, None
            try:
                await asyncio.wait_for(pool.close(), timeout=COMMAND_TIMEOUT)
            except TimeoutError:
                pool.terminate()

    @property
    def pool(self) -> Pool:
        """The pool, raising ``StoreError`` rather than asyncpg's errors."""
        if self._guarded is None:
            raise RuntimeError("store is not open")
        return self._guarded

    @property
    def shared(self) -> bool:
        return True

    @property
    def clock(self) -> Callable[[], float]:
        """The clock of every time this store writes or compares: the service uses it too."""
        return self._clock

    async def schema_version(self) -> int:
        return int(await self.pool.fetchval("SELECT MAX(version) FROM schema_version"))

    # -- questions -------------------------------------------------------------------

    async def question(self, qid: int) -> QuestionRecord:
        row = await self.pool.fetchrow(f"{QUESTION_WITH_AGENT_IDS} WHERE id = $1", qid)
        if row is None:
            raise QuestionGone(qid)
        return question_from_row(row)

    async def next_open_question(self, conversation_id: int) -> QuestionRecord | None:
        first = await self.open_questions(conversation_id, 1)
        return first[0] if first else None

    async def open_questions(self, conversation_id: int, limit: int) -> list[QuestionRecord]:
        rows = await self.pool.fetch(
            f"{QUESTION_WITH_AGENT_IDS} WHERE conversation_id = $1 AND {_OPEN_WHERE} ORDER BY id LIMIT $2",
            conversation_id,
            limit,
        )
        return [question_from_row(row) for row in rows]

    async def open_conversations(self, platforms: Iterable[str]) -> list[int]:
        rows = await self.pool.fetch(
            f"""SELECT conversation_id FROM questions WHERE {_OPEN_WHERE} AND platform = ANY($1::text[])
                  AND conversation_id IN (SELECT id FROM conversations WHERE agent = $2)
                GROUP BY conversation_id ORDER BY MIN(id)""",
            list(platforms),
            self.agent,
        )
        return [int(r["conversation_id"]) for r in rows]

    async def thread_agent(self, platform: str, chat: str, thread: str) -> str | None:
        value = await self.pool.fetchval(
            """SELECT c.agent FROM questions q JOIN conversations c ON c.id = q.conversation_id
               WHERE q.platform = $1 AND (q.route::jsonb) ->> 'chat' = $2 AND (q.route::jsonb) ->> 'thread' = $3
               ORDER BY q.id DESC LIMIT 1""",
            platform,
            chat,
            thread,
        )
        return str(value) if value is not None else None

    async def question_agent(self, qid: int) -> str | None:
        value = await self.pool.fetchval(
            "SELECT c.agent FROM questions q JOIN conversations c ON c.id = q.conversation_id WHERE q.id = $1", qid
        )
        return str(value) if value is not None else None

    async def answered_in_thread(self, platform: str, fk_id: str, chat: str, thread: str) -> bool:
        row = await self.pool.fetchval(
            """SELECT 1 FROM questions WHERE platform = $1 AND fk_id = $2
               AND (route::jsonb) ->> 'chat' = $3 AND (route::jsonb) ->> 'thread' = $4 LIMIT 1""",
            platform,
            fk_id,
            chat,
            thread,
        )
        return row is not None

    async def count_open(self, platform: str | None = None) -> int:
        if platform is None:
            return int(await self.pool.fetchval(f"SELECT count(*) FROM questions WHERE {_OPEN_WHERE}"))
        return int(
            await self.pool.fetchval(f"SELECT count(*) FROM questions WHERE {_OPEN_WHERE} AND platform = $1", platform)
        )

    async def known_message_ids(self, conversation_id: int) -> set[str]:
        rows = await self.pool.fetch(
            "SELECT agent_message_id FROM questions WHERE conversation_id = $1 AND agent_message_id IS NOT NULL",
            conversation_id,
        )
        return {r["agent_message_id"] for r in rows}

    async def mark_started(self, qid: int) -> float:
        now = self._clock()
        await self.pool.execute("UPDATE questions SET started_at = COALESCE(started_at, $1) WHERE id = $2", now, qid)
        return now

    async def mark_heard(self, qid: int, attachments: Sequence[Attachment]) -> None:
        files = files_json(tuple(attachments))
        await self.pool.execute("UPDATE questions SET files = $1 WHERE id = $2", files, qid)

    async def clear_send_attempt(self, qid: int) -> None:
        await self.pool.execute("UPDATE questions SET send_attempted_at = NULL WHERE id = $1", qid)

    async def note_delivery_attempt(self, qid: int, error: str) -> int:
        count = await self.pool.fetchval(
            """UPDATE questions SET delivery_attempts = delivery_attempts + 1, error = $1 WHERE id = $2
               RETURNING delivery_attempts""",
            error,
            qid,
        )
        return int(count or 0)

    # -- identities and conversations ------------------------------------------------

    async def agent_user_id(self, fk_id: str) -> str | None:
        value = await self.pool.fetchval(
            "SELECT agent_user_id FROM identities WHERE agent = $1 AND fk_id = $2", self.agent, fk_id
        )
        return str(value) if value is not None else None

    async def save_agent_user(self, fk_id: str, agent_user_id: str) -> None:
        await self.pool.execute(
            """INSERT INTO identities (fk_id, agent_user_id, created_at, last_active_at, agent)
               VALUES ($1, $2, $3, $3, $4)
               ON CONFLICT (agent, fk_id) DO UPDATE SET agent_user_id = EXCLUDED.agent_user_id,
                   last_active_at = EXCLUDED.last_active_at""",
            fk_id,
            agent_user_id,
            self._clock(),
            self.agent,
        )

    async def answer_times(self) -> list[float]:
        if self.agent:  # a routes file's agent: its own row (the one of answer_times is the single agent's)
            raw = await self.pool.fetchval("SELECT seconds FROM agent_answer_times WHERE agent = $1", self.agent)
        else:
            raw = await self.pool.fetchval("SELECT seconds FROM answer_times WHERE id = 1")
        return times_from(raw) if raw else []

    async def save_answer_times(self, seconds: Sequence[float]) -> None:
        if self.agent:
            await self.pool.execute(
                """INSERT INTO agent_answer_times (agent, seconds, saved_at) VALUES ($1, $2, $3)
                   ON CONFLICT (agent) DO UPDATE SET seconds = EXCLUDED.seconds, saved_at = EXCLUDED.saved_at""",
                self.agent,
                json.dumps(list(seconds)),
                self._clock(),
            )
            return
        await self.pool.execute(
            """INSERT INTO answer_times (id, seconds, saved_at) VALUES (1, $1, $2)
               ON CONFLICT (id) DO UPDATE SET seconds = EXCLUDED.seconds, saved_at = EXCLUDED.saved_at""",
            json.dumps(list(seconds)),
            self._clock(),
        )

    async def conversation(self, conversation_id: int) -> ConversationRecord:
        row = await self.pool.fetchrow("SELECT * FROM conversations WHERE id = $1", conversation_id)
        if row is None:
            raise ConversationGone(conversation_id)
        return conversation_from_row(row)

    async def set_agent_conversation(self, conversation_id: int, agent_conversation_id: str) -> None:
        await self.pool.execute(
            "UPDATE conversations SET agent_conversation_id = $1 WHERE id = $2", agent_conversation_id, conversation_id
        )

    async def end_conversation(self, fk_id: str) -> bool:
        status = await self.pool.execute(
            "UPDATE conversations SET ended_at = $1 WHERE agent = $3 AND fk_id = $2 AND ended_at IS NULL",
            self._clock(),
            fk_id,
            self.agent,
        )
        return status != "UPDATE 0"

    async def stop_questions(self, platform: str, fk_id: str, chat: str, thread: str | None) -> list[StoppedQuestion]:
        # Not fenced by the lane lease: the person's word wins over whichever replica works
        # on the question; that replica's next step writes nothing (``store.pg_life``).
        rows = await self.pool.fetch(
            """UPDATE questions SET state = 'stopped', finished_at = $5, delivered_at = $5, text = '', reply = NULL
               WHERE platform = $1 AND fk_id = $2 AND (route::jsonb) ->> 'chat' = $3
                 AND ($4::text IS NULL OR (route::jsonb) ->> 'thread' = $4) AND state IN ('received', 'sent')
               RETURNING id, conversation_id""",
            platform,
            fk_id,
            chat,
            thread,
            self._clock(),
        )
        return [StoppedQuestion(int(r["id"]), int(r["conversation_id"])) for r in rows]

    async def conversation_history(self, fk_id: str) -> list[ConversationRecord]:
        rows = await self.pool.fetch(
            "SELECT * FROM conversations WHERE agent = $1 AND fk_id = $2 ORDER BY id", self.agent, fk_id
        )
        return [conversation_from_row(r) for r in rows]

    async def own_connection(self) -> asyncpg.Connection:
        """A connection outside the pool, for what lives as long as it (locks, LISTEN);
        statements on it go inside ``store.pg_pool.guarded``."""
        with guarded(self._password):
            return await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT)


async def keep_session(conn: asyncpg.Connection) -> None:
    """A pooled connection goes back as it is (asyncpg still rolls back an open transaction).
    asyncpg's own reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` at every release: a round trip per store call, 12 % of the bridge's CPU in a
    burst (py-spy). Nothing here leaves session state on a pooled connection: advisory locks
    are transaction-scoped (or on a connection of their own), LISTEN has its own connection,
    and a setting made for a moment is reset by whoever made it (``store.pg_housekeeping``)."""


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password or None
    except ValueError:
        return None
