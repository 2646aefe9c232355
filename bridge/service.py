"""The conversation service: the core's entry point (``Inbox``), wiring a question's way
through it and starting and stopping what runs.

A question is taken in (``bridge.intake``: recorded first), then its conversation's
*lane* (``bridge.lanes``) works on it, oldest first, one at a time: a question's whole
life (``bridge.question``), then the next. Every step writes its result to the store
first, so a lane stopped at any point (SIGTERM, ``kill -9``) is picked up again when the
service starts next.
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
from bridge.errors import AgentError, ShuttingDown, StoreError
from bridge.feedback import FeedbackDesk
from bridge.health import AgentHealth
from bridge.intake import Intake
from bridge.lanes import Lanes
from bridge.models import InboundMessage
from bridge.poller import AnswerTimes
from bridge.ports.feedback import Ratings
from bridge.ports.inbox import Receipt, Respond
from bridge.ports.observer import Observer, Unobserved
from bridge.ports.outbound import Outbound
from bridge.ports.store import StoppedQuestion, StorePort
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
        self._stopping = asyncio.Event()
        self._sleepers: set[asyncio.Future[None]] = set()  # in ``_sleep``: ``stop`` wakes them
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
        self._lanes = Lanes(
            store,
            self._life,
            config,
            self._outbounds,
            acks=lambda: self.acks,
            stopping=self._stopping,
            sleep=self._sleep,
            clock=clock,
            tasks=self._tasks,
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
            wake=self._lanes.wake,
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
            self._lanes.wake(conversation_id)
        if conversations:
            log.info("resuming %d conversation(s) with unfinished questions", len(conversations))
        self._tasks.spawn(self._housekeeping(), name="housekeeping")
        if self._answer_times is not None:
            self._tasks.spawn(self._keep_answer_times(self._answer_times), name="answer-times")
        if self._store.shared:
            self._tasks.spawn(self._lanes.leases.keep(), name="lane-leases")
            self._tasks.spawn(self._lanes.leases.take_over(), name="lane-scan")
        if self.handover is not None:
            self._tasks.spawn(self.handover.run(), name="takeovers")
        return len(conversations)

    async def stop(self, timeout: float) -> None:
        """Take no new work, let in-flight calls finish (bounded), keep the rest stored."""
        self._stopping.set()
        for woken in self._sleepers:
            _wake(woken)
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

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but leave at once (``ShuttingDown``) when the service stops."""
        if self._stopping.is_set():
            raise ShuttingDown("stopping")
        # A future and a timer, woken early by ``stop``: every look for an answer sleeps
        # first, and asyncio.timeout around the stop event cost three times as much CPU
        # (it cancels the task at each timeout). A cancellation (a stopped question) goes
        # straight through.
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(max(0.0, seconds), _wake, woken)
        self._sleepers.add(woken)
        try:
            await woken
        finally:
            timer.cancel()
            self._sleepers.discard(woken)
        if self._stopping.is_set():
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


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)
