"""A question's life, from ``received`` to ``delivered`` (or ``undeliverable``).

Every state change of a question is made here or by the way of asking it uses, each
written to the store before the next step, so a life cut short at any point (SIGTERM,
``kill -9``) resumes where it stopped::

    received | sent ── ask the agent (bridge.asking) ───────▶ answered | failed | timed_out | handed_over
    answered | failed | timed_out ── deliver part by part ─▶ delivered | undeliverable
    received | sent ── the person stops it (/stop, Slack's stop button) ─▶ stopped (nothing posted)

The conversation service runs one life at a time per conversation (its lanes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bridge import texts
from bridge.answer_files import FileDelivery, text_done
from bridge.asking import Asking, Means
from bridge.backoff import RateLimits
from bridge.config import ServiceConfig
from bridge.delivery import StoredProgress, best_effort
from bridge.errors import DeliveryPermanent, DeliveryRetryable, StoreError
from bridge.files import FilePolicy
from bridge.health import AgentHealth
from bridge.languages import KeptLocales
from bridge.models import PlatformUser, QuestionState, ReplyKind
from bridge.ports.agent import GivesFiles
from bridge.ports.observer import Observer, TurnEnded
from bridge.ports.outbound import LiveText, Outbound
from bridge.ports.store import QuestionRecord, StorePort
from bridge.takeover import HandoverDesk

log = logging.getLogger("bridge.turn")  # one line per turn
STOP_GRACE = 5.0  # seconds a stopped question's asking may take to end before its lane moves on


@dataclass
class _Turn:
    """One pass over a question: the record carried forward in memory (the store is
    re-read only after a failure, when what reached the database is the truth)."""

    q: QuestionRecord
    person: PlatformUser  # the platform's profile, looked up once per turn
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
        way: Callable[[Means], Asking],
        config: ServiceConfig,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        health: AgentHealth,
        observer: Observer,
        rated: bool = False,
        handover: HandoverDesk | None = None,
        gives_files: GivesFiles | None = None,
    ) -> None:
        # "Talk to a person" under answers (HANDOFF_BUTTON, with takeovers on).
        self._person_button = handover is not None and handover.config.button
        self._store = store
        # The files an agent makes are bounded by FILES_MAX_MB, like those people send.
        self._files = FileDelivery(gives_files, (config.files or FilePolicy()).max_bytes)
        self._asking = way(Means(store, config, clock, sleep, health, handover))
        self._config = config
        # 👍/👎 under answers (FEEDBACK, an agent that records them): the answer is kept to be rated.
        self._keep_for_votes = config.feedback_keep if rated else None
        self._clock = clock
        # Raises ShuttingDown when the service stops: the question stays where it is.
        self._sleep = sleep
        self._observer = observer
        # Questions being asked now, by id: set when the person stops one (``stop``).
        self._stops: dict[int, asyncio.Event] = {}
        self._locales = KeptLocales(store, clock)

    async def live(self, q: QuestionRecord, outbound: Outbound) -> None:
        if q.album is not None and q.started_at is None:
            # An album's photos arrive as separate messages a moment apart: let the rest
            # join this question before it is sent.
            await self._sleep(max(0.0, q.created_at + self._config.album_settle - self._clock()))
            q = await self._store.question(q.id)
        # Once per turn, after the question is stored (a slow users.info never delays an
        # acknowledgement): the names a new agent user gets, and the person's language.
        person = await outbound.profile(q.profile)
        await self._locales.looked_up(person)  # for a command after a restart
        turn = _Turn(q, person, started=self._clock())
        resumed = q.state not in (QuestionState.RECEIVED, QuestionState.SENT)
        # An earlier life asked already (and may have shown a streamed preview, or posted a
        # part): the platform looks at its chat before it posts.
        uncertain = resumed or q.send_attempts > 0
        if not resumed:
            async with best_effort(outbound, q):
                asked = await self._until_stopped(turn, outbound)
            if not asked:  # the person stopped it: nothing is posted for it, ever
                self._ended(turn, QuestionState.STOPPED, "stopped")
                return
        turn.answered = self._clock()
        await self._deliver(turn, outbound, resumed=uncertain)

    def stop(self, qid: int) -> None:
        """The person stopped question ``qid`` (already ``stopped`` in the store): if a
        lane of this process is asking it, that asking ends now."""
        stop = self._stops.get(qid)
        if stop is not None:
            stop.set()

    async def _until_stopped(self, turn: _Turn, outbound: Outbound) -> bool:
        """Ask, unless the person stops the question meanwhile; False if they did. The
        asking is then cancelled where it is: a poll's wait, a send, a streamed call (whose
        preview is marked as cut off). Whatever it still writes changes nothing for a
        stopped question (the store's steps skip it), so its answer is never posted."""
        qid = turn.q.id
        stop = self._stops[qid] = asyncio.Event()
        asking = asyncio.ensure_future(self._ask(turn, outbound))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((asking, stopped), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the lane itself is cancelled (shutdown, a lost lease)
            asking.cancel()
            asking.add_done_callback(_retrieved)
            raise
        finally:
            stopped.cancel()
            del self._stops[qid]
        if asking.done():
            return asking.result()
        asking.cancel()
        # Bounded: a call that ignores its cancellation must not hold the lane (whatever it
        # still writes is skipped for a stopped question).
        await asyncio.wait((asking,), timeout=STOP_GRACE)
        asking.add_done_callback(_retrieved)
        return False

    def deadline(self, q: QuestionRecord) -> float:
        """When waiting for this question's answer ends (``RAIA_POLL_TIMEOUT`` after the
        agent got it, or after it was started)."""
        return (q.sent_at or q.started_at or q.created_at) + self._config.poll_timeout

    async def give_up(self, q: QuestionRecord, error: str) -> None:
        """The question cannot be answered (its deadline passed while the bridge kept
        failing): the person gets one short notice instead, delivered like an answer."""
        if q.state in (QuestionState.RECEIVED, QuestionState.SENT):
            await self._store.mark_finished(q.id, QuestionState.FAILED, texts.notice("failed"), error)

    async def _ask(self, turn: _Turn, outbound: Outbound) -> bool:
        """The question's outcome, stored; False if it was stopped meanwhile (not stored)."""
        q = turn.q
        if q.started_at is None:
            q = replace(q, started_at=await self._store.mark_started(q.id))
        answered = await self._asking.ask(q, turn.person, outbound)
        finished, q = answered.finished, answered.q
        reply, keep = finished.reply, None
        if finished.state is QuestionState.ANSWERED:
            reply = texts.noted(reply, answered.notes)  # stored with the answer: said with it, once
            if self._keep_for_votes is not None:
                keep = self._clock() + self._keep_for_votes
        written = await self._store.mark_finished(q.id, finished.state, reply, finished.error, keep_until=keep)
        turn.polls, turn.detail = answered.polls, answered.detail
        if not written:  # stopped (by a person, maybe on another replica) while it was asked
            if answered.live is not None:
                await answered.live.abandon()
            return False
        turn.q = replace(q, state=finished.state, reply=reply, error=finished.error)
        turn.live = answered.live
        return True

    # -- delivering ------------------------------------------------------------------

    async def _deliver(self, turn: _Turn, outbound: Outbound, *, resumed: bool) -> None:
        q = turn.q
        assert q.reply is not None
        if q.state is QuestionState.HANDED_OVER:  # a person answers: the takeover's posts follow
            await self._store.mark_delivered(q.id)
            self._ended(turn, QuestionState.DELIVERED, "handed_over")
            return
        progress = StoredProgress(self._store, q, resumed=resumed, sleep=self._sleep, backoff=self._config.lane_backoff)
        # The bridge's own words in the person's language (Slack tells it via users.info,
        # cached by the adapter; Telegram with every message).
        language = texts.language_of(turn.person.custom_data)
        reply = texts.localize(q.reply, language)
        if self._keep_for_votes is not None and reply.kind is ReplyKind.ANSWER and reply.message_id:
            reply = replace(reply, vote_key=str(q.id))
        if self._person_button and reply.kind is ReplyKind.ANSWER:
            reply = replace(reply, person_button=True)
        q = turn.q = replace(q, reply=reply)
        live = turn.live if reply.kind is ReplyKind.ANSWER else None
        if turn.live is not None and live is None:
            await turn.live.abandon()
        limits = RateLimits()
        while True:
            try:
                if text_done(progress):  # an earlier attempt posted the text: only files are left
                    pass
                elif live is not None:  # the streamed preview becomes the answer, in place
                    await live.finish(reply, progress)
                else:
                    await outbound.deliver(q.origin, reply, progress)
                # The files the agent made, after the text, each a part of its own.
                await self._files.deliver(q.origin, reply, outbound, progress)
            except StoreError:
                raise  # the database, not the platform: the lane waits for it
            except DeliveryPermanent as exc:
                await self._store.mark_delivered(q.id, QuestionState.UNDELIVERABLE, str(exc))
                self._observer.delivery_failed(q.platform, type(exc).__name__)
                self._ended(turn, QuestionState.UNDELIVERABLE, "undeliverable", str(exc))
                return
            except Exception as exc:  # retryable, or an adapter bug: both bounded
                progress.uncertain = exc.maybe_posted if isinstance(exc, DeliveryRetryable) else True
                self._observer.delivery_failed(q.platform, type(exc).__name__)
                hint = exc.retry_after if isinstance(exc, DeliveryRetryable) else None
                pause = limits.pause(hint, progress.uncertain)
                if pause is not None:
                    log.warning("question=%d delivery rate limited (%s); retrying in %.1fs", q.id, exc, pause)
                    await self._sleep(pause)
                    continue
                attempts = await self._store.note_delivery_attempt(q.id, str(exc)[:500])
                if attempts >= self._config.delivery_attempts:
                    await self._store.mark_delivered(q.id, QuestionState.UNDELIVERABLE)
                    self._ended(turn, QuestionState.UNDELIVERABLE, "undeliverable", str(exc))
                    return
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
            self._ended(turn, QuestionState.DELIVERED, q.state.value)
            return

    def _ended(self, turn: _Turn, state: QuestionState, outcome: str, detail: str = "") -> None:
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


def _retrieved(task: asyncio.Future[bool]) -> None:
    """A cancelled asking's own failure is of no interest any more (never "never retrieved")."""
    if not task.cancelled() and task.exception() is not None:
        log.debug("a stopped question's asking ended with %r", task.exception())
