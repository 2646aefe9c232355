"""One serving process per database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import InstanceLockTaken
from store.lock import InstanceLock


async def test_second_instance_waits_then_gives_up_clearly(tmp_path: Path) -> None:
    """While one holder has the lock another cannot take it; after release it can."""
    database = tmp_path / "bridge.db"
    first, second = InstanceLock(database, wait=0), InstanceLock(database, wait=0)
    await first.acquire(wait=0)
    with pytest.raises(InstanceLockTaken, match="another raia-bridge is serving"):
        await second.acquire(wait=0.3)
    first.release()
    await second.acquire(wait=1)
    second.release()
    assert first.path == tmp_path / "bridge.db.lock"
