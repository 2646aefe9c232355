"""Slack interactions (a form with one ``payload`` field), signed yet of a shape bolt's
matchers cannot read: a 400 without a traceback, never a 500 (which Slack retries and
counts against the app), and nothing asked or posted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.simulator import RaiaSimulator
from tests.fakes import slack
from tests.scenarios.test_slack import running

USER, TEAM = {"id": "U1"}, {"id": slack.TEAM}
ODD: list[dict[str, Any]] = [
    {"type": "block_actions", "actions": "vote_up", "user": USER, "team": TEAM},  # not a list
    {"type": "block_actions", "actions": [None, 3], "user": USER, "team": TEAM},  # not objects
    {"type": "block_actions", "actions": [], "user": USER, "team": TEAM},  # none at all
    {"type": "block_actions", "actions": [{"value": "1"}], "user": USER, "team": TEAM},  # no action_id
    {"type": "view_submission", "view": 7, "user": USER, "team": TEAM},  # a view that is a number
    {"type": "view_closed", "view": "v", "user": USER, "team": TEAM},
]


@pytest.mark.parametrize("payload", ODD, ids=[json.dumps(p)[:60] for p in ODD])
async def test_a_signed_interaction_bolt_cannot_match_is_a_400_without_a_traceback(
    payload: dict[str, Any], sim: RaiaSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = slack.FakeSlack()
    body, headers = slack.interaction(payload)
    async with running(sim, fake, tmp_path) as bridge:
        response = await bridge.http.post("/slack/events", content=body, headers=headers)
        await bridge.idle()
    assert response.status_code == 400, response.text
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert fake.posts == []
    assert sim.count("POST", "/messages/async") == 0
