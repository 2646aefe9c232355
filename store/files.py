"""The database's files on disk: private, and never in a directory made up on the spot."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.errors import DatabaseUnavailable


def require_directory(path: Path) -> None:
    """The file's directory must exist: created silently, a mistyped volume path would
    put the data on a disk that the next restart wipes."""
    if not path.parent.is_dir():
        raise DatabaseUnavailable(
            f"DATABASE_URL points into {path.parent}/, which does not exist: create it, or fix the path "
            "(on a PaaS: the volume's mount path)"
        )


def create_private(path: Path) -> None:
    """Create the file readable by its owner only (the database holds user ids and text)."""
    require_directory(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise DatabaseUnavailable(f"DATABASE_URL {path} cannot be opened: {exc.strerror}") from None
    os.close(fd)
