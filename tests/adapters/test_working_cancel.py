"""A lane stopped while the platform's "working…" indicator starts or stops (its lease could
not be proven, a shutdown) ends there: the indicator never swallows the lane's own
cancellation, so the answer is not posted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.base import Allowlist
from adapters.slack.outbound import SlackOutbound
from adapters.telegram.config import TelegramConfig
from adapters.telegram.platform import TelegramPlatform
from bridge.delivery import Unstored
from bridge.models import Origin, Reply
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving


async def test_a_lane_cancelled_while_telegrams_typing_stops_ends_without_a_post() -> None:
    """The answer is there: the lane stops "typing…" and waits for the indicator to end,
    and is cancelled just then. The cancellation reaches the lane: nothing is posted."""
    fake = tg.FakeTelegram()
    async with serving(fake.app()) as api:
        config = TelegramConfig(SecretStr(tg.TOKEN), f"{api}/bot", None, None, Allowlist())
        platform = TelegramPlatform(config)
        await platform.app.initialize()
        try:
            origin = Origin(chat="1001")
            answered = asyncio.Event()

            async def lane() -> None:
                async with platform.outbound.working(origin):
                    await answered.wait()  # the agent's answer arrives
                await platform.outbound.deliver(origin, Reply("the answer"), Unstored())

            task = asyncio.create_task(lane())
            async with asyncio.timeout(5):
                while not fake.actions:  # "typing…" is shown
                    await asyncio.sleep(0.01)
            typing = next(t for t in asyncio.all_tasks() if t.get_name() == "typing-1001")
            answered.set()
            async with asyncio.timeout(5):
                while not typing.cancelling():  # the lane has stopped the indicator and waits for it
                    await asyncio.sleep(0)
            assert not typing.done()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        finally:
            await platform.app.shutdown()
    assert fake.sent == []


class _StatusAnsweredAsTheLaneStops(AsyncWebClient):
    """slack_sdk's client whose "is thinking…" call succeeds while the lane that made it is
    cancelled, in the same moment; everything else goes to the fake Slack."""

    lane: asyncio.Task[None] | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        if api_method != "assistant.threads.setStatus":
            return await super().api_call(api_method, **kwargs)
        if (kwargs.get("json") or {}).get("status") and self.lane is not None:
            asyncio.get_running_loop().call_soon(self.lane.cancel)
            await asyncio.sleep(0)  # Slack's answer is read while the cancellation comes
        return AsyncSlackResponse(
            client=self, http_verb="POST", api_url="", req_args={}, data={"ok": True}, headers={}, status_code=200
        )


async def test_a_lane_cancelled_while_slack_shows_thinking_ends_without_a_post() -> None:
    """The lane is cancelled just as Slack confirms "is thinking…": the cancellation reaches
    the lane (Python 3.11's wait_for would drop it), nothing is posted."""
    fake = slack.FakeSlack()
    async with serving(fake.app()) as api:
        client = _StatusAnsweredAsTheLaneStops(token=slack.BOT_TOKEN, base_url=f"{api}/api/")
        outbound = SlackOutbound(client, f"{api}/api/")
        origin = Origin(chat="D0001", thread="1700000000.000100", extra={"direct": "1"})

        async def lane() -> None:
            async with outbound.working(origin):
                pass  # the answer was already there
            await outbound.deliver(origin, Reply("the answer"), Unstored())

        task = client.lane = asyncio.create_task(lane())
        with pytest.raises(asyncio.CancelledError):
            await task
    assert fake.posts == []
