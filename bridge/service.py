"""The conversation service: the core's entry point for every platform.

A question is recorded durably before anything else happens. Questions of one
conversation are worked on by one *lane* (a tracked task), oldest first, one at a
time: send, wait for the answer, deliver; only then the next. Every step writes its
result to the store first, so a lane stopped at any point (SIGTERM, ``kill -9``) is
picked up again by ``resume()`` at the next start.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

from bridge.agent import AgentPort, NewUser, ResponseStatus
from bridge.errors import (
    AgentAuthError,
    AgentError,
    AgentNotFoundError,
    AgentRejectedError,
    AgentServerError,
    AgentTransportError,
    DeliveryPermanent,
    DeliveryRetryable,
    ShuttingDown,
)
from bridge.models import InboundMessage, PlatformUser, QuestionState, Reply, ReplyKind
from bridge.outbound import Outbound
from bridge.poller import PollSchedule
from bridge.tasks import TaskSet
from store.database import Store
from store.records import QuestionRecord

log = logging.getLogger("bridge.turn")

# What people see when something went wrong. Short, no internals (the log has those).
MSG_TIMEOUT = "Sorry — the assistant took too long to answer. Please try again in a moment."
MSG_FAILED = "Sorry — the assistant could not answer that. Please try again, or rephrase."
MSG_UNAVAILABLE = "Sorry — the assistant is not available right now. The team has been notified."
MSG_REJECTED = "Sorry — the assistant could not accept that message."
MSG_EMPTY_ANSWER = "The assistant returned an empty answer."


class Submitted(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    EMPTY = "empty"


@dataclass(frozen=True)
class ServiceConfig:
    poll: PollSchedule = field(default_factory=PollSchedule)
    poll_timeout: float = 600.0
    dedupe_ttl: float = 3 * 24 * 3600.0
    delivery_attempts: int = 8  # then the reply is given up and logged
    delivery_backoff: tuple[float, float] = (2.0, 60.0)  # first and longest wait
    step_backoff: tuple[float, float] = (1.0, 30.0)  # raia unreachable: wait between tries
    keep_finished: float = 7 * 24 * 3600.0
    housekeeping_every: float = 3600.0


_LANE_CRASHES = 3


class _Stopped(Exception):
    """The service is stopping: leave the work where it is (it is stored)."""


class _Progress:
    def __init__(self, store: Store, qid: int, done: int) -> None:
        self._store, self._qid, self._done = store, qid, done

    @property
    def done(self) -> int:
        return self._done

    async def part_delivered(self, count: int) -> None:
        self._done = count
        await self._store.mark_parts_delivered(self._qid, count)


@dataclass
class _Lane:
    task: asyncio.Task[None] | None = None
    wake: bool = True


class ConversationService:
    def __init__(
        self,
        store: Store,
        agent: AgentPort,
        *,
        config: ServiceConfig | None = None,
        tasks: TaskSet | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._agent = agent
        self._config = config or ServiceConfig()
        self._tasks = tasks or TaskSet()
        self._clock = clock
        self._outbounds: dict[str, Outbound] = {}
        self._lanes: dict[int, _Lane] = {}
        self._stopping = asyncio.Event()
        self._agent_name: str | None = None
        self.agent_status = "unknown"  # for /healthz: ok, or what went wrong last

    # -- wiring ----------------------------------------------------------------------

    def register(self, outbound: Outbound) -> None:
        self._outbounds[outbound.platform] = outbound

    async def start(self) -> int:
        """Resume unfinished work and start housekeeping. Returns conversations resumed."""
        self._stopping.clear()
        conversations = await self._store.open_conversations(self._outbounds)
        for conversation_id in conversations:
            self._wake(conversation_id)
        if conversations:
            logging.getLogger(__name__).info(
                "resuming %d conversation(s) with unfinished questions", len(conversations)
            )
        self._tasks.spawn(self._housekeeping(), name="housekeeping")
        return len(conversations)

    async def stop(self, timeout: float) -> None:
        """Take no new work, let in-flight calls finish (bounded), keep the rest stored."""
        self._stopping.set()
        cancelled = await self._tasks.drain(timeout)
        if cancelled:
            logging.getLogger(__name__).warning("%d task(s) cut off at shutdown; they resume at next start", cancelled)

    @property
    def accepting(self) -> bool:
        return not self._stopping.is_set()

    # -- entry points for adapters ---------------------------------------------------

    async def submit(self, msg: InboundMessage) -> Submitted:
        """Record a question and make sure its conversation's lane works on it."""
        if self._stopping.is_set():
            raise ShuttingDown("not taking new questions")
        text = msg.text.strip()
        if not text:
            return Submitted.EMPTY
        record = await self._store.record_question(replace(msg, text=text), self._config.dedupe_ttl)
        if record is None:
            return Submitted.DUPLICATE
        self._wake(record.conversation_id)
        return Submitted.ACCEPTED

    async def first_sighting(self, keys: tuple[str, ...]) -> bool:
        """For events that are not questions (commands): False if seen before."""
        return await self._store.first_sighting(keys, self._config.dedupe_ttl)

    async def asked_in_thread(self, msg: InboundMessage) -> bool:
        """Whether this person already asked in the message's thread (for follow-ups
        without a new mention)."""
        if msg.route.thread is None:
            return False
        return await self._store.answered_in_thread(msg.platform, msg.user.fk_id, msg.route.chat, msg.route.thread)

    async def reset(self, user: PlatformUser) -> bool:
        """The user's next question starts a fresh raia conversation."""
        return await self._store.end_conversation(user.fk_id)

    async def agent_name(self) -> str:
        """The agent's display name from raia (cached), or a neutral fallback."""
        if self._agent_name is None:
            try:
                self._agent_name = await self._agent.agent_name()
                self.agent_status = "ok"
            except AgentError as exc:
                self._note_agent_error(exc)
                return "the assistant"
        return self._agent_name

    async def waiting(self) -> int:
        return await self._store.count_open()

    # -- lanes -----------------------------------------------------------------------

    def _wake(self, conversation_id: int) -> None:
        lane = self._lanes.get(conversation_id)
        if lane is None:
            lane = self._lanes[conversation_id] = _Lane()
            lane.task = self._tasks.spawn(self._run_lane(conversation_id, lane), name=f"lane-{conversation_id}")
        lane.wake = True

    async def _run_lane(self, conversation_id: int, lane: _Lane) -> None:
        crashes = 0
        try:
            while not self._stopping.is_set():
                lane.wake = False
                question = await self._store.next_open_question(conversation_id)
                if question is None:
                    if lane.wake:  # a question arrived while we looked
                        continue
                    return
                outbound = self._outbounds.get(question.platform)
                if outbound is None:  # that platform is not configured in this run
                    return
                try:
                    await self._advance(question, outbound)
                    crashes = 0
                except (_Stopped, asyncio.CancelledError):
                    raise
                except Exception:
                    # A bug or a store failure: the question stays stored. Try a few
                    # times, then leave it for the next start rather than spin.
                    crashes += 1
                    logging.getLogger(__name__).exception(
                        "question=%d lane error (%d/%d)", question.id, crashes, _LANE_CRASHES
                    )
                    if crashes >= _LANE_CRASHES:
                        return
                    await self._sleep(2.0 * crashes)
        except _Stopped:
            return
        finally:
            # No await between the last check and this removal: a concurrent _wake
            # either saw this lane (and set wake, handled above) or creates a new one.
            if self._lanes.get(conversation_id) is lane:
                del self._lanes[conversation_id]

    async def _advance(self, q: QuestionRecord, outbound: Outbound) -> None:
        started = self._clock()
        polls = 0
        if q.state in (QuestionState.RECEIVED, QuestionState.SENT):
            async with _best_effort(outbound, q):
                q, polls = await self._obtain_answer(q)
        await self._deliver(q, outbound, started, polls)

    # -- asking raia -----------------------------------------------------------------

    async def _obtain_answer(self, q: QuestionRecord) -> tuple[QuestionRecord, int]:
        # The record is carried forward in memory; the store is re-read only after a
        # failure, when what reached the database is the truth.
        if q.started_at is None:
            q = replace(q, started_at=await self._store.mark_started(q.id))
        assert q.started_at is not None
        deadline = q.started_at + self._config.poll_timeout
        polls = 0
        failures = 0
        while True:
            try:
                conversation = await self._conversation_id(q)
                if q.state == QuestionState.RECEIVED:
                    q = await self._send(q, conversation)
                state, reply, error, polls = await self._wait(q, conversation, deadline, polls)
                self.agent_status = "ok"
                break
            except AgentError as exc:
                self._note_agent_error(exc)
                if not exc.retryable or self._clock() >= deadline:
                    state, reply, error = _failure(exc, timed_out=exc.retryable)
                    break
                failures += 1
                lo, hi = self._config.step_backoff
                log.warning("question=%d raia unavailable (%s); retrying", q.id, exc)
                await self._sleep(min(hi, lo * 2 ** (failures - 1), max(0.0, deadline - self._clock())))
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
        schedule = self._config.poll
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

    async def _deliver(self, q: QuestionRecord, outbound: Outbound, started: float, polls: int) -> None:
        assert q.reply is not None
        progress = _Progress(self._store, q.id, q.parts_delivered)
        lo, hi = self._config.delivery_backoff
        while True:
            try:
                await outbound.deliver(q.route, q.reply, progress)
            except DeliveryPermanent as exc:
                await self._store.mark_delivered(q.id, QuestionState.UNDELIVERABLE, str(exc))
                self._log_turn(q, "undeliverable", started, polls, level=logging.ERROR, detail=str(exc))
                return
            except Exception as exc:  # retryable, or an adapter bug: both bounded
                attempts = await self._store.note_delivery_attempt(q.id, str(exc)[:500])
                if attempts >= self._config.delivery_attempts:
                    await self._store.mark_delivered(q.id, QuestionState.UNDELIVERABLE)
                    self._log_turn(q, "undeliverable", started, polls, level=logging.ERROR, detail=str(exc))
                    return
                hint = exc.retry_after if isinstance(exc, DeliveryRetryable) else None
                delay = min(hi, hint if hint is not None else lo * 2 ** (attempts - 1))
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
            self._log_turn(q, q.state.value, started, polls)
            return

    # -- helpers ---------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake and leave at once when the service stops."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            return
        raise _Stopped

    def _note_agent_error(self, exc: AgentError) -> None:
        if isinstance(exc, AgentAuthError):
            self.agent_status = "raia rejected RAIA_API_KEY (403)"
            logging.getLogger(__name__).error(
                "raia rejected the API key (HTTP %s): check RAIA_API_KEY (%s)", exc.status, exc
            )
        else:
            self.agent_status = f"error: {type(exc).__name__}"

    def _log_turn(
        self,
        q: QuestionRecord,
        outcome: str,
        started: float,
        polls: int,
        *,
        level: int = logging.INFO,
        detail: str = "",
    ) -> None:
        now = self._clock()
        log.log(
            level,
            "turn question=%d platform=%s user=%s raia_message=%s outcome=%s polls=%d queued=%.2fs handled=%.2fs%s",
            q.id,
            q.platform,
            q.fk_id,
            q.raia_message_id or "-",
            outcome,
            polls,
            started - q.created_at,
            now - started,
            f" detail={detail!r}" if detail else "",
        )

    async def _housekeeping(self) -> None:
        while True:
            try:
                await self._store.purge(self._config.keep_finished)
            except Exception:
                logging.getLogger(__name__).exception("housekeeping failed")
            try:
                await self._sleep(self._config.housekeeping_every)
            except _Stopped:
                return


def _failure(exc: AgentError, *, timed_out: bool) -> tuple[QuestionState, Reply, str]:
    if isinstance(exc, AgentAuthError):
        return QuestionState.FAILED, Reply(MSG_UNAVAILABLE, ReplyKind.NOTICE), str(exc)
    if timed_out:
        return QuestionState.TIMED_OUT, Reply(MSG_TIMEOUT, ReplyKind.NOTICE), str(exc)
    message = MSG_REJECTED if isinstance(exc, AgentRejectedError) else MSG_FAILED
    return QuestionState.FAILED, Reply(message, ReplyKind.NOTICE), str(exc)


@asynccontextmanager
async def _best_effort(outbound: Outbound, q: QuestionRecord) -> AsyncIterator[None]:
    """The "working…" indicator must never delay or lose an answer."""
    manager = outbound.working(q.route)
    entered = False
    try:
        await manager.__aenter__()
        entered = True
    except Exception:
        logging.getLogger(__name__).warning("question=%d progress indicator failed", q.id, exc_info=True)
    try:
        yield
    finally:
        if entered:
            try:
                await manager.__aexit__(None, None, None)
            except Exception:
                logging.getLogger(__name__).warning("question=%d progress indicator failed", q.id, exc_info=True)
