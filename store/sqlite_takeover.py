"""Takeovers by a person in SQLite: who handles each watched conversation and the
deliveries that belong to it (staff messages, notices). A mixin of ``SqliteStore``, which
provides its thread (``_run``), clock and transactions. One process per file: every watch
is granted."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bridge.models import Origin, PlatformUser, Reply
from bridge.ports.store import ConversationRecord, HandedQuestion, HandoverPost, HandoverRecord
from store.migrations import Transaction
from store.rows import conversation_from_row

T = TypeVar("T")

# The newest question of a conversation: where the person is now.
_NEWEST = "SELECT platform, route, profile, fk_id FROM questions WHERE conversation_id = ? ORDER BY id DESC LIMIT 1"


def handover_from_row(row: Any) -> HandoverRecord:
    profile = json.loads(row["profile"])
    return HandoverRecord(
        conversation_id=int(row["conversation_id"]),
        agent_conversation_id=row["agent_conversation_id"],
        by_person=bool(row["by_person"]),
        staff=row["staff"],
        episode=int(row["episode"]),
        since=float(row["since"]),
        platform=row["platform"],
        origin=Origin.from_json(json.loads(row["route"])),
        profile=PlatformUser(
            fk_id=profile["fk_id"],
            first_name=profile["first_name"],
            last_name=profile.get("last_name"),
            custom_data=profile.get("custom_data") or {},
        ),
        watch_until=float(row["watch_until"]),
    )


def post_from_row(row: Any) -> HandoverPost:
    return HandoverPost(
        conversation_id=int(row["conversation_id"]),
        key=row["key"],
        seq=float(row["seq"]),
        reply=Reply.from_json(json.loads(row["reply"])),
        parts_delivered=int(row["parts_delivered"]),
        delivery_attempts=int(row["delivery_attempts"]),
    )


def profile_json(row: Any) -> str:
    """A question's profile (names and language) with who it is, for the handover row."""
    return json.dumps({**json.loads(row["profile"]), "fk_id": row["fk_id"]})


class Handovers:
    _clock: Callable[[], float]
    agent: str  # whose conversations (store.agents)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        raise NotImplementedError

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    async def _update(self, sql: str, params: Sequence[Any]) -> int:
        raise NotImplementedError

    def _transaction(self) -> Transaction:
        raise NotImplementedError

    async def conversation_for_agent(self, agent_conversation_id: str) -> int | None:
        row = await self._one(
            "SELECT id FROM conversations WHERE agent_conversation_id = ? AND agent = ? ORDER BY id DESC LIMIT 1",
            (agent_conversation_id, self.agent),
        )
        return int(row["id"]) if row else None

    async def current_conversation(self, key: str) -> ConversationRecord | None:
        row = await self._one(
            "SELECT * FROM conversations WHERE agent = ? AND fk_id = ? AND ended_at IS NULL", (self.agent, key)
        )
        return conversation_from_row(row) if row else None

    async def handover(self, conversation_id: int) -> HandoverRecord | None:
        row = await self._one("SELECT * FROM handovers WHERE conversation_id = ?", (conversation_id,))
        return handover_from_row(row) if row else None

    async def watch_handover(self, conversation_id: int, since: float, watch_until: float) -> HandoverRecord | None:
        def watch() -> HandoverRecord | None:
            with self._transaction() as db:
                newest = db.execute(_NEWEST, (conversation_id,)).fetchone()
                agent = db.execute(
                    "SELECT agent_conversation_id FROM conversations WHERE id = ?", (conversation_id,)
                ).fetchone()
                if agent is None or not agent[0]:
                    return None
                if newest is not None:
                    db.execute(
                        "INSERT INTO handovers (conversation_id, agent_conversation_id, since, platform, route, "
                        "profile, watch_until) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE "
                        "SET agent_conversation_id = excluded.agent_conversation_id, platform = excluded.platform, "
                        "route = excluded.route, profile = excluded.profile, "
                        "watch_until = MAX(watch_until, excluded.watch_until)",
                        (conversation_id, agent[0], since, newest["platform"], newest["route"], profile_json(newest),
                         watch_until),
                    )  # fmt: skip
                else:  # its questions were purged: where it was last seen stays
                    db.execute(
                        "UPDATE handovers SET watch_until = MAX(watch_until, ?) WHERE conversation_id = ?",
                        (watch_until, conversation_id),
                    )
                row = db.execute("SELECT * FROM handovers WHERE conversation_id = ?", (conversation_id,)).fetchone()
                return handover_from_row(row) if row else None

        return await self._run(watch)

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

        def record() -> None:
            with self._transaction() as db:
                db.execute(
                    "UPDATE handovers SET by_person = ?, staff = ?, episode = ?, since = MAX(since, ?), "
                    "watch_until = ? WHERE conversation_id = ?",
                    (int(by_person), staff, episode, since, watch_until, conversation_id),
                )
                db.executemany(
                    "INSERT OR IGNORE INTO handover_posts (conversation_id, key, seq, reply, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(conversation_id, key, seq, json.dumps(reply.to_json()), now) for key, seq, reply in posts],
                )

        await self._run(record)

    async def recorded_posts(self, conversation_id: int) -> set[str]:
        rows = await self._all("SELECT key FROM handover_posts WHERE conversation_id = ?", (conversation_id,))
        return {r["key"] for r in rows}

    async def pending_posts(self, conversation_id: int) -> list[HandoverPost]:
        rows = await self._all(
            "SELECT * FROM handover_posts WHERE conversation_id = ? AND delivered_at IS NULL ORDER BY seq, created_at",
            (conversation_id,),
        )
        return [post_from_row(r) for r in rows]

    async def mark_post_parts(self, conversation_id: int, key: str, parts: int) -> None:
        await self._update(
            "UPDATE handover_posts SET parts_delivered = ? WHERE conversation_id = ? AND key = ?",
            (parts, conversation_id, key),
        )

    async def note_post_attempt(self, conversation_id: int, key: str) -> int:
        def note() -> int:
            with self._transaction() as db:
                db.execute(
                    "UPDATE handover_posts SET delivery_attempts = delivery_attempts + 1 "
                    "WHERE conversation_id = ? AND key = ?",
                    (conversation_id, key),
                )
                row = db.execute(
                    "SELECT delivery_attempts FROM handover_posts WHERE conversation_id = ? AND key = ?",
                    (conversation_id, key),
                ).fetchone()
                return int(row[0]) if row else 0

        return await self._run(note)

    async def mark_post_delivered(self, conversation_id: int, key: str) -> None:
        await self._update(
            "UPDATE handover_posts SET delivered_at = ? WHERE conversation_id = ? AND key = ?",
            (self._clock(), conversation_id, key),
        )

    async def watched_handovers(self) -> list[int]:
        now = self._clock()
        rows = await self._all(
            "SELECT conversation_id FROM handovers WHERE (watch_until > ? OR conversation_id IN "
            "(SELECT conversation_id FROM handover_posts WHERE delivered_at IS NULL)) "
            "AND conversation_id IN (SELECT id FROM conversations WHERE agent = ?) ORDER BY conversation_id",
            (now, self.agent),
        )
        return [int(r["conversation_id"]) for r in rows]

    async def claim_watch(self, conversation_id: int, ttl: float) -> bool:
        return True

    async def release_watch(self, conversation_id: int) -> None:
        return None

    async def handed_questions(self, conversation_id: int) -> list[HandedQuestion]:
        rows = await self._all(
            "SELECT * FROM handed_questions WHERE conversation_id = ? AND settled_at IS NULL ORDER BY question_id",
            (conversation_id,),
        )
        return [HandedQuestion(int(r["question_id"]), r["agent_message_id"], float(r["handed_at"])) for r in rows]

    async def settle_handed_question(
        self, conversation_id: int, question_id: int, post: tuple[str, float, Reply] | None
    ) -> None:
        now = self._clock()

        def settle() -> None:
            with self._transaction() as db:
                db.execute("UPDATE handed_questions SET settled_at = ? WHERE question_id = ?", (now, question_id))
                if post is not None:
                    key, seq, reply = post
                    db.execute(
                        "INSERT OR IGNORE INTO handover_posts (conversation_id, key, seq, reply, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (conversation_id, key, seq, json.dumps(reply.to_json()), now),
                    )

        await self._run(settle)

    async def purge_handovers(self, before: float) -> None:
        """Forget delivered posts and handovers no longer watched since ``before``."""

        def purge() -> None:
            with self._transaction() as db:
                db.execute("DELETE FROM handover_posts WHERE delivered_at < ?", (before,))
                db.execute("DELETE FROM handed_questions WHERE handed_at < ?", (before,))
                db.execute(
                    "DELETE FROM handovers WHERE watch_until < ? AND by_person = 0 AND conversation_id NOT IN "
                    "(SELECT conversation_id FROM handover_posts)",
                    (before,),
                )

        await self._run(purge)
