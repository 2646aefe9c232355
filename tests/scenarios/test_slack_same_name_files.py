"""An answer with two files of the same name (two exports both called ``report.csv``), the
second one's completion failing on Slack's side (a 500: it may or may not have shared
it). The retry looks in the thread for the file by name: it must not take the first file
for the second (which would then never be posted: lost), nor post either twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from adapters.raia.demo_agent import MadeFile, SimAnswer
from adapters.raia.simulator import RaiaSimulator
from tests import waiting
from tests.conftest import API_KEY
from tests.fakes import slack
from tests.scenarios.test_slack import running


class FailsTheSecondCompletion(slack.FakeSlack):
    """Slack whose completion of the second file fails once with a 500, before sharing it
    (``lost``: after sharing it, its response lost)."""

    def __init__(self, *, lost: bool) -> None:
        super().__init__()
        self._lost, self._armed = lost, True

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["method"] == "files.completeUploadExternal" and len(self.shared()) == 1 and self._armed:
            self._armed = False
            if self._lost:
                self.lose_completes = 1
            else:
                self.fail("files.completeUploadExternal", "internal_error", status=500)
        return await super()._handle(request)


@pytest.mark.parametrize("lost", [False, True], ids=["failed before sharing", "response lost after sharing"])
async def test_the_second_file_of_the_same_name_is_posted_once(lost: bool, tmp_path: Path) -> None:
    made = [MadeFile("report.csv", "text/csv", b"first\n"), MadeFile("report.csv", "text/csv", b"second\n")]
    sim = RaiaSimulator(api_key=API_KEY, delay=lambda _: 0.05, answer=lambda _: SimAnswer("Two reports.", made=made))
    fake = FailsTheSecondCompletion(lost=lost)
    async with running(sim, fake, tmp_path) as bridge:
        event = slack.channel_message(f"<@{slack.BOT_USER}> both reports", kind="app_mention", ts="1700000000.000300")
        await bridge.event(event)
        await waiting.until(lambda: len(fake.shared()) >= 2)
        await bridge.idle()
    shared = [fake.uploads[f["id"]]["data"] for _, f in fake.shared()]
    assert shared == [b"first\n", b"second\n"]
    assert [f["name"] for _, f in fake.shared()] == ["report.csv", "report (2).csv"]
