"""A store seen by one agent (``ROUTES_FILE``: several agents in one deployment).

Each agent's service works on a view of the one store that shares its connection (or
pool) and names that agent: the conversations it opens, resets, resumes and watches,
and the people's users at that agent, are its own. ``""`` is the one agent of a
deployment without routes (every row before routes existed)."""

from __future__ import annotations

import copy
from typing import Self


class AgentScoped:
    agent: str = ""

    def for_agent(self, name: str) -> Self:
        """This store as agent ``name`` sees it (open and close the original only)."""
        view = copy.copy(self)
        view.agent = name
        return view
