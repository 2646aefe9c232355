"""The one backoff of the core's durable loops."""

from __future__ import annotations

from bridge.backoff import Backoff


def test_waits_double_with_jitter_up_to_the_ceiling() -> None:
    """Attempt n waits between half and all of first x 2^(n-1), never more than longest."""
    backoff = Backoff(1.0, 10.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (5, 10.0), (40, 10.0)):
        waits = {backoff.wait(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered: a thousand conversations do not retry in step


def test_a_server_hint_is_obeyed_but_capped() -> None:
    """Retry-After is used as given, up to the ceiling; a negative hint means now."""
    backoff = Backoff(1.0, 10.0)
    assert backoff.wait(1, hint=3.5) == 3.5
    assert backoff.wait(1, hint=120) == 10.0
    assert backoff.wait(1, hint=-1) == 0.0
