"""Headless Chromium from Debian's packages (`apt-get install chromium`; .ci/run installs
it when missing), driven by its command line: the DOM after the page loaded, or a
screenshot. No driver, no download, and no network beyond the loopback URL given."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# Chromium reaches out on its own (updates, sync, safe browsing) unless told not to.
_QUIET = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("headless Chromium is needed: apt-get install chromium (.ci/run installs it)")


def _run(*args: str, timeout: float) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run(  # noqa: S603 - Debian's chromium, our own arguments
            [chromium(), *_QUIET, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def dom(url: str, *, timeout: float = 60) -> str:
    """The page's DOM as the browser built it (after parsing, styles and any script)."""
    return _run("--dump-dom", url, timeout=timeout)


def screenshot(url: str, path: Path, *, width: int, height: int, timeout: float = 60) -> None:
    """A PNG of the page at ``width`` x ``height`` CSS pixels, twice as sharp."""
    _run(
        f"--screenshot={path}", f"--window-size={width},{height}", "--force-device-scale-factor=2", url,
        timeout=timeout,
    )  # fmt: skip
