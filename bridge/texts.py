"""Every text the bridge itself says to people, in one message catalogue.

The core decides *what* to say (a command's answer, a refusal, why an answer did not
come); the words are here, in English and in the shipped translations (German, French,
Spanish, Portuguese), chosen by the person's language (Telegram's ``language_code``,
Slack's locale). An operator can change any of them per language with ``MESSAGES_FILE``
(``use_overrides``). Short, friendly, no internals: the operator's log has those.

Notices are created in English where they are decided (and stored so); ``localize``
turns them into the person's language when they are delivered.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import replace

from bridge.models import InboundMessage, Intent, Reply, ReplyKind

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
    # Telegram's command menu
    "command_start": "Say hello and see how to use me",
    "command_help": "How to use this bot",
    "command_reset": "Start a new conversation",
    "command_new": "Start a new conversation (same as /reset)",
}

SHIPPED: dict[str, dict[str, str]] = {
    "de": {
        "telegram_description": "Ich bin {agent}. Frag mich alles in deinen eigenen Worten: Ich antworte mit "
        "Quellen, wo ich welche habe. /reset beginnt ein neues Gespräch.",
        "telegram_short_description": "{agent}: frag mich alles.",
        "command_start": "Hallo sagen und sehen, wie ich funktioniere",
        "command_help": "So benutzt du diesen Bot",
        "command_reset": "Ein neues Gespräch beginnen",
        "command_new": "Ein neues Gespräch beginnen (wie /reset)",
        "timeout": "Entschuldigung — der Assistent hat zu lange gebraucht. Bitte versuche es gleich noch einmal.",
        "failed": "Entschuldigung — der Assistent konnte das nicht beantworten. Bitte versuche es noch einmal "
        "oder formuliere es anders.",
        "unavailable": "Entschuldigung — der Assistent ist gerade nicht verfügbar. Das Team wurde benachrichtigt.",
        "rejected": "Entschuldigung — der Assistent konnte diese Nachricht nicht annehmen.",
        "unreachable": "Entschuldigung — ich erreiche den Assistenten gerade nicht. Bitte versuche es in ein "
        "paar Minuten noch einmal.",
        "empty_answer": "Der Assistent hat eine leere Antwort geliefert.",
        "interrupted": "Entschuldigung — deine Frage wurde unterbrochen, bevor die Antwort kam. Bitte stelle "
        "sie noch einmal.",
        "not_allowed": "Entschuldigung, dieser Assistent steht dir nicht zur Verfügung. Bitte wende dich an das "
        "Team, das ihn betreibt.",
        "only_text": "Entschuldigung, ich kann bisher nur Textnachrichten lesen. Bitte tippe deine Frage.",
        "unknown_command": "Diesen Befehl kenne ich nicht. Versuche /help.",
        "agent_fallback_name": "der Assistent",
        "sources": "Quellen",
        "cut_off": "(hier wurde die Antwort abgeschnitten)",
        "slack_help": "Frag mich alles: in einer Direktnachricht einfach schreiben, in einem Kanal erwähnen — "
        "ich antworte im Thread (Nachfragen dort brauchen keine Erwähnung). `/raia reset` (oder `reset` in "
        "einer DM) beginnt ein neues Gespräch; `/raia help` zeigt diese Hilfe.",
        "slack_reset": "Erledigt — deine nächste Frage beginnt ein neues Gespräch. Ich erinnere mich nicht "
        "an das, was wir vorher besprochen haben.",
        "telegram_help": "{how} Ich antworte mit Quellen, wo ich welche habe.\n\n"
        "/reset — ein neues Gespräch beginnen (auch /new)\n/help — diese Hilfe",
        "telegram_start": "Hallo {first_name}! Ich bin {agent}. {how} Mit /reset fängst du neu an.",
        "telegram_reset": "Erledigt — deine nächste Nachricht beginnt ein neues Gespräch. Ich erinnere mich "
        "nicht an das, was wir vorher besprochen haben.",
        "telegram_how_private": "Schick mir einfach eine Nachricht.",
        "telegram_how_group": "Erwähne mich ({mention}) oder antworte auf eine meiner Nachrichten.",
        "generic_help": "Schick mir eine Frage, ich beantworte sie — mit Quellen, wo ich welche habe. "
        "Sag reset, um neu anzufangen.",
        "generic_start": "Hallo {first_name}! Ich bin {agent}. {help}",
        "generic_reset": "Erledigt — deine nächste Frage beginnt ein neues Gespräch.",
    },
    "fr": {
        "telegram_description": "Je suis {agent}. Pose-moi tes questions avec tes mots : je réponds avec des "
        "sources quand j'en ai. /reset démarre une nouvelle conversation.",
        "telegram_short_description": "{agent} : pose-moi tes questions.",
        "command_start": "Dire bonjour et voir comment m'utiliser",
        "command_help": "Comment utiliser ce bot",
        "command_reset": "Démarrer une nouvelle conversation",
        "command_new": "Démarrer une nouvelle conversation (comme /reset)",
        "timeout": "Désolé — l'assistant a mis trop de temps à répondre. Réessaie dans un instant.",
        "failed": "Désolé — l'assistant n'a pas pu répondre. Réessaie, ou reformule ta question.",
        "unavailable": "Désolé — l'assistant n'est pas disponible pour le moment. L'équipe a été prévenue.",
        "rejected": "Désolé — l'assistant n'a pas pu accepter ce message.",
        "unreachable": "Désolé — je n'arrive pas à joindre l'assistant. Réessaie dans quelques minutes.",
        "empty_answer": "L'assistant a renvoyé une réponse vide.",
        "interrupted": "Désolé — ta question a été interrompue avant que la réponse n'arrive. Pose-la à nouveau.",
        "not_allowed": "Désolé, cet assistant ne t'est pas accessible. Contacte l'équipe qui le gère.",
        "only_text": "Désolé, je ne lis que les messages texte pour l'instant. Écris ta question.",
        "unknown_command": "Je ne connais pas cette commande. Essaie /help.",
        "agent_fallback_name": "l'assistant",
        "sources": "Sources",
        "cut_off": "(la réponse a été coupée ici)",
        "slack_help": "Demande-moi ce que tu veux : en message direct, écris simplement ; dans un canal, "
        "mentionne-moi et je réponds dans un fil (les suites dans ce fil n'ont pas besoin de mention). "
        "`/raia reset` (ou `reset` en DM) démarre une nouvelle conversation ; `/raia help` affiche ceci.",
        "slack_reset": "C'est fait — ta prochaine question démarre une nouvelle conversation. Je ne me "
        "souviendrai pas de ce dont nous avons parlé.",
        "telegram_help": "{how} Je réponds avec des sources quand j'en ai.\n\n"
        "/reset — démarrer une nouvelle conversation (aussi /new)\n/help — ce message",
        "telegram_start": "Bonjour {first_name} ! Je suis {agent}. {how} Utilise /reset pour recommencer.",
        "telegram_reset": "C'est fait — ton prochain message démarre une nouvelle conversation. Je ne me "
        "souviendrai pas de ce dont nous avons parlé.",
        "telegram_how_private": "Envoie-moi simplement un message.",
        "telegram_how_group": "Mentionne-moi ({mention}) ou réponds à l'un de mes messages.",
        "generic_help": "Envoie-moi une question et j'y réponds, avec des sources quand j'en ai. "
        "Dis reset pour recommencer.",
        "generic_start": "Bonjour {first_name} ! Je suis {agent}. {help}",
        "generic_reset": "C'est fait — ta prochaine question démarre une nouvelle conversation.",
    },
    "es": {
        "telegram_description": "Soy {agent}. Pregúntame lo que quieras con tus palabras: respondo con fuentes "
        "cuando las tengo. /reset empieza una conversación nueva.",
        "telegram_short_description": "{agent}: pregúntame lo que quieras.",
        "command_start": "Saludar y ver cómo usarme",
        "command_help": "Cómo usar este bot",
        "command_reset": "Empezar una conversación nueva",
        "command_new": "Empezar una conversación nueva (igual que /reset)",
        "timeout": "Lo siento — el asistente tardó demasiado en responder. Inténtalo de nuevo en un momento.",
        "failed": "Lo siento — el asistente no pudo responder a eso. Inténtalo de nuevo o reformúlalo.",
        "unavailable": "Lo siento — el asistente no está disponible ahora. Se ha avisado al equipo.",
        "rejected": "Lo siento — el asistente no pudo aceptar ese mensaje.",
        "unreachable": "Lo siento — no puedo contactar con el asistente ahora. Inténtalo en unos minutos.",
        "empty_answer": "El asistente devolvió una respuesta vacía.",
        "interrupted": "Lo siento — tu pregunta se interrumpió antes de que llegara la respuesta. Vuelve a "
        "hacerla, por favor.",
        "not_allowed": "Lo siento, este asistente no está disponible para ti. Contacta con el equipo que lo gestiona.",
        "only_text": "Lo siento, por ahora solo leo mensajes de texto. Escribe tu pregunta.",
        "unknown_command": "No conozco ese comando. Prueba /help.",
        "agent_fallback_name": "el asistente",
        "sources": "Fuentes",
        "cut_off": "(la respuesta se cortó aquí)",
        "slack_help": "Pregúntame lo que quieras: en un mensaje directo, escribe sin más; en un canal, "
        "menciónanme y respondo en un hilo (las preguntas siguientes en ese hilo no necesitan mención). "
        "`/raia reset` (o `reset` en un MD) empieza una conversación nueva; `/raia help` muestra esto.",
        "slack_reset": "Hecho — tu próxima pregunta empieza una conversación nueva. No recordaré lo que "
        "hablamos antes.",
        "telegram_help": "{how} Respondo con fuentes cuando las tengo.\n\n"
        "/reset — empezar una conversación nueva (también /new)\n/help — este mensaje",
        "telegram_start": "¡Hola {first_name}! Soy {agent}. {how} Usa /reset para empezar de nuevo.",
        "telegram_reset": "Hecho — tu próximo mensaje empieza una conversación nueva. No recordaré lo que "
        "hablamos antes.",
        "telegram_how_private": "Simplemente envíame un mensaje.",
        "telegram_how_group": "Menciónanme ({mention}) o responde a uno de mis mensajes.",
        "generic_help": "Envíame una pregunta y la responderé, con fuentes cuando las tenga. "
        "Di reset para empezar de nuevo.",
        "generic_start": "¡Hola {first_name}! Soy {agent}. {help}",
        "generic_reset": "Hecho — tu próxima pregunta empieza una conversación nueva.",
    },
    "pt": {
        "telegram_description": "Eu sou {agent}. Pergunte o que quiser com suas palavras: respondo com fontes "
        "quando as tenho. /reset começa uma nova conversa.",
        "telegram_short_description": "{agent}: pergunte o que quiser.",
        "command_start": "Dizer olá e ver como me usar",
        "command_help": "Como usar este bot",
        "command_reset": "Começar uma nova conversa",
        "command_new": "Começar uma nova conversa (igual a /reset)",
        "timeout": "Desculpe — o assistente demorou demais para responder. Tente de novo daqui a pouco.",
        "failed": "Desculpe — o assistente não conseguiu responder. Tente de novo ou reformule.",
        "unavailable": "Desculpe — o assistente não está disponível agora. A equipe foi avisada.",
        "rejected": "Desculpe — o assistente não pôde aceitar essa mensagem.",
        "unreachable": "Desculpe — não consigo falar com o assistente agora. Tente de novo em alguns minutos.",
        "empty_answer": "O assistente devolveu uma resposta vazia.",
        "interrupted": "Desculpe — sua pergunta foi interrompida antes de a resposta chegar. Faça-a de novo, "
        "por favor.",
        "not_allowed": "Desculpe, este assistente não está disponível para você. Fale com a equipe que o mantém.",
        "only_text": "Desculpe, por enquanto só leio mensagens de texto. Digite sua pergunta.",
        "unknown_command": "Não conheço esse comando. Tente /help.",
        "agent_fallback_name": "o assistente",
        "sources": "Fontes",
        "cut_off": "(a resposta foi cortada aqui)",
        "slack_help": "Pergunte o que quiser: numa mensagem direta, é só escrever; num canal, me mencione e eu "
        "respondo num tópico (as perguntas seguintes nesse tópico não precisam de menção). `/raia reset` "
        "(ou `reset` numa DM) começa uma nova conversa; `/raia help` mostra isto.",
        "slack_reset": "Pronto — sua próxima pergunta começa uma nova conversa. Não vou lembrar do que "
        "conversamos antes.",
        "telegram_help": "{how} Respondo com fontes quando as tenho.\n\n"
        "/reset — começar uma nova conversa (também /new)\n/help — esta mensagem",
        "telegram_start": "Olá {first_name}! Eu sou {agent}. {how} Use /reset para recomeçar.",
        "telegram_reset": "Pronto — sua próxima mensagem começa uma nova conversa. Não vou lembrar do que "
        "conversamos antes.",
        "telegram_how_private": "É só me mandar uma mensagem.",
        "telegram_how_group": "Me mencione ({mention}) ou responda a uma das minhas mensagens.",
        "generic_help": "Mande uma pergunta e eu respondo, com fontes quando as tiver. Diga reset para recomeçar.",
        "generic_start": "Olá {first_name}! Eu sou {agent}. {help}",
        "generic_reset": "Pronto — sua próxima pergunta começa uma nova conversa.",
    },
}

_catalogue: dict[str, dict[str, str]] = {"en": dict(ENGLISH), **{k: dict(v) for k, v in SHIPPED.items()}}
_by_english = {text: key for key, text in ENGLISH.items()}


def languages() -> list[str]:
    """The languages the catalogue speaks (English first)."""
    return list(_catalogue)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def use_overrides(overrides: Mapping[str, Mapping[str, str]]) -> None:
    """Apply an operator's texts (``MESSAGES_FILE``): {language: {key: text}}."""
    global _catalogue
    _catalogue = merged(overrides)


def merged(overrides: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The catalogue with ``overrides`` applied. Raises ``ValueError`` with one line for a
    bad language, an unknown key or a placeholder the text cannot have."""
    merged = {lang: dict(texts) for lang, texts in _catalogue.items()}
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


def localize(reply: Reply, language: str) -> Reply:
    """The reply for a person speaking ``language``: a notice the core wrote in English
    in their words; an answer (the agent's words) as it is, with its "Sources" heading
    and cut-off note in their language (``Reply.language``, read by the renderers)."""
    if reply.kind is ReplyKind.NOTICE:
        key = _by_english.get(reply.text)
        if key and language != "en":
            reply = replace(reply, text=text(key, language))
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
