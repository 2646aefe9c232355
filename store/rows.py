"""Database rows (SQLite's and PostgreSQL's) <-> the core's records."""

from __future__ import annotations

import json
from typing import Any

from bridge.models import Attachment, InboundMessage, Origin, PlatformUser, QuestionState, Reply
from bridge.ports.store import AgentIds, ConversationRecord, QuestionRecord


def question_from_row(row: Any) -> QuestionRecord:
    profile = json.loads(row["profile"])
    return QuestionRecord(
        id=row["id"],
        conversation_id=row["conversation_id"],
        fk_id=row["fk_id"],
        platform=row["platform"],
        origin=Origin.from_json(json.loads(row["route"])),
        profile=PlatformUser(
            fk_id=row["fk_id"],
            first_name=profile["first_name"],
            last_name=profile.get("last_name"),
            custom_data=profile.get("custom_data") or {},
        ),
        text=row["text"],
        state=QuestionState(row["state"]),
        agent_message_id=row["agent_message_id"],
        send_attempts=row["send_attempts"],
        send_attempted_at=row["send_attempted_at"],
        reply=Reply.from_json(json.loads(row["reply"])) if row["reply"] else None,
        error=row["error"],
        parts_delivered=row["parts_delivered"],
        delivery_attempts=row["delivery_attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        sent_at=row["sent_at"],
        attachments=files_from(row["files"]),
        album=row["album"],
        agent_ids=_agent_ids(row),
    )


def _agent_ids(row: Any) -> AgentIds | None:
    columns = row.keys()  # sqlite3.Row's "in" looks at values, not column names
    return AgentIds(row["agent_conversation"] or None, row["agent_user"]) if "agent_user" in columns else None


# The questions columns plus what the turn needs from the agent's side (``AgentIds``), in
# the same read: the conversation's agent id and the person's agent user id.
QUESTION_WITH_AGENT_IDS = """SELECT *,
    (SELECT agent_conversation_id FROM conversations WHERE conversations.id = questions.conversation_id)
        AS agent_conversation,
    (SELECT agent_user_id FROM identities WHERE identities.fk_id = questions.fk_id AND identities.agent =
        (SELECT agent FROM conversations WHERE conversations.id = questions.conversation_id)) AS agent_user
    FROM questions"""


def times_from(raw: str) -> list[float]:
    """Saved answer times; anything unreadable is no times (they are only a hint)."""
    try:
        values = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def files_json(attachments: tuple[Attachment, ...]) -> str | None:
    return json.dumps([a.to_json() for a in attachments]) if attachments else None


def files_from(raw: str | None) -> tuple[Attachment, ...]:
    return tuple(Attachment.from_json(a) for a in json.loads(raw)) if raw else ()


def conversation_from_row(row: Any) -> ConversationRecord:
    return ConversationRecord(row["id"], row["fk_id"], row["agent_conversation_id"], row["ended_at"])


def profile_json(user: PlatformUser) -> str:
    return json.dumps(
        {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "custom_data": dict(user.custom_data),
        }
    )


def question_values(msg: InboundMessage, conversation_id: int, now: float) -> tuple[Any, ...]:
    """A new question's row, in the column order both engines insert it."""
    return (
        conversation_id,
        msg.user.fk_id,
        msg.platform,
        json.dumps(msg.origin.to_json()),
        profile_json(msg.user),
        msg.text,
        QuestionState.RECEIVED.value,
        now,
        files_json(msg.attachments),
        msg.album,
    )


def album_joined(row: Any, msg: InboundMessage) -> tuple[tuple[Attachment, ...], str]:
    """The files and text of an album's question once ``msg`` (another of its photos) joins it."""
    files = files_from(row["files"]) + msg.attachments
    return files, "\n".join(t for t in (row["text"], msg.text) if t)


def finish_also(
    keep: str, handed: str, qid: int, state: QuestionState, reply: Reply, now: float, keep_until: float | None
) -> list[tuple[str, tuple[Any, ...]]]:
    """What a question's finish also writes, in its transaction (both engines, each with its
    own statements): the answer kept for votes (``keep``: FEEDBACK_DAYS) and a question a
    person took over (``handed``: the takeover desk posts a late agent answer once)."""
    also: list[tuple[str, tuple[Any, ...]]] = []
    if keep_until is not None and state is QuestionState.ANSWERED and reply.message_id:
        also.append((keep, (reply.message_id, reply.text, keep_until, qid)))
    if state is QuestionState.HANDED_OVER:
        also.append((handed, (now, qid)))
    return also
