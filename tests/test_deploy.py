"""The deploy files agree with each other and with the code: start command, port, health
path, shutdown grace, Python version, pinned dependencies."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bridge.app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
START = "python -m bridge"
HEALTH = "/healthz"


def _yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text())


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / name).read_text())


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _default_shutdown() -> float:
    default = Settings.model_fields["shutdown_timeout"].default
    assert isinstance(default, float)
    return default


def test_every_platform_starts_the_same_command() -> None:
    """Procfile, Dockerfile and render.yaml all run `python -m bridge`."""
    assert (ROOT / "Procfile").read_text().strip() == f"web: {START}"
    cmd = re.search(r"^CMD (\[.*\])$", _dockerfile(), re.MULTILINE)
    assert cmd is not None
    assert " ".join(json.loads(cmd.group(1))) == START
    (service,) = _yaml("render.yaml")["services"]
    assert service["startCommand"] == START


def test_port_and_health_path_agree() -> None:
    """One port (8000 unless PORT says otherwise) and /healthz everywhere a platform checks health."""
    port = Settings.model_fields["port"].default
    assert f"EXPOSE {port}" in _dockerfile()
    assert HEALTH in _dockerfile()
    fly = _toml("fly.toml")
    assert fly["http_service"]["internal_port"] == port
    assert fly["env"]["PORT"] == str(port)
    assert [check["path"] for check in fly["http_service"]["checks"]] == [HEALTH]
    assert _yaml("render.yaml")["services"][0]["healthCheckPath"] == HEALTH
    assert _yaml("compose.yaml")["services"]["bridge"]["ports"] == [f"{port}:{port}"]
    assert _yaml("compose.sqlite.yaml")["services"]["bridge"]["ports"] == [f"{port}:{port}"]


def test_shutdown_grace_outlasts_the_bridge_shutdown_and_data_is_kept() -> None:
    """Platforms wait longer than SHUTDOWN_TIMEOUT before killing, and every file keeps the
    database somewhere that survives a deploy: a mounted volume for SQLite, or PostgreSQL."""
    fly = _toml("fly.toml")
    assert fly["kill_timeout"] > _default_shutdown()
    sqlite = "sqlite:////data/bridge.db"
    assert fly["env"]["DATABASE_URL"] == sqlite
    assert fly["mounts"][0]["destination"] == "/data"
    assert f"DATABASE_URL={sqlite}" in _dockerfile()
    lite = _yaml("compose.sqlite.yaml")["services"]["bridge"]
    assert lite["environment"]["DATABASE_URL"] == sqlite
    assert lite["volumes"][0].endswith(":/data")
    services = _yaml("compose.yaml")["services"]
    bridge, db = services["bridge"], services["db"]
    for service in (bridge, lite):
        assert int(service["stop_grace_period"].rstrip("s")) > _default_shutdown()
    url = Settings(_env_file=None, raia_api_key="k", database_url=bridge["environment"]["DATABASE_URL"]).database
    assert url.engine == "postgresql"
    assert urlsplit(url.url).hostname == "db"
    assert urlsplit(url.url).password == db["environment"]["POSTGRES_PASSWORD"]
    assert bridge["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["volumes"][0].endswith(":/var/lib/postgresql/data")
    render = _yaml("render.yaml")
    (database,) = render["databases"]
    (env,) = [e for e in render["services"][0]["envVars"] if e["key"] == "DATABASE_URL"]
    assert env["fromDatabase"] == {"name": database["name"], "property": "connectionString"}
    addons = json.loads((ROOT / "app.json").read_text())["addons"]
    assert {"plan": "heroku-postgresql:essential-0", "as": "DATABASE"} in addons  # Heroku sets DATABASE_URL


def test_python_version_is_one_everywhere() -> None:
    """.python-version (Heroku), the Dockerfile image and render.yaml name the same Python."""
    version = (ROOT / ".python-version").read_text().strip()
    assert f"FROM python:{version}-slim" in _dockerfile()
    render_python = {e["key"]: e.get("value") for e in _yaml("render.yaml")["services"][0]["envVars"]}
    assert str(render_python["PYTHON_VERSION"]).startswith(version + ".")


def test_requirements_pin_every_runtime_dependency_within_its_range() -> None:
    """requirements.txt pins exactly one version of each dependency of pyproject.toml, inside its range."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    for spec in _toml("pyproject.toml")["project"]["dependencies"]:
        requirement = Requirement(spec)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned in requirements.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    assert "websockets" not in pins  # only the tests use it


def test_app_json_asks_for_settings_the_bridge_reads() -> None:
    """Every config var of the Heroku button is a setting of the bridge (documented names only)."""
    names = {name.upper() for name in Settings.model_fields}
    app = json.loads((ROOT / "app.json").read_text())
    assert set(app["env"]) <= names
    render = {e["key"] for e in _yaml("render.yaml")["services"][0]["envVars"]} - {"PYTHON_VERSION"}
    assert render <= names


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _dockerfile_env() -> dict[str, str]:
    """The image's ENV instruction, continuation lines joined."""
    match = re.search(r"^ENV ((?:.*\\\n)*.*)$", _dockerfile(), re.MULTILINE)
    assert match is not None
    return dict(pair.split("=", 1) for pair in match.group(1).replace("\\\n", " ").split())


def test_every_documented_command_exists_where_it_is_documented() -> None:
    """The image installs the package, so `raia-bridge` runs there (Docker, Railway, Fly);
    where only requirements.txt is installed (Heroku, Render) the documentation gives
    `python -m bridge …`, which works wherever `python -m bridge` does."""
    scripts = _toml("pyproject.toml")["project"]["scripts"]
    assert scripts == {"raia-bridge": "bridge.app.cli:main"}
    dockerfile = _dockerfile()
    copied = re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE)
    install = dockerfile.index("RUN pip install --no-deps .")
    assert all(dockerfile.index(f"COPY {files}") < install for files in copied)
    assert {"pyproject.toml README.md", "bridge/", "adapters/", "store/"} <= set(copied)
    deploying = (ROOT / "docs" / "deploying.md").read_text()
    command = re.compile(r"\braia-bridge (?:check|chat|demo|migrate-db)\b")
    for platform in ("**Heroku.**", "**Render.**", "**Every platform, the same rules:**"):
        paragraph = deploying[deploying.index(platform) :].split("\n\n", 1)[0]
        if platform.startswith("**Every"):
            paragraph = deploying[deploying.index(platform) :].split("\n\n**", 1)[0]
        assert not command.search(paragraph), platform
        assert "python -m bridge check" in paragraph, platform
    assert not command.search(
        _section((ROOT / "docs" / "database.md").read_text(), "## Moving from SQLite")
    )  # run where the volume is
    for name in ("render.yaml", "app.json", "Procfile"):
        assert not command.search((ROOT / name).read_text()), name


def test_docker_run_with_the_example_env_file_keeps_the_images_database() -> None:
    """`docker run --env-file .env` with .env copied from .env.example (its blanks filled in)
    starts with the image's /data database and listens on every interface; every variable
    the example names, set or commented out, is a setting of the bridge."""
    example = (ROOT / ".env.example").read_text().splitlines()
    given = dict(line.split("=", 1) for line in example if line.strip() and not line.startswith("#"))
    assert "DATABASE_URL" not in given  # it would override the image's /data
    names = {m.group(1) for line in example if (m := re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line))}
    assert names <= {name.upper() for name in Settings.model_fields}
    env = _dockerfile_env() | given | {"RAIA_API_KEY": "k" * 12, "TELEGRAM_BOT_TOKEN": "1:abc"}
    fields = {name.lower(): value for name, value in env.items() if name.lower() in Settings.model_fields}
    settings = Settings(_env_file=None, **fields)  # type: ignore[arg-type]
    assert settings.database.url == "sqlite:////data/bridge.db"
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)


def test_compose_listens_everywhere_and_gives_up_on_a_failed_start() -> None:
    """HOST is pinned (a HOST in .env would hide the published port), and a bridge that
    exits on a configuration error is restarted a bounded number of times, not forever."""
    for name in ("compose.yaml", "compose.sqlite.yaml"):
        bridge = _yaml(name)["services"]["bridge"]
        assert bridge["environment"]["HOST"] == "0.0.0.0", name
        policy = re.fullmatch(r"on-failure:(\d+)", bridge["restart"])
        assert policy is not None, name
        assert 1 <= int(policy.group(1)) <= 20


def test_railway_and_fly_agree_with_the_other_platforms() -> None:
    """railway.json builds the image, checks /healthz, waits longer than SHUTDOWN_TIMEOUT
    before killing and gives up on a failed start; fly.toml leaves the app's name to
    `fly launch` (a fixed name is taken by whoever deployed first)."""
    deploy = json.loads((ROOT / "railway.json").read_text())["deploy"]
    assert json.loads((ROOT / "railway.json").read_text())["build"]["builder"] == "DOCKERFILE"
    assert deploy["healthcheckPath"] == HEALTH
    assert deploy["drainingSeconds"] > _default_shutdown()
    assert deploy["restartPolicyType"] == "ON_FAILURE"
    assert 1 <= deploy["restartPolicyMaxRetries"] <= 20
    assert "app" not in _toml("fly.toml")


def test_ci_and_release_build_what_a_release_publishes() -> None:
    """CI runs .ci/run (which builds the package and the docs) and builds the image; a
    version tag publishes the package and the image, and refuses a tag that is not the
    version in pyproject.toml. The LICENSE is the one pyproject.toml declares."""
    workflows = ROOT / ".github" / "workflows"
    ci = _yaml(".github/workflows/ci.yml")
    steps = [step.get("run", "") for job in ci["jobs"].values() for step in job["steps"]]
    assert "bash .ci/run" in steps
    assert any("docker build" in run for run in steps)
    run_script = (ROOT / ".ci" / "run").read_text()
    assert "python -m build" in run_script
    assert "mkdocs build --strict" in run_script
    release = _yaml(".github/workflows/release.yml")
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as True
    text = (workflows / "release.yml").read_text()
    assert "pypa/gh-action-pypi-publish" in text
    assert "docker/build-push-action" in text
    assert "push: true" in text
    assert 'test "${GITHUB_REF_NAME}" = "v${version}"' in text
    assert _toml("pyproject.toml")["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
