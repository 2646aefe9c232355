"""Every text the bridge itself says to people, in one place.

The core decides *what* to say (a command's answer, a refusal, why an answer did not
come); the wording for each platform lives here, so adapters never write to people on
their own. Short, friendly, no internals: the operator's log has those.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.models import InboundMessage, Intent

# -- why an answer did not come (a question's life, ``bridge.question``) ----------------
TIMEOUT = "Sorry — the assistant took too long to answer. Please try again in a moment."
FAILED = "Sorry — the assistant could not answer that. Please try again, or rephrase."
UNAVAILABLE = "Sorry — the assistant is not available right now. The team has been notified."
REJECTED = "Sorry — the assistant could not accept that message."
UNREACHABLE = "Sorry — I can't reach the assistant right now. Please try again in a few minutes."
EMPTY_ANSWER = "The assistant returned an empty answer."
INTERRUPTED = "Sorry — your question was interrupted before the answer arrived. Please ask it again."

# -- answers to what is not a question ---------------------------------------------------
NOT_ALLOWED = "Sorry, this assistant is not available to you. Please contact the team that runs it."
ONLY_TEXT = "Sorry, I can only read text messages for now. Please type your question."
UNKNOWN_COMMAND = "I don't know that command. Try /help."
AGENT_FALLBACK_NAME = "the assistant"


@dataclass(frozen=True)
class Phrasebook:
    """One platform's words for the commands. Placeholders: ``{how}`` (how to address
    the bot where the person wrote), ``{help}``, ``{agent}``, ``{first_name}``."""

    help: str
    start: str
    reset: str
    how_private: str = ""
    how_group: str = ""  # also ``{mention}``
    start_unreachable: str = ""  # the greeting while the agent cannot be reached, if it differs


_SLACK_HELP = (
    "Ask me anything: in a direct message just write, in a channel mention me and I answer in a thread "
    "(follow-ups in that thread need no mention). `/raia reset` (or `reset` in a DM) starts a new "
    "conversation; `/raia help` shows this."
)
_DONE = "Done — your next {what} starts a new conversation. I won't remember what we discussed before."

PHRASEBOOKS: dict[str, Phrasebook] = {
    "slack": Phrasebook(help=_SLACK_HELP, start=_SLACK_HELP, reset=_DONE.format(what="question")),
    "telegram": Phrasebook(
        help=(
            "{how} I answer with sources where I have them.\n\n"
            "/reset — start a new conversation (also /new)\n/help — this message"
        ),
        start="Hi {first_name}! I'm {agent}. {how} Use /reset to start over.",
        reset=_DONE.format(what="message"),
        how_private="Just send me a message.",
        how_group="Mention me ({mention}) or reply to one of my messages.",
    ),
    "console": Phrasebook(
        help="Type a question and press Enter. Commands: /reset (start a new conversation), /help, /quit.",
        start="Connected to {agent}. {help}",
        start_unreachable=(
            "The assistant cannot be reached right now; questions you type are kept and answered "
            "when it is back. {help}"
        ),
        reset="Started a new conversation. The assistant will not remember earlier messages.",
    ),
}
_GENERIC = Phrasebook(
    help="Send me a question and I will answer it, with sources where I have them. Say reset to start over.",
    start="Hi {first_name}! I'm {agent}. {help}",
    reset=_DONE.format(what="question"),
)


def say(message: InboundMessage, *, agent: str | None = AGENT_FALLBACK_NAME) -> str:
    """The answer to a message that is not a question for the agent (``agent`` None: it
    cannot be reached right now)."""
    if message.intent is Intent.NOT_ALLOWED:
        return NOT_ALLOWED
    if message.intent is Intent.UNSUPPORTED:
        return ONLY_TEXT
    if message.intent is Intent.UNKNOWN_COMMAND:
        return UNKNOWN_COMMAND
    book = PHRASEBOOKS.get(message.platform, _GENERIC)
    how = book.how_private if message.mention is None else book.how_group.format(mention=message.mention)
    start = book.start_unreachable if agent is None and book.start_unreachable else book.start
    template = {Intent.START: start, Intent.RESET: book.reset}.get(message.intent, book.help)
    values = {"how": how, "agent": agent or AGENT_FALLBACK_NAME, "first_name": message.user.first_name}
    return template.format(help=book.help.format(**values), **values)
