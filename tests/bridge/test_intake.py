"""The one way in: what the core does with each kind of message."""

from __future__ import annotations

from dataclasses import replace

from adapters.raia.simulator import RaiaSimulator
from bridge import texts
from bridge.app.runtime import Runtime
from bridge.models import InboundMessage, Intent, Origin, PlatformUser, Reply, ReplyKind
from bridge.ports.inbox import Receipt
from tests import waiting
from tests.conftest import message
from tests.fakes.outbound import RecordingOutbound


def command(intent: Intent, *, keys: tuple[str, ...] = ("cmd-1",), platform: str = "test") -> InboundMessage:
    return replace(message("/x", keys=keys, platform=platform), text="", intent=intent)


async def test_a_command_is_answered_once_by_its_keys(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """A redelivered command (same event keys) is not answered twice, and never reaches raia."""
    assert await runtime.service.receive(command(Intent.HELP)) is Receipt.HANDLED
    assert await runtime.service.receive(command(Intent.HELP)) is Receipt.DUPLICATE
    await outbound.wait_for(1)
    await waiting.idle(runtime)  # the notice tasks done: a second notice, if any, is posted by now
    (reply,) = outbound.replies
    assert reply.kind is ReplyKind.NOTICE
    assert reply.text == texts.say(command(Intent.HELP))
    assert sim.calls == []


async def test_refusal_and_unsupported_are_notices(runtime: Runtime, outbound: RecordingOutbound) -> None:
    """Allowlist refusals and unreadable messages get their fixed texts."""
    await runtime.service.receive(command(Intent.NOT_ALLOWED, keys=("a",)))
    await runtime.service.receive(command(Intent.UNSUPPORTED, keys=("b",)))
    await outbound.wait_for(2)
    assert sorted(r.text for r in outbound.replies) == sorted([texts.NOT_ALLOWED, texts.ONLY_TEXT])


async def test_start_names_the_agent_and_respond_replaces_the_outbound(
    runtime: Runtime, outbound: RecordingOutbound
) -> None:
    """/start greets with the agent's name from raia; a ``respond`` callback gets the reply instead of a post."""
    got: list[Reply] = []

    async def respond(reply: Reply) -> None:
        got.append(reply)

    start = replace(command(Intent.START, platform="telegram"), user=PlatformUser("telegram:1", "Zoë"))
    assert await runtime.service.receive(start, respond=respond) is Receipt.HANDLED
    assert outbound.replies == []
    assert got[0].text == "Hi Zoë! I'm Ada (demo agent). Just send me a message. Use /reset to start over."


async def test_group_help_says_how_to_address_the_bot() -> None:
    """In a group the help text names the bot's mention; in private it does not."""
    group = replace(command(Intent.HELP, platform="telegram"), mention="@raia_bot")
    assert texts.say(group).startswith("Mention me (@raia_bot) or reply to one of my messages.")
    assert texts.say(replace(group, mention=None)).startswith("Just send me a message.")


async def test_thread_talk_is_ignored_until_the_person_asked_there(
    runtime: Runtime, outbound: RecordingOutbound
) -> None:
    """An unaddressed thread reply is a question only after this person asked in that thread."""
    thread = Origin(chat="C1", thread="100.1", message="100.2")
    follow_up = replace(message("and then?", keys=("f1",)), origin=thread, addressed=False)
    assert await runtime.service.receive(follow_up) is Receipt.IGNORED
    first = replace(message("how?", keys=("q1",)), origin=thread)
    assert await runtime.service.receive(first) is Receipt.ACCEPTED
    await outbound.wait_for(1)
    assert await runtime.service.receive(replace(follow_up, dedupe_keys=("f2",))) is Receipt.ACCEPTED
    await outbound.wait_for(2)


async def test_the_platform_names_the_person_before_the_question_is_stored(
    runtime: Runtime, sim: RaiaSimulator, outbound: RecordingOutbound
) -> None:
    """``Outbound.profile`` supplies the names raia's user is created with."""
    outbound.names["test:u1"] = ("Grace", "Hopper")
    await runtime.service.receive(message("hello", first="U123", last=None))
    await outbound.wait_for(1)
    (user,) = sim.users.values()
    assert (user["firstName"], user["lastName"]) == ("Grace", "Hopper")


async def test_the_terminal_does_not_claim_a_connection_it_does_not_have() -> None:
    """While raia cannot be reached, the terminal's greeting says so instead of "Connected to"."""
    start = replace(command(Intent.START, platform="console"), user=PlatformUser("console:me", "me"))
    assert texts.say(start, agent="Ada").startswith("Connected to Ada.")
    assert texts.say(start, agent=None).startswith("The assistant cannot be reached right now")
