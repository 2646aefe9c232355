"""Every text the bridge itself says to people, in one message catalogue.

The core decides *what* to say (a command's answer, a refusal, why an answer did not
come); the words are here, in English and in the shipped translations (German, French,
Spanish, Portuguese), chosen by the person's language (Telegram's ``language_code``,
Slack's locale). An operator can change any of them per language with ``MESSAGES_FILE``
(``use_overrides``). Short, friendly, no internals: the operator's log has those.

Notices are decided by key (``notice``) and stored so; ``localize`` writes them out in
the person's language, with the operator's texts, when they are delivered.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import replace

from bridge.models import InboundMessage, Intent, Reply, ReplyKind, Words
from bridge.translations import SHIPPED

_DONE = "Done — your next {what} starts a new conversation. I won't remember what we discussed before."
_SLACK_HELP = (
    "Ask me anything: in a direct message just write, in a channel mention me and I answer in a thread "
    "(follow-ups in that thread need no mention). `/raia reset` (or `reset` in a DM) starts a new "
    "conversation; `/raia help` shows this."
)

# key -> English text. Placeholders: {how} (how to address the bot there), {help},
# {agent}, {first_name}, {mention}.
ENGLISH: dict[str, str] = {
    # why an answer did not come (a question's life)
    "timeout": "Sorry — the assistant took too long to answer. Please try again in a moment.",
    "failed": "Sorry — the assistant could not answer that. Please try again, or rephrase.",
    "unavailable": "Sorry — the assistant is not available right now. The team has been notified.",
    "rejected": "Sorry — the assistant could not accept that message.",
    "unreachable": "Sorry — I can't reach the assistant right now. Please try again in a few minutes.",
    "empty_answer": "The assistant returned an empty answer.",
    "interrupted": "Sorry — your question was interrupted before the answer arrived. Please ask it again.",
    # answers to what is not a question
    "not_allowed": "Sorry, this assistant is not available to you. Please contact the team that runs it.",
    "only_text": "Sorry, I can only read text messages for now. Please type your question.",
    "unknown_command": "I don't know that command. Try /help.",
    "agent_fallback_name": "the assistant",
    "sources": "Sources",
    "cut_off": "(the answer was cut off here)",
    # commands, per platform
    "slack_help": _SLACK_HELP,
    "slack_reset": _DONE.format(what="question"),
    "telegram_help": "{how} I answer with sources where I have them.\n\n"
    "/reset — start a new conversation (also /new)\n/help — this message",
    "telegram_start": "Hi {first_name}! I'm {agent}. {how} Use /reset to start over.",
    "telegram_reset": _DONE.format(what="message"),
    "telegram_how_private": "Just send me a message.",
    "telegram_how_group": "Mention me ({mention}) or reply to one of my messages.",
    "console_help": "Type a question and press Enter. Commands: /reset (start a new conversation), /help, /quit.",
    "console_start": "Connected to {agent}. {help}",
    "console_start_unreachable": "The assistant cannot be reached right now; questions you type are kept and "
    "answered when it is back. {help}",
    "console_reset": "Started a new conversation. The assistant will not remember earlier messages.",
    "generic_help": "Send me a question and I will answer it, with sources where I have them. Say reset to start over.",
    "generic_start": "Hi {first_name}! I'm {agent}. {help}",
    "generic_reset": _DONE.format(what="question"),
    # Telegram's bot description (an empty chat) and short description (the bot's profile)
    "telegram_description": "I'm {agent}. Ask me anything in your own words: I answer with sources where I have "
    "them. /reset starts a new conversation.",
    "telegram_short_description": "{agent}: ask me anything.",
    # files sent with a question, left out (placeholders: {name}, {type}, {limit} in MB, {count})
    "file_too_big": "{name} is larger than {limit} MB, so I couldn't pass it on.",
    "file_type": "I can't pass on files like {name} ({type}).",
    "file_too_many": "Only the first {count} files were passed on.",
    "file_failed": "I couldn't fetch {name}, so it was not passed on.",
    "file_refused": "The assistant did not accept {name}.",
    "files_unsupported": "This assistant can't read files, so only your text was passed on.",
    # 👍/👎 under answers
    "feedback_thanks": "Thanks for your feedback!",
    "feedback_comment_thanks": "Thanks — your comment was passed on.",
    "feedback_gone": "This answer can no longer be rated.",
    "feedback_not_yours": "Only the person who asked can rate this answer.",
    "feedback_failed": "Sorry — your feedback could not be recorded. Please try again later.",
    "feedback_prompt": "Sorry this didn't help. What was missing or wrong? Reply to this message to tell us "
    "(optional).",
    "feedback_modal_title": "Your feedback",
    "feedback_modal_label": "What was missing or wrong? (optional)",
    "feedback_modal_submit": "Send",
    # Telegram's command menu
    "command_start": "Say hello and see how to use me",
    "command_help": "How to use this bot",
    "command_reset": "Start a new conversation",
    "command_new": "Start a new conversation (same as /reset)",
}

_catalogue: dict[str, dict[str, str]] = {"en": dict(ENGLISH), **{k: dict(v) for k, v in SHIPPED.items()}}
_by_english = {text: key for key, text in ENGLISH.items()}


def languages() -> list[str]:
    """The languages the catalogue speaks (English first)."""
    return list(_catalogue)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def use_overrides(overrides: Mapping[str, Mapping[str, str]]) -> None:
    """Apply an operator's texts (``MESSAGES_FILE``): {language: {key: text}}, over the
    shipped ones (an empty mapping puts those back)."""
    global _catalogue
    _catalogue = merged(overrides)


def merged(overrides: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The catalogue with ``overrides`` applied. Raises ``ValueError`` with one line for a
    bad language, an unknown key or a placeholder the text cannot have."""
    merged = {"en": dict(ENGLISH), **{lang: dict(texts) for lang, texts in SHIPPED.items()}}
    if not isinstance(overrides, Mapping):
        raise ValueError('must hold one table per language, e.g. [de] timeout = "…"')
    for language, texts in overrides.items():
        if not isinstance(texts, Mapping):
            raise ValueError(f"[{language}] must be a table of message = text")
        if not (isinstance(language, str) and language.isalpha() and len(language) == 2):
            raise ValueError(f"[{language}] is not a two-letter language code (en, de, fr, es, pt, ...)")
        for key, text in texts.items():
            if key not in ENGLISH:
                raise ValueError(f"unknown message {key!r} in [{language}] (known: {', '.join(sorted(ENGLISH))})")
            if not isinstance(text, str):
                raise ValueError(f"message {key!r} in [{language}] must be text")
            try:
                extra = placeholders(text) - placeholders(ENGLISH[key])
            except ValueError:
                raise ValueError(f"message {key!r} in [{language}] has an unbalanced {{ or }}") from None
            if extra:
                raise ValueError(f"message {key!r} in [{language}] uses unknown placeholder {{{sorted(extra)[0]}}}")
            merged.setdefault(language.lower(), {})[key] = text
    return merged


def language_of(custom_data: Mapping[str, str]) -> str:
    """The person's language from what the platform told (Telegram ``languageCode`` such
    as "de", Slack ``locale`` such as "pt-BR"), if the catalogue has it; else English."""
    raw = custom_data.get("languageCode") or custom_data.get("locale") or ""
    language = raw.replace("_", "-").split("-")[0].lower()
    return language if language in _catalogue else "en"


def text(key: str, language: str = "en", **values: str) -> str:
    template = _catalogue.get(language, {}).get(key) or _catalogue["en"][key]
    return template.format(**values) if values else template


def notice(key: str, **values: str) -> Reply:
    """A notice of the bridge's own, stored by its key and written out in the person's
    language at delivery (``localize``); its ``text`` is the shipped English, for logs."""
    return Reply(ENGLISH[key].format(**values), ReplyKind.NOTICE, words=(Words(key, tuple(values.items())),))


def noted(reply: Reply, notes: tuple[Words, ...]) -> Reply:
    """``reply`` with the bridge's ``notes`` before it (files that were left out)."""
    return replace(reply, words=reply.words + notes) if notes else reply


def localize(reply: Reply, language: str) -> Reply:
    """The reply for a person speaking ``language``, with the operator's texts: a notice in
    their words; an answer (the agent's words) as it is, after any notes of the bridge's
    own, with its "Sources" heading and cut-off note in their language (``Reply.language``,
    read by the renderers)."""
    words = reply.words
    if not words and reply.kind is ReplyKind.NOTICE and reply.text in _by_english:
        words = (Words(_by_english[reply.text]),)  # stored before notices were kept by key
    if words:
        lines = "\n".join(text(w.key, language, **dict(w.values)) for w in words)
        before_answer = reply.kind is ReplyKind.ANSWER and reply.text
        reply = replace(reply, text=f"{lines}\n\n{reply.text}" if before_answer else lines, words=())
    return replace(reply, language=language) if reply.language != language else reply


# English constants: where a notice is decided (stored in English, localized at delivery).
TIMEOUT = ENGLISH["timeout"]
FAILED = ENGLISH["failed"]
UNAVAILABLE = ENGLISH["unavailable"]
REJECTED = ENGLISH["rejected"]
UNREACHABLE = ENGLISH["unreachable"]
EMPTY_ANSWER = ENGLISH["empty_answer"]
INTERRUPTED = ENGLISH["interrupted"]
NOT_ALLOWED = ENGLISH["not_allowed"]
ONLY_TEXT = ENGLISH["only_text"]
UNKNOWN_COMMAND = ENGLISH["unknown_command"]
AGENT_FALLBACK_NAME = ENGLISH["agent_fallback_name"]

_BOOKS = {"slack": "slack", "telegram": "telegram", "console": "console"}


def say(message: InboundMessage, *, agent: str | None = AGENT_FALLBACK_NAME, language: str = "en") -> str:
    """The answer to a message that is not a question for the agent (``agent`` None: it
    cannot be reached right now), in ``language``."""
    if message.intent is Intent.NOT_ALLOWED:
        return text("not_allowed", language)
    if message.intent is Intent.UNSUPPORTED:
        return text("only_text", language)
    if message.intent is Intent.UNKNOWN_COMMAND:
        return text("unknown_command", language)
    book = _BOOKS.get(message.platform, "generic")

    def own(key: str) -> str | None:
        full = f"{book}_{key}"
        return full if full in ENGLISH else None

    how = ""
    if book == "telegram":
        how = (
            text("telegram_how_private", language)
            if message.mention is None
            else text("telegram_how_group", language, mention=message.mention)
        )
    start = own("start") or "slack_help"
    if agent is None and own("start_unreachable"):
        start = f"{book}_start_unreachable"
    help_key = own("help") or "generic_help"
    key = {Intent.START: start, Intent.RESET: own("reset") or "generic_reset"}.get(message.intent, help_key)
    name = agent or text("agent_fallback_name", language)
    values = {"how": how, "agent": name, "first_name": message.user.first_name}
    help_text = text(help_key, language, **values)
    return text(key, language, help=help_text, **values)
