"""Slack's own words: the help (also the greeting), the reset confirmation and the 👎
comment form, in English and the shipped translations. The composition root registers
them with the core's catalogue (``bridge.texts.register``); ``MESSAGES_FILE`` overrides
them by these keys."""

from __future__ import annotations

from bridge import texts
from bridge.models import Intent

PLATFORM = "slack"

ENGLISH = {
    "slack_help": "Ask me anything: in a direct message just write, in a channel mention me and I answer in a thread "
    "(follow-ups in that thread need no mention). `/raia reset` (or `reset` in a DM) starts a new "
    "conversation; `/raia stop` (or `stop` in a DM) "
    "stops waiting for an answer; `/raia help` shows this.",
    # with HANDOFF: added to the help
    "slack_help_human": "`/raia human` (or `human` in a DM) asks for a person from the support team.",
    "slack_reset": "Done — your next question starts a new conversation. I won't remember what we discussed before.",
    # the message shortcut "Ask <agent> about this": the line before the chosen message ({author}: who wrote it)
    "slack_ask_about": "What can you tell me about this message from {author}?",
    # the App Home tab ({agent}: the agent's name)
    "slack_home": "*{agent}* answers your questions in your own words, with its sources.\n\n"
    "• *Direct message:* just write; each message is answered in its thread.\n"
    "• *In a channel:* mention me and I answer in a thread (follow-ups there need no mention).\n"
    "• *About any message:* its ⋯ menu → *Ask {agent} about this*.\n"
    "• `/raia stop` stops waiting for an answer, `/raia reset` starts a new conversation, `/raia help` helps.",
    # the form a 👎 opens for a comment
    "feedback_modal_title": "Your feedback",
    "feedback_modal_label": "What was missing or wrong? (optional)",
    "feedback_modal_submit": "Send",
}

SHIPPED: dict[str, dict[str, str]] = {
    "de": {
        "slack_ask_about": "Was kannst du mir zu dieser Nachricht von {author} sagen?",
        "slack_home": "*{agent}* beantwortet deine Fragen in deinen eigenen Worten, mit Quellen.\n\n"
        "• *Direktnachricht:* einfach schreiben; jede Nachricht wird in ihrem Thread beantwortet.\n"
        "• *In einem Kanal:* erwähne mich, ich antworte im Thread (Nachfragen dort ohne Erwähnung).\n"
        "• *Zu jeder Nachricht:* ihr ⋯-Menü → *Ask {agent} about this*.\n"
        "• `/raia stop` wartet nicht mehr auf eine Antwort, `/raia reset` beginnt ein neues Gespräch, "
        "`/raia help` hilft.",
        "slack_help_human": "`/raia human` (oder `human` in einer DM) holt einen Menschen aus dem Support-Team.",
        "feedback_modal_title": "Dein Feedback",
        "feedback_modal_label": "Was hat gefehlt oder war falsch? (optional)",
        "feedback_modal_submit": "Senden",
        "slack_help": "Frag mich alles: in einer Direktnachricht einfach schreiben, in einem Kanal erwähnen — "
        "ich antworte im Thread (Nachfragen dort brauchen keine Erwähnung). `/raia reset` (oder `reset` in "
        "einer DM) beginnt ein neues Gespräch; `/raia stop` (oder `stop` in einer DM) "
        "wartet nicht mehr auf die Antwort; `/raia help` zeigt diese Hilfe.",
        "slack_reset": "Erledigt — deine nächste Frage beginnt ein neues Gespräch. Ich erinnere mich nicht "
        "an das, was wir vorher besprochen haben.",
    },
    "fr": {
        "slack_ask_about": "Que peux-tu me dire de ce message de {author} ?",
        "slack_home": "*{agent}* répond à tes questions avec tes mots, en citant ses sources.\n\n"
        "• *Message direct :* écris simplement ; chaque message reçoit sa réponse dans son fil.\n"
        "• *Dans un canal :* mentionne-moi et je réponds dans un fil (les suites n'ont pas besoin de mention).\n"
        "• *À propos d'un message :* son menu ⋯ → *Ask {agent} about this*.\n"
        "• `/raia stop` n'attend plus la réponse, `/raia reset` démarre une nouvelle conversation, `/raia help` aide.",
        "slack_help_human": "`/raia human` (ou `human` en DM) demande une personne de l'équipe support.",
        "feedback_modal_title": "Ton avis",
        "feedback_modal_label": "Qu'est-ce qui manquait ou était faux ? (facultatif)",
        "feedback_modal_submit": "Envoyer",
        "slack_help": "Demande-moi ce que tu veux : en message direct, écris simplement ; dans un canal, "
        "mentionne-moi et je réponds dans un fil (les suites dans ce fil n'ont pas besoin de mention). "
        "`/raia reset` (ou `reset` en DM) démarre une nouvelle conversation ; `/raia stop` (ou `stop` en DM) "
        "n'attend plus la réponse ; `/raia help` affiche ceci.",
        "slack_reset": "C'est fait — ta prochaine question démarre une nouvelle conversation. Je ne me "
        "souviendrai pas de ce dont nous avons parlé.",
    },
    "es": {
        "slack_ask_about": "¿Qué me puedes decir de este mensaje de {author}?",
        "slack_home": "*{agent}* responde a tus preguntas con tus palabras, con sus fuentes.\n\n"
        "• *Mensaje directo:* escribe sin más; cada mensaje se responde en su hilo.\n"
        "• *En un canal:* menciónanme y respondo en un hilo (las preguntas siguientes no necesitan mención).\n"
        "• *Sobre cualquier mensaje:* su menú ⋯ → *Ask {agent} about this*.\n"
        "• `/raia stop` deja de esperar la respuesta, `/raia reset` empieza una conversación nueva, "
        "`/raia help` ayuda.",
        "slack_help_human": "`/raia human` (o `human` en un MD) pide una persona del equipo de soporte.",
        "feedback_modal_title": "Tu opinión",
        "feedback_modal_label": "¿Qué faltaba o estaba mal? (opcional)",
        "feedback_modal_submit": "Enviar",
        "slack_help": "Pregúntame lo que quieras: en un mensaje directo, escribe sin más; en un canal, "
        "menciónanme y respondo en un hilo (las preguntas siguientes en ese hilo no necesitan mención). "
        "`/raia reset` (o `reset` en un MD) empieza una conversación nueva; `/raia stop` (o `stop` en un MD) "
        "deja de esperar la respuesta; `/raia help` muestra esto.",
        "slack_reset": "Hecho — tu próxima pregunta empieza una conversación nueva. No recordaré lo que "
        "hablamos antes.",
    },
    "pt": {
        "slack_ask_about": "O que você pode me dizer sobre esta mensagem de {author}?",
        "slack_home": "*{agent}* responde às suas perguntas com suas palavras, com as fontes.\n\n"
        "• *Mensagem direta:* é só escrever; cada mensagem é respondida no seu tópico.\n"
        "• *Num canal:* me mencione e eu respondo num tópico (as perguntas seguintes não precisam de menção).\n"
        "• *Sobre qualquer mensagem:* o menu ⋯ dela → *Ask {agent} about this*.\n"
        "• `/raia stop` para de esperar a resposta, `/raia reset` começa uma nova conversa, `/raia help` ajuda.",
        "slack_help_human": "`/raia human` (ou `human` numa DM) chama uma pessoa da equipa de suporte.",
        "feedback_modal_title": "Seu feedback",
        "feedback_modal_label": "O que faltou ou estava errado? (opcional)",
        "feedback_modal_submit": "Enviar",
        "slack_help": "Pergunte o que quiser: numa mensagem direta, é só escrever; num canal, me mencione e eu "
        "respondo num tópico (as perguntas seguintes nesse tópico não precisam de menção). `/raia reset` "
        "(ou `reset` numa DM) começa uma nova conversa; `/raia stop` (ou `stop` numa DM) "
        "para de esperar a resposta; `/raia help` mostra isto.",
        "slack_reset": "Pronto — sua próxima pergunta começa uma nova conversa. Não vou lembrar do que "
        "conversamos antes.",
    },
}


def answer(saying: texts.Saying, language: str) -> str:
    """``/raia reset`` (or ``reset`` in a DM) confirms; anything else is answered with the
    help (naming ``/raia human`` when a person can be asked for)."""
    if saying.intent is Intent.RESET:
        return texts.text("slack_reset", language)
    said = texts.text("slack_help", language)
    return f"{said} {texts.text('slack_help_human', language)}" if saying.human else said


BOOK = texts.Book(PLATFORM, ENGLISH, SHIPPED, answer)
