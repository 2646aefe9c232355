"""Architecture: arrows only run down, checked over whole folders from the imports."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STDLIB = sys.stdlib_module_names
SDKS = ("telegram", "slack_bolt", "slack_sdk")
DRIVERS = ("aiosqlite", "sqlite3", "asyncpg", "psycopg")
AGENT_CLIENTS = ("httpx", "aiohttp", "stamina")


def imports(folder: str, *, exclude: str | None = None) -> dict[str, set[str]]:
    """Every module each file under ``folder`` imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if exclude and relative.startswith(exclude):
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[relative] = names
    return found


def offending(found: dict[str, set[str]], allowed: tuple[str, ...]) -> list[str]:
    def ok(name: str) -> bool:
        top = name.split(".")[0]
        return top == "__future__" or top in STDLIB or any(name == a or name.startswith(a + ".") for a in allowed)

    return sorted(f"{path} imports {name}" for path, names in found.items() for name in names if not ok(name))


def test_core_imports_only_the_standard_library_and_itself() -> None:
    """bridge/ (outside the composition root bridge/app/) imports no SDK, driver, client, adapter or store."""
    core = imports("bridge", exclude="bridge/app/")
    assert offending(core, ("bridge",)) == []
    foreign = SDKS + DRIVERS + AGENT_CLIENTS  # sqlite3 is in the standard library, yet a driver
    assert not [(p, n) for p, names in core.items() for n in names if n.split(".")[0] in foreign]
    main = core.pop("bridge/__main__.py")
    assert main == {"bridge.app.cli.main"}  # the process entry point hands over to the composition root at once
    assert not any("bridge.app" in name for names in core.values() for name in names)


def test_store_imports_only_core_ports_values_and_its_driver() -> None:
    """store/ implements the core's store port: no adapters, no SDKs, no composition root.
    (``bridge.backoff``, where every retry's waits are declared: a full disk's retries too.)"""
    allowed = ("store", "bridge.models", "bridge.errors", "bridge.ports.store", "bridge.backoff", "asyncpg")
    assert offending(imports("store"), allowed) == []


def test_adapters_reach_the_core_only_through_ports_and_values() -> None:
    """adapters/ never import the store, the composition root or the core's machinery."""
    core_face = (
        "bridge.models",
        "bridge.errors",
        "bridge.ports",
        "bridge.texts",
        "bridge.tasks",
        "bridge.backoff",
        "bridge.repeats",  # a retried failure's log line, as the core's own retries log it
    )
    shared = (
        "adapters.base",
        "adapters.markdown",
        "adapters.graphemes",
        "adapters.live",
        "adapters.files",
        "adapters.kept_alive",
        "starlette",
        "pydantic",
    )
    rules = {
        "adapters/slack": (
            "adapters.slack",
            "slack_bolt",
            "slack_sdk",
            "slackify_markdown",
            "markdown_it",
            "aiohttp",
            "httptools",
            "multidict",
        ),
        "adapters/telegram": (
            "adapters.telegram",
            "telegram",
            "telegramify_markdown",
            "aiolimiter",
            "httpx",
            "aiohttp",
        ),
        "adapters/console": ("adapters.console", "prompt_toolkit", "rich"),
        "adapters/raia": (
            "adapters.raia",
            "adapters.agent_http",
            "httpx",
            "aiohttp",
            "stamina",
            "uvicorn",
            "httptools",
        ),
        "adapters/agent_http": ("httpx",),
        "adapters/blaigent": ("adapters.blaigent", "adapters.agent_http", "httpx", "aiolimiter", "uvicorn"),
        "adapters/slug": ("adapters.slug", "adapters.agent_http", "httpx", "httpx_sse", "uvicorn"),
        "adapters/transcribe": ("adapters.transcribe", "httpx"),
    }
    for folder, own in rules.items():
        assert offending(imports(folder), core_face + shared + own) == [], folder
    top = {p: n for p, n in imports("adapters").items() if p.count("/") == 1}
    # adapters/kept_alive.py: the platforms' kept-alive connections, read by httptools.
    assert offending(top, (*core_face, *shared, "httptools", "aiohttp.http")) == []


def test_importing_the_core_and_store_loads_no_platform_sdk() -> None:
    """Importing every core and store module leaves slack_bolt, slack_sdk and telegram unloaded."""
    modules = sorted(
        p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for folder in ("bridge", "store")
        for p in (ROOT / folder).rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    )
    code = f"import sys, {', '.join(modules)}\nprint(','.join(m for m in {SDKS!r} if m in sys.modules))"
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == ""


VENDORS = ("raia", "blaigent", "slug")
AGENT_TYPES = (
    "AgentPort",
    "DirectAgentPort",
    "RatesAnswers",
    "TakesFiles",
    "RaiaClient",
    "BlaigentClient",
    "SlugClient",
)


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes in ``tree`` (prose may name an example)."""
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _names(tree: ast.AST) -> set[str]:
    """The identifiers a module defines and uses, and its string constants (not docstrings:
    prose may name an example)."""
    docstrings = _docstrings(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            found.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.add(node.value)
    return found


def test_the_core_and_the_store_port_speak_no_vendors_words() -> None:
    """No raia, Blaigent or slug name in the core's code (settings' names live in the
    composition root) nor in the store port: ids are the agent's, whichever agent it is."""
    offenders = []
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("bridge/app/"):
            continue
        for name in _names(ast.parse(path.read_text(), relative)):
            if any(vendor in name.lower() for vendor in VENDORS):
                offenders.append(f"{relative}: {name!r}")
    for path in sorted((ROOT / "bridge/ports").glob("store*.py")):  # the port and its parts
        port = path.read_text().lower()
        offenders += [f"bridge/ports/{path.name} mentions {v}" for v in VENDORS if v in port]
    assert offenders == []


def test_only_the_composition_root_tells_agent_apis_apart() -> None:
    """A question's life asks through one port (bridge.asking); which kind of agent API is
    behind it is decided once, in bridge/app/ (no isinstance on agent types elsewhere)."""
    offenders = []
    for folder in ("bridge", "adapters", "store"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("bridge/app/"):
                continue
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
                    kinds = node.args[1]
                    names = {n.id for n in ast.walk(kinds) if isinstance(n, ast.Name)}
                    names |= {n.attr for n in ast.walk(kinds) if isinstance(n, ast.Attribute)}
                    if names & set(AGENT_TYPES):
                        offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


def test_the_core_names_no_platform() -> None:
    """bridge/ (outside bridge/app/) holds no platform's words or branches: no string in its
    code names Slack, Telegram or the terminal (docstrings and comments may), and the
    catalogue's own keys are neutral; each adapter brings its own (``texts.Book``)."""
    platform = re.compile(r"slack|telegram|console", re.IGNORECASE)
    found = []
    for path in sorted((ROOT / "bridge").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("bridge/app/"):
            continue
        tree = ast.parse(path.read_text(), relative)
        docstrings = _docstrings(tree)
        found += [
            f"{relative}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and platform.search(node.value)
        ]
    assert found == []
    from bridge import texts, translations

    keys = set(texts.ENGLISH).union(*translations.SHIPPED.values())
    assert not [k for k in keys if k.startswith(("slack_", "telegram_", "console_", "command_", "feedback_modal_"))]
