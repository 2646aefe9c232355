"""``ROUTES_FILE``: a group of ``Settings`` (``bridge.app.settings``); the file itself is
read by ``bridge.app.routes``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class RoutesSettings(BaseModel):
    """A TOML file declaring several agents, Telegram bots and Slack apps and the routes
    between them; unset: the variables describe one of each. With it, each agent names its
    own key (the single agent's are not required), and the environment's Add to Slack app
    is the app named ``slack`` in routes."""

    routes_file: Path | None = None
