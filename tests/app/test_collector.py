"""The cyclic collector after start-up: start-up's objects frozen, young collections rarer."""

from __future__ import annotations

import gc

from bridge.app import collector


def test_settle_freezes_what_exists_and_raises_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        collector.settle()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == collector.THRESHOLDS
        assert collector.THRESHOLDS[0] > before[0]
    finally:  # the rest of the test session collects as before
        gc.unfreeze()
        gc.set_threshold(*before)
