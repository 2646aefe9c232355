# ruff: noqa: E501  (sentences of a message catalogue read better unbroken)
"""Telegram's own words: /start, /help and /reset, how to address the bot, the command
menu, the bot's descriptions and the comment prompt under a 👎, in English and the
shipped translations. The composition root registers them with the core's catalogue
(``bridge.texts.register``); ``MESSAGES_FILE`` overrides them by these keys."""

from __future__ import annotations

from bridge import texts
from bridge.models import Intent

PLATFORM = "telegram"

# Placeholders: {how} (how to address the bot in this chat), {agent}, {first_name}, {mention}.
ENGLISH = {
    "telegram_help": "{how} I answer with sources where I have them.\n\n"
    "/stop — stop waiting for the answer\n/reset — start a new conversation (also /new)\n/help — this message",
    "telegram_start": "Hi {first_name}! I'm {agent}. {how} Use /reset to start over.",
    "telegram_reset": "Done — your next message starts a new conversation. I won't remember what we discussed before.",
    "telegram_how_private": "Just send me a message.",
    "telegram_how_group": "Mention me ({mention}) or reply to one of my messages.",
    # the bot's description (an empty chat) and short description (the bot's profile)
    "telegram_description": "I'm {agent}. Ask me anything in your own words: I answer with sources where I have "
    "them. /reset starts a new conversation.",
    "telegram_short_description": "{agent}: ask me anything.",
    # the reply prompt under a 👎
    "feedback_prompt": "Sorry this didn't help. What was missing or wrong? Reply to this message to tell us "
    "(optional).",
    # topics in private chats: /new opens a topic (its name until the first question names it)
    "telegram_topic_name": "New conversation",
    "telegram_topic_opened": "A new conversation: ask your question here. I won't bring up what we discussed elsewhere.",
    # guest mode: a long answer's ending in place, and the note in place when the answer is slow
    "telegram_guest_more": "… the full answer is in our private chat.",
    "telegram_guest_later": "This one takes me a little longer: I'll send the answer to our private chat.",
    # the command menu
    "command_start": "Say hello and see how to use me",
    "command_help": "How to use this bot",
    "command_reset": "Start a new conversation",
    "command_new": "Start a new conversation (same as /reset)",
    # with HANDOFF: the menu entry and the help's line for /human
    "command_human": "Talk to a person from the support team",
    "telegram_help_human": "/human — talk to a person from the support team",
    "command_stop": "Stop waiting for the answer to your question",
    # ROUTES_FILE reply = "private": the line in the group after an answer went privately
    "telegram_private_note": "📬 I answered you in a private chat.",
    "telegram_private_blocked": "I can't write to you privately yet: open a chat with me, press Start, and ask again.",
}

SHIPPED: dict[str, dict[str, str]] = {
    "de": {
        "telegram_topic_name": "Neues Gespräch",
        "telegram_topic_opened": "Ein neues Gespräch: Stell deine Frage hier. Was wir anderswo besprochen haben, bringe ich hier nicht ein.",
        "telegram_private_note": "📬 Ich habe dir in einem privaten Chat geantwortet.",
        "telegram_private_blocked": "Ich kann dir noch nicht privat schreiben: Öffne einen Chat mit mir, tippe auf Start und frag noch einmal.",
        "command_human": "Mit einem Menschen aus dem Support-Team sprechen",
        "telegram_help_human": "/human — mit einem Menschen aus dem Support-Team sprechen",
        "telegram_guest_more": "… die vollständige Antwort steht in unserem privaten Chat.",
        "telegram_guest_later": "Das dauert bei mir etwas länger: Ich schicke dir die Antwort in unseren privaten Chat.",
        "feedback_prompt": "Schade, dass das nicht geholfen hat. Was hat gefehlt oder war falsch? Antworte auf diese Nachricht (optional).",
        "telegram_description": "Ich bin {agent}. Frag mich alles in deinen eigenen Worten: Ich antworte mit "
        "Quellen, wo ich welche habe. /reset beginnt ein neues Gespräch.",
        "telegram_short_description": "{agent}: frag mich alles.",
        "command_start": "Hallo sagen und sehen, wie ich funktioniere",
        "command_help": "So benutzt du diesen Bot",
        "command_reset": "Ein neues Gespräch beginnen",
        "command_new": "Ein neues Gespräch beginnen (wie /reset)",
        "command_stop": "Nicht mehr auf die Antwort auf deine Frage warten",
        "telegram_help": "{how} Ich antworte mit Quellen, wo ich welche habe.\n\n"
        "/stop — nicht mehr auf die Antwort warten\n/reset — ein neues Gespräch beginnen (auch /new)\n/help — diese Hilfe",
        "telegram_start": "Hallo {first_name}! Ich bin {agent}. {how} Mit /reset fängst du neu an.",
        "telegram_reset": "Erledigt — deine nächste Nachricht beginnt ein neues Gespräch. Ich erinnere mich "
        "nicht an das, was wir vorher besprochen haben.",
        "telegram_how_private": "Schick mir einfach eine Nachricht.",
        "telegram_how_group": "Erwähne mich ({mention}) oder antworte auf eine meiner Nachrichten.",
    },
    "fr": {
        "telegram_topic_name": "Nouvelle conversation",
        "telegram_topic_opened": "Une nouvelle conversation : pose ta question ici. Je ne reprendrai pas ce dont nous avons parlé ailleurs.",
        "command_human": "Parler à une personne de l'équipe support",
        "telegram_help_human": "/human — parler à une personne de l'équipe support",
        "telegram_guest_more": "… la réponse complète est dans notre conversation privée.",
        "telegram_guest_later": "Cela me prend un peu plus de temps : je t'envoie la réponse dans notre conversation privée.",
        "feedback_prompt": "Dommage que cela n'ait pas aidé. Qu'est-ce qui manquait ou était faux ? Réponds à ce message (facultatif).",
        "telegram_description": "Je suis {agent}. Pose-moi tes questions avec tes mots : je réponds avec des "
        "sources quand j'en ai. /reset démarre une nouvelle conversation.",
        "telegram_short_description": "{agent} : pose-moi tes questions.",
        "command_start": "Dire bonjour et voir comment m'utiliser",
        "command_help": "Comment utiliser ce bot",
        "command_reset": "Démarrer une nouvelle conversation",
        "command_new": "Démarrer une nouvelle conversation (comme /reset)",
        "command_stop": "Ne plus attendre la réponse à ta question",
        "telegram_help": "{how} Je réponds avec des sources quand j'en ai.\n\n"
        "/stop — ne plus attendre la réponse\n/reset — démarrer une nouvelle conversation (aussi /new)\n/help — ce message",
        "telegram_start": "Bonjour {first_name} ! Je suis {agent}. {how} Utilise /reset pour recommencer.",
        "telegram_reset": "C'est fait — ton prochain message démarre une nouvelle conversation. Je ne me "
        "souviendrai pas de ce dont nous avons parlé.",
        "telegram_how_private": "Envoie-moi simplement un message.",
        "telegram_how_group": "Mentionne-moi ({mention}) ou réponds à l'un de mes messages.",
    },
    "es": {
        "telegram_topic_name": "Nueva conversación",
        "telegram_topic_opened": "Una conversación nueva: haz tu pregunta aquí. No traeré lo que hablamos en otro lugar.",
        "command_human": "Hablar con una persona del equipo de soporte",
        "telegram_help_human": "/human — hablar con una persona del equipo de soporte",
        "telegram_guest_more": "… la respuesta completa está en nuestro chat privado.",
        "telegram_guest_later": "Esto me lleva un poco más: te enviaré la respuesta a nuestro chat privado.",
        "feedback_prompt": "Lamento que no haya ayudado. ¿Qué faltaba o estaba mal? Responde a este mensaje (opcional).",
        "telegram_description": "Soy {agent}. Pregúntame lo que quieras con tus palabras: respondo con fuentes "
        "cuando las tengo. /reset empieza una conversación nueva.",
        "telegram_short_description": "{agent}: pregúntame lo que quieras.",
        "command_start": "Saludar y ver cómo usarme",
        "command_help": "Cómo usar este bot",
        "command_reset": "Empezar una conversación nueva",
        "command_new": "Empezar una conversación nueva (igual que /reset)",
        "command_stop": "Dejar de esperar la respuesta a tu pregunta",
        "telegram_help": "{how} Respondo con fuentes cuando las tengo.\n\n"
        "/stop — dejar de esperar la respuesta\n/reset — empezar una conversación nueva (también /new)\n/help — este mensaje",
        "telegram_start": "¡Hola {first_name}! Soy {agent}. {how} Usa /reset para empezar de nuevo.",
        "telegram_reset": "Hecho — tu próximo mensaje empieza una conversación nueva. No recordaré lo que "
        "hablamos antes.",
        "telegram_how_private": "Simplemente envíame un mensaje.",
        "telegram_how_group": "Menciónanme ({mention}) o responde a uno de mis mensajes.",
    },
    "pt": {
        "telegram_topic_name": "Nova conversa",
        "telegram_topic_opened": "Uma nova conversa: faça sua pergunta aqui. Não vou trazer o que conversamos em outro lugar.",
        "command_human": "Falar com uma pessoa da equipa de suporte",
        "telegram_help_human": "/human — falar com uma pessoa da equipa de suporte",
        "telegram_guest_more": "… a resposta completa está no nosso chat privado.",
        "telegram_guest_later": "Isso vai demorar um pouco mais: vou enviar a resposta no nosso chat privado.",
        "feedback_prompt": "Que pena que não ajudou. O que faltou ou estava errado? Responda a esta mensagem (opcional).",
        "telegram_description": "Eu sou {agent}. Pergunte o que quiser com suas palavras: respondo com fontes "
        "quando as tenho. /reset começa uma nova conversa.",
        "telegram_short_description": "{agent}: pergunte o que quiser.",
        "command_start": "Dizer olá e ver como me usar",
        "command_help": "Como usar este bot",
        "command_reset": "Começar uma nova conversa",
        "command_new": "Começar uma nova conversa (igual a /reset)",
        "command_stop": "Parar de esperar a resposta à sua pergunta",
        "telegram_help": "{how} Respondo com fontes quando as tenho.\n\n"
        "/stop — parar de esperar a resposta\n/reset — começar uma nova conversa (também /new)\n/help — esta mensagem",
        "telegram_start": "Olá {first_name}! Eu sou {agent}. {how} Use /reset para recomeçar.",
        "telegram_reset": "Pronto — sua próxima mensagem começa uma nova conversa. Não vou lembrar do que "
        "conversamos antes.",
        "telegram_how_private": "É só me mandar uma mensagem.",
        "telegram_how_group": "Me mencione ({mention}) ou responda a uma das minhas mensagens.",
    },
}


def answer(saying: texts.Saying, language: str) -> str:
    """/start, /help and /reset, each saying how to address the bot here: in a group by
    its mention (or a reply), in a private chat by just writing; the help names /human
    when a person can be asked for."""
    if saying.mention is None:
        how = texts.text("telegram_how_private", language)
    else:
        how = texts.text("telegram_how_group", language, mention=saying.mention)
    keys = {Intent.START: "telegram_start", Intent.RESET: "telegram_reset", Intent.NEW_THREAD: "telegram_topic_opened"}
    key = keys.get(saying.intent, "telegram_help")
    said = texts.text(key, language, how=how, **saying.values())
    if key == "telegram_help" and saying.human:
        said += "\n" + texts.text("telegram_help_human", language)
    return said


BOOK = texts.Book(PLATFORM, ENGLISH, SHIPPED, answer)
