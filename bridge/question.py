"""A question's life, from ``received`` to ``delivered`` (or ``undeliverable``).

Every state change of a question is made here, each written to the store before the
next step, so a life cut short at any point (SIGTERM, ``kill -9``) resumes where it
stopped::

    received ── find the conversation, send once ──────────▶ sent
    sent ────── poll response-on on a growing schedule ────▶ answered | failed | timed_out
    answered | failed | timed_out ── deliver part by part ─▶ delivered | undeliverable

The conversation service runs one life at a time per conversation (its lanes).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bridge import push, texts
from bridge.asking import DirectAsking
from bridge.config import ServiceConfig
from bridge.delivery import StoredProgress, best_effort
from bridge.errors import (
    AgentError,
    AgentNotFoundError,
    AgentServerError,
    AgentTransportError,
    DeliveryPermanent,
    DeliveryRetryable,
)
from bridge.files import FilePassing, notes_reply, pass_files, sent_text
from bridge.health import AgentHealth
from bridge.models import QuestionState, Reply, ReplyKind
from bridge.opening import opening
from bridge.outcomes import Finished, failure
from bridge.poller import AnswerTimes
from bridge.ports.agent import AgentPort, DirectAgentPort, RatesAnswers, ResponseStatus, SentFile, TakesFiles
from bridge.ports.observer import Observer, TurnEnded
from bridge.ports.outbound import LiveText, Outbound
from bridge.ports.store import QuestionRecord, StorePort
from bridge.push import PushHints

log = logging.getLogger("bridge.turn")  # one line per turn


@dataclass(frozen=True)
class Outcome:
    """How a question's life ended: ``state`` is delivered or undeliverable."""

    question: int
    state: QuestionState
    polls: int
    detail: str = ""


@dataclass
class _Turn:
    """One pass over a question: the record carried forward in memory (the store is
    re-read only after a failure, when what reached the database is the truth)."""

    q: QuestionRecord
    started: float
    polls: int = 0
    answered: float | None = None  # when the reply was ready to deliver
    detail: str = ""  # what the agent said about its answer (a direct agent's intent), for the log
    live: LiveText | None = None  # a streamed answer's preview in the chat, finished at delivery


class QuestionLife:
    """Takes one stored question through the rest of its life."""

    def __init__(
        self,
        store: StorePort,
        agent: AgentPort | DirectAgentPort,
        config: ServiceConfig,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        health: AgentHealth,
        observer: Observer,
        hints: PushHints | None = None,
        answer_times: AnswerTimes | None = None,
    ) -> None:
        self._store = store
        self._hints = hints  # raia push (RAIA_PUSH): poll at once when a hint names the answer
        # raia is sent to, then polled; a direct agent answers in the call (bridge.asking).
        self._direct: DirectAsking | None = None
        self._raia: AgentPort | None = None
        if isinstance(agent, DirectAgentPort):
            self._direct = DirectAsking(store, agent, config, clock=clock, sleep=sleep, on_error=health.failed)
        else:
            self._raia = agent
        self._config = config
        # 👍/👎 under answers: raia records them (FEEDBACK); the answer is kept to be rated.
        self._keep_for_votes = config.feedback_keep if isinstance(agent, RatesAnswers) else None
        # Files with questions (FILES): uploaded to the agent as part of the send.
        self._files = FilePassing(config.files, agent) if config.files and isinstance(agent, TakesFiles) else None
        self._clock = clock
        # Raises ShuttingDown when the service stops: the question stays where it is.
        self._sleep = sleep
        self._health = health
        self._observer = observer
        # How long the agent takes lately (when to poll); the service keeps it across restarts.
        self._answer_times = answer_times if answer_times is not None else AnswerTimes()

    async def live(self, q: QuestionRecord, outbound: Outbound) -> Outcome:
        if q.album is not None and q.started_at is None:
            # An album's photos arrive as separate messages a moment apart: let the rest
            # join this question before it is sent.
            await self._sleep(max(0.0, q.created_at + self._config.album_settle - self._clock()))
            q = await self._store.question(q.id)
        turn = _Turn(q, started=self._clock())
        resumed = q.state not in (QuestionState.RECEIVED, QuestionState.SENT)
        if not resumed:
            async with best_effort(outbound, q):
                if self._direct is not None:
                    await self._ask_directly(self._direct, turn, outbound)
                else:
                    await self._answer(turn, outbound)
        turn.answered = self._clock()
        return await self._deliver(turn, outbound, resumed=resumed)

    def deadline(self, q: QuestionRecord) -> float:
        """When waiting for this question's answer ends (``RAIA_POLL_TIMEOUT``)."""
        return (q.started_at or q.created_at) + self._config.poll_timeout

    async def give_up(self, q: QuestionRecord, error: str) -> None:
        """The question cannot be answered (its deadline passed while the bridge kept
        failing): the person gets one short notice instead, delivered like an answer."""
        if q.state in (QuestionState.RECEIVED, QuestionState.SENT):
            await self._store.mark_finished(q.id, QuestionState.FAILED, Reply(texts.FAILED, ReplyKind.NOTICE), error)

    # -- asking ----------------------------------------------------------------------

    @property
    def _polled(self) -> AgentPort:
        assert self._raia is not None
        return self._raia

    async def _ask_directly(self, direct: DirectAsking, turn: _Turn, outbound: Outbound) -> None:
        q = turn.q
        if q.started_at is None:
            q = replace(q, started_at=await self._store.mark_started(q.id))
        assert q.started_at is not None
        answered = await direct.answer(q, outbound, q.started_at + self._config.poll_timeout)
        finished = answered.finished
        if finished.state is QuestionState.ANSWERED:
            self._health.ok()
        await self._store.mark_finished(q.id, finished.state, finished.reply, finished.error)
        turn.q = replace(q, state=finished.state, reply=finished.reply, error=finished.error)
        turn.detail = answered.detail
        turn.live = answered.live

    async def _answer(self, turn: _Turn, outbound: Outbound) -> None:
        q = turn.q
        if q.started_at is None:
            q = replace(q, started_at=await self._store.mark_started(q.id))
        started = q.started_at
        assert started is not None
        deadline = started + self._config.poll_timeout
        failures = 0
        while True:
            try:
                conversation = await opening(self._store, self._polled, q, outbound)
                if q.state == QuestionState.RECEIVED:
                    sent = await self._send(q, conversation, outbound)
                    if isinstance(sent, Finished):  # only files, and none could be passed on
                        finished = sent
                        break
                    q = sent
                turn.q = q
                finished = await self._wait(turn, conversation, deadline)
                self._health.ok()
                break
            except AgentError as exc:
                self._health.failed(exc)
                # An unreachable agent is not a slow answer: a question it never got is
                # given up after ``unreachable_after``, not the whole poll timeout.
                give_up = deadline
                if q.state == QuestionState.RECEIVED:
                    give_up = min(deadline, started + self._config.unreachable_after)
                if not exc.retryable or self._clock() >= give_up:
                    finished = failure(exc, timed_out=exc.retryable, sent=q.state != QuestionState.RECEIVED)
                    log.error("question=%d given up: %s", q.id, exc)
                    break
                failures += 1
                log.warning("question=%d raia unavailable (%s); retrying", q.id, exc)
                wait = self._config.reach_backoff.wait(failures, hint=exc.retry_after)
                await self._sleep(min(wait, max(0.0, give_up - self._clock())))
                q = await self._store.question(q.id)
        keep = self._clock() + self._keep_for_votes if self._keep_for_votes is not None else None
        await self._store.mark_finished(q.id, finished.state, finished.reply, finished.error, keep_until=keep)
        turn.q = replace(q, state=finished.state, reply=finished.reply, error=finished.error)

    async def _send(self, q: QuestionRecord, conversation: str, outbound: Outbound) -> QuestionRecord | Finished:
        """Send the question once; returns the record in state ``sent``."""
        if q.send_attempts > 0:
            # An earlier attempt may have reached the agent (crash, timeout): look first.
            found = await self._already_sent(q, conversation)
            if found:
                return await self._mark_sent(q, found)
            attempted = q.send_attempted_at
            if attempted is not None and self._clock() - attempted < self._config.send_settle:
                # Its outcome is unknown and the agent may still be storing it: look
                # again later rather than send it a second time.
                raise AgentTransportError("send outcome unknown; looking again before resending", ambiguous=True)
        files: list[SentFile] = []
        if q.attachments:
            passed = await pass_files(self._files, q, conversation, outbound)
            if not q.text and not passed.files:
                return Finished(QuestionState.FAILED, notes_reply(passed.notes, "en"), "no file could be passed on")
            files = passed.files
        await self._store.note_send_attempt(q.id)
        try:
            message_id = await self._polled.send_message(conversation, sent_text(q), files)
        except AgentNotFoundError:
            # The conversation was deleted on the agent's side: start a new one, then retry.
            await self._store.clear_send_attempt(q.id)
            await self._store.set_agent_conversation(q.conversation_id, "")
            raise AgentServerError("conversation vanished on raia; opening a new one") from None
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
        for message in await self._polled.list_messages(conversation):
            # Questions go out one at a time, so an unknown user message with this
            # text can only be this question.
            if message.from_user and message.id not in known and message.text.strip() == sent_text(q):
                return message.id
        return None

    async def _wait(self, turn: _Turn, conversation: str, deadline: float) -> Finished:
        q = turn.q
        assert q.agent_message_id is not None
        assert q.sent_at is not None
        schedule = self._config.poll
        looked = False
        while True:
            now = self._clock()
            # The deadline counts the agent's time, not the bridge's downtime: after a
            # restart past it, one look may still find the answer ready.
            if now >= deadline and looked:
                return Finished(QuestionState.TIMED_OUT, Reply(texts.TIMEOUT, ReplyKind.NOTICE), "poll timeout")
            if now < deadline:
                wait = schedule.next_wait(now - q.sent_at, self._answer_times)
                if self._hints is None:
                    await self._sleep(min(wait, deadline - now))
                else:
                    if self._hints.healthy:  # pushes arrive: look on our own only now and then
                        wait = max(wait, push.FALLBACK)
                    ids = (conversation, q.agent_message_id)
                    await self._hints.wait(ids, min(wait, deadline - now), self._sleep)
            looked = True
            turn.polls += 1
            try:
                response = await self._polled.response_on(conversation, q.agent_message_id)
            except AgentNotFoundError as exc:
                return Finished(QuestionState.FAILED, Reply(texts.FAILED, ReplyKind.NOTICE), str(exc))
            if response.status == ResponseStatus.COMPLETED and response.reply is not None:
                if response.took is not None:
                    self._answer_times.record(response.took)
                reply = response.reply
                if not reply.text and not reply.has_sources:
                    reply = replace(reply, text=texts.EMPTY_ANSWER)
                return Finished(QuestionState.ANSWERED, reply)
            if response.status == ResponseStatus.FAILED:
                return Finished(QuestionState.FAILED, Reply(texts.FAILED, ReplyKind.NOTICE), response.error)

    # -- delivering ------------------------------------------------------------------

    async def _deliver(self, turn: _Turn, outbound: Outbound, *, resumed: bool) -> Outcome:
        q = turn.q
        assert q.reply is not None
        progress = StoredProgress(self._store, q, resumed=resumed)
        # The bridge's own words in the person's language (Slack tells it via users.info,
        # cached by the adapter; Telegram with every message).
        language = texts.language_of((await outbound.profile(q.profile)).custom_data)
        reply = texts.localize(q.reply, language)
        if self._keep_for_votes is not None and reply.kind is ReplyKind.ANSWER and reply.message_id:
            reply = replace(reply, vote_key=str(q.id))
        q = turn.q = replace(q, reply=reply)
        live = turn.live if reply.kind is ReplyKind.ANSWER else None
        if turn.live is not None and live is None:
            await turn.live.abandon()
        while True:
            try:
                if live is not None:  # the streamed preview becomes the answer, in place
                    await live.finish(reply, progress)
                else:
                    await outbound.deliver(q.origin, reply, progress)
            except DeliveryPermanent as exc:
                await self._store.mark_delivered(q.id, QuestionState.UNDELIVERABLE, str(exc))
                self._observer.delivery_failed(q.platform, type(exc).__name__)
                return self._ended(turn, QuestionState.UNDELIVERABLE, "undeliverable", str(exc))
            except Exception as exc:  # retryable, or an adapter bug: both bounded
                attempts = await self._store.note_delivery_attempt(q.id, str(exc)[:500])
                progress.uncertain = exc.maybe_posted if isinstance(exc, DeliveryRetryable) else True
                self._observer.delivery_failed(q.platform, type(exc).__name__)
                if attempts >= self._config.delivery_attempts:
                    await self._store.mark_delivered(q.id, QuestionState.UNDELIVERABLE)
                    return self._ended(turn, QuestionState.UNDELIVERABLE, "undeliverable", str(exc))
                hint = exc.retry_after if isinstance(exc, DeliveryRetryable) else None
                delay = self._config.delivery_backoff.wait(attempts, hint=hint)
                log.warning(
                    "question=%d delivery attempt %d failed (%s); retrying in %.1fs",
                    q.id,
                    attempts,
                    exc,
                    delay,
                    exc_info=not isinstance(exc, DeliveryRetryable),
                )
                await self._sleep(delay)
                continue
            await self._store.mark_delivered(q.id)
            return self._ended(turn, QuestionState.DELIVERED, q.state.value)

    def _ended(self, turn: _Turn, state: QuestionState, outcome: str, detail: str = "") -> Outcome:
        q = turn.q
        now = self._clock()
        answered = turn.answered if turn.answered is not None else turn.started
        self._observer.turn_ended(
            TurnEnded(
                platform=q.platform,
                outcome=outcome,
                polls=turn.polls,
                queued=max(0.0, turn.started - q.created_at),
                agent=max(0.0, answered - turn.started),
                delivery=max(0.0, now - answered),
            )
        )
        log.log(
            logging.ERROR if state is QuestionState.UNDELIVERABLE else logging.INFO,
            "turn question=%d platform=%s user=%s agent_message=%s outcome=%s polls=%d queued=%.2fs handled=%.2fs%s",
            q.id,
            q.platform,
            q.fk_id,
            q.agent_message_id or "-",
            outcome,
            turn.polls,
            turn.started - q.created_at,
            now - turn.started,
            f" detail={'; '.join(d for d in (turn.detail, detail) if d)!r}" if detail or turn.detail else "",
        )
        return Outcome(q.id, state, turn.polls, detail)
