"""CPython's cyclic garbage collector, set for a server holding thousands of live objects.

In a burst the bridge holds thousands of tasks, futures and connections, and the collector
walked them on every collection: 13-20 % of the CPU (py-spy). ``settle`` runs once after
start-up: what start-up made (modules, settings, clients, the app) is collected once and
then frozen, so later collections skip it; the thresholds make the youngest generation's
collections rarer (reference counting frees almost everything anyway: the collector only
finds cycles, and a few more of those wait a little longer). ``bench/compare.py``.
"""

from __future__ import annotations

import gc

# Allocations (minus frees) before a young collection (CPython: 700), and young collections
# per middle one, middle ones per full one (CPython: 10, 10).
THRESHOLDS = (20_000, 20, 20)


def settle() -> None:
    """After start-up, before serving: freeze what exists, collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
