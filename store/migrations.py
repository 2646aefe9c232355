"""Versioned schema and how it is applied. Append a new entry to ``MIGRATIONS``; never
edit an old one."""

from __future__ import annotations

import sqlite3
from types import TracebackType

MIGRATIONS: tuple[str, ...] = (
    # 1: identities, conversations, de-duplication and the question state machine.
    """
    CREATE TABLE identities (
        fk_id        TEXT PRIMARY KEY,            -- e.g. slack:T1:U2, telegram:98765
        raia_user_id TEXT NOT NULL,
        created_at   REAL NOT NULL
    );
    -- A platform identity has one current conversation (ended_at IS NULL); a reset ends
    -- it and the next question opens a new one. Old rows are kept as history.
    CREATE TABLE conversations (
        id                   INTEGER PRIMARY KEY,
        fk_id                TEXT NOT NULL,
        raia_conversation_id TEXT,                -- filled when raia created it
        created_at           REAL NOT NULL,
        ended_at             REAL
    );
    CREATE UNIQUE INDEX conversations_current ON conversations(fk_id) WHERE ended_at IS NULL;
    CREATE TABLE seen_events (
        key        TEXT PRIMARY KEY,              -- platform event identity, e.g. telegram:update:42
        expires_at REAL NOT NULL
    );
    CREATE INDEX seen_events_expiry ON seen_events(expires_at);
    CREATE TABLE questions (
        id                INTEGER PRIMARY KEY,
        conversation_id   INTEGER NOT NULL REFERENCES conversations(id),
        fk_id             TEXT NOT NULL,
        platform          TEXT NOT NULL,
        route             TEXT NOT NULL,          -- JSON, interpreted by the adapter
        profile           TEXT NOT NULL,          -- JSON: names for creating the raia user
        text              TEXT NOT NULL,          -- cleared once delivered
        state             TEXT NOT NULL,
        raia_message_id   TEXT,
        send_attempts     INTEGER NOT NULL DEFAULT 0,
        reply             TEXT,                   -- JSON Reply, kept until delivered
        error             TEXT,
        parts_delivered   INTEGER NOT NULL DEFAULT 0,
        delivery_attempts INTEGER NOT NULL DEFAULT 0,
        created_at        REAL NOT NULL,
        started_at        REAL,
        sent_at           REAL,
        finished_at       REAL,
        delivered_at      REAL
    );
    CREATE INDEX questions_open ON questions(conversation_id, id)
        WHERE state NOT IN ('delivered', 'undeliverable');
    """,
    # 2: Slack thread follow-ups ask "did this person ask in this thread?" for every
    # unmentioned thread reply in every channel the bot is in: index it.
    """
    CREATE INDEX questions_thread ON questions(
        platform, fk_id, json_extract(route, '$.chat'), json_extract(route, '$.thread')
    );
    """,
    # 3: when the last send was attempted: after an ambiguous failure the bridge looks for
    # the message until raia has surely finished with that request, and only then resends.
    """
    ALTER TABLE questions ADD COLUMN send_attempted_at REAL;
    """,
    # 4: 👍/👎 on answers need the question and answer text after delivery: kept here for
    # FEEDBACK_DAYS (the questions row is erased as before), with the vote and comment.
    # Files sent with a question (platform references, never content) and the album a
    # Telegram photo belongs to (its photos are one question).
    """
    CREATE TABLE feedback (
        question_id INTEGER PRIMARY KEY,
        fk_id       TEXT NOT NULL,             -- who asked: the only one who may vote
        message_id  TEXT NOT NULL,             -- the answer's id at the agent
        question    TEXT NOT NULL,
        answer      TEXT NOT NULL,
        vote        TEXT,                      -- up | down
        comment     TEXT,
        prompt      TEXT,                      -- where a comment was asked for (a Telegram message)
        keep_until  REAL NOT NULL
    );
    CREATE INDEX feedback_expiry ON feedback(keep_until);
    CREATE INDEX feedback_prompt ON feedback(prompt) WHERE prompt IS NOT NULL;
    ALTER TABLE questions ADD COLUMN files TEXT;
    ALTER TABLE questions ADD COLUMN album TEXT;
    CREATE INDEX questions_album ON questions(album) WHERE album IS NOT NULL;
    """,
    # 5: the agent's recent answer times (a JSON list of seconds), so a restarted bridge's
    # poll schedule knows them at once. One row.
    """
    CREATE TABLE answer_times (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        seconds  TEXT NOT NULL,
        saved_at REAL NOT NULL
    );
    """,
    # 6: the agent's ids in agent-neutral words (they hold Blaigent and slug ids too).
    """
    ALTER TABLE identities RENAME COLUMN raia_user_id TO agent_user_id;
    ALTER TABLE conversations RENAME COLUMN raia_conversation_id TO agent_conversation_id;
    ALTER TABLE questions RENAME COLUMN raia_message_id TO agent_message_id;
    """,
    # 7: a person takes over a conversation from the agent (raia's manual mode): who handles
    # it, where the person is (the route of their last question), how long it is watched
    # (and by which process), and the deliveries that belong to the conversation (the
    # staff's messages and the bridge's notices), each recorded like an answer's parts.
    """
    CREATE TABLE handovers (
        conversation_id       INTEGER PRIMARY KEY REFERENCES conversations(id),
        agent_conversation_id TEXT NOT NULL,
        by_person             INTEGER NOT NULL DEFAULT 0,
        staff                 TEXT,
        episode               INTEGER NOT NULL DEFAULT 0,  -- takeovers begun so far
        since                 REAL NOT NULL,               -- staff messages older than this are not delivered
        platform              TEXT NOT NULL,
        route                 TEXT NOT NULL,
        profile               TEXT NOT NULL,
        watch_until           REAL NOT NULL,
        watch_owner           TEXT,
        watch_owner_until     REAL
    );
    CREATE INDEX handovers_agent ON handovers(agent_conversation_id);
    CREATE INDEX handovers_watched ON handovers(watch_until);
    CREATE INDEX conversations_agent ON conversations(agent_conversation_id);
    CREATE TABLE handover_posts (
        conversation_id   INTEGER NOT NULL,
        key               TEXT NOT NULL,                   -- the staff message's id, or a notice's
        seq               REAL NOT NULL,                   -- delivery order
        reply             TEXT NOT NULL,                   -- JSON Reply
        parts_delivered   INTEGER NOT NULL DEFAULT 0,
        delivery_attempts INTEGER NOT NULL DEFAULT 0,
        created_at        REAL NOT NULL,
        delivered_at      REAL,
        PRIMARY KEY (conversation_id, key)
    );
    CREATE INDEX handover_posts_pending ON handover_posts(conversation_id, seq) WHERE delivered_at IS NULL;
    """,
    # 8: housekeeping deletes finished questions in small batches found by their delivery
    # time (``store.housekeeping``); without this index each batch scanned the table.
    """
    CREATE INDEX questions_delivered ON questions(delivered_at);
    """,
    # 9: PEOPLE_DAYS: when each person and conversation was last active (refreshed at most
    # daily by a question), so housekeeping forgets those gone for that long; rows already
    # here count as active now. A conversation's questions found by index (whether any is left).
    """
    ALTER TABLE identities ADD COLUMN last_active_at REAL;
    ALTER TABLE conversations ADD COLUMN last_active_at REAL;
    UPDATE identities SET last_active_at = CAST(strftime('%s', 'now') AS REAL);
    UPDATE conversations SET last_active_at = CAST(strftime('%s', 'now') AS REAL);
    CREATE INDEX identities_active ON identities(last_active_at);
    CREATE INDEX conversations_active ON conversations(last_active_at);
    CREATE INDEX questions_conversation ON questions(conversation_id);
    """,
    # 10: questions a person took over (raia's manual mode): if the agent answers one anyway,
    # the takeover desk posts that answer once (``settled_at``: posted, or nothing came).
    """
    CREATE TABLE handed_questions (
        question_id      INTEGER PRIMARY KEY,
        conversation_id  INTEGER NOT NULL,
        agent_message_id TEXT NOT NULL,
        handed_at        REAL NOT NULL,
        settled_at       REAL
    );
    CREATE INDEX handed_questions_open ON handed_questions(conversation_id) WHERE settled_at IS NULL;
    """,
    # 11: a question the person stopped (/stop, Slack's stop button) is final: never open
    # again, so never resumed after a restart. The open-questions index leaves it out.
    """
    DROP INDEX questions_open;
    CREATE INDEX questions_open ON questions(conversation_id, id)
        WHERE state NOT IN ('delivered', 'undeliverable', 'stopped');
    """,
    # 12: one deployment, several agents (ROUTES_FILE): the agent is part of a conversation's
    # identity (a person has one conversation per agent) and of a person's user at the agent
    # (each agent API has its own users). '' is the one agent of a deployment without routes.
    """
    ALTER TABLE conversations ADD COLUMN agent TEXT NOT NULL DEFAULT '';
    DROP INDEX conversations_current;
    CREATE UNIQUE INDEX conversations_current ON conversations(agent, fk_id) WHERE ended_at IS NULL;
    CREATE TABLE identities_by_agent (
        agent         TEXT NOT NULL DEFAULT '',
        fk_id         TEXT NOT NULL,
        agent_user_id TEXT NOT NULL,
        created_at    REAL NOT NULL,
        last_active_at REAL,
        PRIMARY KEY (agent, fk_id)
    );
    INSERT INTO identities_by_agent (agent, fk_id, agent_user_id, created_at, last_active_at)
        SELECT '', fk_id, agent_user_id, created_at, last_active_at FROM identities;
    DROP TABLE identities;
    ALTER TABLE identities_by_agent RENAME TO identities;
    CREATE INDEX identities_active ON identities(last_active_at);
    CREATE INDEX questions_in_thread ON questions(
        platform, json_extract(route, '$.chat'), json_extract(route, '$.thread')
    );
    """,
    # 13: "Add to Slack": the app's installation in each workspace (or organisation), its bot
    # token sealed with BRIDGE_SECRET_KEY (never in the clear here).
    """
    CREATE TABLE slack_installations (
        team         TEXT NOT NULL,                -- '' for an org-wide install
        enterprise   TEXT NOT NULL DEFAULT '',
        bot_token    TEXT NOT NULL,                -- Fernet token
        bot_user     TEXT NOT NULL,
        team_name    TEXT NOT NULL,
        installed_at REAL NOT NULL,
        PRIMARY KEY (enterprise, team)
    );
    """,
    # 14: each agent of a routes file keeps its recent answer times under its own name (the
    # one row of version 5 stays the single agent's, so an upgrade keeps what it learned).
    """
    CREATE TABLE agent_answer_times (
        agent    TEXT PRIMARY KEY,
        seconds  TEXT NOT NULL,
        saved_at REAL NOT NULL
    );
    """,
    # 15: Telegram topics /new opened that no question has named yet (store.topics), so a
    # restart does not leave them "New conversation".
    """
    CREATE TABLE unnamed_topics (
        platform  TEXT NOT NULL,                   -- "telegram", or a routes file's telegram/<name>
        chat      TEXT NOT NULL,
        thread    TEXT NOT NULL,
        opened_at REAL NOT NULL,
        PRIMARY KEY (platform, chat, thread)
    );
    CREATE INDEX unnamed_topics_opened ON unnamed_topics(opened_at);
    """,
    # 16: the language each person was last looked up with (store.languages), where only a
    # lookup tells it (Slack's users.info): a restart does not answer their first /raia in English.
    """
    CREATE TABLE person_languages (
        fk_id    TEXT PRIMARY KEY,
        locale   TEXT NOT NULL,                    -- as the platform gave it: "de-DE"
        saved_at REAL NOT NULL
    );
    CREATE INDEX person_languages_saved ON person_languages(saved_at);
    """,
)


# The version bookkeeping both engines share: one row per migration applied.
VERSIONS = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
CURRENT = "SELECT COALESCE(MAX(version), 0) FROM schema_version"


def pending(migrations: tuple[str, ...], current: int) -> list[tuple[int, str]]:
    """The migrations a database at version ``current`` lacks, with their versions, in order."""
    return [(version, script) for version, script in enumerate(migrations, start=1) if version > current]


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations this database has not had yet (inside the caller's transaction)."""
    db.execute(VERSIONS)
    for version, script in pending(MIGRATIONS, int(db.execute(CURRENT).fetchone()[0])):
        for statement in _statements(script):
            db.execute(statement)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on any error), on the store's thread."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self._rollback()
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:  # a COMMIT that fails (a full disk) may leave the transaction open
            self._rollback()
            raise

    def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (a full disk): a ROLLBACK then would
        # fail ("no transaction is active") and hide the error that matters.
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")


def _statements(script: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
