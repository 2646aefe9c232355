"""Slack with "Add to Slack" (many workspaces, one events URL): a signed event of an odd
shape for an installed workspace is refused like on a single workspace's URL, a 4xx
without a traceback, never a 500 (which Slack retries)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.scenarios.test_slack_install import installed

TEAM = "T0AAA"  # installed by grant "code-a"
ODD: list[Any] = ["hello", ["message"], 5]  # the event: not an object


@pytest.mark.parametrize("event", ODD, ids=[repr(e) for e in ODD])
async def test_an_odd_event_for_an_installed_workspace_is_a_4xx_without_a_traceback(
    event: Any, sim: RaiaSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    body = json.dumps({"type": "event_callback", "event": event, "event_id": "Ev1", "team_id": TEAM}).encode()
    async with installed(sim, tmp_path) as s:
        assert (await s.install("code-a")).status_code == 200
        response = await s.http.post("/slack/events", content=body, headers=slack.signed(body))
    assert 400 <= response.status_code < 500, response.text
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert sim.count("POST", "/messages/async") == 0
