"""What the core does with each message an adapter hands in (``Inbox.receive``).

A question is recorded durably (de-duplicated by the message's keys in the same
transaction) and its conversation's lane is woken; only then does ``receive`` return,
so the platform's acknowledgement always follows the commit. Everything else, commands
and refusals, is answered once (the same keys guard it): the keys and any reset are
committed before ``receive`` returns, the notice itself is posted in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from bridge import texts
from bridge.delivery import Unstored
from bridge.errors import AgentError, StoreError
from bridge.languages import with_kept_locale
from bridge.models import InboundMessage, Intent, Reply, ReplyKind
from bridge.ports.feedback import Comments
from bridge.ports.inbox import Receipt, Respond
from bridge.ports.outbound import Outbound
from bridge.ports.store import StoppedQuestion, StorePort
from bridge.takeover import PRESS_WINDOW, HandoverDesk
from bridge.tasks import Spawn

log = logging.getLogger(__name__)


class Intake:
    """The core's side of ``Inbox.receive``: questions to the store and their lane,
    everything else answered at once."""

    def __init__(
        self,
        store: StorePort,
        outbounds: Mapping[str, Outbound],
        *,
        dedupe_ttl: float,
        wake: Callable[[int], None],
        agent_name: Callable[[], Awaitable[str | None]],  # None: the agent cannot be reached
        spawn: Spawn,
        scope: str = "user",
        files: bool = False,
        hears: bool = False,
        comments: Comments | None = None,
        handover: HandoverDesk | None = None,
        stopped: Callable[[list[StoppedQuestion]], None] = lambda _: None,
        agent: str = "",
    ) -> None:
        self._agent = agent  # ROUTES_FILE: the agent's name, part of its conversations' identity
        self._store = store
        self._stopped = stopped  # tells the lanes asking them (/stop)
        self._handover = handover  # HANDOFF: a person can be asked for
        self._comments = comments  # 👍/👎 recorded (FEEDBACK): a reply to a 👎 prompt is a comment
        self._files = files  # files go to the agent (FILES, and an agent API that takes them)
        self._hears = hears  # recordings are transcribed (TRANSCRIBE_URL), whatever FILES says
        self._scope = scope
        self._outbounds = outbounds
        self._ttl = dedupe_ttl
        self._wake = wake
        self._agent_name = agent_name
        self._spawn = spawn
        # Threads with a question being committed right now: a follow-up in the same
        # thread waits for those before it decides the person never asked there.
        self._recording: dict[tuple[str, str, str], int] = {}
        self._recorded = asyncio.Condition()

    async def receive(self, message: InboundMessage, respond: Respond | None) -> Receipt:
        if message.agent != self._agent:
            message = replace(message, agent=self._agent)
        if self._scope == "thread" or (message.thread_conversation and message.origin.thread is not None):
            message = replace(message, conversation_key=thread_key(message))
        if not message.addressed and message.album is not None and not self._files:
            return Receipt.IGNORED  # another photo of an album: nothing to join it to
        heard = tuple(a for a in message.attachments if a.spoken) if self._hears else ()
        if message.attachments and not self._files and len(heard) < len(message.attachments):
            # Files the agent cannot get: the words (and recordings, to be heard) still go; a
            # file alone gets "text only".
            unsupported = message.intent is Intent.ASK and not message.text.strip() and not heard
            message = replace(message, attachments=heard, intent=Intent.UNSUPPORTED if unsupported else message.intent)
            if message.intent is Intent.ASK:
                receipt = await self._question(message)
                if receipt is Receipt.ACCEPTED:
                    note = texts.text("files_unsupported", texts.language_of(message.user.custom_data))
                    self._spawn(self._notify(message, note), name=f"notice-{message.platform}-{message.origin.chat}")
                return receipt
        if message.intent is Intent.HUMAN and self._handover is None:
            if message.pressed:
                return Receipt.IGNORED  # a button left from before HANDOFF=off
            # HANDOFF=off: no such command; in a Slack DM the word is a question like any other.
            word = message.text.strip() and not message.text.startswith("/")
            intent = Intent.ASK if word else Intent.UNKNOWN_COMMAND
            message = replace(message, intent=Intent.HELP if respond is not None else intent)
        if message.intent is Intent.ASK:
            if message.replies_to is not None and await self._is_comment(message, message.replies_to):
                return Receipt.HANDLED
            return await self._question(message)
        if not await self._store.first_sighting(message.dedupe_keys, self._ttl):
            return Receipt.DUPLICATE
        message = await with_kept_locale(self._store, message)  # answered in their language
        if message.intent is Intent.RESET:
            await self._store.end_conversation(message.scope_key)
        if message.intent is Intent.STOP:
            return await self._stop(message, respond)
        if message.intent is Intent.HUMAN and self._handover is not None:
            if message.pressed and not await self._first_press(message):
                return Receipt.DUPLICATE
            await self._ask_for_a_person(self._handover, message, respond)
            return Receipt.HANDLED
        if respond is not None:  # answered in the acknowledgement itself
            await respond(await self._notice(message))
        else:
            self._spawn(self._notify(message), name=f"notice-{message.platform}-{message.origin.chat}")
        return Receipt.HANDLED

    async def _first_press(self, message: InboundMessage) -> bool:
        """The first press of "Talk to a person" in this conversation within PRESS_WINDOW:
        claimed in the store, so replicas and concurrent presses agree on the one."""
        key = f"{message.platform}:person-pressed:{message.scope_key}"
        if await self._store.first_sighting((key,), PRESS_WINDOW):
            return True
        log.info("%s chat=%s a person was asked for a moment ago; press counted once", message.platform,
                 message.origin.chat)  # fmt: skip
        return False

    async def _stop(self, message: InboundMessage, respond: Respond | None) -> Receipt:
        """``/stop`` (Slack's stop button): the person's questions still waiting for the
        agent where they wrote (that thread only, if the message names one) are stopped,
        durably, before the acknowledgement; one line says so."""
        origin = message.origin
        stopped = await self._store.stop_questions(message.platform, message.user.fk_id, origin.chat, origin.thread)
        self._stopped(stopped)
        if stopped:
            log.info("%s chat=%s %d question(s) stopped by the person", message.platform, origin.chat, len(stopped))
        language = texts.language_of(message.user.custom_data)
        line = texts.text("stopped" if stopped else "nothing_to_stop", language)
        if respond is not None:
            await respond(Reply(line, ReplyKind.NOTICE, language=language))
        else:
            self._spawn(self._notify(message, line), name=f"notice-{message.platform}-{origin.chat}")
        return Receipt.STOPPED if stopped else Receipt.HANDLED

    async def _ask_for_a_person(self, desk: HandoverDesk, message: InboundMessage, respond: Respond | None) -> None:
        """``/human``: the conversation goes to staff; the person gets one line. Answered in
        the acknowledgement where the platform wants it (a Slack slash command, within 3 s)."""
        language = texts.language_of(message.user.custom_data)
        work = self._spawn(
            self._hand_over(desk, message, tell=respond is None), name=f"human-{message.platform}-{message.origin.chat}"
        )
        if respond is None:
            return
        assert isinstance(work, asyncio.Task)
        try:
            key = await asyncio.wait_for(asyncio.shield(work), timeout=2.5)
        except TimeoutError:
            key = "handover_asked"  # still on its way
        await respond(Reply(texts.text(key, language), ReplyKind.NOTICE, language=language))

    async def _hand_over(self, desk: HandoverDesk, message: InboundMessage, *, tell: bool) -> str:
        """Ask the agent for a person; the key of what to say (said here when ``tell``)."""
        try:
            conversation = await self._store.current_conversation(message.scope_key)
            if conversation is None or not conversation.agent_conversation_id:
                key = "handover_nothing_yet"
            else:
                key = await desk.hand_over(conversation.id)
        except (AgentError, StoreError) as exc:
            log.warning("%s chat=%s a person could not be asked for: %s", message.platform, message.origin.chat, exc)
            key = "handover_refused"
        if tell:
            await self._notify(message, texts.text(key, texts.language_of(message.user.custom_data)))
        return key

    async def _notice(self, message: InboundMessage) -> Reply:
        agent = await self._agent_name() if message.intent is Intent.START else None
        language = texts.language_of(message.user.custom_data)
        if agent is None and message.intent is not Intent.START:
            agent = texts.text("agent_fallback_name", language)
        said = texts.say(message, agent=agent, language=language, human=self._handover is not None)
        return Reply(said, ReplyKind.NOTICE, language=language)

    async def _question(self, message: InboundMessage) -> Receipt:
        text = message.text.strip()
        if not text and not message.attachments:
            return Receipt.EMPTY
        # An album's other photos join the question its addressed one started (the store
        # takes them only then); other unaddressed talk counts only in a thread this person
        # asked in.
        joining = not message.addressed and message.album is not None
        if not message.addressed and not joining and not await self._asked_in_thread(message):
            return Receipt.IGNORED  # someone else's thread talk: they need to mention the bot
        thread = _thread_of(message)
        if thread is not None:
            self._recording[thread] = self._recording.get(thread, 0) + 1
        try:
            record = await self._store.record_question(replace(message, text=text), self._ttl)
        finally:
            if thread is not None:
                await self._done_recording(thread)
        if record is None:
            return Receipt.IGNORED if joining else Receipt.DUPLICATE
        self._wake(record.conversation_id)
        return Receipt.ACCEPTED

    async def _is_comment(self, message: InboundMessage, prompt: str) -> bool:
        """Whether ``message`` answers this person's prompt for a comment after 👎. If so it is
        recorded at the agent in the background (which may take seconds), so the platform's
        acknowledgement goes out at once, as for votes; someone else's prompt (a group)
        makes it an ordinary message."""
        if self._comments is None or not await self._comments.asked_for_comment(message.user.fk_id, prompt):
            return False
        self._spawn(self._comment(self._comments, message, prompt), name=f"comment-{message.platform}")
        return True

    async def _comment(self, comments: Comments, message: InboundMessage, prompt: str) -> None:
        language = texts.language_of(message.user.custom_data)
        fk_id, text, keys = message.user.fk_id, message.text, message.dedupe_keys
        result = await comments.comment_on(message.platform, fk_id, prompt, text, keys, language)
        if result is not None and result.note:
            await self._notify(message, result.note)

    async def _done_recording(self, thread: tuple[str, str, str]) -> None:
        left = self._recording.pop(thread) - 1
        if left:
            self._recording[thread] = left
        async with self._recorded:
            self._recorded.notify_all()

    async def _asked_in_thread(self, message: InboundMessage) -> bool:
        """Whether this person already asked in the message's thread (a follow-up
        there needs no new mention)."""
        origin = message.origin
        thread = _thread_of(message)
        if origin.thread is None or thread is None:
            return False
        if thread in self._recording:  # the mention that opened it may be committing now
            async with self._recorded:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._recorded.wait_for(lambda: thread not in self._recording), 5)
        return await self._store.answered_in_thread(message.platform, message.user.fk_id, origin.chat, origin.thread)

    async def _notify(self, message: InboundMessage, text: str | None = None) -> None:
        """A notice is best effort: logged, never raised (the event is acknowledged)."""
        outbound = self._outbounds.get(message.platform)
        if outbound is None:
            log.warning("no outbound for platform %s; notice dropped", message.platform)
            return
        try:
            notice = await self._notice(message) if text is None else Reply(text, ReplyKind.NOTICE)
            await outbound.deliver(message.origin, notice, Unstored())
        except Exception as exc:
            log.warning("%s chat=%s could not send a notice: %s", message.platform, message.origin.chat, exc)


def _thread_of(message: InboundMessage) -> tuple[str, str, str] | None:
    origin = message.origin
    return (message.platform, origin.chat, origin.thread) if origin.thread is not None else None


def thread_key(message: InboundMessage) -> str:
    """The conversation of a thread (CONVERSATION_SCOPE=thread): a Slack thread or DM, a
    Telegram chat or forum topic, whoever writes in it."""
    origin = message.origin
    return f"{message.platform}:{origin.extra.get('team', '')}:{origin.chat}:{origin.thread or ''}"
