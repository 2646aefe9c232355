"""Slack: every odd or hostile request gets a clear 4xx or a 2xx, never a 500 or bolt's 404."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from tests.fakes import slack
from tests.scenarios.test_slack import running


@pytest.fixture
def fake() -> slack.FakeSlack:
    return slack.FakeSlack()


async def test_unsigned_garbage_is_refused_without_a_traceback(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Non-UTF-8 bytes, broken JSON and a non-numeric timestamp are 401 before anything is parsed."""
    async with running(sim, fake, tmp_path) as bridge:
        post = bridge.http.post
        assert (await post("/slack/events", content=b"\xff\xfe\x00garbage")).status_code == 401
        assert (await post("/slack/events", content=b"{not json", headers=slack.signed(b"{}"))).status_code == 401
        headers = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=abc"}
        assert (await post("/slack/events", content=b"{}", headers=headers)).status_code == 401
    assert not any(r.exc_info for r in caplog.records)


async def test_signed_but_odd_bodies_never_get_a_500(sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path) -> None:
    """An array, a string event, an integer user, non-UTF-8: a 4xx or a 2xx, never a 500."""
    bodies = [
        b"[1, 2, 3]",
        json.dumps({"type": "event_callback", "event": "hello", "event_id": "Ev1"}).encode(),
        json.dumps({"type": "event_callback", "event": {"type": 5}, "event_id": "Ev2"}).encode(),
        json.dumps(slack.envelope({"type": "message", "user": 42, "channel": "D1", "ts": "1.0", "text": "x"})).encode(),
        b"\xff\xfe not utf-8",
    ]
    async with running(sim, fake, tmp_path) as bridge:
        for body in bodies:
            response = await bridge.http.post("/slack/events", content=body, headers=slack.signed(body))
            assert response.status_code < 500, body
    assert fake.posts == []


async def test_json_nested_beyond_reason_is_a_400_without_a_traceback(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Signed, yet 5,000 levels of "[" (json.loads would raise RecursionError), or a message
    whose blocks nest 100 deep: refused as malformed, nothing asked."""
    event = json.dumps(slack.envelope(slack.dm("deep?"))).encode()
    nested = event.replace(b'"text": "deep?"', b'"text": "deep?", "blocks": ' + b"[" * 100 + b"]" * 100)
    assert nested != event
    async with running(sim, fake, tmp_path) as bridge:
        for body in (b"[" * 5000 + b"]" * 5000, nested):
            response = await bridge.http.post("/slack/events", content=body, headers=slack.signed(body))
            assert response.status_code == 400
    assert not any(r.exc_info for r in caplog.records)
    assert fake.posts == []
    assert sim.count("POST", "/messages/async") == 0


async def test_rate_limit_callbacks_and_interactions_are_acknowledged(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """app_rate_limited and a button click get 200 (a 404 would count as a failure at Slack)."""
    limited = json.dumps({"token": "t", "type": "app_rate_limited", "team_id": slack.TEAM,
                          "minute_rate_limited": 1518467820, "api_app_id": "A0001"}).encode()  # fmt: skip
    action = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "x", "value": "1"}],
              "team": {"id": slack.TEAM}, "api_app_id": "A0001", "token": "t"}  # fmt: skip
    clicked = ("payload=" + json.dumps(action)).encode()
    async with running(sim, fake, tmp_path) as bridge:
        assert (
            await bridge.http.post("/slack/events", content=limited, headers=slack.signed(limited))
        ).status_code == 200
        headers = slack.signed(clicked) | {"Content-Type": "application/x-www-form-urlencoded"}
        assert (await bridge.http.post("/slack/events", content=clicked, headers=headers)).status_code == 200


# Events of kinds the bridge does not handle, as Slack sends them (a workspace may subscribe
# the app to more than it needs).
UNHANDLED: dict[str, dict[str, Any]] = {
    "channel_created": {"type": "channel_created", "event_ts": "1360782804.000001",
                        "channel": {"id": "C024BE91L", "name": "fun", "created": 1360782804, "creator": "U024BE7LH",
                                    "is_channel": True, "is_shared": False}},
    "channel_rename": {"type": "channel_rename", "channel": {"id": "C02ELGNBH", "name": "new_name",
                       "created": 1360782804}, "event_ts": "1360782805.000001"},
    "member_joined_channel": {"type": "member_joined_channel", "user": "W06GH7XHN", "channel": "C0698JE0H",
                              "channel_type": "C", "team": slack.TEAM, "inviter": "U123456789",
                              "event_ts": "1360782806.000001"},
    "team_join": {"type": "team_join", "user": {"id": "U0NEW", "team_id": slack.TEAM, "name": "bo", "deleted": False,
                  "real_name": "Bo", "is_bot": False, "profile": {"real_name": "Bo", "display_name": "bo"}},
                  "event_ts": "1360782807.000001"},
    "user_change": {"type": "user_change", "user": {"id": "U1", "team_id": slack.TEAM, "name": "ann",
                    "profile": {"status_text": "riding a train", "status_emoji": ":train:"}},
                    "event_ts": "1360782808.000001"},
    "im_created": {"type": "im_created", "user": "U1", "channel": {"id": "D024BE91L"}, "event_ts": "1360782809.0"},
    "reaction_added": {"type": "reaction_added", "user": "U1", "reaction": "thumbsup", "item_user": "U2",
                       "item": {"type": "message", "channel": "C0001", "ts": "1360782400.498405"},
                       "event_ts": "1360782804.083113"},
    "emoji_changed": {"type": "emoji_changed", "subtype": "add", "name": "picard_facepalm",
                      "value": "https://my.slack.com/emoji/picard_facepalm/db8e287430eaa459.gif",
                      "event_ts": "1361482916.000004"},
    "app_home_opened": {"type": "app_home_opened", "user": "U1", "channel": "D0001", "tab": "home",
                        "event_ts": "1515449522000016"},
    "app_uninstalled": {"type": "app_uninstalled", "event_ts": "1360782810.000001"},
    "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": [slack.BOT_USER]},
                       "event_ts": "1360782811.000001"},
}  # fmt: skip


async def test_signed_events_the_bridge_does_not_handle_are_acknowledged(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """channel_created, team_join, app_uninstalled, tokens_revoked...: 200 (a 4xx would make
    Slack retry them, and disable the subscription), nothing said, nothing asked, no call
    to Slack (bolt never sees them, so it does not look up the token either)."""
    async with running(sim, fake, tmp_path) as bridge:
        for kind, event in UNHANDLED.items():
            assert (await bridge.event(event)).status_code == 200, kind
        assert fake.calls.count("auth.test") == 1  # the bridge's own, at start
        await bridge.event(slack.dm("still listening?"))
        await fake.wait_posts(1)
        await bridge.idle()
    assert len(fake.posts) == 1
    assert sim.count("POST", "/messages/async") == 1
    assert not any(r.levelno >= logging.WARNING for r in caplog.records), [r.getMessage() for r in caplog.records]


async def test_slackbot_is_ignored_and_empty_addresses_get_a_note(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """Slackbot's DMs are not questions; a bare mention gets help, a file alone the text-only note."""
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("You have a reminder", user="USLACKBOT"))
        await bridge.event(slack.channel_message(f"<@{slack.BOT_USER}>", kind="app_mention"))
        await bridge.event(slack.dm("", subtype="file_share", files=[{"id": "F1", "name": "a.pdf"}]))
        await fake.wait_posts(2)
        await bridge.idle()
    bodies = sorted(p.body for p in fake.posts)
    assert len(bodies) == 2
    assert any(b.startswith("Ask me anything") for b in bodies)
    assert any(b == texts.ONLY_TEXT for b in bodies)
    assert sim.count("POST", "/messages/async") == 0


async def test_a_store_that_cannot_commit_makes_slack_retry(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the database locked by another process, the event gets a 5xx (Slack redelivers), not a 200."""
    import sqlite3

    caplog.set_level(logging.ERROR)
    async with running(sim, fake, tmp_path) as bridge:
        blocker = sqlite3.connect(tmp_path / "bridge.db", isolation_level=None, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            # The bridge waits out a busy database for a while before it gives up.
            response = await bridge.event(slack.dm("are you there?"), event_id="EvLocked", timeout=30)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert response.status_code >= 500
        retried = await bridge.event(slack.dm("are you there?"), event_id="EvLocked", retry=1)
        assert retried.status_code == 200
        await fake.wait_posts(1)


async def test_a_post_slack_took_but_whose_response_was_lost_is_not_repeated(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """Slack stores the answer and answers 500: the retry finds it by its metadata mark instead of posting again."""
    fake.lose_responses = 1
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("only once"))
        await fake.wait_posts(1)
        async with asyncio.timeout(10):
            while "conversations.replies" not in fake.calls:  # the DM's answer is in a thread
                await asyncio.sleep(0.02)
        await bridge.idle()
    (post,) = fake.posts
    assert post.metadata is not None
    assert post.metadata["event_type"] == "raia_bridge_reply"


async def test_blocks_slack_refuses_become_one_plain_message(
    sim: RaiaSimulator, fake: slack.FakeSlack, tmp_path: Path
) -> None:
    """invalid_blocks: the same words are posted once as plain mrkdwn, never section by section."""
    fake.fail("chat.postMessage", "invalid_blocks")
    async with running(sim, fake, tmp_path) as bridge:
        await bridge.event(slack.dm("blocks?"))
        await fake.wait_posts(1)
        await bridge.idle()
    (post,) = fake.posts
    assert post.blocks == []
    assert "*blocks*" in post.text
    assert "Sources" in post.text
