"""The README as a newcomer follows it: every command it gives is one this test knows and
runs (or, for the installs and the test suite itself, checks), every link and picture
leads to a file, and the Python version it states is the package's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent  # the console scripts of the environment the tests run in


def _commands() -> list[str]:
    """Every command line of the README's bash blocks, comments dropped."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
    lines = (line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line]


def _clean_env() -> dict[str, str]:
    prefixes = ("RAIA_", "SLACK_", "TELEGRAM_", "BLAIGENT_", "SLUG_", "AGENT_", "DATABASE_URL", "PUBLIC_URL")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _run(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        args, cwd=cwd, env=_clean_env(), input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_readme_gives_exactly_the_commands_tested_here() -> None:
    """A command added to the README without a test here fails this test."""
    assert _commands() == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && raia-bridge demo",
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" && python -m pytest',
        "cp .env.example .env",
        "raia-bridge check",
        "python -m bridge",
    ]


def test_the_demo_command_answers(tmp_path: Path) -> None:
    """`raia-bridge demo` (the end of command 1; the install is CI's package step) answers
    a question from the README's first minute, with its sources, and exits 0."""
    done = _run([str(BIN / "raia-bridge"), "demo"], tmp_path, "How do refunds work?\n")
    assert done.returncode == 0, done.stderr
    assert "full refund within 14 days" in done.stdout
    assert "Sources:" in done.stdout


def test_the_install_and_test_commands_name_what_exists() -> None:
    """The `dev` extra exists and pytest finds the tests; the package needs the Python the README states."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "dev" in project["project"]["optional-dependencies"]
    assert project["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert project["project"]["requires-python"] == ">=3.11"
    assert "Python 3.11+" in README
    assert "postgresql" in README


def test_serving_your_agent_starts_with_the_example_file_and_check(tmp_path: Path) -> None:
    """`cp .env.example .env` has a file to copy, and `raia-bridge check` on it, its blanks
    unfilled, says in one line what to fill in (exit 2), as `python -m bridge` does."""
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    for command in ([str(BIN / "raia-bridge"), "check"], [sys.executable, "-m", "bridge"]):
        done = _run(command, tmp_path)
        assert done.returncode == 2, (command, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("raia-bridge: configuration error: RAIA_API_KEY")


def test_every_link_and_picture_leads_to_a_file() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert "docs/images/telegram.png" in local
    assert "docs/images/slack.png" in local
    for target in local:
        assert (ROOT / target).exists(), target


def test_the_pictures_are_drawn_from_the_bridges_own_rendering() -> None:
    """bench/pictures.py draws what the Telegram and Slack adapters produce for the demo
    agent's answer: the formatting, the sources (a link and a file) and the vote buttons."""
    from bench.pictures import demo_reply, slack_page, telegram_page

    reply = demo_reply()
    for page in (telegram_page(reply), slack_page(reply)):
        assert "<b>full refund within 14 days</b>" in page
        assert '<a href="https://docs.northwind.example/billing/refunds">Refund policy</a>' in page
        assert "Terms of Service (2026).pdf" in page
        assert "👍" in page
        assert "【" not in page
        assert "**" not in page
    assert "📄 Terms of Service (2026).pdf" in slack_page(reply)
