"""The bridge's version, for ``--version``: the installed package's, or, run from a
checkout that was never installed (``python -m bridge`` on a PaaS that installs only
``requirements.txt``), the one its ``pyproject.toml`` names."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "raia-bridge"
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def package_version(distribution: str = DISTRIBUTION, source_root: Path = SOURCE_ROOT) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        pass
    try:
        project = tomllib.loads((source_root / "pyproject.toml").read_text())["project"]
    except (OSError, ValueError, KeyError):
        return "(version unknown: not installed, and no pyproject.toml beside the source)"
    return f"{project.get('version', '?')} (from source, not installed)"
