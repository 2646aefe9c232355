"""The fake platforms ``bench/replicas.py`` runs as processes of their own: the test suite's
fake Slack Web API and Telegram Bot API, plus what the benchmark reads from them.

    python bench/replica_fakes.py --serve-slack PORT
    python bench/replica_fakes.py --serve-telegram PORT
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import slack  # noqa: E402
from tests.fakes import telegram as tg  # noqa: E402


def serve_slack(port: int) -> None:
    """The fake Slack Web API of the test suite, plus ``/_bench/state`` (what it was sent) and
    ``/_bench/posts?since=N`` (channel and time of each post from the N-th on)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    fake = slack.FakeSlack()

    async def state(_: Request) -> JSONResponse:
        # An answer is a reply the bridge marked (its key in the message metadata); posts beyond
        # one per reply part would be duplicates.
        marks = [json.dumps(p.metadata["event_payload"], sort_keys=True) if p.metadata else None for p in fake.posts]
        replies = {json.loads(m)["reply"] for m in marks if m} | {i for i, m in enumerate(marks) if m is None}
        duplicates = len(marks) - len({m for m in marks if m}) - marks.count(None)
        return JSONResponse(
            {
                "answers": len(replies),
                "duplicates": duplicates,
                "posts": len(fake.posts),
                "calls": dict(Counter(fake.calls)),
            }
        )

    async def posts(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", 0))
        return JSONResponse([[p.channel, p.at] for p in fake.posts[since:]])

    routes = [Route("/_bench/state", state), Route("/_bench/posts", posts), *fake.app().routes]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")


@dataclass
class TimedTelegram(tg.FakeTelegram):
    """The fake Bot API of the test suite, noting when each message was sent."""

    sent_at: list[float] = field(default_factory=list)

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        result = await super()._m_sendMessage(params)
        self.sent_at.append(time.time())
        return result


def serve_telegram(port: int) -> None:
    """The fake Telegram Bot API, plus ``/_bench/state`` and ``/_bench/posts?since=N`` as for Slack."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    fake = TimedTelegram()

    async def state(request: Request) -> JSONResponse:
        # Private chats are not threaded: a chat's messages from the N-th on (?since=N, this
        # round's start) are its answer, and any beyond the first per chat are duplicates
        # (an answer of several parts would count as such; the simulator's are one part).
        chats = [s.chat_id for s in fake.sent[int(request.query_params.get("since", 0)) :]]
        answers = len(set(chats))
        return JSONResponse(
            {
                "answers": answers,
                "duplicates": len(chats) - answers,
                "posts": len(fake.sent),
                "calls": dict(Counter(fake.calls)),
            }
        )

    async def posts(request: Request) -> JSONResponse:
        since = int(request.query_params.get("since", 0))
        return JSONResponse(
            [[str(s.chat_id), at] for s, at in zip(fake.sent[since:], fake.sent_at[since:], strict=True)]
        )

    routes = [Route("/_bench/state", state), Route("/_bench/posts", posts), *fake.app().routes]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-slack"]:
        serve_slack(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--serve-telegram"]:
        serve_telegram(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
