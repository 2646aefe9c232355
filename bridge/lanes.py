"""A conversation's *lane*: one tracked task working on its questions, oldest first, one
at a time (a question's whole life, ``bridge.question``, then the next), and holding the
conversation's lease while it does on a shared database (``bridge.leases``).

Every step writes its result to the store first, so a lane stopped at any point
(SIGTERM, ``kill -9``, a lease lost) is picked up again from what is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from bridge.acks import AckFirst
from bridge.config import ServiceConfig
from bridge.errors import LeaseLost, QuestionGone, ShuttingDown, StoreError, StoreUnavailable
from bridge.leases import Lane, Leases
from bridge.ports.outbound import Outbound
from bridge.ports.store import QuestionRecord, StorePort
from bridge.question import QuestionLife
from bridge.repeats import Repeats
from bridge.tasks import TaskSet

log = logging.getLogger("bridge.service")  # the service's log, as operators filter it


class Lanes:
    """The lanes of one service; ``len()`` is how many run now."""

    def __init__(
        self,
        store: StorePort,
        life: QuestionLife,
        config: ServiceConfig,
        outbounds: Mapping[str, Outbound],
        *,
        acks: Callable[[], AckFirst],
        stopping: asyncio.Event,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        tasks: TaskSet,
    ) -> None:
        self._store, self._life, self._config, self._outbounds = store, life, config, outbounds
        # The service's webhook requests in flight, read as each lane starts (it may be swapped).
        self._acks, self._stopping, self._tasks = acks, stopping, tasks
        self._sleep = sleep  # raises ShuttingDown when the service stops
        self._clock = clock
        # Every lane retries a store outage about once a second: one line for them all now and then.
        self._outage = Repeats(log, clock=clock)
        self._lanes: dict[int, Lane] = {}
        self.leases = Leases(store, config, self._lanes, sleep=sleep, wake=self.wake, platforms=outbounds)

    def __len__(self) -> int:
        return len(self._lanes)

    def wake(self, conversation_id: int) -> None:
        """A question of this conversation is stored: its lane (started if none runs) reads it."""
        lane = self._lanes.get(conversation_id)
        if lane is None:
            lane = self._lanes[conversation_id] = Lane()
            lane.task = self._tasks.spawn(self._run_lane(conversation_id, lane), name=f"lane-{conversation_id}")
        lane.wake = True

    async def _run_lane(self, conversation_id: int, lane: Lane) -> None:
        try:
            await self._acks().calm(self._stopping)  # in a burst, acknowledge the webhooks first
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
                    self._outage.log(
                        logging.WARNING, "conversation=%d store unavailable (%s); retrying", conversation_id, exc
                    )
                    await self._sleep(self._config.lane_backoff.wait(outages))
        except ShuttingDown:
            if lane.held and self._store.shared:  # hand over at once, not after the lease expires
                lane.held = False
                await self._quietly_release(conversation_id)
            return
        finally:
            # No await between the last check and this removal: a concurrent wake
            # either saw this lane (and set wake, handled above) or creates a new one.
            if self._lanes.get(conversation_id) is lane:
                del self._lanes[conversation_id]

    async def _work(self, conversation_id: int, lane: Lane) -> None:
        """The conversation's questions, oldest first, until none is left (or another
        replica holds the conversation)."""
        errors = 0
        # Another replica's lane has it: that lane reads our question from the
        # database after its current one (or we get it back below when it lets go).
        if not lane.held and not await self.leases.claim(conversation_id, lane):
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
                if not await self.leases.claim(conversation_id, lane):
                    return
                continue
            outbound = self._outbounds.get(question.platform)
            if outbound is None:  # that platform is not configured in this run
                if lane.held and self._store.shared:  # a replica that serves it takes it
                    lane.held = False
                    await self._quietly_release(conversation_id)
                return
            try:
                # Let go after a burst, a lane's first store read may have taken a while: a
                # webhook overdue meanwhile is acknowledged before this life's first steps.
                await self._acks().calm(self._stopping, again=True)
                await self._life.live(question, outbound)
                errors = 0
                continue
            except QuestionGone:
                pass  # purged or replaced meanwhile: nothing left to do for it
            except LeaseLost:
                raise  # another replica has it: no retry, no notice
            except ShuttingDown:
                # Not an error: the question stays where it is, resumed at the next start.
                raise
            except StoreUnavailable as exc:
                # The database cannot take the life's next step (a full disk, an outage):
                # nothing is lost, and an answer that is ready stays ready at the agent, so
                # the lane waits for the database and goes on, never giving up for this.
                errors += 1
                self._outage.log(
                    logging.WARNING,
                    "question=%d store unavailable (%s); retrying (attempt %d)",
                    question.id,
                    exc,
                    errors,
                )
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
