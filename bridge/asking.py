"""Asking raia one question: its conversation, the send (never blindly repeated), and
the wait for the answer. Used by the conversation service's lanes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bridge.agent import AgentPort, NewUser, ResponseStatus
from bridge.errors import (
    AgentAuthError,
    AgentError,
    AgentNotFoundError,
    AgentRejectedError,
    AgentServerError,
    AgentTransportError,
)
from bridge.models import QuestionState, Reply, ReplyKind
from bridge.poller import PollSchedule
from store.database import Store
from store.records import QuestionRecord

log = logging.getLogger("bridge.turn")

# What people see when something went wrong. Short, no internals (the log has those).
MSG_TIMEOUT = "Sorry — the assistant took too long to answer. Please try again in a moment."
MSG_FAILED = "Sorry — the assistant could not answer that. Please try again, or rephrase."
MSG_UNAVAILABLE = "Sorry — the assistant is not available right now. The team has been notified."
MSG_REJECTED = "Sorry — the assistant could not accept that message."
MSG_UNREACHABLE = "Sorry — I can't reach the assistant right now. Please try again in a few minutes."
MSG_EMPTY_ANSWER = "The assistant returned an empty answer."


class AgentHealth:
    """What /healthz says about raia: "ok", or what went wrong last."""

    def __init__(self) -> None:
        self.status = "unknown"

    def ok(self) -> None:
        self.status = "ok"

    def failed(self, exc: AgentError) -> None:
        if isinstance(exc, AgentAuthError):
            self.status = "raia rejected RAIA_API_KEY (403)"
            logging.getLogger("bridge.service").error(
                "raia rejected the API key (HTTP %s): check RAIA_API_KEY (%s)", exc.status, exc
            )
        else:
            self.status = f"error: {type(exc).__name__}"


class QuestionAsker:
    def __init__(
        self,
        store: Store,
        agent: AgentPort,
        *,
        poll: PollSchedule,
        poll_timeout: float,
        step_backoff: tuple[float, float],
        unreachable_after: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        health: AgentHealth,
    ) -> None:
        self._store = store
        self._agent = agent
        self._poll = poll
        self._poll_timeout = poll_timeout
        self._step_backoff = step_backoff
        self._unreachable_after = unreachable_after
        self._clock = clock
        self._sleep = sleep
        self.health = health

    async def obtain_answer(self, q: QuestionRecord) -> tuple[QuestionRecord, int]:
        # The record is carried forward in memory; the store is re-read only after a
        # failure, when what reached the database is the truth.
        if q.started_at is None:
            q = replace(q, started_at=await self._store.mark_started(q.id))
        started = q.started_at
        assert started is not None
        deadline = started + self._poll_timeout
        polls = 0
        failures = 0
        while True:
            try:
                conversation = await self._conversation_id(q)
                if q.state == QuestionState.RECEIVED:
                    q = await self._send(q, conversation)
                state, reply, error, polls = await self._wait(q, conversation, deadline, polls)
                self.health.ok()
                break
            except AgentError as exc:
                self.health.failed(exc)
                # An unreachable raia is not a slow answer: a question it never got is
                # given up after ``unreachable_after``, not the whole poll timeout.
                give_up = deadline
                if q.state == QuestionState.RECEIVED:
                    give_up = min(deadline, started + self._unreachable_after)
                if not exc.retryable or self._clock() >= give_up:
                    state, reply, error = _failure(exc, timed_out=exc.retryable, sent=q.state != QuestionState.RECEIVED)
                    log.error("question=%d given up: %s", q.id, exc)
                    break
                failures += 1
                lo, hi = self._step_backoff
                log.warning("question=%d raia unavailable (%s); retrying", q.id, exc)
                await self._sleep(min(hi, lo * 2 ** (failures - 1), max(0.0, give_up - self._clock())))
                q = await self._store.question(q.id)
        await self._store.mark_finished(q.id, state, reply, error)
        return replace(q, state=state, reply=reply, error=error), polls

    async def _conversation_id(self, q: QuestionRecord) -> str:
        conversation = await self._store.conversation(q.conversation_id)
        if conversation.raia_conversation_id:
            return conversation.raia_conversation_id
        user_id = await self._store.raia_user_id(q.fk_id)
        if user_id is None:
            profile = q.profile
            user_id = await self._agent.find_or_create_user(
                NewUser(
                    fk_id=q.fk_id,
                    first_name=profile.first_name.strip() or "Unknown",
                    # raia requires a last name; many chat users have none.
                    last_name=(profile.last_name or "").strip() or f"({q.platform.capitalize()})",
                    custom_data={"platform": q.platform, **profile.custom_data},
                )
            )
            await self._store.save_raia_user(q.fk_id, user_id)
        name = " ".join(p for p in (q.profile.first_name, q.profile.last_name) if p)
        raia_id = await self._agent.create_conversation(
            user_id,
            title=f"{q.platform.capitalize()} chat with {name}".strip(),
            custom_data={"platform": q.platform, "fkId": q.fk_id},
        )
        await self._store.set_raia_conversation(q.conversation_id, raia_id)
        return raia_id

    async def _send(self, q: QuestionRecord, conversation: str) -> QuestionRecord:
        """Send the question once; returns the record in state ``sent``."""
        if q.send_attempts > 0:
            # An earlier attempt may have reached raia (crash, timeout): look first.
            found = await self._already_sent(q, conversation)
            if found:
                return await self._mark_sent(q, found)
        await self._store.note_send_attempt(q.id)
        try:
            message_id = await self._agent.send_message(conversation, q.text)
        except AgentNotFoundError:
            # The conversation was deleted on raia's side: start a new one, then retry.
            await self._store.set_raia_conversation(q.conversation_id, "")
            raise AgentServerError("conversation vanished on raia; opening a new one") from None
        except (AgentTransportError, AgentServerError) as exc:
            if isinstance(exc, AgentTransportError) and not exc.ambiguous:
                raise
            found = await self._already_sent(q, conversation)
            if found:
                return await self._mark_sent(q, found)
            raise
        return await self._mark_sent(q, message_id)

    async def _mark_sent(self, q: QuestionRecord, message_id: str) -> QuestionRecord:
        sent_at = await self._store.mark_sent(q.id, message_id)
        return replace(q, state=QuestionState.SENT, raia_message_id=message_id, sent_at=sent_at)

    async def _already_sent(self, q: QuestionRecord, conversation: str) -> str | None:
        known = await self._store.known_message_ids(q.conversation_id)
        for message in await self._agent.list_messages(conversation):
            # Questions go out one at a time, so an unknown user message with this
            # text can only be this question.
            if message.from_user and message.id not in known and message.text.strip() == q.text:
                return message.id
        return None

    async def _wait(
        self, q: QuestionRecord, conversation: str, deadline: float, polls: int
    ) -> tuple[QuestionState, Reply, str | None, int]:
        assert q.raia_message_id is not None
        assert q.sent_at is not None
        schedule = self._poll
        while True:
            now = self._clock()
            if now >= deadline:
                return (
                    QuestionState.TIMED_OUT,
                    Reply(MSG_TIMEOUT, ReplyKind.NOTICE),
                    "poll timeout",
                    polls,
                )
            await self._sleep(min(schedule.next_wait(now - q.sent_at), deadline - now))
            polls += 1
            try:
                response = await self._agent.response_on(conversation, q.raia_message_id)
            except AgentNotFoundError as exc:
                return QuestionState.FAILED, Reply(MSG_FAILED, ReplyKind.NOTICE), str(exc), polls
            if response.status == ResponseStatus.COMPLETED and response.reply is not None:
                reply = response.reply
                if not reply.text and not reply.has_sources:
                    reply = replace(reply, text=MSG_EMPTY_ANSWER)
                return QuestionState.ANSWERED, reply, None, polls
            if response.status == ResponseStatus.FAILED:
                return (
                    QuestionState.FAILED,
                    Reply(MSG_FAILED, ReplyKind.NOTICE),
                    response.error,
                    polls,
                )

    # -- delivering ------------------------------------------------------------------


def _failure(exc: AgentError, *, timed_out: bool, sent: bool) -> tuple[QuestionState, Reply, str]:
    if isinstance(exc, AgentAuthError):
        return QuestionState.FAILED, Reply(MSG_UNAVAILABLE, ReplyKind.NOTICE), str(exc)
    if timed_out:
        # Never sent: raia was unreachable. Sent: the answer did not come in time.
        return QuestionState.TIMED_OUT, Reply(MSG_TIMEOUT if sent else MSG_UNREACHABLE, ReplyKind.NOTICE), str(exc)
    message = MSG_REJECTED if isinstance(exc, AgentRejectedError) else MSG_FAILED
    return QuestionState.FAILED, Reply(message, ReplyKind.NOTICE), str(exc)
