"""The platform's side of a question's life: the "working…" indicator while the agent
thinks, and delivery progress written through to the store part by part (what lets a
delivery cut short resume without posting a part twice)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bridge.backoff import Backoff
from bridge.errors import StoreUnavailable
from bridge.ports.outbound import Outbound
from bridge.ports.store import QuestionRecord, StorePort

log = logging.getLogger("bridge.turn")


def reply_key(q: QuestionRecord) -> str:
    """The name of ``q``'s reply on the platform (its parts, its live preview). The
    question id alone repeats when a database is replaced; with its creation time it names
    this reply only."""
    return f"{q.id}-{round(q.created_at * 1000)}"


class StoredProgress:
    """Delivery progress written through to the store, part by part.

    A part the platform took is recorded before the next is posted. When the database
    cannot take that record (a full disk, an outage), the delivery waits for it, retrying
    the record alone: re-running the delivery would post the part again."""

    def __init__(
        self,
        store: StorePort,
        q: QuestionRecord,
        *,
        resumed: bool,
        sleep: Callable[[float], Awaitable[None]],
        backoff: Backoff,
    ) -> None:
        self._store, self._qid, self._done = store, q.id, q.parts_delivered
        self._sleep, self._backoff = sleep, backoff  # sleep raises ShuttingDown when the service stops
        self.key = reply_key(q)
        # An answer found already finished was being delivered by an earlier life (a
        # crash, kill -9, or another replica whose lease expired) that may have posted the
        # next part without recording it: the platform looks before posting, where it can.
        self.uncertain = q.delivery_attempts > 0 or resumed

    @property
    def done(self) -> int:
        return self._done

    async def part_delivered(self, count: int) -> None:
        self._done = count
        failures = 0
        while True:
            try:
                await self._store.mark_parts_delivered(self._qid, count)
                return
            except StoreUnavailable as exc:
                failures += 1
                log.warning(
                    "question=%d part %d posted but not recorded (%s); recording it again", self._qid, count, exc
                )
                await self._sleep(self._backoff.wait(failures))


class Unstored:
    """Progress of a notice: one short message, posted at most once per attempt."""

    done = 0
    key = ""
    uncertain = False

    async def part_delivered(self, count: int) -> None:
        return None


@asynccontextmanager
async def best_effort(outbound: Outbound, q: QuestionRecord) -> AsyncIterator[None]:
    """The "working…" indicator must never delay or lose an answer."""
    manager = outbound.working(q.origin)
    entered = False
    try:
        await manager.__aenter__()
        entered = True
    except Exception:
        log.warning("question=%d progress indicator failed", q.id, exc_info=True)
    try:
        yield
    finally:
        if entered:
            try:
                await manager.__aexit__(None, None, None)
            except Exception:
                log.warning("question=%d progress indicator failed", q.id, exc_info=True)
