"""Asking an agent whose chat call returns the answer (Blaigent, the slug chat API).

The same durability as the polled way, with what such an API allows::

    received ── note the attempt, ask (one call) ──▶ answered | failed | timed_out

The attempt is written before the call. If the process stops during the call, the next
life finds the attempt and does not ask blindly again: an agent that can list the
conversation (Blaigent) is looked at — the answer is taken from there, or the question
asked again only if it never arrived (for a person's first question, whose conversation
id only the lost answer carried, their newest conversation is looked at); an agent that
cannot (slug) gets no second call,
and the person one short notice to ask again. The same holds when a call ends with no
way to tell whether the agent got it (a timeout after the request was sent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bridge import texts
from bridge.asking import Answered, Asking, Means
from bridge.delivery import reply_key
from bridge.errors import AgentError, AgentTransportError
from bridge.models import PlatformUser, QuestionState
from bridge.outcomes import Finished, failure, interrupted, non_empty
from bridge.ports.agent import DirectAgentPort, Person
from bridge.ports.outbound import Outbound
from bridge.ports.store import QuestionRecord

log = logging.getLogger("bridge.turn")


def direct(agent: DirectAgentPort) -> Callable[[Means], Asking]:
    """The direct way for ``agent``."""

    def way(means: Means) -> Asking:
        return DirectAsking(means, agent)

    return way


class DirectAsking:
    def __init__(self, means: Means, agent: DirectAgentPort) -> None:
        self._means = means
        self._store = means.store
        self._agent = agent
        self._config = means.config
        self._clock = means.clock
        self._sleep = means.sleep  # raises ShuttingDown when the service stops

    async def ask(self, q: QuestionRecord, person: PlatformUser, outbound: Outbound) -> Answered:
        # The call is the answer: RAIA_POLL_TIMEOUT bounds it from when this life began
        # trying (a downtime of the bridge before that never counts).
        assert q.started_at is not None
        deadline = max(q.started_at, self._clock()) + self._config.poll_timeout
        failures = 0
        while True:
            try:
                answered = await self._once(q, person, outbound, deadline)
                if answered.finished.state is QuestionState.ANSWERED:
                    self._means.health.ok()
                return answered
            except AgentError as exc:
                self._means.health.failed(exc)
                if not exc.retryable or self._clock() >= deadline:
                    log.error("question=%d given up: %s", q.id, exc)
                    # "Too long" if the agent may have it (an attempt is on record), else "unreachable".
                    q = await self._store.question(q.id)
                    sent = q.send_attempted_at is not None
                    return Answered(failure(exc, timed_out=exc.retryable, sent=sent), q)
                failures += 1
                log.warning("question=%d %s unavailable (%s); retrying", q.id, self._agent.backend, exc)
                wait = self._config.reach_backoff.wait(failures, hint=exc.retry_after)
                await self._sleep(min(wait, max(0.0, deadline - self._clock())))
                q = await self._store.question(q.id)

    async def _once(self, q: QuestionRecord, person: PlatformUser, outbound: Outbound, deadline: float) -> Answered:
        conversation = await self._store.conversation(q.conversation_id)
        session = conversation.agent_conversation_id or None
        if q.send_attempts > 0 and q.send_attempted_at is not None:
            # An earlier call may have reached the agent (a restart, a timeout): settle
            # that first; asking again is only safe when the agent shows it never came.
            settled = await self._settle(q, session)
            if settled is not None:
                return settled
        language = texts.language_of(person.custom_data)
        live = outbound.live(q.origin, language, key=reply_key(q)) if self._agent.streams else None
        await self._store.note_send_attempt(q.id)
        try:
            # The whole call is bounded by the question's deadline (RAIA_POLL_TIMEOUT).
            async with asyncio.timeout(max(0.0, deadline - self._clock())):
                asked = await self._agent.ask(_person(q, person), session, q.text, live.show if live else None)
        except BaseException as exc:
            if live is not None:  # what was shown stays, marked as cut off
                await live.abandon()
            if isinstance(exc, TimeoutError):
                raise AgentTransportError("no answer within the poll timeout", ambiguous=True) from None
            if isinstance(exc, AgentTransportError):
                if not exc.ambiguous:  # never left: nothing to settle
                    await self._store.clear_send_attempt(q.id)
            elif isinstance(exc, AgentError):
                # The agent answered with an error: it did not take the question.
                await self._store.clear_send_attempt(q.id)
            raise
        if asked.session and asked.session != session:
            await self._store.set_agent_conversation(q.conversation_id, asked.session)
        return Answered(Finished(QuestionState.ANSWERED, non_empty(asked.reply)), q, asked.detail, live)

    async def _settle(self, q: QuestionRecord, session: str | None) -> Answered | None:
        """After a call that may have reached the agent: the answer, a notice, or None
        (it never arrived: ask)."""
        if not self._agent.can_look_up:
            # Nothing to look at (slug): never ask a second time on a guess.
            return Answered(interrupted("call cut off; the agent cannot be asked what it got"), q)
        found = await self._agent.look_up(q.fk_id, session, q.text)
        if found.session and found.session != session:  # a first question opened it
            await self._store.set_agent_conversation(q.conversation_id, found.session)
        if found.reply is not None:
            return Answered(Finished(QuestionState.ANSWERED, non_empty(found.reply)), q, "recovered from history")
        if not found.asked:
            attempted = q.send_attempted_at or 0.0
            if self._clock() - attempted < self._config.settle:
                # The agent may still be storing it: look again before asking again.
                raise AgentTransportError("call outcome unknown; looking again before asking again", ambiguous=True)
            return None
        # It has the question but no answer: still working, or it lost the answer.
        if self._clock() - (q.send_attempted_at or 0.0) < self._config.settle:
            raise AgentTransportError("the agent has the question but no answer yet", ambiguous=True)
        return Answered(interrupted("the agent has the question but never answered it"), q)


def _person(q: QuestionRecord, profile: PlatformUser) -> Person:
    return Person(
        fk_id=q.fk_id,
        platform=q.platform,
        first_name=profile.first_name,
        last_name=profile.last_name,
        custom_data=dict(profile.custom_data),
    )
