"""Asking an agent that is sent a question and looked at for its answer (raia)::

    received ── find the conversation, send once ──▶ sent
    sent ────── look on a learned schedule (or when a push hint names it) ──▶ answered | failed | timed_out

A send whose outcome is unknown (a timeout, a restart mid-call) is never repeated
blindly: the conversation is looked at first, and again while the agent may still be
storing it (``send_settle``), and only then is the question sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bridge import push, texts
from bridge.asking import Answered, Asking, Means
from bridge.asking.opening import opening
from bridge.errors import AgentError, AgentNotFoundError, AgentServerError, AgentTransportError
from bridge.files import FilePassing, notes_reply, pass_files, sent_text, sent_words
from bridge.hearing import Hearing, heard_notes, waiting
from bridge.models import PlatformUser, QuestionState, Reply, ReplyKind, Words
from bridge.outcomes import Finished, failure, non_empty
from bridge.poller import AnswerTimes
from bridge.ports.agent import AgentPort, ResponseStatus, SentFile, TakesFiles
from bridge.ports.hearing import Transcriber
from bridge.ports.outbound import Outbound
from bridge.ports.store import QuestionRecord
from bridge.push import PushHints
from bridge.takeover import LISTED_LOOK

log = logging.getLogger("bridge.turn")

# A person took the conversation over: the question reached them, the takeover's posts follow.
HANDED_OVER = Finished(QuestionState.HANDED_OVER, Reply("", ReplyKind.NOTICE), "a person took over")


def polled(
    agent: AgentPort,
    *,
    files: TakesFiles | None,
    hints: PushHints | None,
    answer_times: AnswerTimes,
    transcriber: Transcriber | None = None,
    max_seconds: float = 300.0,
) -> Callable[[Means], Asking]:
    """The polled way for ``agent``; ``files``: where files sent with a question go (the
    agent, when it takes them); ``hints``: raia push (RAIA_PUSH); ``transcriber``: who
    hears recordings (TRANSCRIBE_URL), each up to ``max_seconds`` long."""

    def way(means: Means) -> Asking:
        passing = FilePassing(means.config.files, files) if means.config.files and files else None
        hearing = Hearing(transcriber, max_seconds, sleep=means.sleep) if transcriber is not None else None
        return PolledAsking(means, agent, passing, hints, answer_times, hearing)

    return way


@dataclass
class _Tries:
    """What the tries of one question gathered (a failed try is retried as a whole)."""

    looks: int = 0  # looks at the answer (for the turn's log)
    notes: list[Words] = field(default_factory=list)  # files left out, said before the answer


class PolledAsking:
    def __init__(
        self,
        means: Means,
        agent: AgentPort,
        files: FilePassing | None,
        hints: PushHints | None,
        answer_times: AnswerTimes,
        hearing: Hearing | None = None,
    ) -> None:
        self._means = means
        self._hearing = hearing  # recordings transcribed before the send (TRANSCRIBE_URL)
        self._store = means.store
        self._config = means.config
        self._clock = means.clock
        self._sleep = means.sleep  # raises ShuttingDown when the service stops
        self._agent = agent
        self._files = files
        self._hints = hints  # poll at once when a hint names the answer
        self._answer_times = answer_times  # how long the agent takes lately: when to look

    async def ask(self, q: QuestionRecord, person: PlatformUser, outbound: Outbound) -> Answered:
        began = self._clock()  # an unreachable agent is counted from here, not from before a downtime
        # The question's files are fetched within a share of RAIA_POLL_TIMEOUT from here:
        # a stalled download costs only that file, never the answer.
        deadline = began + self._config.poll_timeout
        failures = 0
        tries = _Tries(notes=heard_notes(q))  # what was heard, said before the answer
        while True:
            try:
                conversation, opened = await opening(self._store, self._agent, q, person)
                if q.state == QuestionState.RECEIVED:
                    sent = await self._send(q, conversation, outbound, tries, deadline)
                    if isinstance(sent, Finished):  # only files, and none could be passed on
                        return Answered(sent, q, polls=tries.looks, notes=tuple(tries.notes))
                    q = sent
                finished = await self._wait(q, conversation, tries, opened=opened)
                self._means.health.ok()
                return Answered(finished, q, polls=tries.looks, notes=tuple(tries.notes))
            except AgentError as exc:
                self._means.health.failed(exc)
                # An unreachable agent is not a slow answer: a question it never got is
                # given up after ``unreachable_after``; one it has, at its answer deadline.
                if q.state == QuestionState.RECEIVED:
                    give_up = began + self._config.unreachable_after
                else:
                    give_up = self._answer_deadline(q)
                if not exc.retryable or self._clock() >= give_up:
                    log.error("question=%d given up: %s", q.id, exc)
                    finished = failure(exc, timed_out=exc.retryable, sent=q.state != QuestionState.RECEIVED)
                    return Answered(finished, q, polls=tries.looks, notes=tuple(tries.notes))
                failures += 1
                log.warning("question=%d agent unavailable (%s); retrying", q.id, exc)
                wait = self._config.reach_backoff.wait(failures, hint=exc.retry_after)
                await self._sleep(min(wait, max(0.0, give_up - self._clock())))
                q = await self._store.question(q.id)

    async def _send(
        self, q: QuestionRecord, conversation: str, outbound: Outbound, tries: _Tries, deadline: float
    ) -> QuestionRecord | Finished:
        """Send the question once; returns the record in state ``sent``."""
        if q.send_attempts > 0:
            # An earlier attempt may have reached the agent (crash, timeout): look first.
            found = await self._already_sent(q, conversation)
            if found:
                return await self._mark_sent(q, found)
            attempted = q.send_attempted_at
            if attempted is not None and self._clock() - attempted < self._config.settle:
                # Its outcome is unknown and the agent may still be storing it: look
                # again later rather than send it a second time.
                raise AgentTransportError("send outcome unknown; looking again before resending", ambiguous=True)
        unheard: list[Words] = []
        if self._hearing is not None and waiting(q):
            heard = await self._hearing.hear(q, outbound)
            if heard.changed:  # kept with the question: a restart from here never transcribes again
                await self._store.mark_heard(q.id, heard.attachments)
                q = replace(q, attachments=heard.attachments)
            unheard = heard.failures
            if not q.text and not any(a.transcript for a in q.attachments):
                # No words to send (the recording alone, not heard): one short line instead.
                return Finished(QuestionState.FAILED, notes_reply(unheard), "the recording could not be heard")
        tries.notes = heard_notes(q) + unheard
        files: list[SentFile] = []
        # With FILES=off only recordings reach here (to be heard): nothing to pass on, nothing to say.
        if q.attachments and (self._files is not None or not all(a.spoken for a in q.attachments)):
            passed = await pass_files(self._files, q, conversation, outbound, deadline - self._clock())
            if not sent_words(q) and not passed.files:
                return Finished(QuestionState.FAILED, notes_reply(passed.notes), "no file could be passed on")
            files = passed.files
            tries.notes = heard_notes(q) + unheard + passed.notes
        await self._store.note_send_attempt(q.id)
        try:
            message_id = await self._agent.send_message(conversation, sent_text(q), files)
        except AgentNotFoundError:
            # The conversation was deleted on the agent's side: start a new one, then retry.
            await self._store.clear_send_attempt(q.id)
            await self._store.set_agent_conversation(q.conversation_id, "")
            raise AgentServerError("conversation vanished at the agent; opening a new one") from None
        except AgentTransportError as exc:
            if not exc.ambiguous:  # never reached the agent
                await self._store.clear_send_attempt(q.id)
                raise
            found = await self._already_sent(q, conversation)
            if found:
                return await self._mark_sent(q, found)
            raise  # no answer came back: the request may still be in the agent's hands
        except AgentError as exc:
            # The agent answered (an error, or a body we cannot read): what it stored is
            # final, so one look settles it.
            found = await self._already_sent(q, conversation) if exc.retryable else None
            if found:
                return await self._mark_sent(q, found)
            await self._store.clear_send_attempt(q.id)
            raise
        return await self._mark_sent(q, message_id)

    async def _mark_sent(self, q: QuestionRecord, message_id: str) -> QuestionRecord:
        sent_at = await self._store.mark_sent(q.id, message_id)
        return replace(q, state=QuestionState.SENT, agent_message_id=message_id, sent_at=sent_at)

    async def _already_sent(self, q: QuestionRecord, conversation: str) -> str | None:
        known = await self._store.known_message_ids(q.conversation_id)
        for message in await self._agent.list_messages(conversation):
            # Questions go out one at a time, so an unknown user message with this
            # text can only be this question.
            if message.from_user and message.id not in known and message.text.strip() == sent_text(q):
                return message.id
        return None

    async def _taken(self, q: QuestionRecord, conversation: str, checked: float) -> float | None:
        """Looks whether a person took the conversation over since ``checked`` (when it last
        asked raia), at a look for the answer; the new ``checked``, None if a person has it.
        The desk's listings say so without a request; the question asks raia itself only
        when a listing showed a person has it, when the listings may have missed an update
        (then every ``check_waiting`` seconds, for an answer long in coming every fifth of
        the time waited, at most twice RAIA_POLL_MAX_WAIT), and every ``LISTED_LOOK``."""
        handover = self._means.handover
        assert handover is not None
        assert q.sent_at is not None
        now = self._clock()
        listed = handover.listed(q.conversation_id, checked)
        if not listed:
            every = LISTED_LOOK if listed is False else self._config.poll.spaced(now - q.sent_at) * 2
            if now - checked < max(handover.config.check_waiting, every):
                return checked
        return None if await handover.taken(q.conversation_id, conversation) else now

    def _answer_deadline(self, q: QuestionRecord) -> float:
        """``RAIA_POLL_TIMEOUT`` after the agent got the question."""
        assert q.sent_at is not None
        return q.sent_at + self._config.poll_timeout

    async def _wait(self, q: QuestionRecord, conversation: str, tries: _Tries, *, opened: bool = False) -> Finished:
        """The answer, or why there is none; ``opened``: the conversation was created for ``q``."""
        message_id = q.agent_message_id
        assert message_id is not None
        assert q.sent_at is not None
        deadline = self._answer_deadline(q)
        schedule = self._config.poll
        looked = False
        handover = self._means.handover
        # A person has the conversation: the question reached them; nothing waits for the agent.
        # One opened for this question had no one to take it over (a new person's question
        # skips the store trip): a takeover since is found at the looks, like any other.
        if (
            handover is not None
            and not opened
            and await handover.handled_by_person(q.conversation_id)
            and await handover.taken(q.conversation_id, conversation)
        ):
            return HANDED_OVER
        checked = self._clock()
        while True:
            now = self._clock()
            # The deadline counts the agent's time, not the bridge's downtime: after a
            # restart past it, one look may still find the answer ready.
            if now >= deadline and looked:
                if handover is not None and await handover.taken(q.conversation_id, conversation):
                    return HANDED_OVER
                return Finished(QuestionState.TIMED_OUT, texts.notice("timeout"), "poll timeout")
            if now < deadline:
                wait = schedule.next_wait(now - q.sent_at, self._answer_times, at=now, phase=schedule.phase(q.id))
                if self._hints is None:
                    await self._sleep(min(wait, deadline - now))
                else:
                    if self._hints.healthy:  # pushes arrive: look on our own only now and then
                        wait = max(wait, push.FALLBACK)
                    await self._hints.wait((conversation, message_id), min(wait, deadline - now), self._sleep)
            looked = True
            tries.looks += 1
            try:
                response = await self._agent.response_on(conversation, message_id)
            except AgentNotFoundError as exc:
                return Finished(QuestionState.FAILED, texts.notice("failed"), str(exc))
            # What raia returns for a question asked during a takeover is undocumented:
            # pending (looked at now and then), failed, or an empty answer all mean "a
            # person has it" when the conversation says so.
            if response.status == ResponseStatus.COMPLETED and response.reply is not None:
                reply = response.reply
                empty = not reply.text and not reply.has_sources
                if empty and handover is not None and await handover.taken(q.conversation_id, conversation):
                    return HANDED_OVER
                if response.took is not None:
                    self._answer_times.record(response.took)
                return Finished(QuestionState.ANSWERED, non_empty(reply))
            if response.status == ResponseStatus.FAILED:
                if handover is not None and await handover.taken(q.conversation_id, conversation):
                    return HANDED_OVER
                return Finished(QuestionState.FAILED, texts.notice("failed"), response.error)
            # A takeover is looked for at the looks for the answer: riding on those, it never
            # wakes the question on its own (a 5 s answer costs no mode request).
            if handover is not None:
                seen = await self._taken(q, conversation, checked)
                if seen is None:
                    return HANDED_OVER
                checked = seen
