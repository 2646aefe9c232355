"""Where the settings come from, beyond the variables themselves: the ``.env`` file (in
the working directory only), the public URL a platform tells the app, and variables
that look like the bridge's but are none of its settings (a misspelling leaves a
setting at its default without a word: ``TELEGRAM_ALLOWED_USER`` opens the bot to all)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv import dotenv_values

ENV_FILE = ".env"

# Prefixes of the bridge's settings: a variable with one of them that is not a setting
# is most likely a misspelled one.
PREFIXES = (
    "RAIA_", "SLACK_", "TELEGRAM_", "BLAIGENT_", "SLUG_", "FILES", "FEEDBACK", "LOG_", "DATABASE_", "METRICS_",
    "AGENT_", "CONVERSATION_", "MESSAGES_", "SHUTDOWN_", "PUBLIC_", "ROUTES_", "BRIDGE_",
)  # fmt: skip
# Set by platforms or add-ons next to the bridge's own variables: not a misspelling.
FOREIGN = frozenset({"DATABASE_CONNECTION_POOL_URL", "DATABASE_PUBLIC_URL", "DATABASE_PRIVATE_URL"})
# slack-bolt reads these itself and switches to its own OAuth, dropping the token it is
# given: the bridge reads them as its settings ("Add to Slack") and then hides them from it.
SLACK_OAUTH = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")

# What a platform tells a web service about its own public address: variable, URL from its value.
PLATFORM_URLS = (
    ("RENDER_EXTERNAL_URL", "{}"),  # https://<service>.onrender.com
    ("RAILWAY_PUBLIC_DOMAIN", "https://{}"),  # <service>.up.railway.app, once a domain is generated
    ("FLY_APP_NAME", "https://{}.fly.dev"),
    ("HEROKU_APP_DEFAULT_DOMAIN_NAME", "https://{}"),  # with Heroku's runtime-dyno-metadata
)


def env_file(cwd: Path | None = None) -> Path | None:
    """The ``.env`` file the settings are read from: the one in the working directory, if any."""
    path = (cwd or Path.cwd()) / ENV_FILE
    return path if path.is_file() else None


def platform_public_url(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(url, variable)``: the public https URL the hosting platform names, if it names one."""
    environ = os.environ if environ is None else environ
    for variable, template in PLATFORM_URLS:
        value = environ.get(variable, "").strip().rstrip("/")
        if value:
            return template.format(value), variable
    return None


def given_names(environ: Mapping[str, str] | None = None, dotenv: Path | None = None) -> set[str]:
    """Every variable name the settings may be read from (upper case: they are matched so)."""
    names = {name.upper() for name in (os.environ if environ is None else environ)}
    if dotenv is not None:
        names |= {name.upper() for name in dotenv_values(dotenv)}
    return names


def unknown_variables(given: Iterable[str], known: Iterable[str]) -> list[str]:
    """One line for each given variable that looks like a setting of the bridge but is none,
    naming the nearest setting."""
    known = sorted({name.upper() for name in known})
    lines = []
    for name in sorted(set(given)):
        if name in known or name in FOREIGN or not name.startswith(PREFIXES):
            continue
        nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {nearest[0]}?" if nearest else "see docs/settings.md for the names"
        lines.append(f"{name} is not a setting of the bridge and is ignored: {hint}")
    return lines
