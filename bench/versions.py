"""An older version of the bridge, for the benchmarks that run it beside this one."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def older_version(rev: str, prefix: str) -> Iterator[tuple[Path, Path]]:
    """``rev`` (a commit, branch or tag) extracted with ``git archive`` into a temporary
    folder, removed afterwards: yields the tree (its processes run from there with it on
    ``PYTHONPATH``) and the folder, for the benchmark's own files."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        tree = Path(tmp) / "before"
        tree.mkdir()
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "archive", "--format=tar", rev],  # noqa: S607
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)  # noqa: S603, S607
        yield tree, Path(tmp)
