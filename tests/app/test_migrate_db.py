"""``raia-bridge migrate-db``: a SQLite database moves into PostgreSQL, and a second run is a no-op."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from adapters.slack.installed import Installation
from bridge.app.cli import main
from bridge.app.installations import SealedInstallations
from bridge.models import QuestionState, Reply
from store.copy import LEFT_OUT, TABLES
from store.postgres import PostgresStore
from store.sqlite import SqliteStore
from tests.conftest import message
from tests.pgserver import PASSWORD, PgServer


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["migrate-db", *argv])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


KEY = SecretStr(Fernet.generate_key().decode())
BOT_TOKEN = "xoxb-acme-workspace-token"


async def _fill(path: Path) -> dict[str, int]:
    async with SqliteStore(path) as store:
        installs = SealedInstallations(KEY)
        installs.store = store
        await installs.save(Installation("T1", None, SecretStr(BOT_TOKEN), "B1", "Acme"))
        await store.keep_unnamed_topic("telegram", "-100", "7")
        await store.save_answer_times([5.0, 4.5])
        await store.keep_person_locale("slack:T1:U1", "de-DE")
        await store.for_agent("hr").save_answer_times([9.0])
        first = await store.record_question(message("answered", user="u1"), ttl=3600)
        waiting = await store.record_question(message("still waiting", user="u1"), ttl=3600)
        other = await store.record_question(message("sent", user="u2"), ttl=3600)
        assert first
        assert waiting
        assert other
        await store.save_agent_user("test:u1", "raia-u1")
        await store.set_agent_conversation(first.conversation_id, "raia-c1")
        await store.mark_sent(first.id, "m1")
        await store.mark_finished(first.id, QuestionState.ANSWERED, Reply("hi"))
        await store.mark_delivered(first.id)
        await store.mark_sent(other.id, "m2")
        # A person took the first conversation over: one staff message posted, one not yet.
        await store.watch_handover(first.conversation_id, 0.0, 4e9)
        posts = [("s1", 1.0, Reply("Dana here")), ("s2", 2.0, Reply("Still there?"))]
        await store.record_handover(
            first.conversation_id, by_person=True, staff="Dana", episode=1, since=0.0, watch_until=4e9, posts=posts
        )
        await store.mark_post_delivered(first.conversation_id, "s1")
        return {"waiting": waiting.id, "other": other.id, "conversation": first.conversation_id}


async def test_sqlite_moves_into_postgres_once(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Conversations, identities, event keys, unfinished questions, takeovers (what was
    posted for them), Slack installations (sealed as they were), unnamed topics, answer
    times and people's languages arrive with their ids; running it again copies nothing; new rows continue after
    the copied ids."""
    source = tmp_path / "bridge.db"
    ids = await _fill(source)
    target = await pg_server.new_database()
    code, out, err = await _in_thread(capsys, "--from", f"sqlite:///{source}", "--to", target)
    assert code == 0, err
    copied = "copied 1 identities, 2 conversations, 3 seen_events, 3 questions, 0 feedback, 1 handovers, 2 handover_"
    assert copied in out
    assert "1 slack_installations, 1 unnamed_topics, 1 answer_times, 1 agent_answer_times, 1 person_languages." in out
    assert "2 unfinished question(s)" in out
    assert "1 Slack installation(s) keep their bot tokens sealed with BRIDGE_SECRET_KEY" in out
    async with SqliteStore(source) as store:
        sealed = await store.installation("T1", "")
    assert sealed is not None
    for secret in (PASSWORD, BOT_TOKEN, sealed.sealed_token):
        assert secret not in out + err
    assert ":***@127.0.0.1" in out
    code, out, _ = await _in_thread(capsys, "--from", f"sqlite:///{source}", "--to", target)
    assert code == 0
    again = "copied 0 identities, 0 conversations, 0 seen_events, 0 questions, 0 feedback, 0 handovers, 0 handover_"
    assert f"{again}posts, 0 handed_questions, 0 slack_installations, 0 unnamed_topics, 0 answer_times, " in out
    assert "0 agent_answer_times, 0 person_languages; 17 row(s) were already there" in out
    async with PostgresStore(target) as store:
        assert await store.count_open() == 2
        assert (await store.question(ids["waiting"])).text == "still waiting"
        assert (await store.question(ids["other"])).agent_message_id == "m2"
        assert (await store.conversation(ids["conversation"])).agent_conversation_id == "raia-c1"
        assert await store.agent_user_id("test:u1") == "raia-u1"
        assert await store.person_locale("slack:T1:U1") == "de-DE"
        handover = await store.handover(ids["conversation"])
        assert handover is not None
        assert (handover.by_person, handover.staff, handover.episode) == (True, "Dana", 1)
        assert [p.key for p in await store.pending_posts(ids["conversation"])] == ["s2"]  # s1 was posted
        assert await store.recorded_posts(ids["conversation"]) == {"s1", "s2"}
        assert await store.record_question(message("answered", user="u1"), ttl=3600) is None  # its key came along
        new = await store.record_question(message("new one", user="u3"), ttl=3600)
        assert new is not None
        assert new.id > ids["other"]
        assert new.conversation_id > ids["conversation"]
        copied_install = await store.installation("T1", "")
        assert copied_install == sealed  # the ciphertext as it was: the same key opens it
        installs = SealedInstallations(KEY)
        installs.store = store
        found = await installs.find("T1", None)
        assert found is not None
        assert found.bot_token.get_secret_value() == BOT_TOKEN
        assert await store.take_unnamed_topic("telegram", "-100", "7")
        assert await store.answer_times() == [5.0, 4.5]
        assert await store.for_agent("hr").answer_times() == [9.0]


async def _sqlite_columns(tmp_path: Path) -> dict[str, set[str]]:
    path = tmp_path / "bridge.db"
    async with SqliteStore(path):
        pass
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in tables}
    finally:
        db.close()


async def _postgres_columns(url: str) -> dict[str, set[str]]:
    async with PostgresStore(url):
        pass
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        )
    finally:
        await conn.close()
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    return columns


async def test_every_table_and_column_is_copied_or_left_out_on_purpose(tmp_path: Path) -> None:
    """A migration that adds a table or column fails here until migrate-db copies it or
    says why it does not (store.copy.LEFT_OUT)."""
    schema = await _sqlite_columns(tmp_path)
    missed = [
        f"{table}.{column}"
        for table, columns in schema.items()
        if table not in LEFT_OUT
        for column in columns
        if column not in TABLES.get(table, ()) and f"{table}.{column}" not in LEFT_OUT
    ]
    assert missed == []
    assert set(TABLES) | {t for t in LEFT_OUT if "." not in t} == set(schema)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_every_table_and_column_copied_is_in_both_schemas(
    tmp_path: Path, pg_server: PgServer, engine: str
) -> None:
    """migrate-db reads each table it copies from SQLite and writes it to PostgreSQL: a
    table or column that a migration of one engine made and the other's forgot fails here,
    not in an operator's copy halfway through."""
    schema = await (
        _sqlite_columns(tmp_path) if engine == "sqlite" else _postgres_columns(await pg_server.new_database())
    )
    missing = [f"{t}.{c}" for t, columns in TABLES.items() for c in columns if c not in schema.get(t, set())]
    assert missing == [], f"copied by migrate-db, not in the {engine} schema"


async def test_refuses_a_database_in_use_by_something_else(
    tmp_path: Path, pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A target that already holds other conversations, or a wrong pair of URLs: one line, no copy."""
    source = tmp_path / "bridge.db"
    await _fill(source)
    target = await pg_server.new_database()
    async with PostgresStore(target) as store:
        for i in range(5):
            await store.record_question(message("elsewhere", user=f"x{i}"), ttl=60)
    code, _, err = await _in_thread(capsys, "--from", f"sqlite:///{source}", "--to", target)
    assert code == 7
    assert "already holds" in err
    assert err.count("\n") == 1
    code, _, err = await _in_thread(capsys, "--from", target, "--to", f"sqlite:///{source}")
    assert (code, err.strip()) == (
        2,
        "raia-bridge: configuration error: migrate-db copies --from sqlite:///… --to postgres://…",
    )
    code, _, err = await _in_thread(capsys, "--from", f"sqlite:///{tmp_path / 'none.db'}", "--to", target)
    assert code == 7
    assert "does not exist" in err


async def _in_thread(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The CLI runs its own event loop: call it from a thread, away from the test's loop."""
    return await asyncio.to_thread(_run, capsys, *argv)
