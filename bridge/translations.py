# ruff: noqa: E501  (sentences of a message catalogue read better unbroken)
"""The shipped translations of the bridge's own words (``bridge.texts`` holds the English
originals and how a language is chosen). A key missing here falls back to English."""

from __future__ import annotations

SHIPPED: dict[str, dict[str, str]] = {
    "de": {
        "file_too_big": "{name} ist größer als {limit} MB, deshalb konnte ich es nicht weitergeben.",
        "file_type": "Dateien wie {name} ({type}) kann ich nicht weitergeben.",
        "file_too_many": "Nur die ersten {count} Dateien wurden weitergegeben.",
        "file_failed": "Ich konnte {name} nicht abrufen, deshalb wurde es nicht weitergegeben.",
        "file_refused": "Der Assistent hat {name} nicht angenommen.",
        "files_unsupported": "Dieser Assistent kann keine Dateien lesen, deshalb wurde nur dein Text weitergegeben.",
        "feedback_thanks": "Danke für dein Feedback!",
        "feedback_comment_thanks": "Danke — dein Kommentar wurde weitergegeben.",
        "feedback_gone": "Diese Antwort kann nicht mehr bewertet werden.",
        "feedback_not_yours": "Nur wer gefragt hat, kann diese Antwort bewerten.",
        "feedback_failed": "Entschuldigung — dein Feedback konnte nicht gespeichert werden. Bitte versuche es später noch einmal.",
        "feedback_prompt": "Schade, dass das nicht geholfen hat. Was hat gefehlt oder war falsch? Antworte auf diese Nachricht (optional).",
        "feedback_modal_title": "Dein Feedback",
        "feedback_modal_label": "Was hat gefehlt oder war falsch? (optional)",
        "feedback_modal_submit": "Senden",
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
        "file_too_big": "{name} dépasse {limit} Mo, je n'ai donc pas pu le transmettre.",
        "file_type": "Je ne peux pas transmettre les fichiers comme {name} ({type}).",
        "file_too_many": "Seuls les {count} premiers fichiers ont été transmis.",
        "file_failed": "Je n'ai pas pu récupérer {name}, il n'a donc pas été transmis.",
        "file_refused": "L'assistant n'a pas accepté {name}.",
        "files_unsupported": "Cet assistant ne lit pas les fichiers : seul ton texte a été transmis.",
        "feedback_thanks": "Merci pour ton avis !",
        "feedback_comment_thanks": "Merci — ton commentaire a été transmis.",
        "feedback_gone": "Cette réponse ne peut plus être évaluée.",
        "feedback_not_yours": "Seule la personne qui a posé la question peut évaluer cette réponse.",
        "feedback_failed": "Désolé — ton avis n'a pas pu être enregistré. Réessaie plus tard.",
        "feedback_prompt": "Dommage que cela n'ait pas aidé. Qu'est-ce qui manquait ou était faux ? Réponds à ce message (facultatif).",
        "feedback_modal_title": "Ton avis",
        "feedback_modal_label": "Qu'est-ce qui manquait ou était faux ? (facultatif)",
        "feedback_modal_submit": "Envoyer",
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
        "file_too_big": "{name} supera los {limit} MB, así que no pude enviarlo.",
        "file_type": "No puedo enviar archivos como {name} ({type}).",
        "file_too_many": "Solo se enviaron los primeros {count} archivos.",
        "file_failed": "No pude obtener {name}, así que no se envió.",
        "file_refused": "El asistente no aceptó {name}.",
        "files_unsupported": "Este asistente no puede leer archivos, así que solo se envió tu texto.",
        "feedback_thanks": "¡Gracias por tu opinión!",
        "feedback_comment_thanks": "Gracias — tu comentario se ha enviado.",
        "feedback_gone": "Esta respuesta ya no se puede valorar.",
        "feedback_not_yours": "Solo quien hizo la pregunta puede valorar esta respuesta.",
        "feedback_failed": "Lo siento — no se pudo guardar tu opinión. Inténtalo más tarde.",
        "feedback_prompt": "Lamento que no haya ayudado. ¿Qué faltaba o estaba mal? Responde a este mensaje (opcional).",
        "feedback_modal_title": "Tu opinión",
        "feedback_modal_label": "¿Qué faltaba o estaba mal? (opcional)",
        "feedback_modal_submit": "Enviar",
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
        "file_too_big": "{name} tem mais de {limit} MB, então não consegui repassá-lo.",
        "file_type": "Não consigo repassar arquivos como {name} ({type}).",
        "file_too_many": "Só os primeiros {count} arquivos foram repassados.",
        "file_failed": "Não consegui buscar {name}, então ele não foi repassado.",
        "file_refused": "O assistente não aceitou {name}.",
        "files_unsupported": "Este assistente não lê arquivos, então só o seu texto foi repassado.",
        "feedback_thanks": "Obrigado pelo seu feedback!",
        "feedback_comment_thanks": "Obrigado — seu comentário foi repassado.",
        "feedback_gone": "Esta resposta não pode mais ser avaliada.",
        "feedback_not_yours": "Só quem fez a pergunta pode avaliar esta resposta.",
        "feedback_failed": "Desculpe — não foi possível registrar seu feedback. Tente de novo mais tarde.",
        "feedback_prompt": "Que pena que não ajudou. O que faltou ou estava errado? Responda a esta mensagem (opcional).",
        "feedback_modal_title": "Seu feedback",
        "feedback_modal_label": "O que faltou ou estava errado? (opcional)",
        "feedback_modal_submit": "Enviar",
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
