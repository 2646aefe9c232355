"""Takeovers by a person in PostgreSQL: the SQLite store's semantics (``store.sqlite_takeover``),
plus a lease per watched conversation so one replica at a time watches it (owner and
expiry on the database's clock). A mixin of ``PostgresStore``, which provides the pool,
this process's ``owner`` name and clock."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from bridge.models import Reply
from bridge.ports.store import ConversationRecord, HandedQuestion, HandoverPost, HandoverRecord
from store.pg_pool import Pool
from store.rows import conversation_from_row
from store.sqlite_takeover import handover_from_row, post_from_row, profile_json

_NOW = "extract(epoch from clock_timestamp())"


class PgHandovers:
    _clock: Callable[[], float]
    owner: str
    agent: str  # whose conversations (store.agents)

    @property
    def pool(self) -> Pool:
        raise NotImplementedError

    async def conversation_for_agent(self, agent_conversation_id: str) -> int | None:
        value = await self.pool.fetchval(
            "SELECT id FROM conversations WHERE agent_conversation_id = $1 AND agent = $2 ORDER BY id DESC LIMIT 1",
            agent_conversation_id,
            self.agent,
        )
        return int(value) if value is not None else None

    async def current_conversation(self, key: str) -> ConversationRecord | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM conversations WHERE agent = $1 AND fk_id = $2 AND ended_at IS NULL", self.agent, key
        )
        return conversation_from_row(row) if row else None

    async def handover(self, conversation_id: int) -> HandoverRecord | None:
        row = await self.pool.fetchrow("SELECT * FROM handovers WHERE conversation_id = $1", conversation_id)
        return handover_from_row(row) if row else None

    async def watch_handover(self, conversation_id: int, since: float, watch_until: float) -> HandoverRecord | None:
        async with self.pool.transaction() as conn:
            agent = await conn.fetchval(
                "SELECT agent_conversation_id FROM conversations WHERE id = $1", conversation_id
            )
            if not agent:
                return None
            newest = await conn.fetchrow(
                "SELECT platform, route, profile, fk_id FROM questions WHERE conversation_id = $1 "
                "ORDER BY id DESC LIMIT 1",
                conversation_id,
            )
            if newest is not None:
                await conn.execute(
                    "INSERT INTO handovers (conversation_id, agent_conversation_id, since, platform, route, profile, "
                    "watch_until) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (conversation_id) DO UPDATE "
                    "SET agent_conversation_id = excluded.agent_conversation_id, platform = excluded.platform, "
                    "route = excluded.route, profile = excluded.profile, "
                    "watch_until = GREATEST(handovers.watch_until, excluded.watch_until)",
                    conversation_id,
                    agent,
                    since,
                    newest["platform"],
                    newest["route"],
                    profile_json(newest),
                    watch_until,
                )
            else:
                await conn.execute(
                    "UPDATE handovers SET watch_until = GREATEST(watch_until, $1) WHERE conversation_id = $2",
                    watch_until,
                    conversation_id,
                )
            row = await conn.fetchrow("SELECT * FROM handovers WHERE conversation_id = $1", conversation_id)
            return handover_from_row(row) if row else None

    async def record_handover(
        self,
        conversation_id: int,
        *,
        by_person: bool,
        staff: str | None,
        episode: int,
        since: float,
        watch_until: float,
        posts: Sequence[tuple[str, float, Reply]],
    ) -> None:
        now = self._clock()
        async with self.pool.transaction() as conn:
            await conn.execute(
                "UPDATE handovers SET by_person = $1, staff = $2, episode = $3, since = GREATEST(since, $4), "
                "watch_until = $5 WHERE conversation_id = $6",
                int(by_person),
                staff,
                episode,
                since,
                watch_until,
                conversation_id,
            )
            await conn.executemany(
                "INSERT INTO handover_posts (conversation_id, key, seq, reply, created_at) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                [(conversation_id, key, seq, json.dumps(reply.to_json()), now) for key, seq, reply in posts],
            )

    async def recorded_posts(self, conversation_id: int) -> set[str]:
        rows = await self.pool.fetch("SELECT key FROM handover_posts WHERE conversation_id = $1", conversation_id)
        return {r["key"] for r in rows}

    async def pending_posts(self, conversation_id: int) -> list[HandoverPost]:
        rows = await self.pool.fetch(
            "SELECT * FROM handover_posts WHERE conversation_id = $1 AND delivered_at IS NULL ORDER BY seq, created_at",
            conversation_id,
        )
        return [post_from_row(r) for r in rows]

    async def mark_post_parts(self, conversation_id: int, key: str, parts: int) -> None:
        await self.pool.execute(
            "UPDATE handover_posts SET parts_delivered = $1 WHERE conversation_id = $2 AND key = $3",
            parts,
            conversation_id,
            key,
        )

    async def note_post_attempt(self, conversation_id: int, key: str) -> int:
        value = await self.pool.fetchval(
            "UPDATE handover_posts SET delivery_attempts = delivery_attempts + 1 "
            "WHERE conversation_id = $1 AND key = $2 RETURNING delivery_attempts",
            conversation_id,
            key,
        )
        return int(value) if value is not None else 0

    async def mark_post_delivered(self, conversation_id: int, key: str) -> None:
        await self.pool.execute(
            "UPDATE handover_posts SET delivered_at = $1 WHERE conversation_id = $2 AND key = $3",
            self._clock(),
            conversation_id,
            key,
        )

    async def watched_handovers(self) -> list[int]:
        rows = await self.pool.fetch(
            f"""SELECT conversation_id FROM handovers
                WHERE (watch_until > $1 OR conversation_id IN
                       (SELECT conversation_id FROM handover_posts WHERE delivered_at IS NULL))
                  AND (watch_owner IS NULL OR watch_owner = $2 OR watch_owner_until < {_NOW})
                  AND conversation_id IN (SELECT id FROM conversations WHERE agent = $3)
                ORDER BY conversation_id""",
            self._clock(),
            self.owner,
            self.agent,
        )
        return [int(r["conversation_id"]) for r in rows]

    async def claim_watch(self, conversation_id: int, ttl: float) -> bool:
        owner = await self.pool.fetchval(
            f"""UPDATE handovers SET watch_owner = $1, watch_owner_until = {_NOW} + $2
                WHERE conversation_id = $3
                  AND (watch_owner IS NULL OR watch_owner = $1 OR watch_owner_until < {_NOW})
                RETURNING watch_owner""",
            self.owner,
            ttl,
            conversation_id,
        )
        return owner is not None

    async def release_watch(self, conversation_id: int) -> None:
        await self.pool.execute(
            "UPDATE handovers SET watch_owner = NULL, watch_owner_until = NULL "
            "WHERE conversation_id = $1 AND watch_owner = $2",
            conversation_id,
            self.owner,
        )

    async def handed_questions(self, conversation_id: int) -> list[HandedQuestion]:
        rows = await self.pool.fetch(
            "SELECT * FROM handed_questions WHERE conversation_id = $1 AND settled_at IS NULL ORDER BY question_id",
            conversation_id,
        )
        return [HandedQuestion(int(r["question_id"]), r["agent_message_id"], float(r["handed_at"])) for r in rows]

    async def settle_handed_question(
        self, conversation_id: int, question_id: int, post: tuple[str, float, Reply] | None
    ) -> None:
        now = self._clock()
        async with self.pool.transaction() as conn:
            await conn.execute("UPDATE handed_questions SET settled_at = $1 WHERE question_id = $2", now, question_id)
            if post is not None:
                key, seq, reply = post
                await conn.execute(
                    "INSERT INTO handover_posts (conversation_id, key, seq, reply, created_at) "
                    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    conversation_id, key, seq, json.dumps(reply.to_json()), now,
                )  # fmt: skip

    async def purge_handovers(self, before: float) -> None:
        async with self.pool.transaction() as conn:
            await conn.execute("DELETE FROM handover_posts WHERE delivered_at < $1", before)
            await conn.execute("DELETE FROM handed_questions WHERE handed_at < $1", before)
            await conn.execute(
                "DELETE FROM handovers WHERE watch_until < $1 AND by_person = 0 AND conversation_id NOT IN "
                "(SELECT conversation_id FROM handover_posts)",
                before,
            )
