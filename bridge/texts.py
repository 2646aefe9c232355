"""Every text the bridge says to people, in one message catalogue.

The core decides *what* to say (a command's answer, a refusal, why an answer did not
come); the words are here, in English and in the shipped translations (German, French,
Spanish, Portuguese), chosen by the person's language (Telegram's ``language_code``,
Slack's locale). An operator can change any of them per language with ``MESSAGES_FILE``
(``use_overrides``). Short, friendly, no internals: the operator's log has those.

The core holds the neutral words (notices, refusals, the generic help); each platform
brings its own (help, menus, command texts) as a ``Book``, registered by the composition
root (``register``). Every key, the core's and the books', is one flat name an operator's
file can override.

Notices are decided by key (``notice``) and stored so; ``localize`` writes them out in
the person's language, with the operator's texts, when they are delivered.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from bridge.models import InboundMessage, Intent, Reply, ReplyKind, Words
from bridge.translations import SHIPPED

# key -> English text (the core's; each platform's book adds its own). Placeholders:
# {help}, {agent}, {first_name}, and those of the file notes below.
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
    # commands, on a platform without words of its own
    "generic_help": "Send me a question and I will answer it, with sources where I have them. Say reset to start over.",
    "generic_start": "Hi {first_name}! I'm {agent}. {help}",
    "generic_reset": "Done — your next question starts a new conversation. I won't remember what we discussed before.",
    # files sent with a question, left out (placeholders: {name}, {type}, {limit} in MB, {count})
    "file_too_big": "{name} is larger than {limit} MB, so I couldn't pass it on.",
    "file_type": "I can't pass on files like {name} ({type}).",
    "file_too_many": "Only the first {count} files were passed on.",
    "file_failed": "I couldn't fetch {name}, so it was not passed on.",
    "file_refused": "The assistant did not accept {name}.",
    "files_unsupported": "This assistant can't read files, so only your text was passed on.",
    # files the agent made, not sent (placeholders: {name}, {size} such as "63 MB")
    "answer_file_too_big": "📎 {name} ({size}) is too big to send here.",
    "answer_file_failed": "📎 I couldn't send you {name}. Please ask again later.",
    # spoken questions (voice notes, audio clips): what was heard, or why nothing was ({seconds}: the limit)
    "voice_heard": "🎤 I heard: {text}",
    "voice_refused": "🎤 Sorry, I can't listen to voice messages right now. Please type your question.",
    "voice_timeout": "🎤 Sorry, listening to your voice message took too long. Please try again or type it.",
    "voice_too_long": "🎤 Your voice message is longer than {seconds} seconds. Please send a shorter one or type it.",
    "voice_empty": "🎤 I couldn't hear any words in your voice message. Please try again or type it.",
    "voice_failed": "🎤 Sorry, I couldn't listen to your voice message. Please try again or type it.",
    # 👍/👎 under answers
    "feedback_thanks": "Thanks for your feedback!",
    "feedback_comment_thanks": "Thanks — your comment was passed on.",
    "feedback_gone": "This answer can no longer be rated.",
    "feedback_not_yours": "Only the person who asked can rate this answer.",
    "feedback_failed": "Sorry — your feedback could not be recorded. Please try again later.",
    # a person takes over from the agent (placeholders: {staff}, {agent})
    "handover_taken": "{staff} from the support team will answer you here.",
    "handover_taken_anonymous": "Someone from the support team will answer you here.",
    "handover_back": "You're back with {agent}.",
    "handover_asked": "Okay — a person from the support team will take over here shortly.",
    "handover_refused": "Sorry — I couldn't reach a person just now. Please try again in a moment.",
    "handover_nothing_yet": "Ask your question first; then a person from the team can take it over.",
    "handover_already": "A person from the support team already has this conversation; they'll answer you here.",
    "handover_button": "Talk to a person",  # the button under answers (HANDOFF_BUTTON)
    # /stop (Slack's stop button): the person stops waiting for their pending question
    "stopped": "Stopped — I won't answer that question.",
    "nothing_to_stop": "There is no question waiting for an answer.",
}


@dataclass(frozen=True)
class Saying:
    """What the core wants said for a command (start, help or reset), with the values a
    platform's words may use; the platform's ``Book`` picks the words."""

    intent: Intent
    agent: str  # the agent's name, or the fallback name ("the assistant")
    reachable: bool  # False: the agent cannot be reached right now (known at start only)
    first_name: str
    mention: str | None  # how the bot is addressed in a group chat; None in a private one
    human: bool = False  # a person can be asked for (HANDOFF): the help names the command

    def values(self) -> dict[str, str]:
        return {"agent": self.agent, "first_name": self.first_name}


Answering = Callable[[Saying, str], str]  # (what to say, language) -> the text


@dataclass(frozen=True)
class Book:
    """A platform's own words: its texts under keys of its own (English, and the shipped
    translations by language), and how it answers the commands (``answer``; None: the
    core's generic words). ``platform`` is the ``InboundMessage.platform`` it speaks for."""

    platform: str
    english: Mapping[str, str]
    shipped: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    answer: Answering | None = None


_books: dict[str, Book] = {}
_overrides: dict[str, dict[str, str]] = {}


def register(book: Book) -> None:
    """Add a platform's words to the catalogue (again: replaced). Raises ``ValueError`` for
    a key the core or another platform has, or a translation the English does not have."""
    taken = {key: "the core" for key in ENGLISH} | {
        key: other.platform for other in _books.values() if other.platform != book.platform for key in other.english
    }
    for key, text in book.english.items():
        if key in taken:
            raise ValueError(f"{book.platform}: message {key!r} is already {taken[key]}'s")
        if problem := _problem(text):
            raise ValueError(f"{book.platform}: message {key!r} {problem}")
    for language, table in book.shipped.items():
        for key, text in table.items():
            if key not in book.english:
                raise ValueError(f"{book.platform}: [{language}] translates {key!r}, which has no English")
            if problem := _problem(text):
                raise ValueError(f"{book.platform}: [{language}] {key!r} {problem}")
            if not placeholders(text) <= placeholders(book.english[key]):
                raise ValueError(f"{book.platform}: [{language}] {key!r} has a placeholder its English has not")
    global _catalogue
    books = {**_books, book.platform: book}
    _catalogue = _apply(_shipped(books), _overrides)  # an operator's texts applied before stay applied
    _books[book.platform] = book


def _shipped(books: Mapping[str, Book]) -> dict[str, dict[str, str]]:
    """English and the shipped translations: the core's and the books'."""
    tables = {"en": dict(ENGLISH), **{language: dict(table) for language, table in SHIPPED.items()}}
    for book in books.values():
        tables["en"].update(book.english)
        for language, table in book.shipped.items():
            tables.setdefault(language, {}).update(table)
    return tables


_catalogue: dict[str, dict[str, str]] = _shipped(_books)
_by_english = {text: key for key, text in ENGLISH.items()}


def languages() -> list[str]:
    """The languages the catalogue speaks (English first)."""
    return list(_catalogue)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _problem(template: str) -> str | None:
    """Why ``template`` cannot be one of our texts, or None: placeholders are plain names
    (``{agent}``); a format spec (``{first_name:d}``), a conversion (``{agent!r}``), an
    attribute or index (``{agent.x}``, ``{agent[0]}``) or a positional field (``{}``,
    ``{0}``) would fail, or show something odd, only when the text is sent."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return "has an unbalanced { or }"
    for name, spec, conversion in fields:
        written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name.isidentifier():
            return f"uses {written}: a placeholder is a name alone, such as {{agent}} (write {{{{ for a brace)"
        if spec or conversion:
            return f"uses {written}: a placeholder takes no format or conversion, write {{{name}}}"
    return None


def _fill(template: str, values: Mapping[str, str]) -> str:
    """``template.format(**values)`` that cannot fail when a text is sent: a placeholder
    without a value (or one start-up would have refused) stays as written."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, name, spec, conversion in parts:
        out.append(literal)
        if name is None:
            continue
        if name in values and not spec and not conversion:
            out.append(str(values[name]))
        else:
            out.append("{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return "".join(out)


def use_overrides(overrides: Mapping[str, Mapping[str, str]]) -> None:
    """Apply an operator's texts (``MESSAGES_FILE``): {language: {key: text}}, in place of
    any applied before. Books registered later keep them."""
    global _catalogue, _overrides
    _catalogue = merged(overrides)
    _overrides = {language.lower(): dict(texts) for language, texts in overrides.items()}


def merged(overrides: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The shipped catalogue (the core's and the registered books' texts) with ``overrides``
    applied. Raises ``ValueError`` with one line for a bad language, an unknown key or a
    placeholder the text cannot have."""
    return _apply(_shipped(_books), overrides)


def _apply(merged: dict[str, dict[str, str]], overrides: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    english = dict(merged["en"])
    if not isinstance(overrides, Mapping):
        raise ValueError('must hold one table per language, e.g. [de] timeout = "…"')
    for language, texts in overrides.items():
        if not isinstance(texts, Mapping):
            raise ValueError(f"[{language}] must be a table of message = text")
        if not (isinstance(language, str) and language.isalpha() and len(language) == 2):
            raise ValueError(f"[{language}] is not a two-letter language code (en, de, fr, es, pt, ...)")
        for key, text in texts.items():
            if key not in english:
                raise ValueError(f"unknown message {key!r} in [{language}] (known: {', '.join(sorted(english))})")
            if not isinstance(text, str):
                raise ValueError(f"message {key!r} in [{language}] must be text")
            if problem := _problem(text):
                raise ValueError(f"message {key!r} in [{language}] {problem}")
            extra = placeholders(text) - placeholders(english[key])
            if extra:
                raise ValueError(f"message {key!r} in [{language}] uses unknown placeholder {{{sorted(extra)[0]}}}")
            merged.setdefault(language.lower(), {})[key] = text
    return merged


# Where a person's language is in ``PlatformUser.custom_data``: on every message (Telegram's
# ``languageCode``, "de"), or found by a lookup (Slack's users.info ``locale``, "pt-BR").
CARRIED, LOOKED_UP = "languageCode", "locale"


def told_locale(custom_data: Mapping[str, str]) -> str:
    """What the platform told of the person's language, or "" if nothing."""
    return custom_data.get(CARRIED) or custom_data.get(LOOKED_UP) or ""


def language_of(custom_data: Mapping[str, str]) -> str:
    """The person's language from what the platform told (``told_locale``), if the
    catalogue has it; else English."""
    language = told_locale(custom_data).replace("_", "-").split("-")[0].lower()
    return language if language in _catalogue else "en"


def text(key: str, language: str = "en", **values: str) -> str:
    template = _catalogue.get(language, {}).get(key) or _catalogue["en"][key]
    return _fill(template, values)


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


# The shipped English of some texts, for tests and the log (notices are decided by key: ``notice``).
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


def say(
    message: InboundMessage, *, agent: str | None = AGENT_FALLBACK_NAME, language: str = "en", human: bool = False
) -> str:
    """The answer to a message that is not a question for the agent (``agent`` None: it
    cannot be reached right now), in ``language``: a command's in the words of the
    message's platform (its book), or the generic words of a platform without; ``human``:
    a person can be asked for (HANDOFF), so the help says how."""
    if message.intent is Intent.NOT_ALLOWED:
        return text("not_allowed", language)
    if message.intent is Intent.UNSUPPORTED:
        return text("only_text", language)
    if message.intent is Intent.UNKNOWN_COMMAND:
        return text("unknown_command", language)
    name = agent or text("agent_fallback_name", language)
    saying = Saying(message.intent, name, agent is not None, message.user.first_name, message.mention, human)
    book = _books.get(message.platform.split("/", 1)[0])  # telegram/<bot> speaks as telegram
    answer = book.answer if book is not None and book.answer is not None else generic
    return answer(saying, language)


def generic(saying: Saying, language: str) -> str:
    """A command's answer in the core's own words (a platform without a book, or one whose
    book has only texts)."""
    help_text = text("generic_help", language, **saying.values())
    reset = {Intent.RESET: "generic_reset", Intent.NEW_THREAD: "generic_reset"}
    key = {Intent.START: "generic_start", **reset}.get(saying.intent, "generic_help")
    return text(key, language, help=help_text, **saying.values())
