"""Rows of the store as frozen values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bridge.models import InboundMessage, PlatformUser, QuestionState, Reply, Route


@dataclass(frozen=True)
class QuestionRecord:
    id: int
    conversation_id: int
    fk_id: str
    platform: str
    route: Route
    profile: PlatformUser
    text: str
    state: QuestionState
    raia_message_id: str | None
    send_attempts: int
    reply: Reply | None
    error: str | None
    parts_delivered: int
    delivery_attempts: int
    created_at: float
    started_at: float | None
    sent_at: float | None

    @classmethod
    def new(cls, qid: int, conversation_id: int, msg: InboundMessage, created_at: float) -> QuestionRecord:
        """The record ``record_question`` just inserted, without reading it back."""
        return cls(
            id=qid,
            conversation_id=conversation_id,
            fk_id=msg.user.fk_id,
            platform=msg.platform,
            route=msg.route,
            profile=msg.user,
            text=msg.text,
            state=QuestionState.RECEIVED,
            raia_message_id=None,
            send_attempts=0,
            reply=None,
            error=None,
            parts_delivered=0,
            delivery_attempts=0,
            created_at=created_at,
            started_at=None,
            sent_at=None,
        )

    @classmethod
    def from_row(cls, row: Any) -> QuestionRecord:
        profile = json.loads(row["profile"])
        return cls(
            id=row["id"],
            conversation_id=row["conversation_id"],
            fk_id=row["fk_id"],
            platform=row["platform"],
            route=Route.from_json(json.loads(row["route"])),
            profile=PlatformUser(
                fk_id=row["fk_id"],
                first_name=profile["first_name"],
                last_name=profile.get("last_name"),
                custom_data=profile.get("custom_data") or {},
            ),
            text=row["text"],
            state=QuestionState(row["state"]),
            raia_message_id=row["raia_message_id"],
            send_attempts=row["send_attempts"],
            reply=Reply.from_json(json.loads(row["reply"])) if row["reply"] else None,
            error=row["error"],
            parts_delivered=row["parts_delivered"],
            delivery_attempts=row["delivery_attempts"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            sent_at=row["sent_at"],
        )


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    fk_id: str
    raia_conversation_id: str | None
    ended_at: float | None


def profile_json(user: PlatformUser) -> str:
    return json.dumps(
        {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "custom_data": dict(user.custom_data),
        }
    )
