"""A repeated failure's log line: the first, then at most one a minute with the count."""

from __future__ import annotations

import logging

import pytest

from bridge.repeats import Repeats


def test_the_first_is_logged_then_one_a_minute_with_the_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="test.repeats")
    now = [1000.0]
    repeats = Repeats(logging.getLogger("test.repeats"), every=60.0, clock=lambda: now[0])
    for n in range(130):  # one a second for 130 s
        repeats.log(logging.WARNING, "try %d failed", n)
        now[0] += 1.0
    assert [r.getMessage() for r in caplog.records] == [
        "try 0 failed",
        "try 60 failed (and 59 more like it in the last 60 s)",
        "try 120 failed (and 59 more like it in the last 60 s)",
    ]
    assert all(r.pathname == __file__ for r in caplog.records)  # the caller's line, not the helper's
