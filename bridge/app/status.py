"""``GET /``: a small, plain status page for whoever opens the bridge's address in a
browser (an operator after a deploy, a newcomer after ``python -m bridge``): the agent,
each platform and its state, questions waiting, the version, and the next step.

Nothing secret is on it (no token, key, URL with credentials or person's words), and
with ``METRICS_TOKEN`` set it shows nothing without that token, as ``/metrics`` does.
No script, no outside resource: it works offline and under a strict CSP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

# The page refers to itself only: a strict policy costs nothing and rules out injection.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
REFRESH = 30  # seconds: the page follows a start-up or an outage without a click


@dataclass(frozen=True)
class Snapshot:
    """What the page shows; gathered by the server as ``/healthz`` gathers it."""

    version: str
    ready: bool
    healthy: bool
    agent: str | None  # the agent's name, once raia answered
    backend: str  # raia, blaigent or slug
    components: Mapping[str, str]  # "store", the backend, each platform: "ok (...)" or what is wrong
    platforms: tuple[str, ...]
    waiting: int | None


def next_step(snap: Snapshot) -> str:
    """One sentence: what to do now."""
    if not snap.ready:
        return "The bridge is starting (or stopping). This page refreshes by itself."
    agent = snap.components.get(snap.backend, "unknown")
    if "rejected" in agent:
        return f"{agent}: copy the key again, restart, and run raia-bridge check."
    broken = [name for name in snap.platforms if not snap.components.get(name, "").startswith("ok")]
    if broken:
        return f"{', '.join(broken)} is not working: raia-bridge check gives the reason in one line."
    if not snap.components.get("store", "").startswith("ok"):
        return "The database is not answering: questions wait in it, so nothing is lost; check DATABASE_URL."
    if agent == "unknown":
        return f"Asking {snap.backend} for the agent… If this stays, raia-bridge check says why in one line."
    if agent != "ok":
        return f"{snap.backend} cannot be reached right now ({agent}): questions wait and are answered when it is back."
    where = [_WHERE.get(name, f"write to the bot in {name}") for name in snap.platforms]
    return f"All set: {' or '.join(where)}." if where else "No platform is configured."


_WHERE = {
    "telegram": "send the bot a message in Telegram",
    "slack": "write to the app in Slack (a DM, or @mention it in a channel it was invited to)",
}


def render(snap: Snapshot) -> str:
    """The page, every value escaped."""
    state = "ready" if snap.healthy else "starting" if not snap.ready else "needs attention"
    rows = [("Agent", snap.agent or "not known yet", snap.components.get(snap.backend, "unknown"))]
    rows += [(name.capitalize(), "", snap.components.get(name, "unknown")) for name in snap.platforms]
    rows.append(("Database", "", snap.components.get("store", "unknown")))
    waiting = "unknown (the database is slow)" if snap.waiting is None else str(snap.waiting)
    cells = "\n".join(
        f'<tr><th scope="row">{escape(what)}</th><td>{escape(detail)}</td>'
        f'<td class="{"ok" if value.startswith("ok") else "bad"}">{escape(value)}</td></tr>'
        for what, detail, value in rows
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{REFRESH}">
<title>raia-bridge: {escape(state)}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1f2937; }}
h1 {{ font-size: 1.4rem; margin-bottom: 0.2rem; }}
.state {{ font-weight: 600; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; }}
th, td {{ text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #e5e7eb; }}
.ok {{ color: #047857; }}
.bad {{ color: #b91c1c; }}
.next {{ background: #f3f4f6; padding: 0.8rem 1rem; border-radius: 0.4rem; }}
footer {{ color: #6b7280; font-size: 0.9rem; }}
</style>
</head>
<body>
<h1>raia-bridge</h1>
<p>Status: <span class="state" id="state">{escape(state)}</span></p>
<table>
{cells}
<tr><th scope="row">Questions waiting</th><td></td><td id="waiting">{escape(waiting)}</td></tr>
</table>
<p class="next" id="next">{escape(next_step(snap))}</p>
<footer>raia-bridge {escape(snap.version)} · <a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></footer>
</body>
</html>
"""
