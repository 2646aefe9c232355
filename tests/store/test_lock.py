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


async def test_a_symlink_to_the_same_file_meets_the_same_lock(tmp_path: Path) -> None:
    """A second bridge pointed at the database through a symlink (or a linked folder) is
    refused like one given the same path."""
    real_dir = tmp_path / "data"
    real_dir.mkdir()
    database = real_dir / "bridge.db"
    database.touch()
    (tmp_path / "link.db").symlink_to(database)
    (tmp_path / "linked").symlink_to(real_dir, target_is_directory=True)
    first = InstanceLock(database, wait=0)
    await first.acquire(wait=0)
    try:
        for other in (tmp_path / "link.db", tmp_path / "linked" / "bridge.db"):
            with pytest.raises(InstanceLockTaken):
                await InstanceLock(other, wait=0).acquire(wait=0)
    finally:
        first.release()
