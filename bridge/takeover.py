"""A person takes over: staff answer a conversation in the agent's place, and the bridge
carries their words to where the person is.

The agent API says who handles a conversation (``HandsOver``: the agent, or a person and
their name) and what staff wrote. The desk watches conversations that may be in a
person's hands and turns what it finds into *posts*: one notice when a takeover begins,
each staff message, one notice when the agent is back. Posts belong to the conversation,
not to a question; each is recorded in the store before it is posted, its parts counted
like an answer's, so a restart, ``kill -9`` or another replica never posts one twice or
skips one (``bridge.takeover_posts`` posts them). One process at a time watches a
conversation (``claim_watch``).

How it finds them, cheaply:

- one listing of recently updated conversations every ``scan_every`` (page after page
  while they come full, ``scan_pages`` at most) finds takeovers (and staff who write
  first); a question whose answer is pending learns from it at its next look for the
  answer (``listed``, no request) and asks for the mode itself (``taken``) only when a
  listing showed its conversation in a person's hands, when the listings may have missed
  something (a listing overflowed, none for two intervals), or every ``LISTED_LOOK`` all
  the same; a takeover ends its wait (no timeout notice) and starts the watch;
- a watched conversation is looked at on a growing schedule (``look_first`` up to
  ``look_cap``), until the agent has it back or nothing happened for ``watch``; a question
  it took over is looked at too, for a while: should the agent answer it anyway, that
  answer is posted once like a staff message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from bridge import texts
from bridge.config import ServiceConfig
from bridge.errors import AgentError, ShuttingDown, StoreError
from bridge.files import FilePolicy
from bridge.models import Reply, ReplyKind
from bridge.ports.agent import GivesFiles, Handling, HandsOver
from bridge.ports.outbound import Outbound
from bridge.ports.store import StorePort
from bridge.ports.store_takeover import HandoverRecord
from bridge.takeover_listings import Listings
from bridge.takeover_posts import PostDelivery
from bridge.tasks import TaskSet

log = logging.getLogger("bridge.takeover")

MODE_EVERY = 4  # a watched conversation's mode is asked every this many looks (and on news)
# Presses of "Talk to a person" in one conversation within this many seconds count once
# (a storm of presses, a platform redelivering them): the mode is set and confirmed once.
PRESS_WINDOW = 60.0
# What the person is told when they ask for a person (``bridge.texts`` keys).
AskedFor = Literal["handover_asked", "handover_already", "handover_nothing_yet"]
HINTED_SCAN = 2.0  # after a push hint, the listing waits this long for more (one listing for a burst)
# A waiting question the listings cover still asks for its conversation's mode this often:
# raia does not document that a change of mode moves a conversation's updatedAt.
LISTED_LOOK = 300.0


@dataclass
class _Watch:
    task: asyncio.Task[None]
    wake: asyncio.Event


class HandoverDesk:
    def __init__(
        self,
        store: StorePort,
        agent: HandsOver,
        service: ServiceConfig,
        outbounds: Mapping[str, Outbound],
        *,
        agent_name: Callable[[], Awaitable[str]],
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        tasks: TaskSet,
        gives_files: GivesFiles | None = None,
    ) -> None:
        assert service.handover is not None  # HANDOFF is on
        self._store, self._agent, self.config = store, agent, service.handover
        self._posts = PostDelivery(
            store,
            outbounds,
            gives_files=gives_files,
            max_file_bytes=(service.files or FilePolicy()).max_bytes,
            attempts=service.delivery_attempts,
            backoff=service.delivery_backoff,
            sleep=sleep,
        )
        self._agent_name = agent_name
        self._clock, self._sleep, self._tasks = clock, sleep, tasks
        # A question a person took over is looked at for a late agent answer this long.
        self._late_window = service.poll_timeout
        self._watches: dict[int, _Watch] = {}
        self._resumed: set[int] = set()  # watches taken up from the store: their first post may be out already
        self._scan_soon = asyncio.Event()  # a push hint: list recently updated conversations now
        self._agent_ids: dict[int, str] = {}  # watched conversations' ids at the agent
        self._listings = Listings(
            store, agent, self.config, clock=clock, watch=self.watch, handled_by_person=self.handled_by_person
        )

    # -- what the question's life asks -------------------------------------------------

    async def handled_by_person(self, conversation_id: int) -> bool:
        """As last seen (no request): a person handles it, so nothing waits for the agent."""
        record = await self._store.handover(conversation_id)
        return record is not None and record.by_person

    async def taken(self, conversation_id: int, agent_conversation: str) -> bool:
        """Look now: is the conversation in a person's hands? If so, watch it."""
        handling = await self._agent.handling(agent_conversation)
        if handling.by_person:
            self.watch(conversation_id)
        else:
            self._listings.handed_back(conversation_id)  # since it was listed in a person's hands
        return handling.by_person

    def listed(self, conversation_id: int, since: float) -> bool | None:
        """What the listings say of a waiting question's conversation, without a request
        (``Listings.listed``): True, False, or None if they may have missed an update."""
        return self._listings.listed(conversation_id, since)

    async def hand_over(self, conversation_id: int) -> AskedFor:
        """The person asks for a person: what to tell them (the text's key). A person who
        has the conversation already (as last seen, or as the agent says now) is not asked
        for again: no second ``hand_over`` and no second confirmation."""
        conversation = await self._store.conversation(conversation_id)
        if not conversation.agent_conversation_id:
            return "handover_nothing_yet"
        known = await self._store.handover(conversation_id)
        if known is not None and known.by_person:
            self.watch(conversation_id)
            return "handover_already"
        handling = await self._agent.handling(conversation.agent_conversation_id)
        if not handling.by_person:
            await self._agent.hand_over(conversation.agent_conversation_id)
        now = self._clock()
        record = await self._store.watch_handover(conversation_id, now - self.config.watch, now + self.config.watch)
        if record is not None and not record.by_person:  # the line the person gets is this takeover's notice
            await self._store.record_handover(
                conversation_id,
                by_person=True,
                staff=handling.staff,
                episode=record.episode + 1,
                since=record.since,
                watch_until=now + self.config.watch,
                posts=(),
            )
        self.watch(conversation_id)
        return "handover_already" if handling.by_person else "handover_asked"

    def watch(self, conversation_id: int) -> None:
        """Watch this conversation (again, at once, if it is watched already)."""
        current = self._watches.get(conversation_id)
        if current is not None and not current.task.done():
            current.wake.set()
            return
        wake = asyncio.Event()
        task: asyncio.Task[None] = self._tasks.spawn(
            self._watching(conversation_id, wake), name=f"watch-{conversation_id}"
        )
        self._watches[conversation_id] = _Watch(task, wake)

    def hinted(self, ids: list[str]) -> None:
        """A push (raia's ``manual`` or ``each_message`` webhook, on any replica) arrived: its
        body is a hint, never content. A watched conversation it names is looked at now;
        otherwise the next listing of recently updated conversations comes at once (at most
        one every ``HINTED_SCAN`` seconds, however many pushes arrive)."""
        named = [self._watches[i] for i in self._watched_agent_ids(ids)]
        for watch in named:
            watch.wake.set()
        if not named:
            self._scan_soon.set()

    def _watched_agent_ids(self, ids: list[str]) -> list[int]:
        wanted = set(ids)
        return [cid for cid, agent_id in self._agent_ids.items() if agent_id in wanted and cid in self._watches]

    # -- the desk's own rounds ---------------------------------------------------------

    async def run(self) -> None:
        """Take up watches left by an earlier run (or a dead replica), and list recently
        updated conversations every ``scan_every`` (the first listing one interval after
        the start, looking back further); until the service stops."""
        while True:
            try:
                for conversation_id in await self._store.watched_handovers():
                    if conversation_id not in self._watches:
                        self._resumed.add(conversation_id)
                        self.watch(conversation_id)
            except StoreError as exc:
                log.warning("looking for watched takeovers failed (%s); trying again later", exc)
            try:
                self._scan_soon.clear()
                await self._pause(self.config.scan_every, self._scan_soon)
                if self._scan_soon.is_set():
                    await self._sleep(min(HINTED_SCAN, self.config.scan_every))  # pushes in a burst: one listing
            except ShuttingDown:
                return
            try:
                await self._listings.scan()
                await self._store.purge_handovers(self._clock() - self.config.keep)
            except (AgentError, StoreError) as exc:
                log.warning("looking for takeovers failed (%s); trying again later", exc)

    async def _watching(self, conversation_id: int, wake: asyncio.Event) -> None:
        try:
            await self._watch(conversation_id, wake)
        except ShuttingDown:
            pass
        finally:
            watch = self._watches.get(conversation_id)
            if watch is not None and watch.wake is wake:
                del self._watches[conversation_id]
                self._agent_ids.pop(conversation_id, None)
            try:
                await self._store.release_watch(conversation_id)
            except StoreError:
                log.warning("conversation=%d watch not released", conversation_id)

    async def _watch(self, conversation_id: int, wake: asyncio.Event) -> None:
        config = self.config
        wait, failures = config.look_first, 0
        resumed = conversation_id in self._resumed
        self._resumed.discard(conversation_id)
        fresh = not resumed  # a watch begun by news (a takeover seen, a question asked): idle from now
        looks = 0
        while True:
            fresh = fresh or wake.is_set()
            wake.clear()
            # Who handles it is asked on news and every MODE_EVERY looks (the listing also
            # shows it); the staff's messages at every look.
            with_mode = fresh or looks % MODE_EVERY == 0
            looks += 1
            try:
                now = self._clock()
                # Its newest question's route; watched (at least) a full HANDOFF_WATCH after news.
                until = now + config.watch if fresh else now
                record = await self._store.watch_handover(conversation_id, now - config.watch, until)
                fresh = False
                if record is None:
                    return  # nowhere to post, or not at the agent yet
                self._agent_ids[conversation_id] = record.agent_conversation_id
                if not await self._store.claim_watch(conversation_id, config.lease):
                    return  # another process watches it
                changed = await self._look(record, with_mode=with_mode)
                changed = await self._late_answers(record) or changed
                await self._posts.deliver(conversation_id, resumed=resumed)
                resumed = False
                failures = 0
                record = await self._store.handover(conversation_id)
                if record is None or not record.by_person:
                    return  # with the agent: the listing (or a waiting question) finds the next takeover
                if record.watch_until <= self._clock():
                    log.info("conversation=%d idle in a person's hands; no longer watched", conversation_id)
                    return
                wait = config.look_first if changed else min(config.look_cap, wait * 2)
            except (AgentError, StoreError) as exc:
                failures += 1
                wait = min(config.look_cap * 4, config.look_first * 2**failures)
                log.warning("conversation=%d takeover look failed (%s); again in %.0fs", conversation_id, exc, wait)
            await self._pause(wait, wake)

    async def _pause(self, seconds: float, wake: asyncio.Event) -> None:
        """Sleep ``seconds`` or until woken; ``ShuttingDown`` when the service stops."""
        waker = asyncio.ensure_future(wake.wait())
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        # Its outcome is always retrieved, also when it ends after this wait was cancelled.
        sleeper.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            await asyncio.wait((waker, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            sleeper.cancel()
            failure = sleeper.exception() if sleeper.done() and not sleeper.cancelled() else None
        if failure is not None:
            raise failure

    async def _look(self, record: HandoverRecord, *, with_mode: bool = True) -> bool:
        """Look at the conversation once and record what it brings; True if anything did."""
        if with_mode:
            handling = await self._agent.handling(record.agent_conversation_id)
        else:  # as last seen
            handling = Handling(record.agent_conversation_id, record.by_person, record.staff)
        posts: list[tuple[str, float, Reply]] = []
        seq = time.time()
        episode, since = record.episode, record.since
        if handling.by_person and not record.by_person:
            episode += 1
            staff = handling.staff
            taken = texts.notice("handover_taken", staff=staff) if staff else texts.notice("handover_taken_anonymous")
            posts.append((f"taken-{episode}", seq, taken))
        if handling.by_person or record.by_person:
            recorded = await self._store.recorded_posts(record.conversation_id)
            for message in await self._agent.staff_messages(record.agent_conversation_id):
                if message.created_at < record.since or message.id in recorded:
                    continue
                posts.append((message.id, seq + len(posts) * 1e-6, message.reply))
                since = max(since, message.created_at)
        if record.by_person and not handling.by_person:
            agent = await self._agent_name()
            posts.append((f"back-{episode}", seq + len(posts) * 1e-6, texts.notice("handover_back", agent=agent)))
        now = self._clock()
        changed = bool(posts) or handling.by_person != record.by_person
        watch_until = now + self.config.watch if changed else record.watch_until
        if not changed:
            return False
        await self._store.record_handover(
            record.conversation_id,
            by_person=handling.by_person,
            staff=handling.staff,
            episode=episode,
            since=since,
            watch_until=watch_until if handling.by_person else now,
            posts=posts,
        )
        if handling.by_person != record.by_person:
            log.info(
                "conversation=%d agent_conversation=%s %s",
                record.conversation_id,
                record.agent_conversation_id,
                "taken over by a person" if handling.by_person else "back with the agent",
            )
        return True

    async def _late_answers(self, record: HandoverRecord) -> bool:
        """The agent may answer a question a person took over anyway: such an answer is
        recorded as a post (keyed by the question's message, so once however many looks
        or replicas find it); each question is looked for until ``RAIA_POLL_TIMEOUT``
        after it was handed over, and only while a person has the conversation: once the
        agent has it back, an answer to what staff handled would only be noise. True if
        one was found."""
        found = False
        handed_over = await self._store.handed_questions(record.conversation_id)
        current = await self._store.handover(record.conversation_id) if handed_over else None
        by_person = current is not None and current.by_person
        for handed in handed_over:
            post: tuple[str, float, Reply] | None = None
            if by_person and handed.handed_at + self._late_window > self._clock():
                settled, reply = await self._agent.late_answer(record.agent_conversation_id, handed.agent_message_id)
                if not settled:
                    continue
                if reply is not None and not (await self._agent.handling(record.agent_conversation_id)).by_person:
                    reply = None  # handed back just now (the mode above was as last seen): dropped
                if reply is not None:
                    post = (f"answer-{handed.agent_message_id}", time.time(), replace(reply, kind=ReplyKind.ANSWER))
                    found = True
                    log.info("conversation=%d question=%d answered by the agent during a takeover",
                             record.conversation_id, handed.question_id)  # fmt: skip
            await self._store.settle_handed_question(record.conversation_id, handed.question_id, post)
        return found
