"""``raia-bridge`` / ``python -m bridge``: serve (default), demo, chat, check."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
import tempfile
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx

from adapters.base import CheckResult
from bridge.app.database import Database, parse_database_url
from bridge.app.logs import Redactor, configure_logging, instrument_retries
from bridge.app.platforms import configured_platforms
from bridge.app.runtime import open_agent, open_runtime
from bridge.app.settings import Settings, load_settings
from bridge.errors import (
    AgentAuthError,
    AgentError,
    AgentTransportError,
    ConfigError,
    DatabaseUnavailable,
    PortUnavailable,
    StartupError,
)
from bridge.texts import AGENT_FALLBACK_NAME
from store.copy import copy_sqlite_to_postgres
from store.postgres import PostgresStore
from store.sqlite import SqliteStore

log = logging.getLogger("bridge")
T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="raia-bridge", description="Puts a raia AI agent into Slack and Telegram (see README.md)."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bridge (the default)")
    sub.add_parser("demo", help="chat in the terminal with a built-in raia simulator (no account needed)")
    sub.add_parser("chat", help="chat in the terminal with the real agent named by RAIA_API_KEY")
    sub.add_parser("check", help="check every configured credential and print a verdict")
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
        if command == "demo":
            settings = load_settings(raia_api_key="demo", raia_base_url="http://raia-simulator")
        else:
            settings = load_settings()
        level = settings.log_level
        if command in ("demo", "chat") and level == "INFO":
            level = "WARNING"  # keep the terminal for the conversation; turns are logged at INFO
        configure_logging(level, settings.secrets(), fmt=settings.log_format)
        instrument_retries()
        if command == "serve":
            serve(settings)
        elif command == "check":
            sys.exit(run_async(check(settings)))
        else:
            run_async(chat(settings, demo=command == "demo"))
    except ConfigError as exc:
        print(f"raia-bridge: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except StartupError as exc:
        print(f"raia-bridge: {exc}", file=sys.stderr)
        sys.exit(exc.exit_status)
    except KeyboardInterrupt:
        sys.exit(130)


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed (it is a dependency on Linux/macOS)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(main)
    return uvloop.run(main)


HTTP_GRACE = 1  # seconds for in-flight requests at shutdown (uvicorn counts whole seconds)


def serve(settings: Settings) -> None:
    import uvicorn

    from bridge.app.server import build_app

    for warning in settings.warnings():
        logging.getLogger("bridge.app.settings").warning("%s", warning)
    platforms = configured_platforms(settings)
    if not platforms:
        raise ConfigError("nothing to serve: set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN (or try `raia-bridge demo`)")
    app = build_app(settings, platforms, drain=max(0.0, settings.shutdown_timeout - HTTP_GRACE), lifespan=False)
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
        lifespan="off",  # the bridge is opened around serve() below instead
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
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(
            f"cannot listen on {host}:{port} ({exc.strerror}): stop what uses it, or set PORT"
        ) from None
    sock.set_inheritable(True)
    return sock


async def chat(settings: Settings, *, demo: bool) -> None:
    from adapters.console.outbound import PLATFORM, ConsoleOutbound
    from adapters.console.session import run_console

    interactive = sys.stdin.isatty()
    async with AsyncExitStack() as stack:
        transport: httpx.AsyncBaseTransport | None = None
        database: Path | None = None
        if demo:
            from adapters.raia.simulator import RaiaSimulator

            transport = httpx.ASGITransport(app=RaiaSimulator())
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="raia-bridge-demo-"))
            database = Path(workdir) / "demo.db"
            if interactive:
                print("Demo mode: answers come from a built-in raia simulator, not a real agent.")
        runtime = await stack.enter_async_context(open_runtime(settings, raia_transport=transport, database=database))
        outbound = ConsoleOutbound(sys.stdout, prefix="agent> " if interactive else "", interactive=interactive)
        runtime.service.register(outbound)
        pending = await runtime.store.count_open(PLATFORM)
        service = await stack.enter_async_context(runtime.service.running(settings.shutdown_timeout))
        failed = await run_console(service, outbound, pending=pending, interactive=interactive)
    if failed and not interactive:
        # A script learns that an answer failed (the notice itself is in the output).
        sys.exit(1)


async def migrate_db(source_url: str, target_url: str) -> int:
    """Copy a SQLite database into PostgreSQL; one line of outcome."""
    source, target = _database_arg("--from", source_url), _database_arg("--to", target_url)
    if source.path is None or target.path is not None:
        raise ConfigError("migrate-db copies --from sqlite:///… --to postgres://…")
    configure_logging("WARNING", [target.password] if target.password else [])
    report = await copy_sqlite_to_postgres(source.path, target.url)
    print(f"{source.display} -> {target.display}: {report.summary()}")
    return 0


def _database_arg(option: str, url: str) -> Database:
    try:
        return parse_database_url(url)
    except ValueError as exc:
        raise ConfigError(f"{option} {exc}") from None


async def check_database(database: Database) -> CheckResult:
    """Reachable, which engine, which schema version; read-only."""
    try:
        if database.path is not None:
            detail = await asyncio.to_thread(SqliteStore.inspect, database.path)
        else:
            detail = await PostgresStore.inspect(database.url)
    except DatabaseUnavailable as exc:
        return CheckResult("database", False, f"{database.display}: {exc}")
    return CheckResult("database", True, detail if database.path is not None else f"{detail} at {database.display}")


async def check(settings: Settings) -> int:
    """Print one verdict line per credential; exit status 0 only if all are fine."""
    results: list[CheckResult] = []
    # Only the raia client: checking credentials must not create or touch the database.
    async with open_agent(settings) as agent:
        try:
            name = await agent.agent_name() or AGENT_FALLBACK_NAME
            results.append(CheckResult("raia", True, f"agent {name!r} at {settings.raia_base_url}"))
        except AgentAuthError:
            results.append(CheckResult("raia", False, "RAIA_API_KEY was refused (403): copy the key again from raia"))
        except AgentTransportError as exc:
            results.append(CheckResult("raia", False, f"could not reach {settings.raia_base_url}: {exc}"))
        except AgentError as exc:
            results.append(CheckResult("raia", False, f"{settings.raia_base_url} answered with an error: {exc}"))
    results.append(await check_database(settings.database))
    platforms = configured_platforms(settings)
    for platform in platforms:
        try:
            results.extend(await platform.check())
        except Exception as exc:
            results.append(CheckResult(platform.name, False, f"check failed: {type(exc).__name__}: {exc}"))
        finally:
            await platform.close()
    if not platforms:
        results.append(CheckResult("platforms", False, "neither TELEGRAM_BOT_TOKEN nor SLACK_BOT_TOKEN is set"))
    # Libraries put tokens in their messages ("The token `123:AA…` was rejected").
    redact = Redactor(settings.secrets())
    for result in results:
        print(f"{'OK  ' if result.ok else 'FAIL'} {result.name}: {redact(result.detail)}")
    failed = [r for r in results if not r.ok]
    print("All checks passed." if not failed else f"{len(failed)} check(s) failed.")
    return 0 if not failed else 1
