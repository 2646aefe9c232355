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

from bridge.agent import AgentPort
from bridge.asking import AgentHealth, QuestionAsker
from bridge.errors import (
    AgentError,
    DeliveryPermanent,
    DeliveryRetryable,
    ShuttingDown,
)
from bridge.models import InboundMessage, PlatformUser, QuestionState
from bridge.outbound import Outbound
from bridge.poller import PollSchedule
from bridge.tasks import TaskSet
from store.database import Store
from store.records import QuestionRecord

log = logging.getLogger("bridge.turn")  # one line per turn
_log = logging.getLogger(__name__)


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
    unreachable_after: float = 120.0  # ... and give up on a question raia never got
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
        self._health = AgentHealth()
        self._asker = QuestionAsker(
            store,
            agent,
            poll=self._config.poll,
            poll_timeout=self._config.poll_timeout,
            step_backoff=self._config.step_backoff,
            unreachable_after=self._config.unreachable_after,
            clock=clock,
            sleep=self._sleep,
            health=self._health,
        )

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
            _log.info("resuming %d conversation(s) with unfinished questions", len(conversations))
        self._tasks.spawn(self._housekeeping(), name="housekeeping")
        return len(conversations)

    async def stop(self, timeout: float) -> None:
        """Take no new work, let in-flight calls finish (bounded), keep the rest stored."""
        self._stopping.set()
        cancelled = await self._tasks.drain(timeout)
        if cancelled:
            _log.warning("%d task(s) cut off at shutdown; they resume at next start", cancelled)

    @property
    def agent_status(self) -> str:
        """For /healthz: "ok", or what went wrong with raia last."""
        return self._health.status

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
                self._health.ok()
            except AgentError as exc:
                self._health.failed(exc)
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
                    _log.exception("question=%d lane error (%d/%d)", question.id, crashes, _LANE_CRASHES)
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
                q, polls = await self._asker.obtain_answer(q)
        await self._deliver(q, outbound, started, polls)

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
                _log.exception("housekeeping failed")
            try:
                await self._sleep(self._config.housekeeping_every)
            except _Stopped:
                return


@asynccontextmanager
async def _best_effort(outbound: Outbound, q: QuestionRecord) -> AsyncIterator[None]:
    """The "working…" indicator must never delay or lose an answer."""
    manager = outbound.working(q.route)
    entered = False
    try:
        await manager.__aenter__()
        entered = True
    except Exception:
        _log.warning("question=%d progress indicator failed", q.id, exc_info=True)
    try:
        yield
    finally:
        if entered:
            try:
                await manager.__aexit__(None, None, None)
            except Exception:
                _log.warning("question=%d progress indicator failed", q.id, exc_info=True)
