"""ROUTES_FILE: each agent's learned answer times outlive a restart under its own name."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from adapters.raia.simulator import RaiaSimulator
from bridge.app.routes import load_routes
from bridge.app.runtime import Runtime, open_runtime
from bridge.models import ReplyKind
from bridge.poller import PollSchedule
from tests.conftest import FAST, make_settings, message
from tests.fakes.outbound import RecordingOutbound
from tests.fakes.server import serving
from tests.routes_files import AGENT_KEYS, routes_file, two_agents

BOT = """
[telegram.bot]
token_env = "TG_TOKEN"
agent = "helpdesk"
"""

ENVIRON = AGENT_KEYS | {"TG_TOKEN": "123456:ABC-not-a-real-token"}

# Looks from 0.02 s, 30 % further apart each time: ~10 looks in the 0.8 s an answer takes
# while the pace is unknown; 1 to 3 once the schedule aims just past it.
SCHEDULE = PollSchedule(first=0.02, growth=0.3, cap=0.3)


@asynccontextmanager
async def routed(tmp_path: Path, sims: dict[str, RaiaSimulator], outbound: RecordingOutbound) -> AsyncIterator[Runtime]:
    """Both agents' services started over the one database file, stopped on exit (which
    saves what each learned)."""
    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serving(sim)) for name, sim in sims.items()}
        settings = make_settings(routes_file=routes_file(tmp_path, urls, BOT))
        rt = await stack.enter_async_context(
            open_runtime(
                settings,
                database=tmp_path / "bridge.db",
                config=dataclasses.replace(FAST, poll=SCHEDULE),
                routes=load_routes(settings, ENVIRON),
            )
        )
        for service in rt.services.values():
            service.register(outbound)
            await service.start()
            stack.push_async_callback(service.stop, 2.0)
        yield rt


async def test_a_routed_agent_aims_at_its_answer_times_at_once_after_a_restart(tmp_path: Path) -> None:
    """hr learns its 0.8 s over 20 answers; after a restart (new services over the same
    file) its first questions are looked at just past 0.8 s, not learned again, while
    helpdesk, which learned nothing, starts from the backbone (the two rows are apart)."""
    sims = two_agents(lambda _: 0.8)
    outbound = RecordingOutbound()

    def polls(agent: str, prefix: str) -> list[int]:
        return [int(q.get("polls", 0)) for q in sims[agent].questions.values() if q["text"].startswith(prefix)]

    async def ask(rt: Runtime, agent: str, round_: str, people: int) -> None:
        for i in range(people):
            await rt.services[agent].receive(message(f"{round_} {i}", user=f"{round_}{i}", chat=f"{round_}{i}"))
        await outbound.wait_for(len(outbound.replies) + people)

    async with routed(tmp_path, sims, outbound) as rt:
        await ask(rt, "hr", "first", 20)
    async with routed(tmp_path, sims, outbound) as rt:
        await ask(rt, "hr", "restarted", 5)
        await ask(rt, "helpdesk", "unlearned", 3)
    assert min(polls("hr", "first")) >= 7  # learning: on the backbone
    assert max(polls("hr", "restarted")) <= 3  # just past the 0.8 s learned before the restart
    assert min(polls("helpdesk", "unlearned")) >= 7  # hr's pace is not helpdesk's
    assert all(r.kind is ReplyKind.ANSWER for r in outbound.replies)
