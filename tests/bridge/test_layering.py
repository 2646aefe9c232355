"""Architecture: the core never imports Slack or Telegram code."""

from __future__ import annotations

import subprocess
import sys


def test_core_modules_do_not_import_platform_sdks() -> None:
    """Importing every core module leaves slack_bolt, slack_sdk and telegram unloaded."""
    code = (
        "import sys, bridge.app, bridge.service, bridge.asking, bridge.raia, bridge.runtime, bridge.simulator, "
        "bridge.cli, store.database\n"
        "loaded = sorted(m for m in ('telegram', 'slack_bolt', 'slack_sdk') if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
