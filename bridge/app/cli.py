"""``raia-bridge`` / ``python -m bridge``: serve (default), demo, chat, check."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import socket
import sys
import tempfile
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

from bridge import texts
from bridge.app import collector
from bridge.app.advice import setting_warnings
from bridge.app.check import check, unknown_settings
from bridge.app.database import Database, parse_database_url
from bridge.app.logs import configure_logging, instrument_retries
from bridge.app.platforms import configured_platforms
from bridge.app.routes import Routes, load_routes
from bridge.app.runtime import open_runtime
from bridge.app.settings import Settings, load_settings
from bridge.app.version import package_version
from bridge.errors import ConfigError, PortUnavailable, RoutesError, StartupError
from store.copy import copy_sqlite_to_postgres

log = logging.getLogger("bridge")
T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="raia-bridge",
        description="Puts a raia AI agent into Slack and Telegram (see README.md). Every command also runs "
        "as `python -m bridge ...`, where only the source or requirements.txt is installed.",
    )
    parser.add_argument("--version", action="version", version=f"raia-bridge {package_version()}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bridge (the default)")
    demo = sub.add_parser("demo", help="chat in the terminal with a built-in agent simulator (no account needed)")
    demo.add_argument(
        "--backend", choices=("raia", "blaigent", "slug"), default="raia", help="which agent API to simulate"
    )
    sub.add_parser("chat", help="chat in the terminal with the real agent named by RAIA_API_KEY")
    sub.add_parser("check", help="check the settings and every configured credential, and print a verdict each")
    copy = sub.add_parser("migrate-db", help="copy a SQLite database into PostgreSQL (idempotent)")
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="sqlite:///bridge.db")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="postgres://user:password@host/db")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    try:
        if command == "migrate-db":
            sys.exit(run_async(migrate_db(args.source, args.target)))
        simulator: socket.socket | None = None
        if command == "demo":  # the built-in simulator will listen on this loopback socket
            from bridge.app.loopback import bound

            simulator = bound()
        settings = load_settings(**demo_settings(args.backend, simulator)) if simulator else load_settings()
        level = settings.log_level
        if command in ("demo", "chat") and level == "INFO":
            level = "WARNING"  # keep the terminal for the conversation; turns are logged at INFO
        if command == "check" and level != "DEBUG":
            level = "CRITICAL"  # verdicts only: what went wrong is in them
        routes = load_routes(settings) if settings.routes_file is not None and simulator is None else None
        secrets = [*settings.secrets(), *(routes.secrets() if routes else ())]
        configure_logging(level, secrets, fmt=settings.log_format)
        texts.use_overrides(settings.messages())  # validated with the settings
        instrument_retries()
        if command == "serve":
            serve(settings, routes)
        elif command == "check":
            sys.exit(run_async(check(settings, routes)))
        else:  # the terminal chat talks to the first agent of a routes file
            agent = next(iter(routes.agents.values())).settings if routes else settings
            run_async(chat(agent, simulator=simulator))
    except RoutesError as exc:
        print(f"raia-bridge: configuration error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_status)
    except ConfigError as exc:
        print(f"raia-bridge: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except StartupError as exc:
        print(f"raia-bridge: {exc}", file=sys.stderr)
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:
        sys.exit(130)


def demo_settings(backend: str, simulator: socket.socket) -> dict[str, Any]:
    """Settings that point the chosen backend at its built-in simulator, to be served on
    the loopback socket ``simulator``."""
    from adapters.blaigent import simulator as blaigent
    from adapters.slug import simulator as slug

    base = f"http://127.0.0.1:{simulator.getsockname()[1]}"
    if backend == "blaigent":
        return {
            "agent_backend": "blaigent", "blaigent_api_key": blaigent.API_KEY, "blaigent_org_id": blaigent.ORGANIZATION,
            "blaigent_base_url": f"{base}/api/v1", "blaigent_agent": blaigent.AGENT,
        }  # fmt: skip
    if backend == "slug":
        return {
            "agent_backend": "slug", "slug_api_key": slug.API_KEY, "slug_agent": slug.SLUG,
            "slug_api_url": f"{base}/v1/api",
        }  # fmt: skip
    return {"agent_backend": "raia", "raia_api_key": "demo", "raia_base_url": base}


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed (it is a dependency on Linux/macOS)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(main)
    return uvloop.run(main)


HTTP_GRACE = 1  # seconds for in-flight requests at shutdown (uvicorn counts whole seconds)
# Connections the kernel queues before the server accepts them (capped by net.core.somaxconn):
# at 5,000 same-instant webhooks uvicorn's 2,048 overflowed into SYN retransmits (1 s, 3 s...).
BACKLOG = 16384


def serve(settings: Settings, routes: Routes | None = None) -> None:
    import uvicorn

    from bridge.app.limits import bounded_http
    from bridge.app.server import build_app

    settings_log = logging.getLogger("bridge.app.settings")
    for warning in [*unknown_settings(settings), *setting_warnings(settings)]:
        settings_log.warning("%s", warning)
    platforms = configured_platforms(settings, routes)
    if not platforms:
        raise ConfigError("nothing to serve: set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN (or try `raia-bridge demo`)")
    drain = max(0.0, settings.shutdown_timeout - HTTP_GRACE)
    app = build_app(settings, platforms, drain=drain, lifespan=False, routed=routes)
    config = uvicorn.Config(
        app,
        log_config=None,  # keep our handler (and its secret filter)
        access_log=False,  # one log line per turn is ours; webhook hits would drown it
        proxy_headers=True,
        # On SIGTERM uvicorn first closes the listener (new webhooks are refused: the
        # platforms redeliver them to the next instance), then waits for requests in
        # flight (each is one commit: HTTP_GRACE is plenty); then the bridge stops,
        # and the lanes get what is left of SHUTDOWN_TIMEOUT.
        timeout_graceful_shutdown=HTTP_GRACE,
        timeout_keep_alive=5,  # idle keep-alive connections are closed after 5 s
        # A request's head must arrive within HTTP_TIMEOUT (uvicorn waits for ever) and
        # stay under 64 KiB (uvicorn takes any size); the body is bounded by BodyLimit.
        http=bounded_http(settings.http_timeout),
        lifespan="off",  # the bridge is opened around serve() below instead
        backlog=BACKLOG,  # asyncio listens again with this on the socket bound below
    )
    # Bound first: a busy port fails before any platform is touched (a Telegram webhook
    # is not moved to an instance that cannot listen).
    sock = listen(settings.host, settings.port)
    run_async(_serve(uvicorn.Server(config), app, sock))


async def _serve(server: Any, app: Any, sock: socket.socket) -> None:
    state = app.state.bridge
    async with state.bridge():
        # uvicorn re-raises SIGTERM/SIGINT once it has stopped serving; with these
        # handlers that does nothing, and the bridge below gets to stop in order.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: None)
        collector.settle()  # start-up's objects frozen, fewer collections (bridge.app.collector)
        await server.serve(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, or one line saying why it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise ConfigError(f"HOST {host!r} cannot be resolved to an address to listen on") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it, or set PORT"
        ) from None
    sock.set_inheritable(True)
    return sock


async def chat(settings: Settings, *, simulator: socket.socket | None = None) -> None:
    """A terminal chat with the configured agent. ``simulator`` (the demo): the bound
    loopback socket the settings point at, where the backend's simulator is served meanwhile."""
    from adapters.console.outbound import ConsoleOutbound
    from adapters.console.session import run_console
    from adapters.console.words import PLATFORM
    from bridge.app.loopback import serving

    interactive = sys.stdin.isatty()
    async with AsyncExitStack() as stack:
        database: Path | None = None
        if simulator is not None:
            # Reached over HTTP like the real API, so the demo runs the production client.
            await stack.enter_async_context(serving(_simulator(settings.agent_backend), sock=simulator))
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="raia-bridge-demo-"))
            database = Path(workdir) / "demo.db"
            if interactive:
                print(f"Demo mode: answers come from a built-in {settings.agent_backend} simulator, not a real agent.")
        runtime = await stack.enter_async_context(open_runtime(settings, database=database))
        outbound = ConsoleOutbound(sys.stdout, prefix="agent> " if interactive else "", interactive=interactive)
        runtime.service.register(outbound)
        pending = await runtime.store.count_open(PLATFORM)
        service = await stack.enter_async_context(runtime.service.running(settings.shutdown_timeout))
        failed = await run_console(service, outbound, pending=pending, interactive=interactive)
    if failed and not interactive:
        # A script learns that an answer failed (the notice itself is in the output).
        sys.exit(1)


def _showcase_text(message: str) -> str:
    from adapters.raia.showcase import showcase_answer

    answer = showcase_answer(message)
    return re.sub(r"【[^】]*】", "", answer.text) if answer is not None else ""  # raia's markers are raia's


def _simulator(backend: str) -> Any:
    from adapters.blaigent.simulator import BlaigentSimulator
    from adapters.raia.showcase import showcase_answer
    from adapters.raia.simulator import RaiaSimulator
    from adapters.slug.simulator import SlugSimulator

    if backend == "blaigent":
        return BlaigentSimulator().app()
    if backend == "slug":
        return SlugSimulator(answer=_showcase_text).app()
    sim = RaiaSimulator()
    sim.converse = showcase_answer  # a few believable answers: sources, Markdown, a follow-up that remembers
    sim.takeover.auto_staff = 2.0  # /human in the demo: a simulated staff member answers, then hands back
    return sim


async def migrate_db(source_url: str, target_url: str) -> int:
    """Copy a SQLite database into PostgreSQL; one line of outcome."""
    source, target = _database_arg("--from", source_url), _database_arg("--to", target_url)
    if source.path is None or target.path is not None:
        raise ConfigError("migrate-db copies --from sqlite:///… --to postgres://…")
    configure_logging("WARNING", target.password_forms())
    report = await copy_sqlite_to_postgres(source.path, target.url)
    print(f"{source.display} -> {target.display}: {report.summary()}")
    return 0


def _database_arg(option: str, url: str) -> Database:
    try:
        return parse_database_url(url)
    except ValueError as exc:
        raise ConfigError(f"{option} {exc}") from None
