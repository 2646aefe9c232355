"""PostgreSQL schema, versioned like SQLite's (``store/migrations.py``): append, never edit.

Version 1 is SQLite's versions 1-3 (version 2 its 4) in PostgreSQL's dialect, plus the lane leases that
only a shared database needs. Several replicas starting at once apply the migrations
one at a time under a transaction-scoped advisory lock: the first applies them, the
others wait and find nothing left to do.
"""

from __future__ import annotations

from typing import Any

from store.migrations import CURRENT, VERSIONS, pending

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE identities (
        fk_id        TEXT PRIMARY KEY,
        raia_user_id TEXT NOT NULL,
        created_at   DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE conversations (
        id                   BIGSERIAL PRIMARY KEY,
        fk_id                TEXT NOT NULL,
        raia_conversation_id TEXT,
        created_at           DOUBLE PRECISION NOT NULL,
        ended_at             DOUBLE PRECISION,
        -- The replica whose lane works on this conversation, until when (the database's
        -- clock, so replicas' clocks need not agree). Renewed while it works.
        lane_owner           TEXT,
        lane_until           DOUBLE PRECISION
    );
    CREATE UNIQUE INDEX conversations_current ON conversations(fk_id) WHERE ended_at IS NULL;
    CREATE TABLE seen_events (
        key        TEXT PRIMARY KEY,
        expires_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX seen_events_expiry ON seen_events(expires_at);
    CREATE TABLE questions (
        id                BIGSERIAL PRIMARY KEY,
        conversation_id   BIGINT NOT NULL REFERENCES conversations(id),
        fk_id             TEXT NOT NULL,
        platform          TEXT NOT NULL,
        route             TEXT NOT NULL,
        profile           TEXT NOT NULL,
        text              TEXT NOT NULL,
        state             TEXT NOT NULL,
        raia_message_id   TEXT,
        send_attempts     INTEGER NOT NULL DEFAULT 0,
        send_attempted_at DOUBLE PRECISION,
        reply             TEXT,
        error             TEXT,
        parts_delivered   INTEGER NOT NULL DEFAULT 0,
        delivery_attempts INTEGER NOT NULL DEFAULT 0,
        created_at        DOUBLE PRECISION NOT NULL,
        started_at        DOUBLE PRECISION,
        sent_at           DOUBLE PRECISION,
        finished_at       DOUBLE PRECISION,
        delivered_at      DOUBLE PRECISION
    );
    CREATE INDEX questions_open ON questions(conversation_id, id)
        WHERE state NOT IN ('delivered', 'undeliverable');
    CREATE INDEX questions_thread ON questions(
        platform, fk_id, ((route::jsonb) ->> 'chat'), ((route::jsonb) ->> 'thread')
    );
    """,
    # 2: SQLite's version 4: answers kept for feedback, files and albums of questions.
    """
    CREATE TABLE feedback (
        question_id BIGINT PRIMARY KEY,
        fk_id       TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        question    TEXT NOT NULL,
        answer      TEXT NOT NULL,
        vote        TEXT,
        comment     TEXT,
        prompt      TEXT,
        keep_until  DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX feedback_expiry ON feedback(keep_until);
    CREATE INDEX feedback_prompt ON feedback(prompt) WHERE prompt IS NOT NULL;
    ALTER TABLE questions ADD COLUMN files TEXT;
    ALTER TABLE questions ADD COLUMN album TEXT;
    CREATE INDEX questions_album ON questions(album) WHERE album IS NOT NULL;
    """,
    # 3: SQLite's version 5: the agent's recent answer times, one row.
    """
    CREATE TABLE answer_times (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        seconds  TEXT NOT NULL,
        saved_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 4: SQLite's version 6: the agent's ids in agent-neutral words.
    """
    ALTER TABLE identities RENAME COLUMN raia_user_id TO agent_user_id;
    ALTER TABLE conversations RENAME COLUMN raia_conversation_id TO agent_conversation_id;
    ALTER TABLE questions RENAME COLUMN raia_message_id TO agent_message_id;
    """,
    # 5: SQLite's version 7: a person takes over a conversation from the agent (raia's manual mode): who handles
    # it, where the person is (the route of their last question), how long it is watched
    # (and by which process), and the deliveries that belong to the conversation (the
    # staff's messages and the bridge's notices), each recorded like an answer's parts.
    """
    CREATE TABLE handovers (
        conversation_id       BIGINT PRIMARY KEY REFERENCES conversations(id),
        agent_conversation_id TEXT NOT NULL,
        by_person             INTEGER NOT NULL DEFAULT 0,
        staff                 TEXT,
        episode               INTEGER NOT NULL DEFAULT 0,  -- takeovers begun so far
        since                 DOUBLE PRECISION NOT NULL,  -- staff messages older than this are not delivered
        platform              TEXT NOT NULL,
        route                 TEXT NOT NULL,
        profile               TEXT NOT NULL,
        watch_until           DOUBLE PRECISION NOT NULL,
        watch_owner           TEXT,
        watch_owner_until     DOUBLE PRECISION
    );
    CREATE INDEX handovers_agent ON handovers(agent_conversation_id);
    CREATE INDEX handovers_watched ON handovers(watch_until);
    CREATE INDEX conversations_agent ON conversations(agent_conversation_id);
    CREATE TABLE handover_posts (
        conversation_id   BIGINT NOT NULL,
        key               TEXT NOT NULL,                   -- the staff message's id, or a notice's
        seq               DOUBLE PRECISION NOT NULL,                   -- delivery order
        reply             TEXT NOT NULL,                   -- JSON Reply
        parts_delivered   INTEGER NOT NULL DEFAULT 0,
        delivery_attempts INTEGER NOT NULL DEFAULT 0,
        created_at        DOUBLE PRECISION NOT NULL,
        delivered_at      DOUBLE PRECISION,
        PRIMARY KEY (conversation_id, key)
    );
    CREATE INDEX handover_posts_pending ON handover_posts(conversation_id, seq) WHERE delivered_at IS NULL;
    """,
    # 6: SQLite's version 8: housekeeping deletes finished questions in small batches found by their delivery
    # time (``store.housekeeping``);
    # without this index each batch scanned the table.
    """
    CREATE INDEX questions_delivered ON questions(delivered_at);
    """,
    # 7: SQLite's version 9: when each person and conversation was last active (PEOPLE_DAYS).
    """
    ALTER TABLE identities ADD COLUMN last_active_at DOUBLE PRECISION;
    ALTER TABLE conversations ADD COLUMN last_active_at DOUBLE PRECISION;
    UPDATE identities SET last_active_at = extract(epoch FROM now());
    UPDATE conversations SET last_active_at = extract(epoch FROM now());
    CREATE INDEX identities_active ON identities(last_active_at);
    CREATE INDEX conversations_active ON conversations(last_active_at);
    CREATE INDEX questions_conversation ON questions(conversation_id);
    """,
    # 8: SQLite's version 10: questions a person took over, whose late agent answer (if any)
    # the takeover desk posts once.
    """
    CREATE TABLE handed_questions (
        question_id      BIGINT PRIMARY KEY,
        conversation_id  BIGINT NOT NULL,
        agent_message_id TEXT NOT NULL,
        handed_at        DOUBLE PRECISION NOT NULL,
        settled_at       DOUBLE PRECISION
    );
    CREATE INDEX handed_questions_open ON handed_questions(conversation_id) WHERE settled_at IS NULL;
    """,
    # 9: SQLite's version 11: a question the person stopped is final, never open again.
    """
    DROP INDEX questions_open;
    CREATE INDEX questions_open ON questions(conversation_id, id)
        WHERE state NOT IN ('delivered', 'undeliverable', 'stopped');
    """,
    # 10: SQLite's version 12: the agent is part of a conversation's identity and of a person's user at
    # the agent (ROUTES_FILE: several agents); '' is a deployment's one agent without routes.
    """
    ALTER TABLE conversations ADD COLUMN agent TEXT NOT NULL DEFAULT '';
    DROP INDEX conversations_current;
    CREATE UNIQUE INDEX conversations_current ON conversations(agent, fk_id) WHERE ended_at IS NULL;
    ALTER TABLE identities ADD COLUMN agent TEXT NOT NULL DEFAULT '';
    ALTER TABLE identities DROP CONSTRAINT identities_pkey;
    ALTER TABLE identities ADD PRIMARY KEY (agent, fk_id);
    CREATE INDEX questions_in_thread ON questions(platform, ((route::jsonb) ->> 'chat'), ((route::jsonb) ->> 'thread'));
    """,
    # 11: SQLite's version 13: "Add to Slack" installations, tokens sealed with BRIDGE_SECRET_KEY.
    """
    CREATE TABLE slack_installations (
        team         TEXT NOT NULL,
        enterprise   TEXT NOT NULL DEFAULT '',
        bot_token    TEXT NOT NULL,
        bot_user     TEXT NOT NULL,
        team_name    TEXT NOT NULL,
        installed_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (enterprise, team)
    );
    """,
    # 12: SQLite's version 14: each routed agent's recent answer times under its own name.
    """
    CREATE TABLE agent_answer_times (
        agent    TEXT PRIMARY KEY,
        seconds  TEXT NOT NULL,
        saved_at DOUBLE PRECISION NOT NULL
    );
    """,
    # 13: SQLite's version 15: Telegram topics /new opened that no question has named yet.
    """
    CREATE TABLE unnamed_topics (
        platform  TEXT NOT NULL,
        chat      TEXT NOT NULL,
        thread    TEXT NOT NULL,
        opened_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (platform, chat, thread)
    );
    CREATE INDEX unnamed_topics_opened ON unnamed_topics(opened_at);
    """,
    # 14: SQLite's version 16: the language each person was last looked up with.
    """
    CREATE TABLE person_languages (
        fk_id    TEXT PRIMARY KEY,
        locale   TEXT NOT NULL,
        saved_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX person_languages_saved ON person_languages(saved_at);
    """,
)

# Arbitrary but fixed: (namespace, key) pairs for pg_advisory_*_lock, so no other
# application sharing the database collides with them by accident.
LOCK_NAMESPACE = 0x7261  # "ra"
MIGRATE_LOCK = 1
HOUSEKEEPING_LOCK = 2


async def migrate(conn: Any) -> int:
    """Apply what this database lacks; returns the schema version. ``conn`` is an asyncpg
    connection (typed loosely so this module stays importable without the driver)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_NAMESPACE, MIGRATE_LOCK)
        await conn.execute(VERSIONS)
        current = int(await conn.fetchval(CURRENT))
        for version, script in pending(MIGRATIONS, current):
            await conn.execute(script)
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        return max(current, len(MIGRATIONS))
