"""ROUTES_FILE parsing: every table and key checked, and a mistake refused in one line
that names the file and the table (and, from the CLI, exit status 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bridge.app.routes import Routes, load_routes
from bridge.errors import RoutesError
from bridge.routing import Route
from tests.conftest import make_settings

ENV = {
    "RAIA_HELPDESK_KEY": "sk-help",
    "RAIA_HR_KEY": "sk-hr",
    "TG_HELPDESK_TOKEN": "111:help-token",
    "TG_HELPDESK_SECRET": "help_secret",
    "SLACK_MAIN_TOKEN": "xoxb-main",
    "SLACK_MAIN_SECRET": "main-signing",
}

GOOD = """
[agents.helpdesk]            # any number; backend = raia | blaigent | slug
backend = "raia"
key_env = "RAIA_HELPDESK_KEY"
[agents.hr]
backend = "raia"
key_env = "RAIA_HR_KEY"
base_url = "https://hr.example.com"

[telegram.helpdesk_bot]
token_env = "TG_HELPDESK_TOKEN"
secret_env = "TG_HELPDESK_SECRET"
agent = "helpdesk"

[slack.main]
bot_token_env = "SLACK_MAIN_TOKEN"
signing_secret_env = "SLACK_MAIN_SECRET"
agent = "helpdesk"

[[route]]
slack = "main"
channel = "C0HRHELP"
agent = "hr"
reply = "all"

[[route]]
telegram = "helpdesk_bot"
chat = -100123
agent = "hr"
"""


def routes_from(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Routes:
    path = tmp_path / "routes.toml"
    path.write_text(text)
    settings = make_settings(raia_api_key=None, routes_file=path, public_url="https://bridge.example.com")
    return load_routes(settings, environ=ENV if env is None else env)


def test_the_issues_example_is_read_with_every_agent_bot_and_route(tmp_path: Path) -> None:
    routes = routes_from(tmp_path, GOOD)
    assert list(routes.agents) == ["helpdesk", "hr"]
    hr = routes.agents["hr"].settings
    assert hr.raia_api_key is not None
    assert hr.raia_api_key.get_secret_value() == "sk-hr"
    assert hr.raia_base_url == "https://hr.example.com"
    assert routes.agents["helpdesk"].settings.raia_base_url == "http://raia.test"  # the deployment's RAIA_BASE_URL
    assert [(b.platform, b.path, b.agent) for b in routes.bots] == [
        ("telegram/helpdesk_bot", "/telegram/helpdesk_bot/webhook", "helpdesk"),
        ("slack/main", "/slack/main/events", "helpdesk"),
    ]
    assert routes.routes == (
        Route("slack/main", "hr", chat="C0HRHELP", reply="all"),
        Route("telegram/helpdesk_bot", "hr", chat="-100123"),
    )
    assert "sk-hr" in routes.secrets()
    assert "help_secret" in routes.secrets()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('agent = "hr"\nreply', 'agent = "sales"\nreply'), '[[route]] #1: agent = "sales" is not defined'),
        (("[slack.main]\n", '[slack.main]\ncolour = "red"\n'), "[slack.main]: unknown key 'colour'"),
        (
            ('key_env = "RAIA_HR_KEY"', 'key_env = "RAIA_NOPE"'),
            "[agents.hr]: key_env names RAIA_NOPE, which is not set",
        ),
        (('backend = "raia"\nkey_env = "RAIA_HR_KEY"', 'backend = "gpt"\nkey_env = "RAIA_HR_KEY"'), "backend = 'gpt'"),
        (('slack = "main"', 'slack = "other"'), '[[route]] #1: slack = "other" is not defined: add [slack.other]'),
        (('reply = "all"', 'reply = "loud"'), "reply = 'loud': use one of mention, all, private"),
        (("[agents.hr]", "[agents.hr"), "is not valid TOML"),
        (("chat = -100123", 'channel = "C1"'), "channel is not a telegram key"),
        (('base_url = "https://hr.example.com"', 'base_url = "ftp://x"'), "RAIA_BASE_URL is invalid"),
    ],
)
def test_a_mistake_is_refused_in_one_line_naming_the_file_and_table(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(RoutesError) as caught:
        routes_from(tmp_path, GOOD.replace(old, new, 1))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"ROUTES_FILE {tmp_path / 'routes.toml'}")
    assert expected in message


def test_a_bad_token_is_named_by_its_table(tmp_path: Path) -> None:
    with pytest.raises(RoutesError, match=r"\[telegram.helpdesk_bot\]: TELEGRAM_BOT_TOKEN is invalid"):
        routes_from(tmp_path, GOOD, {**ENV, "TG_HELPDESK_TOKEN": "not-a-token"})


def test_only_one_bot_may_long_poll(tmp_path: Path) -> None:
    text = GOOD.replace('secret_env = "TG_HELPDESK_SECRET"\n', "") + (
        '[telegram.second]\ntoken_env = "TG_HELPDESK_TOKEN"\nagent = "hr"\n'
    )
    path = tmp_path / "routes.toml"
    path.write_text(text)
    settings = make_settings(raia_api_key=None, routes_file=path)  # no PUBLIC_URL: bots long-poll
    with pytest.raises(RoutesError, match="only one Telegram bot can long-poll"):
        load_routes(settings, environ=ENV)


def test_the_cli_stops_with_one_line_and_exit_status_8(tmp_path: Path) -> None:
    (tmp_path / "routes.toml").write_text(GOOD.replace('agent = "hr"\nreply', 'agent = "sales"\nreply'))
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep} | ENV | {"ROUTES_FILE": "routes.toml"}
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 8
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert 'routes.toml: [[route]] #1: agent = "sales" is not defined' in lines[0]


def test_add_to_slack_is_the_app_named_slack_and_the_first_agent_answers_elsewhere(tmp_path: Path) -> None:
    text = GOOD + '\n[[route]]\nslack = "slack"\nteam = "T0ACME"\nagent = "hr"\n'
    path = tmp_path / "routes.toml"
    path.write_text(text)
    installs = {
        "slack_client_id": "1234.5678",
        "slack_client_secret": "client-secret",
        "slack_state_secret": "state-secret",
        "slack_signing_secret": "signing-secret",
        "bridge_secret_key": Fernet.generate_key().decode(),
    }
    settings = make_settings(raia_api_key=None, routes_file=path, public_url="https://bridge.example.com", **installs)
    routes = load_routes(settings, environ=ENV)
    assert routes.routes[-1] == Route("slack", "hr", team="T0ACME")
    assert routes.defaults["slack"] == "helpdesk"  # the file's first agent
    assert routes.defaults["slack/main"] == "helpdesk"
    main = next(bot for bot in routes.bots if bot.name == "main")
    assert main.settings.slack_client_id is None  # a [slack.NAME] app keeps its own token
    path.write_text(text.replace("[slack.main]", "[slack.slack]").replace('slack = "main"', 'slack = "slack"'))
    with pytest.raises(RoutesError, match=r"\[slack.slack\]: slack is the name of the SLACK_CLIENT_ID app"):
        load_routes(settings, environ=ENV)
    with pytest.raises(RoutesError, match='slack = "slack" is not defined'):  # no SLACK_CLIENT_ID: no such app
        routes_from(tmp_path, text)
