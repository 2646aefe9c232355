"""The conversation service: the core's entry point (``Inbox``) and its lanes.

Questions of one conversation are worked on by one *lane* (a tracked task), oldest
first, one at a time: a question's whole life (``bridge.question``), then the next.
Every step writes its result to the store first, so a lane stopped at any point
(SIGTERM, ``kill -9``) is picked up again when the service starts next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bridge import texts
from bridge.acks import AckFirst
from bridge.asking import Agent
from bridge.config import ServiceConfig
from bridge.errors import AgentError, LeaseLost, QuestionGone, ShuttingDown, StoreError, StoreUnavailable
from bridge.feedback import FeedbackDesk
from bridge.health import AgentHealth
from bridge.intake import Intake
from bridge.leases import Lane, Leases
from bridge.models import InboundMessage
from bridge.poller import AnswerTimes
from bridge.ports.feedback import Ratings
from bridge.ports.inbox import Receipt, Respond
from bridge.ports.observer import Observer, Unobserved
from bridge.ports.outbound import Outbound
from bridge.ports.store import QuestionRecord, StoppedQuestion, StorePort
from bridge.question import QuestionLife
from bridge.takeover import HandoverDesk
from bridge.tasks import TaskSet

log = logging.getLogger(__name__)


class ConversationService:
    """Implements ``Inbox`` for the adapters; the composition root starts and stops it."""

    def __init__(
        self,
        store: StorePort,
        agent: Agent,
        config: ServiceConfig,
        *,
        tasks: TaskSet | None = None,
        clock: Callable[[], float] = time.time,
        observer: Observer | None = None,
        key: str = "",
        acks: AckFirst | None = None,
    ) -> None:
        """``key``: the agent's name in ROUTES_FILE ("" without routes), part of each of its
        conversations' identity; ``store`` is then that agent's view (``store.agents``).
        ``acks``: shared by every agent's service of one server."""
        self.key = key
        self._store = store
        self._agent = agent
        self._config = config
        self._clock = clock
        self._tasks = tasks or TaskSet()
        self._outbounds: dict[str, Outbound] = {}
        self._lanes: dict[int, Lane] = {}
        self._leases = Leases(store, config, self._lanes, sleep=self._sleep, wake=self._wake, platforms=self._outbounds)
        self._stopping = asyncio.Event()
        # Webhook requests in flight (the server marks them): lanes let them finish first.
        self.acks = acks or AckFirst()
        self._agent_name: str | None = None
        self._health = AgentHealth(agent.backend)
        # How long the polled agent takes lately: the poll schedule aims at it (bridge.poller).
        self._answer_times = agent.answer_times
        rated = config.feedback_keep is not None and agent.ratings is not None
        # HANDOFF, with an agent API where staff can take a conversation over (bridge.takeover).
        self.handover = (
            HandoverDesk(
                store,
                agent.hands_over,
                config,
                self._outbounds,
                agent_name=self.agent_name,
                clock=clock,
                sleep=self._sleep,
                tasks=self._tasks,
                gives_files=agent.gives_files,
            )
            if agent.hands_over is not None and config.handover is not None
            else None
        )
        self._life = QuestionLife(
            store,
            agent.way,
            config,
            clock=clock,
            sleep=self._sleep,
            health=self._health,
            observer=observer or Unobserved(),
            rated=rated,
            handover=self.handover,
            gives_files=agent.gives_files,
        )
        desk = (
            FeedbackDesk(store, agent.ratings, dedupe_ttl=config.dedupe_ttl, keep=config.feedback_keep)
            if rated and agent.ratings
            else None
        )
        self._ratings: Ratings | None = desk
        self._intake = Intake(
            store,
            self._outbounds,
            dedupe_ttl=config.dedupe_ttl,
            wake=self._wake,
            agent_name=self.reachable_agent_name,
            spawn=self._tasks.spawn,
            scope=config.scope,
            files=config.files is not None and agent.takes_files,
            hears=agent.hears,
            comments=desk,
            handover=self.handover,
            stopped=self._stopped,
            agent=key,
        )

    # -- wiring and lifecycle --------------------------------------------------------

    def register(self, outbound: Outbound) -> None:
        self._outbounds[outbound.platform] = outbound

    async def start(self) -> int:
        """Resume unfinished work and start housekeeping. Returns conversations resumed."""
        self._stopping.clear()
        if self._answer_times is not None:  # before resumed questions poll
            await self._restore_answer_times(self._answer_times)
        conversations = await self._store.unclaimed_conversations(self._outbounds)
        for conversation_id in conversations:
            self._wake(conversation_id)
        if conversations:
            log.info("resuming %d conversation(s) with unfinished questions", len(conversations))
        self._tasks.spawn(self._housekeeping(), name="housekeeping")
        if self._answer_times is not None:
            self._tasks.spawn(self._keep_answer_times(self._answer_times), name="answer-times")
        if self._store.shared:
            self._tasks.spawn(self._leases.keep(), name="lane-leases")
            self._tasks.spawn(self._leases.take_over(), name="lane-scan")
        if self.handover is not None:
            self._tasks.spawn(self.handover.run(), name="takeovers")
        return len(conversations)

    async def stop(self, timeout: float) -> None:
        """Take no new work, let in-flight calls finish (bounded), keep the rest stored."""
        self._stopping.set()
        self.acks.wake()
        cancelled = await self._tasks.drain(timeout)
        if cancelled:
            log.warning("%d task(s) cut off at shutdown; they resume at next start", cancelled)
        if self._answer_times is not None:  # with what the last answers taught
            await self._save_answer_times(self._answer_times)

    @asynccontextmanager
    async def running(self, shutdown_timeout: float) -> AsyncIterator[ConversationService]:
        """Started on enter, stopped (bounded by ``shutdown_timeout``) on exit."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop(shutdown_timeout)

    @property
    def agent_status(self) -> str:
        """For /healthz: "ok", or what went wrong with the agent API last."""
        return self._health.status

    @property
    def agent_refused(self) -> bool:
        """The agent API refused the key: unhealthy until an operator fixes it."""
        return self._health.refused

    @property
    def known_agent_name(self) -> str | None:
        """The agent's name if raia told it already (never asks: for the status page)."""
        return self._agent_name

    async def agent_name(self) -> str:
        """The agent's display name (cached), or a neutral fallback."""
        return await self.reachable_agent_name() or texts.AGENT_FALLBACK_NAME

    async def reachable_agent_name(self) -> str | None:
        """The agent's display name (cached), or None while the agent API cannot be reached."""
        if self._agent_name is None:
            try:
                self._agent_name = await self._agent.name() or texts.AGENT_FALLBACK_NAME
                self._health.ok()
            except AgentError as exc:
                self._health.failed(exc)
                return None
        return self._agent_name

    async def waiting(self) -> int:
        return await self._store.count_open()

    # -- Inbox -----------------------------------------------------------------------

    @property
    def accepting(self) -> bool:
        return not self._stopping.is_set()

    async def receive(self, message: InboundMessage, *, respond: Respond | None = None) -> Receipt:
        if self._stopping.is_set():
            raise ShuttingDown("not taking new messages")
        receipt = await self._intake.receive(message, respond)
        if log.isEnabledFor(logging.DEBUG):
            # LOG_LEVEL=DEBUG: what came in and what became of it ("why does the bot not
            # answer me?"); the size of the text, never the text.
            log.debug(
                "%s chat=%s user=%s: %s (%d chars, %d files) -> %s",
                message.platform, message.origin.chat, message.user.fk_id, message.intent.value,
                len(message.text), len(message.attachments), receipt.value,
            )  # fmt: skip
        return receipt

    @property
    def ratings(self) -> Ratings | None:
        return self._ratings

    def background(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        self._tasks.spawn(work, name=name)

    # -- lanes -----------------------------------------------------------------------

    def _stopped(self, questions: list[StoppedQuestion]) -> None:
        """The person stopped these questions (stored so already): a lane asking one of them
        stops asking. A lane of another replica finds out at its next step, which writes
        nothing for a stopped question, so its answer is never posted either."""
        for question in questions:
            self._life.stop(question.id)

    def _wake(self, conversation_id: int) -> None:
        lane = self._lanes.get(conversation_id)
        if lane is None:
            lane = self._lanes[conversation_id] = Lane()
            lane.task = self._tasks.spawn(self._run_lane(conversation_id, lane), name=f"lane-{conversation_id}")
        lane.wake = True

    async def _run_lane(self, conversation_id: int, lane: Lane) -> None:
        try:
            await self.acks.calm(self._stopping)  # in a burst, acknowledge the webhooks first
            outages = 0
            while not self._stopping.is_set():
                try:
                    await self._work(conversation_id, lane)
                    return
                except LeaseLost as exc:
                    # Another replica has the conversation (our lease ran out): it carries
                    # on from what is stored; this lane writes and posts nothing more.
                    lane.held = False
                    log.warning("conversation=%d lane stopped: %s", conversation_id, exc)
                    return
                except StoreUnavailable as exc:
                    # Between questions (claiming, reading the next): nothing is lost, the
                    # lane waits for the database and goes on where it was.
                    outages += 1
                    log.warning("conversation=%d store unavailable (%s); retrying", conversation_id, exc)
                    await self._sleep(self._config.lane_backoff.wait(outages))
        except ShuttingDown:
            if lane.held and self._store.shared:  # hand over at once, not after the lease expires
                lane.held = False
                await self._quietly_release(conversation_id)
            return
        finally:
            # No await between the last check and this removal: a concurrent _wake
            # either saw this lane (and set wake, handled above) or creates a new one.
            if self._lanes.get(conversation_id) is lane:
                del self._lanes[conversation_id]

    async def _work(self, conversation_id: int, lane: Lane) -> None:
        """The conversation's questions, oldest first, until none is left (or another
        replica holds the conversation)."""
        errors = 0
        # Another replica's lane has it: that lane reads our question from the
        # database after its current one (or we get it back below when it lets go).
        if not lane.held and not await self._leases.claim(conversation_id, lane):
            return
        last = False  # the question just answered was the last one open when it was read
        while not self._stopping.is_set():
            if last and not lane.wake:  # and none came since (wake is set after one is stored)
                question = None
            else:
                lane.wake = False
                # Two: whether another is waiting is then known without a trip after this one.
                ahead = await self._store.open_questions(conversation_id, 2)
                question, last = (ahead[0] if ahead else None), len(ahead) < 2
            if question is None:
                last = False
                if lane.wake:  # a question arrived while we looked
                    continue
                if not self._store.shared:
                    return
                # Let go, then look once more: a question another replica recorded
                # while we held the lease (its claim failed) is seen now, not lost.
                lane.held = False
                await self._store.release_lane(conversation_id)
                if await self._store.next_open_question(conversation_id) is None:
                    return
                if not await self._leases.claim(conversation_id, lane):
                    return
                continue
            outbound = self._outbounds.get(question.platform)
            if outbound is None:  # that platform is not configured in this run
                if lane.held and self._store.shared:  # a replica that serves it takes it
                    lane.held = False
                    await self._quietly_release(conversation_id)
                return
            try:
                await self._life.live(question, outbound)
                errors = 0
                continue
            except QuestionGone:
                pass  # purged or replaced meanwhile: nothing left to do for it
            except LeaseLost:
                raise  # another replica has it: no retry, no notice
            except StoreUnavailable as exc:
                # The database cannot take the life's next step (a full disk, an outage):
                # nothing is lost, and an answer that is ready stays ready at the agent, so
                # the lane waits for the database and goes on, never giving up for this.
                errors += 1
                log.warning("question=%d store unavailable (%s); retrying (attempt %d)", question.id, exc, errors)
                await self._sleep(self._config.lane_backoff.wait(errors))
            except Exception as exc:
                # A bug, or a database fault an operator must mend: the question stays
                # stored and the lane keeps at it (never stranding a finished answer);
                # once the question's own deadline has passed the person gets one notice.
                errors += 1
                log.exception("question=%d lane error (attempt %d)", question.id, errors)
                deadline, now = self._life.deadline(question), self._clock()
                wait = self._config.lane_backoff.wait(errors)
                # The deadline holds for every kind of error: a backoff never outlasts it.
                await self._sleep(min(wait, deadline - now) if now < deadline else wait)
                if now + wait >= deadline:
                    await self._give_up(question, exc)
            last = False  # not finished (or gone): read again

    async def _quietly_release(self, conversation_id: int) -> None:
        try:
            await self._store.release_lane(conversation_id)
        except StoreError:  # the lease expires on its own
            log.warning("conversation=%d lease not released", conversation_id, exc_info=True)

    async def _give_up(self, question: QuestionRecord, exc: Exception) -> None:
        try:
            current = await self._store.question(question.id)
            await self._life.give_up(current, f"{type(exc).__name__}: {exc}"[:500])
        except QuestionGone:
            return  # nothing left to give up
        except LeaseLost:
            raise  # another replica has it: the lane stops
        except StoreError as failure:
            log.warning("question=%d could not be given up yet (%s); retrying", question.id, failure)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but leave at once (``ShuttingDown``) when the service stops."""
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that meets its own timeout, and a stopped question's asking
            # (cancelled in its sleep) would sleep on.
            async with asyncio.timeout(max(0.0, seconds)):
                await self._stopping.wait()
        except TimeoutError:
            return
        raise ShuttingDown("stopping")

    async def _restore_answer_times(self, times: AnswerTimes) -> None:
        try:
            times.restore(await self._store.answer_times())
        except StoreError as exc:  # a hint only: relearned from the next answers
            log.warning("could not read the agent's recent answer times: %s", exc)

    async def _keep_answer_times(self, times: AnswerTimes) -> None:
        """Save the agent's recent answer times now and then (and once more in ``stop``): a
        restarted bridge (every deploy) then polls at the right moments from its first question."""
        while True:
            try:
                await self._sleep(self._config.answer_times_every)
            except ShuttingDown:
                return
            await self._save_answer_times(times)

    async def _save_answer_times(self, times: AnswerTimes) -> None:
        counted = times.unsaved
        if not counted:
            return
        try:
            await self._store.save_answer_times(times.recent())
            times.unsaved -= counted  # any recorded meanwhile are saved next time
        except StoreError as exc:
            log.warning("could not save the agent's recent answer times: %s", exc)

    async def _housekeeping(self) -> None:
        while True:
            try:
                await self._store.purge(self._config.keep_finished, self._config.keep_people)
            except StoreError as exc:
                log.warning("housekeeping failed (%s); trying again later", exc)
            try:
                await self._sleep(self._config.housekeeping_every)
            except ShuttingDown:
                return
