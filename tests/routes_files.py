"""ROUTES_FILE for the tests: two raia agents, helpdesk and hr, each with its own key (in
the environment the file names) and its own simulator, then the bots and routes a test
adds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from adapters.raia.demo_agent import demo_delay
from adapters.raia.simulator import RaiaSimulator

HELP_KEY, HR_KEY = "sk-helpdesk-0123456789", "sk-hr-0123456789abcdef"
AGENT_KEYS = {"RAIA_HELPDESK_KEY": HELP_KEY, "RAIA_HR_KEY": HR_KEY}  # as load_routes reads them
NAMES = {"helpdesk": "Helpdesk", "hr": "HR"}


def two_agents(delay: Callable[[str], float] = demo_delay) -> dict[str, RaiaSimulator]:
    """helpdesk's and hr's simulators, with their keys and names, answering after ``delay``."""
    keys = {"helpdesk": HELP_KEY, "hr": HR_KEY}
    return {name: RaiaSimulator(api_key=keys[name], agent_name=NAMES[name], delay=delay) for name in NAMES}


def routes_file(tmp_path: Path, urls: Mapping[str, str], rest: str = "") -> Path:
    """``tmp_path/routes.toml``: helpdesk and hr (raia) at their ``urls``, then ``rest``
    (the platforms' tables and routes)."""
    agents = "".join(
        f'[agents.{name}]\nkey_env = "RAIA_{name.upper()}_KEY"\nbase_url = "{urls[name]}"\n\n' for name in NAMES
    )
    path = tmp_path / "routes.toml"
    path.write_text(agents + rest)
    return path
