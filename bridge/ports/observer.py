"""What the core reports as it works, for metrics (the composition root decides where
it goes: Prometheus today). Calls are synchronous and must not fail or block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TurnEnded:
    """One question's life, ended: ``outcome`` is answered, failed, timed_out or
    undeliverable; the seconds split into waiting for a lane, for the agent, and for
    the platform to take the reply."""

    platform: str
    outcome: str
    polls: int
    queued: float
    agent: float
    delivery: float


class Observer(Protocol):
    def turn_ended(self, turn: TurnEnded) -> None: ...

    def delivery_failed(self, platform: str, error: str) -> None:
        """A delivery attempt failed (it may be retried): ``error`` is its kind."""
        ...


class Unobserved:
    """The observer when nobody is watching."""

    def turn_ended(self, turn: TurnEnded) -> None:
        return None

    def delivery_failed(self, platform: str, error: str) -> None:
        return None
