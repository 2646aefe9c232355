"""One way to ask an agent: "ask this question, give me its outcome".

A question's life (``bridge.question``) asks through ``Asking`` and never learns which
kind of agent API is behind it. Two ways ship, side by side:

- ``polled``: send the question, then look for the answer (raia: ``response-on``, woken
  early by push hints), resolving a send of unknown outcome by looking before resending;
- ``direct``: one call that returns the answer, maybe streamed (Blaigent, the slug chat
  API), with a cut-off call settled by the agent's history where it has one.

The composition root picks one per deployment (``Agent``); a fourth backend is one new
adapter implementing one of the two ports in ``bridge.ports.agent``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bridge.config import ServiceConfig
from bridge.health import AgentHealth
from bridge.models import PlatformUser, Words
from bridge.outcomes import Finished
from bridge.poller import AnswerTimes
from bridge.ports.agent import GivesFiles, HandsOver, RatesAnswers
from bridge.ports.outbound import LiveText, Outbound
from bridge.ports.store import QuestionRecord, StorePort
from bridge.takeover import HandoverDesk


@dataclass(frozen=True)
class Answered:
    """How asking ended: ``finished`` is stored by the life; ``q`` is the question as the
    asking left it (sent, with the agent's message id); ``detail`` goes to the turn's log
    line; ``live`` is the preview a streamed answer was shown in, finished at delivery."""

    finished: Finished
    q: QuestionRecord
    detail: str = ""
    live: LiveText | None = None
    polls: int = 0
    notes: tuple[Words, ...] = ()  # the bridge's lines before an answer (files left out)


@dataclass(frozen=True)
class Means:
    """What a way of asking uses from the service: the store, the timings, the clock, a
    sleep that raises ``ShuttingDown`` when the service stops, and the agent's health."""

    store: StorePort
    config: ServiceConfig
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    health: AgentHealth
    handover: HandoverDesk | None = None  # a person may take a conversation over (HANDOFF)


class Asking(Protocol):
    async def ask(self, q: QuestionRecord, person: PlatformUser, outbound: Outbound) -> Answered:
        """Ask ``q`` (received, or sent by an earlier life) for ``person`` (their profile,
        looked up once for the turn) and wait for its outcome: at most ``poll_timeout``
        from when the agent got the question (the bridge's own downtime never counts),
        and a question the agent cannot be reached for is given up ``unreachable_after``
        from when this life began trying. Every step is stored before the next;
        ``ShuttingDown`` leaves the question where it is."""
        ...


@dataclass(frozen=True)
class Agent:
    """The agent as the composition root chose it, once: how to ask it and what else it
    does. ``ratings``: it records 👍/👎 on its answers; ``takes_files``: files sent with a
    question reach it; ``answer_times``: the polled way learns its pace (kept across
    restarts by the service); ``hands_over``: staff can take a conversation over from it."""

    backend: str  # "raia", "blaigent", "slug": for /healthz and log lines
    name: Callable[[], Awaitable[str | None]]
    way: Callable[[Means], Asking]
    ratings: RatesAnswers | None = None
    takes_files: bool = False
    answer_times: AnswerTimes | None = None
    hands_over: HandsOver | None = None  # staff can take a conversation over (raia's manual mode)
    gives_files: GivesFiles | None = None  # its answers carry files it made (raia's message files)
    hears: bool = False  # recordings are transcribed before the send (TRANSCRIBE_URL)
