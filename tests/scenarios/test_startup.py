"""Start-up failures of the real server process: one line naming the setting, a distinct
exit status, no traceback, no secret."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from adapters.raia.simulator import RaiaSimulator
from store.sqlite import SqliteStore
from tests.conftest import API_KEY
from tests.fakes import slack
from tests.fakes import telegram as tg
from tests.fakes.server import serving
from tests.pgserver import PASSWORD, PgServer
from tests.processes import can_mount, free_port


async def _serve(
    env: dict[str, str], cwd: Path, *, wrapper: Sequence[str] = (), before: Callable[[], None] | None = None
) -> tuple[int, str]:
    """``python -m bridge`` (run by ``wrapper``, after ``before`` in the child); its exit status and stderr."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RAIA_", "SLACK_", "TELEGRAM_"))}
    proc = await asyncio.create_subprocess_exec(
        *wrapper, sys.executable, "-m", "bridge", cwd=cwd, env=base | env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, preexec_fn=before,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.fixture
async def raia() -> object:
    async with serving(RaiaSimulator(api_key=API_KEY)) as base:
        yield base


def _basics(raia: str, tmp_path: Path, port: int | None = None) -> dict[str, str]:
    return {"RAIA_API_KEY": API_KEY, "RAIA_BASE_URL": raia, "HOST": "127.0.0.1",
            "PORT": str(port or free_port()), "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}  # fmt: skip


def _one_line(err: str, expected: str) -> None:
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"raia-bridge: {expected}"), err


async def test_a_refused_telegram_token(raia: str, tmp_path: Path) -> None:
    """A token the Bot API refuses: exit 3 with one line, and the token is not repeated."""
    fake = tg.FakeTelegram()
    wrong = "999999:WRONG-token-value-abc"
    async with serving(fake.app()) as api:
        code, err = await _serve(_basics(raia, tmp_path) | {"TELEGRAM_BOT_TOKEN": wrong,
                                                             "TELEGRAM_API_URL": f"{api}/bot"}, tmp_path)  # fmt: skip
    assert code == 3
    _one_line(err, "TELEGRAM_BOT_TOKEN was refused by Telegram")
    assert wrong not in err


async def test_a_refused_slack_token(raia: str, tmp_path: Path) -> None:
    """A Slack token auth.test refuses: exit 3 with one line."""
    fake = slack.FakeSlack()
    async with serving(fake.app()) as api:
        env = {"SLACK_BOT_TOKEN": "xoxb-wrong-token-1234", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": f"{api}/api/"}
        code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path)
    assert code == 3
    _one_line(err, "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)")
    assert "xoxb-wrong-token-1234" not in err


async def test_slack_out_of_reach(raia: str, tmp_path: Path) -> None:
    """Nothing listens at SLACK_API_URL: exit 4, one line."""
    env = {"SLACK_BOT_TOKEN": slack.BOT_TOKEN, "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"}  # fmt: skip
    code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path)
    assert code == 4
    _one_line(err, "cannot reach Slack")


async def test_a_busy_port_fails_before_the_webhook_moves(raia: str, tmp_path: Path) -> None:
    """The port is taken: exit 5, one line, and Telegram's webhook was never touched."""
    fake = tg.FakeTelegram()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with serving(fake.app()) as api:
            env = {"TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{api}/bot",
                   "PUBLIC_URL": "https://bridge.example.com", "TELEGRAM_WEBHOOK_SECRET": "secret-1"}  # fmt: skip
            code, err = await _serve(_basics(raia, tmp_path, port) | env, tmp_path)
    assert code == 5
    _one_line(err, f"cannot listen on 127.0.0.1:{port}")
    assert "setWebhook" not in fake.calls


async def test_a_database_directory_that_does_not_exist(raia: str, tmp_path: Path) -> None:
    """DATABASE_URL into a missing directory (a mistyped volume path): exit 7, nothing created."""
    fake = tg.FakeTelegram()
    async with serving(fake.app()) as api:
        env = {"TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{api}/bot",
               "DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-volume' / 'b.db'}"}  # fmt: skip
        code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path)
    assert code == 7
    _one_line(err, "DATABASE_URL points into")
    assert not (tmp_path / "no-such-volume").exists()


def _no_file_may_grow() -> None:
    """In the child: writing a byte to any file fails (EFBIG, as a full disk fails with
    ENOSPC), instead of the process being killed by SIGXFSZ. Pipes are not files: stderr works."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


async def test_a_database_that_cannot_be_written(raia: str, tmp_path: Path) -> None:
    """SQLite cannot write a byte of the new database: exit 7 and one line naming DATABASE_URL
    and why (here the process's file size limit), not SQLite's "disk I/O error"."""
    url = f"sqlite:///{tmp_path / 'b.db'}"
    env = {"TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{raia}/no-telegram-here"}
    code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path, before=_no_file_may_grow)
    assert (code, err.splitlines()) == (
        7,
        [f"raia-bridge: DATABASE_URL {url}: this process may not write files over 0 bytes (ulimit -f 0)"],
    )


@pytest.mark.skipif(not can_mount(), reason="needs a private mount namespace (root, CAP_SYS_ADMIN)")
@pytest.mark.parametrize(
    ("case", "cause"),
    [("new", "the disk is full"), ("existing", "the disk is full"),
     ("read-only", "cannot open its lock file b.db.lock: the disk is read-only")],
)  # fmt: skip
async def test_a_full_or_read_only_disk(raia: str, tmp_path: Path, case: str, cause: str) -> None:
    """The database's volume is full (a 256 KiB tmpfs, filled, in a mount namespace of the
    bridge's own), with a new database or one the bridge made before (SQLite calls that one
    a "disk I/O error"), or it is read-only: exit 7, one line naming DATABASE_URL and why."""
    volume = tmp_path / "volume"
    volume.mkdir()
    made = tmp_path / "made.db"
    async with SqliteStore(made):
        pass
    setup = {
        "new": f"mount -t tmpfs -o size=256k tmpfs {volume} && (cat /dev/zero > {volume}/fill) 2>/dev/null",
        "existing": f"mount -t tmpfs -o size=256k tmpfs {volume} && cp {made} {volume}/b.db && "
        f"(cat /dev/zero > {volume}/fill) 2>/dev/null",
        "read-only": f"mount -t tmpfs -o ro tmpfs {volume}",
    }[case]
    wrapper = ["unshare", "--mount", "sh", "-c", f'{setup}; exec "$0" "$@"']
    url = f"sqlite:///{volume / 'b.db'}"
    env = {"TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{raia}/no-telegram-here", "DATABASE_URL": url}
    code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path, wrapper=wrapper)
    assert (code, err.splitlines()) == (7, [f"raia-bridge: DATABASE_URL {url}: {cause}"])
    assert list(volume.iterdir()) == []  # the tmpfs was the namespace's own


async def test_a_postgres_database_that_refuses_or_cannot_be_reached(
    raia: str, tmp_path: Path, pg_server: PgServer
) -> None:
    """A wrong password or an unreachable PostgreSQL: exit 7, one line, the password nowhere."""
    fake = tg.FakeTelegram()
    url = await pg_server.new_database()
    async with serving(fake.app()) as api:
        env = {"TELEGRAM_BOT_TOKEN": tg.TOKEN, "TELEGRAM_API_URL": f"{api}/bot"}
        wrong = url.replace(PASSWORD, "Not-The-Pass-9")
        code, err = await _serve(_basics(raia, tmp_path) | env | {"DATABASE_URL": wrong}, tmp_path)
        assert code == 7
        _one_line(err, "DATABASE_URL: cannot open the PostgreSQL database: InvalidPasswordError")
        assert "Not-The-Pass-9" not in err
        gone = f"postgresql://bridge:{PASSWORD}@127.0.0.1:{free_port()}/bridge"
        code, err = await _serve(_basics(raia, tmp_path) | env | {"DATABASE_URL": gone}, tmp_path)
        assert code == 7
        _one_line(err, "DATABASE_URL: cannot open the PostgreSQL database")
        assert PASSWORD not in err
    assert fake.webhook == {}  # the platform was never touched


async def test_a_shutdown_timeout_below_one_second_is_warned_at_start(raia: str, tmp_path: Path) -> None:
    """The process says once that SHUTDOWN_TIMEOUT < 1 cuts off work (and still starts)."""
    code, err = await _serve(_basics(raia, tmp_path) | {"SHUTDOWN_TIMEOUT": "0.5"}, tmp_path)
    assert code == 2  # no platform configured: it stops right after the warning
    assert err.count("SHUTDOWN_TIMEOUT=0.5 is below 1 s") == 1


async def test_a_refused_socket_mode_token(raia: str, tmp_path: Path) -> None:
    """An app-level token Slack refuses: exit 3 with one line at once, not a 30 s wait and
    the Socket Mode client's tracebacks."""
    fake = slack.FakeSlack()
    wrong = "xapp-1-A0-wrong-app-token-77"
    async with serving(fake.app()) as api:
        env = {"SLACK_BOT_TOKEN": slack.BOT_TOKEN, "SLACK_APP_TOKEN": wrong, "SLACK_API_URL": f"{api}/api/"}
        code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path)
    assert code == 3
    _one_line(err, "SLACK_APP_TOKEN was refused by Slack (invalid_auth)")
    assert len(err.strip().splitlines()) <= 3, err  # the settings' and the store's lines at most, then this one
    assert wrong not in err
    assert fake.calls.count("apps.connections.open") == 1  # asked once, not retried until a timeout


async def test_a_user_token_as_the_bot_token(raia: str, tmp_path: Path) -> None:
    """SLACK_BOT_TOKEN=xoxp-… (a user token): exit 2, one line naming the setting."""
    wrong = "xoxp-1234-5678-user-token-abc"
    env = {"SLACK_BOT_TOKEN": wrong, "SLACK_SIGNING_SECRET": "s"}
    code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path)
    assert code == 2
    assert err.strip().splitlines() == [
        "raia-bridge: configuration error: SLACK_BOT_TOKEN is invalid: is a user token (xoxp-…): the bridge posts "
        "as the bot; use the Bot User OAuth Token (xoxb-…)"
    ]


async def test_misspelled_settings_are_warned_about_at_start(raia: str, tmp_path: Path) -> None:
    """A variable with the bridge's prefix that is no setting: one warning line each, naming
    the nearest setting (here before the start stops for want of a platform)."""
    env = {"TELEGRAM_ALLOWED_USER": "42", "LOG_FROMAT": "json"}
    code, err = await _serve(_basics(raia, tmp_path) | env, tmp_path)
    assert code == 2
    assert err.count("TELEGRAM_ALLOWED_USER is not a setting of the bridge and is ignored: did you mean ") == 1, err
    assert err.count("did you mean TELEGRAM_ALLOWED_USERS?") == 1
    assert err.count("LOG_FROMAT is not a setting of the bridge and is ignored: did you mean LOG_FORMAT?") == 1


async def test_version(tmp_path: Path) -> None:
    """`python -m bridge --version` (and `raia-bridge --version`) prints the package's version."""
    from bridge.app.version import package_version

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "--version", cwd=tmp_path, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0
    assert out.decode() == f"raia-bridge {package_version()}\n"
    assert package_version()[0].isdigit()
